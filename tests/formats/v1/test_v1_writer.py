"""write_v1: openedx-core 1.15.2's layout, entry order, names and timestamps, without its writer bugs."""

from __future__ import annotations

import hashlib
import io
import re
import tomllib
import zipfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import pytest
from support.peer import peer_archives, peer_restore

from lc_archive.archive.zip_writer import ArchiveWriter
from lc_archive.domain import (
    ChildRecord,
    CollectionRecord,
    EntityRecord,
    MediaRecord,
    PackageRecord,
    PayloadRecord,
    PublishLogRecord,
    VersionRecord,
)
from lc_archive.errors import LcArchiveError
from lc_archive.formats.v1.writer import V1WriteStats, write_v1
from lc_archive.stores import SqlStore, open_store
from lc_archive.stores.base import History, PackageSource

REF = "lib:Org:W"
BACKUP_AT = datetime(2026, 5, 1, 12, 0, 0, 500000, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


def ticking(start: datetime = datetime(2024, 3, 1, tzinfo=UTC)) -> Callable[[], datetime]:
    """A deterministic clock: three seconds later on every call."""
    state = [start]

    def now() -> datetime:
        state[0] += timedelta(seconds=3)
        return state[0]

    return now


def build_library(store: SqlStore) -> None:
    with store.author(REF, user="alice", create={"title": "Writer test", "description": ""}, clock=ticking()) as a:
        intro = a.create_component("xblock.v1", "html", "intro")
        a.add_component_version(intro, {"block.xml": "<html>1</html>", "static/a.png": PNG}, title="Intro")
        gone = a.create_component("xblock.v1", "html", "gone")
        a.add_component_version(gone, {"block.xml": "<html/>"}, title="Gone")
        html1 = a.create_component("xblock.v1", "html", "html1")
        a.add_component_version(html1, {"block.xml": "<html/>"}, title="Html one")
        for code in ("Foo", "foo", "foo_359973"):
            ref = a.create_component("xblock.v1", "problem", code)
            a.add_component_version(ref, {"block.xml": f"<problem>{code}</problem>"}, title=code)
        unit = a.create_container("unit", "html1")  # takes the plain name "html1" first (refs sort)
        a.add_container_version(unit, [intro, (gone, 1)], title="Unit")
        sub = a.create_container("subsection", "sub-1")
        a.add_container_version(sub, [unit], title="Sub")
        sec = a.create_container("section", "sec-1")
        a.add_container_version(sec, [sub], title="Sec")
        a.publish(message="first")
        a.add_component_version(
            intro, {"block.xml": "<html>2</html>", "static/other/sub/x.html": "<p/>"}, title=" Intro 2 "
        )
        a.soft_delete(gone)
        empty = a.create_component("xblock.v1", "html", "_")  # slugifies to ""
        a.add_component_version(empty, {"block.xml": ""}, title="")
        a.create_component("xblock.v1", "video", "never")
        a.create_collection("col1", "Collection 1", description="d")
        a.add_to_collection("col1", [intro, sec, gone])
        a.create_collection("html1", "Collides")
        a.create_collection("old", "Old")
        a.disable_collection("old")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    s = open_store(str(tmp_path / "lib.db"))
    build_library(s)
    yield s
    s.close()


def backup(store: SqlStore, **kwargs: object) -> tuple[bytes, V1WriteStats]:
    buffer = io.BytesIO()
    with store.read(REF) as source, ArchiveWriter(buffer) as out:
        stats = write_v1(source, out, created_at=kwargs.pop("created_at", BACKUP_AT), **kwargs)  # type: ignore[arg-type]
    return buffer.getvalue(), stats


def h(identifier: str) -> str:
    return hashlib.blake2b(identifier.encode(), digest_size=3).hexdigest()


E = "entities/xblock.v1"
EXPECTED = [
    "package.toml",
    "entities/",
    "collections/",
    "entities/html1.toml",
    "entities/sec-1.toml",
    "entities/sub-1.toml",
    "entities/xblock.v1/",
    "entities/xblock.v1/html/",
    f"{E}/html/_{h('_')}.toml",
    f"{E}/html/_{h('_')}/",
    f"{E}/html/_{h('_')}/component_versions/",
    f"{E}/html/_{h('_')}/component_versions/v1/",
    f"{E}/html/_{h('_')}/component_versions/v1/static/",
    f"{E}/html/_{h('_')}/component_versions/v1/block.xml",  # empty, but written
    f"{E}/html/gone.toml",  # soft-deleted: only the published v1
    f"{E}/html/gone/",
    f"{E}/html/gone/component_versions/",
    f"{E}/html/gone/component_versions/v1/",
    f"{E}/html/gone/component_versions/v1/static/",
    f"{E}/html/gone/component_versions/v1/block.xml",
    f"{E}/html/html1_15cdc3.toml",
    f"{E}/html/html1_15cdc3/",
    f"{E}/html/html1_15cdc3/component_versions/",
    f"{E}/html/html1_15cdc3/component_versions/v1/",
    f"{E}/html/html1_15cdc3/component_versions/v1/static/",
    f"{E}/html/html1_15cdc3/component_versions/v1/block.xml",
    f"{E}/html/intro.toml",
    f"{E}/html/intro/",
    f"{E}/html/intro/component_versions/",
    f"{E}/html/intro/component_versions/v2/",  # the draft first
    f"{E}/html/intro/component_versions/v2/static/",
    f"{E}/html/intro/component_versions/v2/block.xml",
    f"{E}/html/intro/component_versions/v2/static/a.png",
    f"{E}/html/intro/component_versions/v2/static/other/",
    f"{E}/html/intro/component_versions/v2/static/other/sub/",
    f"{E}/html/intro/component_versions/v2/static/other/sub/x.html",
    f"{E}/html/intro/component_versions/v1/",  # then the published version
    f"{E}/html/intro/component_versions/v1/static/",
    f"{E}/html/intro/component_versions/v1/block.xml",
    f"{E}/html/intro/component_versions/v1/static/a.png",
    f"{E}/problem/",
    f"{E}/problem/foo.toml",  # "Foo" sorts first
    f"{E}/problem/foo/",
    f"{E}/problem/foo/component_versions/",
    f"{E}/problem/foo/component_versions/v1/",
    f"{E}/problem/foo/component_versions/v1/static/",
    f"{E}/problem/foo/component_versions/v1/block.xml",
    f"{E}/problem/foo_359973.toml",
    f"{E}/problem/foo_359973/",
    f"{E}/problem/foo_359973/component_versions/",
    f"{E}/problem/foo_359973/component_versions/v1/",
    f"{E}/problem/foo_359973/component_versions/v1/static/",
    f"{E}/problem/foo_359973/component_versions/v1/block.xml",
    f"{E}/problem/foo_359973_{h('foo_359973')}.toml",  # the peer would duplicate foo_359973 here
    f"{E}/problem/foo_359973_{h('foo_359973')}/",
    f"{E}/problem/foo_359973_{h('foo_359973')}/component_versions/",
    f"{E}/problem/foo_359973_{h('foo_359973')}/component_versions/v1/",
    f"{E}/problem/foo_359973_{h('foo_359973')}/component_versions/v1/static/",
    f"{E}/problem/foo_359973_{h('foo_359973')}/component_versions/v1/block.xml",
    f"{E}/video/",
    f"{E}/video/never.toml",  # no versions: no directories
    "collections/col1.toml",
    "collections/html1_15cdc3.toml",
]


def test_layout_order_and_names(store: SqlStore) -> None:
    data, stats = backup(store, directory_entries=True)
    zf = zipfile.ZipFile(io.BytesIO(data))
    assert zf.namelist() == EXPECTED
    assert stats.members == len(EXPECTED)
    assert (stats.entities, stats.components, stats.containers, stats.collections) == (11, 8, 3, 2)
    assert zf.read(f"{E}/html/_{h('_')}/component_versions/v1/block.xml") == b""
    assert zf.read(f"{E}/html/intro/component_versions/v2/static/a.png") == PNG
    assert zf.read(f"{E}/html/intro/component_versions/v2/static/other/sub/x.html") == b"<p/>"
    assert zf.testzip() is None


def test_no_directory_entries_by_default(store: SqlStore) -> None:
    exact = zipfile.ZipFile(io.BytesIO(backup(store, directory_entries=True)[0]))
    data, stats = backup(store)
    zf = zipfile.ZipFile(io.BytesIO(data))
    files = [n for n in EXPECTED if not n.endswith("/")]
    assert zf.namelist() == files
    assert stats.members == len(files)
    for mine, theirs in zip(zf.infolist(), [i for i in exact.infolist() if not i.is_dir()], strict=True):
        assert (mine.filename, mine.date_time, mine.CRC, mine.compress_type) == (
            theirs.filename, theirs.date_time, theirs.CRC, theirs.compress_type)
    assert zf.testzip() is None


def test_entry_attributes_and_compression(store: SqlStore) -> None:
    zf = zipfile.ZipFile(io.BytesIO(backup(store, directory_entries=True)[0]))
    for info in zf.infolist():
        name = info.filename
        assert info.external_attr == 0o600 << 16
        assert info.create_system == 3
        assert info.extra == b""
        assert info.flag_bits == 0
        stored = name.endswith(("/", ".png")) or info.file_size == 0
        expected = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED  # TOML, block.xml, x.html deflated
        assert info.compress_type == expected, name


def test_timestamps(store: SqlStore) -> None:
    zf = zipfile.ZipFile(io.BytesIO(backup(store, directory_entries=True)[0]))
    with store.read(REF) as source:
        package = source.package
        ents = {e.ref: e for e in source.iter_entities()}
        colls = {c.code: c for c in source.iter_collections()}

    def dos(when: datetime) -> tuple[int, ...]:
        when = when.astimezone(UTC)
        return (when.year, when.month, when.day, when.hour, when.minute, when.second // 2 * 2)

    stamps = {i.filename: i.date_time for i in zf.infolist()}
    for name in ("package.toml", "entities/", "collections/"):
        assert stamps[name] == dos(package.updated)
    intro = ents["xblock.v1:html:intro"]
    v1, v2 = intro.version(1), intro.version(2)
    assert v1 and v2
    latest = max(package.updated, v1.created, v2.created)
    assert stamps[f"{E}/html/intro.toml"] == dos(latest)
    v2_names = ["intro/", "intro/component_versions/"]
    v2_names += [f"intro/component_versions/v2/{rest}" for rest in ("", "static/", "static/a.png", "static/other/")]
    for name in v2_names:
        assert stamps[f"{E}/html/{name}"] == dos(v2.created), name
    assert stamps[f"{E}/html/intro/component_versions/v1/block.xml"] == dos(v1.created)
    first = ents[sorted(r for r in ents if r.startswith("xblock.v1:html:"))[0]]
    first_latest = max([package.updated, *(v.created for v in first.versions)])
    assert stamps["entities/xblock.v1/"] == stamps["entities/xblock.v1/html/"] == dos(first_latest)
    assert stamps["collections/col1.toml"] == dos(colls["col1"].modified)


def test_toml_content(store: SqlStore) -> None:
    zf = zipfile.ZipFile(io.BytesIO(backup(store, created_by="alice", created_by_email="", origin_server=" ")[0]))
    package = tomllib.loads(zf.read("package.toml").decode())
    assert package["meta"] == {"format_version": 1, "created_by": "alice", "created_at": BACKUP_AT}
    unit = zf.read("entities/html1.toml").decode()
    assert "[entity.container.unit]\n" in unit
    assert 'children = ["xblock.v1:html:intro", "xblock.v1:html:gone"]\n' in unit
    gone = tomllib.loads(zf.read(f"{E}/html/gone.toml").decode())
    assert "draft" not in gone["entity"] and gone["entity"]["published"] == {"version_num": 1}
    col = tomllib.loads(zf.read("collections/col1.toml").decode())["collection"]
    assert col["entities"] == ["sec-1", "xblock.v1:html:gone", "xblock.v1:html:intro"]
    assert tomllib.loads(zf.read("collections/html1_15cdc3.toml").decode())["collection"]["key"] == "html1"


def test_two_backups_are_identical(store: SqlStore) -> None:
    first, _ = backup(store)
    second, _ = backup(store)
    assert first == second  # same backup time: byte for byte
    later, _ = backup(store, created_at=BACKUP_AT + timedelta(days=3))
    a, b = zipfile.ZipFile(io.BytesIO(first)), zipfile.ZipFile(io.BytesIO(later))
    assert a.namelist() == b.namelist()
    assert [i.date_time for i in a.infolist()] == [i.date_time for i in b.infolist()]
    for name in a.namelist():
        if name != "package.toml":
            assert a.read(name) == b.read(name), name
    assert a.read("package.toml") != b.read("package.toml")


def test_losses_and_warnings(store: SqlStore) -> None:
    _, stats = backup(store)
    assert stats.loss_counts == {
        "version_times": 11, "version_authors": 11,  # every written version (alice, ticking clock)
        "pins": 1, "entity_authors": 11, "disabled_collections": 1, "collection_authors": 2,
        "collection_modified": 1, "publish_log": 1,
        "storage_modes": 1,  # static/other/sub/x.html was stored as text
    }  # no history, media type or soft-delete loss
    assert stats.versions == 11
    # The soft-deleted draft is still published: a v1 reader gets it back, openedx-core revives it.
    assert stats.warning_counts == {"revived": 1, "whitespace": 1}
    assert any("pinned" in line and line.startswith("1 ") for line in stats.losses)
    assert any("disabled collections" in line for line in stats.losses)
    assert stats.warnings[1] == "1 titles or descriptions have leading/trailing whitespace (openedx-core trims it)"
    assert stats.media_files == 11 and stats.media_bytes > 2 * len(PNG)


def test_progress_is_reported_per_entity(store: SqlStore) -> None:
    seen: list[int] = []
    with store.read(REF) as source, ArchiveWriter(io.BytesIO()) as out:
        write_v1(source, out, created_at=BACKUP_AT, progress=seen.append)
    assert seen == [1] * 11


@pytest.mark.peer
def test_openedx_core_restores_it(store: SqlStore, tmp_path: Path, peer_dir: Path, peer_python: Path) -> None:
    archive = tmp_path / "w.zip"
    archive.write_bytes(backup(store, created_by="alice", created_by_email="alice@example.com")[0])
    result = peer_restore(peer_dir, peer_python, archive, tmp_path / "peer.db", "lib:Org:RESTORED")
    assert result["status"] == "success", result["errors"]
    state = result["state"]
    assert set(state["entities"]) == {
        "html1", "sec-1", "sub-1", "xblock.v1:html:_", "xblock.v1:html:gone", "xblock.v1:html:html1",
        "xblock.v1:html:intro", "xblock.v1:problem:Foo", "xblock.v1:problem:foo", "xblock.v1:problem:foo_359973",
        "xblock.v1:video:never",
    }  # fmt: skip
    assert state["entities"]["xblock.v1:html:_"]["draft"]["media"] == {"block.xml": hashlib.sha256(b"").hexdigest()}
    assert sorted(state["entities"]["xblock.v1:html:intro"]["draft"]["media"]) == [
        "block.xml", "static/a.png", "static/other/sub/x.html"
    ]  # fmt: skip
    assert set(state["collections"]) == {"col1", "html1"}


# -- refusals, with a hand-made source --------------------------------------------------------------

T0 = datetime(2025, 1, 1, tzinfo=UTC)


class FakeSource(PackageSource):
    """A PackageSource over records and blobs held in memory."""

    def __init__(
        self,
        package: PackageRecord,
        entities: list[EntityRecord],
        collections: list[CollectionRecord] | None = None,
        blobs: dict[str, bytes] | None = None,
        *,
        in_memory: bool = False,
    ) -> None:
        self.package = package
        self.entities = entities
        self.collections = collections or []
        self.blobs = blobs or {}
        self.in_memory = in_memory  # offer the blobs whole (blob_in_memory), as the SQL store's prefetch does

    def entity_count(self) -> int:
        return len(self.entities)

    def iter_entities(self, *, history: History = "current", batch_size: int = 500) -> Iterator[EntityRecord]:
        assert history == "current"
        return iter(self.entities)

    def iter_collections(self, *, include_disabled: bool = True) -> Iterator[CollectionRecord]:
        return iter(self.collections)

    def iter_publish_log(self) -> Iterator[PublishLogRecord]:
        return iter(())

    def iter_payloads(self) -> Iterator[PayloadRecord]:
        return iter(())

    def open_blob(self, sha256: str) -> AbstractContextManager[BinaryIO]:
        @contextmanager
        def opened() -> Iterator[BinaryIO]:
            yield io.BytesIO(self.blobs[sha256])

        return opened()

    def blob_in_memory(self, sha256: str) -> bytes | None:
        return self.blobs[sha256] if self.in_memory else None


def blob(path: str, data: bytes, media_type: str = "application/octet-stream") -> tuple[MediaRecord, str, bytes]:
    sha = hashlib.sha256(data).hexdigest()
    return MediaRecord(path, sha, len(data), media_type), sha, data


def component(code: str, media: list[MediaRecord], *, type_: str = "html", ns: str = "xblock.v1") -> EntityRecord:
    return EntityRecord(
        f"{ns}:{type_}:{code}", "component", ns, type_, code, True, T0,
        versions=(VersionRecord(1, "t", T0, media=tuple(media)),), draft=1,
    )  # fmt: skip


def write_fake(source: FakeSource, *, directory_entries: bool = False) -> bytes:
    buffer = io.BytesIO()
    with ArchiveWriter(buffer) as out:
        write_v1(source, out, created_at=T0, directory_entries=directory_entries)
    return buffer.getvalue()


PACKAGE = PackageRecord("lib:a:b", "T", "", T0, T0)


@pytest.mark.parametrize(
    "path",
    ["../evil.sh", "static/../../x", "/etc/passwd", "static\\a.png", "static//a", "./a", " a", "static/", "static"],
)
def test_hostile_media_paths_are_refused(path: str) -> None:
    media, sha, data = blob(path, b"x")
    source = FakeSource(PACKAGE, [component("c1", [media])], blobs={sha: data})
    with pytest.raises(LcArchiveError, match=re.escape("xblock.v1:html:c1")):
        write_fake(source)


@pytest.mark.parametrize("directory_entries", [False, True])
def test_file_that_is_also_a_directory_is_refused(directory_entries: bool) -> None:
    items = [blob("static/a", b"x"), blob("static/a/b.png", b"y")]
    source = FakeSource(PACKAGE, [component("c1", [m for m, _, _ in items])], blobs={s: d for _, s, d in items})
    with pytest.raises(LcArchiveError, match=r"'xblock.v1:html:c1' v1: media path 'static/a' is also a directory"):
        write_fake(source, directory_entries=directory_entries)


@pytest.mark.parametrize(("ns", "type_"), [("", "html"), ("xblock.v1", ""), ("a/b", "html"), ("..", "html")])
def test_unwritable_component_types_are_refused(ns: str, type_: str) -> None:
    with pytest.raises(LcArchiveError, match="component type"):
        write_fake(FakeSource(PACKAGE, [component("c1", [], ns=ns, type_=type_)]))


def test_unknown_container_type_is_refused() -> None:
    chapter = EntityRecord("ch", "container", "", "chapter", "ch", True, T0)
    with pytest.raises(LcArchiveError, match="container type 'chapter'"):
        write_fake(FakeSource(PACKAGE, [chapter]))


@pytest.mark.parametrize("in_memory", [False, True])
def test_corrupt_blob_and_bad_order_are_refused(in_memory: bool) -> None:
    media, sha, _ = blob("block.xml", b"<html/>")
    for corrupt in (b"<html>", b"<html/ >"):  # the SHA-256 differs; the size too
        source = FakeSource(PACKAGE, [component("c1", [media])], blobs={sha: corrupt}, in_memory=in_memory)
        with pytest.raises(LcArchiveError, match=f"blob {sha} for 'entities/xblock.v1/html/c1/.*block.xml' is corrupt"):
            write_fake(source)
    with pytest.raises(LcArchiveError, match="ref order"):
        write_fake(FakeSource(PACKAGE, [component("b", []), component("a", [])]))
    missing = replace(component("c", []), published=7)
    with pytest.raises(LcArchiveError, match="version 7"):
        write_fake(FakeSource(PACKAGE, [missing]))


def test_openedx_core_hazards_are_reported() -> None:
    items = [blob("static/data.toml", b"a = 1"), blob("static/nav1/pic.png", b"png", "image/png")]
    source = FakeSource(PACKAGE, [component("c1", [m for m, _, _ in items])], blobs={s: d for _, s, d in items})
    buffer = io.BytesIO()
    with ArchiveWriter(buffer) as out:
        stats = write_v1(source, out, created_at=T0)
    assert stats.warning_counts == {"version_dir_paths": 1}
    # data.toml is left out altogether: one loss, not also its media type and storage mode.
    assert stats.loss_counts == {"toml_media": 1}
    names = zipfile.ZipFile(io.BytesIO(buffer.getvalue())).namelist()
    assert f"{E}/html/c1/component_versions/v1/static/nav1/pic.png" in names
    assert not any(n.endswith("data.toml") for n in names)  # left out: openedx-core would crash on it


# -- against every archive openedx-core wrote: same members, same order, same timestamps -------------


def _dos(stamp: tuple[int, int, int, int, int, int]) -> datetime:
    return datetime(*stamp, tzinfo=UTC)


def source_from_peer_archive(zf: zipfile.ZipFile) -> FakeSource:
    """Rebuild the records an openedx-core archive was written from (times from entry timestamps)."""
    infos = {i.filename: i for i in zf.infolist()}
    lp = tomllib.loads(zf.read("package.toml").decode())["learning_package"]
    package = PackageRecord(lp["key"], lp["title"], lp["description"], lp["created"], lp["updated"])
    blobs: dict[str, bytes] = {}
    entities = []
    for name in zf.namelist():
        if not name.endswith(".toml") or "/component_versions/" in name or not name.startswith("entities/"):
            continue
        doc = tomllib.loads(zf.read(name).decode())
        e = doc["entity"]
        is_container = name.count("/") == 1
        stamp = _dos(infos[name].date_time)
        versions = []
        for v in doc.get("version", []):
            number = v["version_num"]
            root = f"{name[: -len('.toml')]}/component_versions/v{number}/"
            created = _dos(infos[root].date_time) if root in infos else stamp
            media = []
            for member in zf.namelist():
                if member.startswith(root) and not member.endswith("/"):
                    data = zf.read(member)
                    sha = hashlib.sha256(data).hexdigest()
                    blobs[sha] = data
                    media.append(MediaRecord(member[len(root) :], sha, len(data), "application/octet-stream"))
            children = tuple(ChildRecord(r) for r in v.get("container", {}).get("children", ()))
            versions.append(VersionRecord(number, v["title"], created, media=tuple(media), children=children))
        parts = PurePosixPath(name).parts
        key = e["key"]
        entities.append(
            EntityRecord(
                key,
                "container" if is_container else "component",
                "" if is_container else parts[1],
                next(iter(e["container"])) if is_container else parts[2],
                key if is_container else key.split(":", 2)[2],
                e["can_stand_alone"],
                e["created"],
                versions=tuple(sorted(versions, key=lambda v: v.number)),
                draft=e.get("draft", {}).get("version_num"),
                published=e["published"].get("version_num"),
            )
        )
    collections = []
    for name in zf.namelist():
        if name.startswith("collections/") and name.endswith(".toml"):
            c = tomllib.loads(zf.read(name).decode())["collection"]
            modified = _dos(infos[name].date_time)
            collections.append(
                CollectionRecord(
                    c["key"], c["title"], c["description"], True, c["created"], modified, members=tuple(c["entities"])
                )
            )
    entities.sort(key=lambda x: x.ref)
    return FakeSource(package, entities, collections, blobs)


def test_same_layout_as_every_peer_archive(peer_dir: Path) -> None:
    checked = 0
    for path in peer_archives(peer_dir):
        if path.parent.name == "fixtures" or "empty_slug" in path.name or "static_toml_file" in path.name:
            # a hand-made fixture; the peer's empty-slug bug (fixed, see test_layout_order_and_names);
            # a .toml asset (left out here, see test_openedx_core_hazards_are_reported)
            continue
        with zipfile.ZipFile(path) as zf:
            ours = zipfile.ZipFile(io.BytesIO(write_fake(source_from_peer_archive(zf), directory_entries=True)))
            assert ours.namelist() == zf.namelist(), path.name
            for theirs, mine in zip(zf.infolist(), ours.infolist(), strict=True):
                # media files (and directories made for them) carry Media.created in openedx-core
                media_ish = re.search(r"/component_versions/v\d+/(?!static/$).", theirs.filename)
                if not media_ish:
                    assert mine.date_time == theirs.date_time, (path.name, theirs.filename)
                assert ours.read(mine) == zf.read(theirs) or theirs.filename == "package.toml"
                assert (mine.external_attr, mine.create_system, mine.flag_bits & 0x800) == (
                    theirs.external_attr, theirs.create_system, theirs.flag_bits & 0x800,
                )  # fmt: skip
            checked += 1
    assert checked >= 12


@pytest.mark.parametrize("background", [False, True])
def test_blobs_in_memory_give_the_same_bytes(background: bool) -> None:
    """A blob the source holds whole (the SQL store's batch prefetch) is written as a streamed one is."""
    items = [blob("block.xml", b"<html>" + bytes(range(256)) * 300 + b"</html>"),
             blob("static/a.png", PNG, "image/png"), blob("static/b.txt", b"")]
    media = [m for m, _, _ in items]
    blobs = {s: d for _, s, d in items}

    def write(in_memory: bool) -> bytes:
        buffer = io.BytesIO()
        with ArchiveWriter(buffer, background=background) as out:
            write_v1(FakeSource(PACKAGE, [component("c1", media)], blobs=blobs, in_memory=in_memory), out,
                     created_at=T0)
        return buffer.getvalue()

    streamed = write(False)
    assert write(True) == streamed
    assert len(zipfile.ZipFile(io.BytesIO(streamed)).namelist()) == 5  # package, entity, 3 media
