"""The authoring API (``store.author``): openedx-core semantics on a real SQLite store."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lc_archive.errors import LcArchiveError, PackageExists, PackageNotFound
from lc_archive.stores import (
    Author,
    AuthoringError,
    ChildRecord,
    EntityRecord,
    PublishLogEntry,
    SqlStore,
    open_store,
)

REF = "lib:Org:LIB1"
HTML = "xblock.v1:html:intro"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    s = open_store(str(tmp_path / "lib.db"))
    yield s
    s.close()


def ticking(start: datetime = datetime(2024, 3, 1, tzinfo=UTC)) -> Callable[[], datetime]:
    """A deterministic clock: one second later on every call."""
    state = [start]

    def now() -> datetime:
        state[0] += timedelta(seconds=1)
        return state[0]

    return now


def new(store: SqlStore, clock: Callable[[], datetime] | None = None) -> AbstractContextManager[Author]:
    return store.author(REF, user="alice", create={"title": "T", "description": "D"}, clock=clock)


def entities(store: SqlStore, history: str = "all") -> dict[str, EntityRecord]:
    with store.read(REF) as src:
        return {e.ref: e for e in src.iter_entities(history=history)}  # type: ignore[arg-type]


def test_create_and_open_package(store: SqlStore) -> None:
    with store.author(REF, user="alice", create={"title": "T", "description": "D"}, clock=ticking()) as a:
        assert isinstance(a, Author)
        assert a.create_component("xblock.v1", "html", "intro") == HTML
    with store.read(REF) as src:
        assert (src.package.title, src.package.description) == ("T", "D")
        assert src.package.created == src.package.updated == datetime(2024, 3, 1, 0, 0, 1, tzinfo=UTC)
    with pytest.raises(PackageExists), store.author(REF, create={"title": "T"}):
        pass
    with pytest.raises(PackageNotFound), store.author("lib:No:Such"):
        pass
    with pytest.raises(AuthoringError, match="title"), store.author("lib:X:Y", create={"title": " "}):
        pass
    with store.author(REF, user="bob") as a, pytest.raises(AuthoringError, match="already exists"):
        a.create_component("xblock.v1", "html", "intro")  # reopened: existing refs are known


def test_component_versions_apply_media_deltas(store: SqlStore) -> None:
    with store.author(REF, user="alice", create={"title": "T"}, clock=ticking()) as a:
        ref = a.create_component("xblock.v1", "html", "intro", can_stand_alone=False)
        v1 = a.add_component_version(
            ref, {"block.xml": "<html/>", "static/a.png": b"PNG", "static/x.weird": b"?"}, title="One"
        )
        v2 = a.add_component_version(ref, {"static/a.png": None, "static/b.css": b"b{}"}, title="Two")
        v3 = a.add_component_version(ref, {"block.xml": "<html>3</html>"}, title="Three", replace=True)
        v4 = a.add_component_version(ref, {"data.bin": b"\0"}, media_types={"data.bin": "application/x-lc"})
    assert (v1, v2, v3, v4) == (1, 2, 3, 4)
    e = entities(store)[ref]
    assert not e.can_stand_alone and e.created_by == "alice"
    assert [v.title for v in e.versions] == ["One", "Two", "Three", ""]
    paths = [[m.path for m in v.media] for v in e.versions]
    assert paths == [
        ["block.xml", "static/a.png", "static/x.weird"],
        ["block.xml", "static/x.weird", "static/b.css"],
        ["block.xml"],
        ["block.xml", "data.bin"],
    ]
    one = {m.path: m for m in e.versions[0].media}
    assert one["block.xml"].media_type == "application/vnd.openedx.xblock.v1.html+xml"
    assert (one["block.xml"].has_text, one["block.xml"].has_file) == (True, False)
    assert one["block.xml"].sha256 == hashlib.sha256(b"<html/>").hexdigest()
    assert one["block.xml"].size == len(b"<html/>")
    assert (one["static/a.png"].media_type, one["static/a.png"].has_file) == ("image/png", True)
    assert one["static/x.weird"].media_type == "application/octet-stream"
    assert e.versions[1].media[2].media_type == "text/css"
    assert e.versions[3].media[1].media_type == "application/x-lc"
    assert e.versions[1].media[0] == one["block.xml"]  # carried over unchanged
    assert (e.draft, e.published) == (4, None)
    assert [v.created for v in e.versions] == sorted(v.created for v in e.versions)


def test_version_numbers(store: SqlStore) -> None:
    with new(store) as a:
        ref = a.create_component("xblock.v1", "html", "intro")
        assert a.add_component_version(ref, {"block.xml": "<a/>"}, force_number=4) == 4
        assert a.add_component_version(ref, {}) == 5
        assert a.add_component_version(ref, {}, force_number=2) == 2  # fills a gap; next is still 6
        assert a.add_component_version(ref, {}) == 6
        for bad in (0, -1, 4, 6):
            with pytest.raises(AuthoringError, match="version"):
                a.add_component_version(ref, {}, force_number=bad)
    e = entities(store)[ref]
    assert [v.number for v in e.versions] == [2, 4, 5, 6]
    assert e.draft == 6
    assert [m.path for m in e.versions[0].media] == ["block.xml"]  # delta on the latest (v5), not v1


def test_media_inputs_are_validated(store: SqlStore) -> None:
    with new(store) as a:
        ref = a.create_component("xblock.v1", "html", "intro")
        for path in ("/abs.png", " x", "a\\b", ""):
            with pytest.raises(AuthoringError, match="media path"):
                a.add_component_version(ref, {path: b"x"})
        with pytest.raises(AuthoringError, match="str, bytes or None"):
            a.add_component_version(ref, {"a": 1})  # type: ignore[dict-item]
        with pytest.raises(AuthoringError, match="no entity"):
            a.add_component_version("xblock.v1:html:nope", {})
        unit = a.create_container("unit", "u1")
        with pytest.raises(AuthoringError, match="is a container, not a component"):
            a.add_component_version(unit, {})
        with pytest.raises(AuthoringError, match="timezone-aware"):
            a.add_component_version(ref, {}, created=datetime(2024, 1, 1))
        # The one media-path rule of the domain: a path never leaves its version directory (issue 9: the
        # authoring API used to accept these, and every backup of the package was then refused).
        for path in ("static/../evil.png", "../odd.txt", "static/./a.png", "static//a.png", "a/", "nul\x00.txt",
                     "x" * 501):
            with pytest.raises(AuthoringError, match="media path"):
                a.add_component_version(ref, {path: b"x"})
        assert a.add_component_version(ref, {"static/odd but allowed.txt": "ok"}) == 1


def test_codes_are_validated(store: SqlStore) -> None:
    with new(store) as a:
        assert a.create_component("xblock.v1", "html", "café_1.x-y") == "xblock.v1:html:café_1.x-y"
        for code in ("a b", "a/b", "", "a:b", "x\n", "a" * 256):
            with pytest.raises(AuthoringError, match="component code"):
                a.create_component("xblock.v1", "html", code)
            with pytest.raises(AuthoringError, match="container code"):
                a.create_container("unit", code)
        with pytest.raises(AuthoringError, match="namespace"):
            a.create_component("", "html", "x")
        with pytest.raises(AuthoringError, match="unknown container type"):
            a.create_container("chapter", "c1")
        assert a.create_container("section", "séction.1") == "séction.1"
        with pytest.raises(AuthoringError, match="already exists"):
            a.create_container("unit", "séction.1")
        a.create_collection("ok_1.a-B", "Fine")
        for code in ("café", "a b", ""):
            with pytest.raises(AuthoringError, match="collection code"):
                a.create_collection(code, "T")
        with pytest.raises(AuthoringError, match="title"):
            a.create_collection("c2", "  ")
        with pytest.raises(AuthoringError, match="already exists"):
            a.create_collection("ok_1.a-B", "Again")


def test_authoring_error_is_value_error() -> None:
    assert issubclass(AuthoringError, ValueError)
    assert issubclass(AuthoringError, LcArchiveError)


def test_containers(store: SqlStore) -> None:
    with new(store) as a:
        c1 = a.create_component("xblock.v1", "html", "c1")
        c2 = a.create_component("xblock.v1", "problem", "c2")
        a.add_component_version(c1, {"block.xml": "<html/>"})
        a.add_component_version(c1, {"block.xml": "<html>2</html>"})
        unit = a.create_container("unit", "unit-1")
        sub = a.create_container("subsection", "sub-1")
        sec = a.create_container("section", "sec-1")
        assert a.add_container_version(unit, [c2, (c1, 1), c1], title="Unit") == 1
        assert a.add_container_version(unit, None, title="Renamed") == 2  # keeps the children
        assert a.add_container_version(sub, [unit]) == 1
        assert a.add_container_version(sec, [sub]) == 1
        with pytest.raises(AuthoringError, match="a unit can only contain components; 'sub-1' is a subsection"):
            a.add_container_version(unit, [sub])
        with pytest.raises(AuthoringError, match="a subsection can only contain units"):
            a.add_container_version(sub, [c1])
        with pytest.raises(AuthoringError, match="a section can only contain subsections"):
            a.add_container_version(sec, [unit])
        with pytest.raises(AuthoringError, match="cannot pin"):
            a.add_container_version(unit, [(c1, 3)])
        with pytest.raises(AuthoringError, match="no entity"):
            a.add_container_version(unit, ["xblock.v1:html:ghost"])
        with pytest.raises(AuthoringError, match="is a component, not a container"):
            a.add_container_version(c1, [])
    e = entities(store)
    expected = (ChildRecord(c2), ChildRecord(c1, 1), ChildRecord(c1))
    assert [v.children for v in e[unit].versions] == [expected, expected]
    assert [v.title for v in e[unit].versions] == ["Unit", "Renamed"]
    assert (e[unit].kind, e[unit].namespace, e[unit].type, e[unit].code) == ("container", "", "unit", "unit-1")
    assert e[sec].versions[0].children == (ChildRecord(sub),)
    with store.author(REF) as a:  # reopened: children of the latest version come from the database
        assert a.add_container_version(unit, None, title="Third") == 3
    assert entities(store)[unit].versions[2].children == expected


def test_delta_after_reopening(store: SqlStore) -> None:
    with new(store) as a:
        ref = a.create_component("xblock.v1", "html", "intro")
        a.add_component_version(ref, {"block.xml": "<html/>", "static/a.png": b"A"})
    with store.author(REF) as a:
        assert a.add_component_version(ref, {"static/b.png": b"B"}) == 2
    assert [m.path for m in entities(store)[ref].versions[1].media] == ["block.xml", "static/a.png", "static/b.png"]


def test_publish_soft_delete_and_set_draft(store: SqlStore) -> None:
    clock = ticking()
    with store.author(REF, user="alice", create={"title": "T"}, clock=clock) as a:
        c1 = a.create_component("xblock.v1", "html", "c1")
        c2 = a.create_component("xblock.v1", "html", "c2")
        never = a.create_component("xblock.v1", "html", "never")
        a.add_component_version(c1, {"block.xml": "<a/>"})
        a.add_component_version(c2, {"block.xml": "<b/>"})
        assert a.publish(message="Initial") == 2
        assert a.publish(message="Nothing") == 0
        a.add_component_version(c1, {"block.xml": "<a>2</a>"})
        a.soft_delete(c2)
        assert a.publish(message="Second") == 2
        a.set_draft(c1, 1)
        with pytest.raises(AuthoringError, match="no version 3"):
            a.set_draft(c1, 3)
        with pytest.raises(AuthoringError, match=">= 1"):
            a.set_draft(c1, 0)
        a.soft_delete(never)  # soft-deleting a never-published entity publishes nothing for it
        assert a.publish(message="Revert", refs=[c1, never]) == 1
    e = entities(store)
    assert (e[c1].draft, e[c1].published) == (1, 1)
    assert [v.number for v in e[c1].versions] == [1, 2]
    assert (e[c2].draft, e[c2].draft_deleted, e[c2].published, e[c2].published_deleted) == (None, True, None, True)
    assert (e[never].draft, e[never].draft_deleted, e[never].published_deleted) == (None, True, False)
    assert [v.number for v in entities(store, "current")[c1].versions] == [1]
    assert entities(store, "current")[c2].versions == ()
    with store.read(REF) as src:
        logs = list(src.iter_publish_log())
    assert [(log.message, log.published_by) for log in logs] == [
        ("Initial", "alice"),
        ("Second", "alice"),
        ("Revert", "alice"),
    ]
    assert logs[0].entries == (PublishLogEntry(c1, None, 1), PublishLogEntry(c2, None, 1))
    assert logs[1].entries == (PublishLogEntry(c1, 1, 2), PublishLogEntry(c2, 1, None))
    assert logs[2].entries == (PublishLogEntry(c1, 2, 1),)
    assert logs[0].published_at < logs[1].published_at < logs[2].published_at


def test_publish_refs_includes_unpinned_children(store: SqlStore) -> None:
    with new(store) as a:
        c1 = a.create_component("xblock.v1", "html", "c1")
        c2 = a.create_component("xblock.v1", "html", "c2")
        c3 = a.create_component("xblock.v1", "html", "c3")
        for c in (c1, c2, c3):
            a.add_component_version(c, {"block.xml": "<x/>"})
        unit = a.create_container("unit", "u")
        a.add_container_version(unit, [c1, (c2, 1)])
        assert a.publish(refs=[unit]) == 2  # the unit and its unpinned child c1
    e = entities(store)
    assert [r for r, x in e.items() if x.published is not None] == [unit, c1]


def test_collections(store: SqlStore) -> None:
    with new(store, clock=ticking()) as a:
        c1 = a.create_component("xblock.v1", "html", "c1")
        unit = a.create_container("unit", "u")
        a.create_collection("coll-b", "Bee", description="about bees")
        a.create_collection("coll-a", "Ay")
        assert a.add_to_collection("coll-b", [unit, c1]) == 2
        assert a.add_to_collection("coll-b", [c1, c1]) == 0
        assert a.add_to_collection("coll-a", [c1]) == 1
        a.disable_collection("coll-a")
        with pytest.raises(AuthoringError, match="disabled"):
            a.add_to_collection("coll-a", [unit])
        with pytest.raises(AuthoringError, match="no collection"):
            a.add_to_collection("nope", [unit])
        with pytest.raises(AuthoringError, match="no entity"):
            a.add_to_collection("coll-b", ["ghost"])
    with store.author(REF) as a:  # existing members are loaded and ignored
        assert a.add_to_collection("coll-b", [c1]) == 0
        with pytest.raises(AuthoringError, match="disabled"):
            a.add_to_collection("coll-a", [unit])
    with store.read(REF) as src:
        colls = list(src.iter_collections())
        assert [c.code for c in src.iter_collections(include_disabled=False)] == ["coll-b"]
    assert [(c.code, c.title, c.description, c.enabled, c.members) for c in colls] == [
        ("coll-b", "Bee", "about bees", True, (unit, c1)),
        ("coll-a", "Ay", "", False, (c1,)),
    ]
    assert colls[1].modified > colls[1].created
    assert all(c.created_by == "alice" for c in colls)


def test_exception_rolls_back_the_whole_block(store: SqlStore) -> None:
    with pytest.raises(RuntimeError), new(store) as a:
        a.create_component("xblock.v1", "html", "c1")
        raise RuntimeError("stop")
    assert store.package_refs() == []


def test_deterministic_with_a_clock(tmp_path: Path) -> None:
    def build(path: Path) -> list[EntityRecord]:
        with open_store(str(path)) as s:
            with s.author(REF, user="u", create={"title": "T"}, clock=ticking()) as a:
                ref = a.create_component("xblock.v1", "html", "c1")
                a.add_component_version(ref, {"block.xml": "<x/>"})
                a.publish()
            with s.read(REF) as src:
                return list(src.iter_entities(history="all"))

    assert build(tmp_path / "a.db") == build(tmp_path / "b.db")


def test_many_components_flush_in_batches(store: SqlStore) -> None:
    with new(store) as a:
        unit = a.create_container("unit", "u")
        refs = [a.create_component("xblock.v1", "html", f"c{i:04d}") for i in range(3000)]
        for r in refs:
            a.add_component_version(r, {"block.xml": f"<x>{r}</x>", "static/shared.png": b"same"})
        a.add_container_version(unit, refs)
        assert a.publish() == 3001
    with store.read(REF) as src:
        assert src.entity_count() == 3001
        got = list(src.iter_entities())
    assert got[0].ref == unit and len(got[0].versions[0].children) == 3000
    assert all(len(e.versions[0].media) == 2 for e in got[1:])
