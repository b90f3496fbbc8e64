"""The embedded SQL store on real SQLite files: round trip, blobs, transactions, ordering.

The ``check_*`` helpers take any :class:`SqlStore`; ``test_store_postgres.py`` runs them on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from lc_archive.errors import LcArchiveError, PackageExists, PackageNotFound, StoreError
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
    open_store,
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


# --- SQLite ---------------------------------------------------------------------------------------


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "lib.db"


@pytest.fixture
def store(db: Path) -> Iterator[SqlStore]:
    s = open_store(f"sqlite:///{db}")
    yield s
    s.close()


def sha_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_round_trip(store: SqlStore) -> None:
    check_round_trip(store)


def test_blobs_dedup_and_stream(store: SqlStore) -> None:
    check_blobs(store)


def test_failed_write_rolls_back(store: SqlStore) -> None:
    check_failed_write_rolls_back(store)


def test_ordering(store: SqlStore) -> None:
    check_ordering(store)


def test_package_exists_and_not_found(store: SqlStore) -> None:
    check_package_exists(store)


@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyboardInterrupt(), "unknown-child", "bad-blob"])
def test_failed_write_leaves_file_byte_identical(store: SqlStore, db: Path, exc: object) -> None:
    with store.write(pkg("lib:Keep:1")) as sink:
        build_package(sink)
    before = sha_file(db)
    with pytest.raises((RuntimeError, KeyboardInterrupt, StoreError)), store.write(pkg()) as sink:
        build_package(sink)
        if exc == "unknown-child":
            unit = EntityRecord(
                "unit-x",
                CONTAINER,
                "",
                "unit",
                "unit-x",
                True,
                ts(0),
                None,
                (VersionRecord(1, "", ts(0), children=(ChildRecord("nope"),)),),
                draft=1,
            )
            sink.add_entities([unit])
        elif exc == "bad-blob":
            sink.add_entities(
                [
                    component(
                        "a:b:c",
                        (VersionRecord(1, "", ts(0), media=(MediaRecord("block.xml", "f" * 64, 1, "text/xml"),)),),
                        draft=1,
                    )
                ]
            )
        else:
            assert isinstance(exc, BaseException)
            raise exc
    assert sha_file(db) == before
    assert not db.with_name("lib.db-journal").exists()
    assert store.package_refs() == ["lib:Keep:1"]


def test_large_failed_write_spills_and_still_rolls_back(store: SqlStore, db: Path) -> None:
    """More than the page cache holds (so SQLite writes pages mid-transaction): still byte-identical."""
    with store.write(pkg("lib:Keep:1")) as sink:
        sink.put_blob([b"kept"])
    before = sha_file(db)
    with pytest.raises(RuntimeError), store.write(pkg()) as sink:
        for i in range(80):
            sink.put_blob([i.to_bytes(4, "big") * (MiB // 4)])
        raise RuntimeError("late failure")
    assert sha_file(db) == before
    assert store.package_refs() == ["lib:Keep:1"]


def test_unresolved_refs_name_the_ref(store: SqlStore) -> None:
    unit = EntityRecord(
        "unit-x",
        CONTAINER,
        "",
        "unit",
        "unit-x",
        True,
        ts(0),
        None,
        (VersionRecord(1, "", ts(0), children=(ChildRecord("xblock.v1:html:missing"),)),),
        draft=1,
    )
    with pytest.raises(StoreError, match=r"container child 'xblock\.v1:html:missing'"), store.write(pkg()) as sink:
        sink.add_entities([unit])
    coll = CollectionRecord("c", "C", "", True, ts(0), ts(0), None, ("ghost",))
    with pytest.raises(StoreError, match="collection member 'ghost'"), store.write(pkg()) as sink:
        sink.add_collections([coll])
    log = PublishLogRecord(ts(0), None, "", (PublishLogEntry("ghost", None, 1),))
    with pytest.raises(StoreError, match="publish log entry 'ghost'"), store.write(pkg()) as sink:
        sink.add_publish_log([log])
    with pytest.raises(StoreError, match="duplicate entity ref"), store.write(pkg()) as sink:
        sink.add_entities([component("a:b:c")])
        sink.add_entities([component("a:b:c")])
    m = MediaRecord("block.xml", "f" * 64, 1, "text/xml")
    with pytest.raises(StoreError, match=r"a:b:c v1 'block.xml': blob f+ was never stored"), store.write(pkg()) as sink:
        sink.add_entities([component("a:b:c", (VersionRecord(1, "", ts(0), media=(m,)),), draft=1)])
    assert store.package_refs() == []


def test_media_may_use_blob_stored_by_earlier_package(store: SqlStore) -> None:
    with store.write(pkg("lib:A:1")) as sink:
        sha, size = sink.put_blob([b"<html/>"])
    with store.write(pkg()) as sink:
        m = MediaRecord("block.xml", sha, size, "text/xml")
        sink.add_entities([component("a:b:c", (VersionRecord(1, "", ts(0), media=(m,)),), draft=1)])
    with store.read("lib:Org:LIB1") as src:
        assert next(src.iter_entities()).versions[0].media == (m,)


def test_timestamps_are_canonical_text(store: SqlStore, db: Path) -> None:
    plus2 = timezone(timedelta(hours=2))
    record = PackageRecord("lib:T:1", "T", "", datetime(2024, 5, 6, 9, 0, 0, tzinfo=plus2), ts(0))
    with store.write(record):
        pass
    with sqlite3.connect(db) as raw:
        created, updated = raw.execute("SELECT created, updated FROM lc_package").fetchone()
    assert created == "2024-05-06T07:00:00.000000Z"
    assert updated == "2024-01-02T03:04:05.123456Z"
    with store.read("lib:T:1") as src:
        assert src.package.created == datetime(2024, 5, 6, 7, tzinfo=UTC)
        assert src.package.created.tzinfo == UTC
    naive = PackageRecord("lib:T:2", "T", "", datetime(2024, 1, 1), ts(0))
    with pytest.raises(StoreError, match="naive datetime"), store.write(naive):
        pass


def test_connection_settings(store: SqlStore) -> None:
    with store.transaction(write=False) as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "delete"
        assert conn.execute(text("PRAGMA synchronous")).scalar_one() == 2  # FULL
        version = select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")
        assert conn.execute(version).scalar_one() == str(schema.SCHEMA_VERSION)


def test_write_takes_the_lock_up_front(store: SqlStore, db: Path) -> None:
    """``BEGIN IMMEDIATE``: a second writer cannot start while a write transaction is open."""
    with store.write(pkg()):
        other = sqlite3.connect(db, timeout=0, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()


def test_open_store_urls(tmp_path: Path) -> None:
    bare = tmp_path / "bare.db"
    with open_store(str(bare)) as s:
        assert s.url == f"sqlite:///{bare}"
        assert s.dialect == "sqlite"
        with s.write(pkg()):
            pass
    with open_store(f"sqlite:///{bare}") as s:
        assert s.package_refs() == ["lib:Org:LIB1"]
    with open_store(str(bare), create=False) as s:
        assert s.package_refs() == ["lib:Org:LIB1"]
    with pytest.raises(StoreError, match="no store"):
        open_store(str(tmp_path / "missing.db"), create=False)
    assert not (tmp_path / "missing.db").exists()
    with pytest.raises(StoreError, match="unsupported database"):
        open_store("mysql://u@localhost/db")
    with pytest.raises(StoreError, match="unsupported database"):
        open_store("nonsense://")
    with pytest.raises(StoreError, match="not a database URL"):
        open_store("not a url://x")
    with open_store("sqlite://") as mem:
        check_package_exists(mem)


def test_other_sqlite_file_is_not_a_store(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE t (x)")
    with pytest.raises(StoreError, match="not an lc-archive store"):
        open_store(str(path), create=False)


def test_newer_schema_version_is_refused(store: SqlStore, db: Path) -> None:
    store.close()
    with sqlite3.connect(db) as raw:
        raw.execute("UPDATE lc_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="schema version 99"):
        open_store(str(db))


def test_put_blob_streams_in_bounded_memory(store: SqlStore) -> None:
    def pieces() -> Iterator[bytes]:
        for i in range(24 * 4):
            yield i.to_bytes(2, "big") * (128 * 1024)  # 256 KiB each, 24 MiB in all

    tracemalloc.start()
    try:
        with store.write(pkg()) as sink:
            sha, size = sink.put_blob(pieces())
            with store.engine.connect():
                pass
            peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert size == 24 * MiB
    assert peak < 8 * MiB, f"peak {peak / MiB:.1f} MiB"
    with store.read("lib:Org:LIB1") as src, src.open_blob(sha) as f:
        digest = hashlib.sha256()
        while data := f.read(MiB // 3):
            digest.update(data)
        assert digest.hexdigest() == sha


def test_history_must_be_known(store: SqlStore) -> None:
    with store.write(pkg()):
        pass
    with store.read("lib:Org:LIB1") as src, pytest.raises(ValueError, match="history"):
        list(src.iter_entities(history="some"))  # type: ignore[arg-type]


def test_errors_are_lc_archive_errors() -> None:
    assert issubclass(StoreError, LcArchiveError)


_CRASH_WRITER = """
import sys
from datetime import UTC, datetime
from lc_archive.stores import COMPONENT, EntityRecord, MediaRecord, PackageRecord, VersionRecord, open_store
now = datetime(2024, 1, 1, tzinfo=UTC)
store = open_store(sys.argv[1])
with store.write(PackageRecord("lib:Crash:1", "T", "", now, now)) as sink:
    print("started", flush=True)
    def entities():
        for i in range(int(sys.argv[2])):
            sha, size = sink.put_blob([i.to_bytes(4, "big") * 2500])
            media = (MediaRecord("block.xml", sha, size, "text/xml"),)
            yield EntityRecord(f"a:b:c{i:06d}", COMPONENT, "a", "b", f"c{i:06d}", True, now, None,
                               (VersionRecord(1, "", now, media=media),), draft=1)
    sink.add_entities(entities())
print("committed", flush=True)
"""


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.05, 0.3, 0.6, 1.0, None])
def test_sigkill_mid_write_leaves_old_or_new_state(store: SqlStore, db: Path, delay: float | None) -> None:
    """threats.md §5: a SIGKILLed restore leaves the store as before or fully written, never between."""
    count = 20_000
    with store.write(pkg("lib:Keep:1")) as sink:
        sink.put_blob([b"kept"])
    store.close()
    before = sha_file(db)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _CRASH_WRITER, str(db), str(count)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "started"
    if delay is not None:
        time.sleep(delay)
        proc.kill()
    proc.wait(timeout=120)
    proc.stdout.close()
    with open_store(str(db)) as after:  # the first connection rolls back a hot journal
        refs = after.package_refs()
        if refs == ["lib:Crash:1", "lib:Keep:1"]:
            with after.read("lib:Crash:1") as src:
                assert src.entity_count() == count
        else:
            assert delay is not None and refs == ["lib:Keep:1"]
    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    if refs == ["lib:Keep:1"]:
        assert sha_file(db) == before
        with open_store(str(db)) as again, again.write(pkg("lib:Crash:1")):  # and a retry succeeds
            pass
