"""Store behaviour every SQL database must show: shared by the SQLite and the PostgreSQL tests."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from lc_archive.errors import PackageExists, PackageNotFound, StoreError
from lc_archive.stores import (
    COMPONENT,
    CONTAINER,
    ChildRecord,
    CollectionRecord,
    EntityRecord,
    MediaRecord,
    PackageRecord,
    PackageSink,
    PublishLogEntry,
    PublishLogRecord,
    SqlStore,
    VersionRecord,
    schema,
)

T0 = datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
MiB = 1024 * 1024


def ts(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def pkg(ref: str = "lib:Org:LIB1") -> PackageRecord:
    return PackageRecord(ref, "Library One", "A description\nwith lines", ts(0), ts(90))


def component(
    ref: str, versions: tuple[VersionRecord, ...] = (), *, can_stand_alone: bool = True, **pointers: Any
) -> EntityRecord:
    ns, type_, code = ref.split(":")
    return EntityRecord(ref, COMPONENT, ns, type_, code, can_stand_alone, ts(1), "alice", versions, **pointers)


def build_package(sink: PackageSink) -> tuple[list[EntityRecord], list[CollectionRecord], list[PublishLogRecord]]:
    """Fill a sink with one of everything; return what a reader must give back (history="all")."""

    def blob(data: bytes, media_type: str, path: str, *, text: bool = False, file: bool = True) -> MediaRecord:
        sha, size = sink.put_blob([data])
        return MediaRecord(path, sha, size, media_type, has_text=text, has_file=file)

    xml = "application/vnd.openedx.xblock.v1.html+xml"
    intro = component(
        "xblock.v1:html:intro",
        (
            VersionRecord(
                1, "Intro", ts(2), "alice", media=(blob(b"<html>1</html>", xml, "block.xml", text=True, file=False),)
            ),
            VersionRecord(
                2,
                "Intro 2",
                ts(3),
                None,
                media=(
                    blob(b"<html>2</html>", xml, "block.xml", text=True, file=False),
                    blob(b"\x89PNG zzz", "image/png", "static/z.png"),
                    blob(b"a{}", "text/css", "static/a.css", text=True, file=True),
                ),
            ),
            VersionRecord(3, "Intro 3", ts(4), "bob", media=(blob(b"<html>3</html>", xml, "block.xml", text=True),)),
        ),
        draft=3,
        published=2,
    )
    gone = component(
        "xblock.v1:problem:gone",
        (VersionRecord(1, "Gone", ts(5), "bob", media=(blob(b"<problem/>", xml, "block.xml"),)),),
        draft_deleted=True,
        published_deleted=True,
    )
    soft = component(
        "xblock.v1:video:soft",
        (VersionRecord(1, "Soft", ts(6), None, media=(blob(b"<video/>", xml, "block.xml"),)),),
        draft_deleted=True,
        published=1,
    )
    never = component("xblock.v1:html:never", can_stand_alone=False)
    gaps = component(
        "xblock.v1:html:gaps",
        (
            VersionRecord(4, "Four", ts(7), "alice", media=(blob(b"<html>1</html>", xml, "block.xml"),)),
            VersionRecord(5, "Five", ts(8), "alice"),
        ),
        draft=5,
        published=4,
    )
    unit = EntityRecord(
        "unit-1",
        CONTAINER,
        "",
        "unit",
        "unit-1",
        True,
        ts(9),
        "alice",
        (
            VersionRecord(1, "Unit", ts(10), "alice", children=(ChildRecord("xblock.v1:html:intro"),)),
            VersionRecord(
                2,
                "Unit 2",
                ts(11),
                "alice",
                children=(
                    ChildRecord("xblock.v1:video:soft", pinned=1),
                    ChildRecord("xblock.v1:html:intro"),
                    ChildRecord("xblock.v1:html:gaps", pinned=4),
                ),
            ),
        ),
        draft=2,
        published=1,
    )
    # Containers first: their children are only added by the next call (forward references).
    sink.add_entities([unit])
    sink.add_entities(iter([intro, gone, soft, never, gaps]))
    colls_in = [
        CollectionRecord("c-b", "Bee", "", True, ts(12), ts(13), "alice", ("xblock.v1:html:intro", "unit-1", "unit-1")),
        CollectionRecord("c-a", "Ay", "desc", False, ts(14), ts(15), None, ("xblock.v1:problem:gone",)),
    ]
    sink.add_collections(colls_in)
    colls = [replace(c, members=tuple(sorted(set(c.members)))) for c in colls_in]
    logs = [
        PublishLogRecord(
            ts(20),
            "alice",
            "Initial",
            (
                PublishLogEntry("xblock.v1:html:intro", None, 1),
                PublishLogEntry("unit-1", None, 1),
            ),
        ),
        PublishLogRecord(
            ts(21),
            None,
            "",
            (
                PublishLogEntry("xblock.v1:problem:gone", 1, None),
                PublishLogEntry("xblock.v1:html:intro", 1, 2),
            ),
        ),
    ]
    sink.add_publish_log(logs)
    entities = sorted([intro, gone, soft, never, gaps, unit], key=lambda e: e.ref)
    return entities, colls, logs


def current_only(e: EntityRecord) -> EntityRecord:
    keep = {e.draft, e.published} - {None}
    return EntityRecord(
        e.ref,
        e.kind,
        e.namespace,
        e.type,
        e.code,
        e.can_stand_alone,
        e.created,
        e.created_by,
        tuple(v for v in e.versions if v.number in keep),
        e.draft,
        e.draft_deleted,
        e.published,
        e.published_deleted,
    )


def check_round_trip(store: SqlStore) -> None:
    """Every record field survives write -> read, with both history modes."""
    with store.write(pkg()) as sink:
        entities, colls, logs = build_package(sink)
    assert store.package_refs() == ["lib:Org:LIB1"]
    with store.read("lib:Org:LIB1") as src:
        assert src.package == pkg()
        assert src.entity_count() == len(entities)
        assert list(src.iter_entities(history="all")) == entities
        assert list(src.iter_entities(history="all", batch_size=2)) == entities
        assert list(src.iter_entities()) == [current_only(e) for e in entities]
        assert list(src.iter_collections()) == colls
        assert list(src.iter_collections(include_disabled=False)) == colls[:1]
        assert list(src.iter_publish_log()) == logs
        media = entities[2].versions[1].media[1]  # intro v2 static/z.png
        with src.open_blob(media.sha256) as f:
            assert f.read() == b"\x89PNG zzz"


def check_blobs(store: SqlStore) -> None:
    """Same bytes are stored once across packages; a 5 MB blob streams back chunk by chunk."""
    big = bytes(range(256)) * (5 * 1000 * 1000 // 256)

    def pieces() -> Iterator[bytes]:
        for i in range(0, len(big), 64 * 1024):
            yield big[i : i + 64 * 1024]

    with store.write(pkg("lib:A:1")) as sink:
        assert sink.put_blob([b"same"]) == (hashlib.sha256(b"same").hexdigest(), 4)
        assert sink.put_blob([b"sa", b"me"])[0] == hashlib.sha256(b"same").hexdigest()
        sha_big, size = sink.put_blob(pieces())
        assert (sha_big, size) == (hashlib.sha256(big).hexdigest(), len(big))
        assert sink.put_blob([b""]) == (hashlib.sha256(b"").hexdigest(), 0)
    with store.write(pkg("lib:B:1")) as sink:
        sink.put_blob([b"same"])
        sink.put_blob(pieces())
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.blob)).scalar_one() == 3
        chunks = select(func.count()).select_from(schema.blob_chunk).where(schema.blob_chunk.c.sha256 == sha_big)
        assert conn.execute(chunks).scalar_one() == 5
    with store.read("lib:A:1") as src:
        with src.open_blob(sha_big) as f:
            assert f.read(10) == big[:10]
            rest = b"".join(iter(lambda: f.read(300_001), b""))
            assert big[:10] + rest == big
        with src.open_blob(hashlib.sha256(b"").hexdigest()) as f:
            assert f.read() == b""
        with pytest.raises(StoreError, match="no blob"), src.open_blob("0" * 64):
            pass


def check_failed_write_rolls_back(store: SqlStore) -> None:
    """An exception inside ``write`` (any kind) leaves no package, entity or blob behind."""
    with store.write(pkg("lib:Keep:1")) as sink:
        sink.put_blob([b"kept"])
    for exc in (RuntimeError("boom"), KeyboardInterrupt()):
        with pytest.raises(type(exc)), store.write(pkg()) as sink:
            build_package(sink)
            sink.put_blob([b"x" * (3 * MiB)])
            raise exc
    assert store.package_refs() == ["lib:Keep:1"]
    with store.engine.connect() as conn:
        for table in (schema.entity, schema.version, schema.media, schema.collection, schema.publish_log):
            assert conn.execute(select(func.count()).select_from(table)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(schema.blob)).scalar_one() == 1


def check_ordering(store: SqlStore) -> None:
    """Entities by ref in code-point order; collections by creation; members by ref."""
    refs = ["é-x", "Zed", "_u", "a-1", "B", "a-10", "a-2", "ü", "Z", "b"]
    with store.write(pkg()) as sink:
        for ref in refs:  # one call each: creation order differs from ref order
            sink.add_entities([EntityRecord(ref, CONTAINER, "", "unit", ref, True, ts(0))])
        sink.add_collections(
            [CollectionRecord(code, code, "", True, ts(0), ts(0), None, tuple(refs)) for code in ("zz", "aa", "mm")]
        )
    with store.read("lib:Org:LIB1") as src:
        got = [e.ref for e in src.iter_entities(batch_size=3)]
        assert got == sorted(refs)  # Python sorts str by code point
        assert got[:3] == ["B", "Z", "Zed"]
        colls = list(src.iter_collections())
        assert [c.code for c in colls] == ["zz", "aa", "mm"]
        assert all(c.members == tuple(sorted(refs)) for c in colls)


def check_package_exists(store: SqlStore) -> None:
    """A second write of the same ref raises PackageExists and changes nothing."""
    with store.write(pkg()) as sink:
        sink.put_blob([b"one"])
    with pytest.raises(PackageExists), store.write(pkg()) as sink:
        sink.put_blob([b"two"])
    with pytest.raises(PackageNotFound) as info, store.read("lib:No:Such"):
        pass
    assert isinstance(info.value, KeyError)
    with store.read("lib:Org:LIB1") as src:
        assert src.entity_count() == 0
