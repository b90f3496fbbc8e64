"""Selective restore (``--entity``, ``--collection``): the closure of a selective backup, into a new or an
existing package."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.importkit import HTML, PROBLEM, REF, archive_of, make_source, setup_pair, state, versions

from lc_archive import backup, restore
from lc_archive.errors import LcArchiveError, PackageExists
from lc_archive.stores import SqlStore, open_store
from lc_archive.usecases.import_apply import import_archive, restore_selection
from lc_archive.usecases.selection import SelectionError


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    src = make_source(tmp_path / "src.db")
    path = archive_of(src, "lib:Org:SRC", tmp_path / "a.zip")
    src.close()
    return path


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    s = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    yield s
    s.close()


def test_entity_of_a_unit_as_a_new_package(archive: Path, store: SqlStore, tmp_path: Path) -> None:
    result = restore_selection(archive, store, "lib:Org:UNIT", entities=["u1"])
    assert result["entities_added"] == 4
    got = versions(store, "lib:Org:UNIT")
    assert sorted(got) == sorted(["u1", HTML[0], HTML[1], HTML[2]])
    full = state(store, "lib:Org:UNIT", all_versions=True)
    assert full["collections"] == {}
    # exactly what a selective backup of the same unit restores to
    restore(archive, store, ref="lib:Org:ALL")
    backup(store, "lib:Org:ALL", tmp_path / "sel.zip", entities=["u1"])
    restore(tmp_path / "sel.zip", store, ref="lib:Org:VIA")
    assert state(store, "lib:Org:UNIT", all_versions=True) == state(store, "lib:Org:VIA", all_versions=True)
    with pytest.raises(PackageExists):
        restore_selection(archive, store, "lib:Org:UNIT", entities=["u1"])


def test_collection_selection_keeps_the_collection(archive: Path, store: SqlStore) -> None:
    restore_selection(archive, store, "lib:Org:COL", collections=["col"])
    got = state(store, "lib:Org:COL")
    assert sorted(got["entities"]) == sorted([HTML[0], "u2", HTML[3], HTML[4], PROBLEM])
    assert got["collections"]["col"]["entities"] == sorted([HTML[0], "u2"])


def test_entity_into_an_existing_package(archive: Path, store: SqlStore) -> None:
    with store.author("lib:Org:EMPTY", create={"title": "Empty"}) as a:
        a.create_component("xblock.v1", "html", "other")
        a.add_component_version("xblock.v1:html:other", {"block.xml": "<html/>"})
    result = import_archive(archive, store, "lib:Org:EMPTY", entities=["u2"])
    assert {c.ref: c.action for c in result.plan.entities} == {
        "u2": "added", HTML[3]: "added", HTML[4]: "added", PROBLEM: "added"}
    assert result.plan.missing == 0  # entities outside the selection are not "missing"
    assert sorted(versions(store, "lib:Org:EMPTY")) == sorted(["xblock.v1:html:other", "u2", HTML[3], HTML[4],
                                                                PROBLEM])
    pinned = state(store, "lib:Org:EMPTY")["entities"]["u2"]["draft"]
    assert pinned["children_pinned_versions"] == [None, 1, None]
    with store.read("lib:Org:EMPTY") as source:  # the created entities' plugin payloads come along
        assert [(p.plugin, p.entity) for p in source.iter_payloads()] == [("acme-notes", HTML[4])]


def test_bring_back_deleted_components(tmp_path: Path) -> None:
    target, editor, a = setup_pair(tmp_path)
    with target, editor:
        original = state(target, REF)
        with target.author(REF) as au:
            for ref in HTML[1:4]:
                au.soft_delete(ref)
            au.add_component_version(HTML[5], {"block.xml": "<html>kept</html>"})
        result = import_archive(a, target, REF, entities=HTML[1:4])
        got = {c.ref: (c.action, c.details.get("restored")) for c in result.plan.entities}
        assert got == dict.fromkeys(HTML[1:4], ("changed", True))
        now = state(target, REF)
        for ref in HTML[1:4]:
            assert now["entities"][ref]["draft"]["media"] == original["entities"][ref]["draft"]["media"]
        assert now["entities"][HTML[5]]["draft"]["version_num"] == 3  # the edit outside the selection stays


def test_bad_selection(archive: Path, store: SqlStore) -> None:
    with pytest.raises(SelectionError):
        restore_selection(archive, store, "lib:Org:X", entities=["nope"])
    restore(archive, store, ref=REF)
    with pytest.raises(LcArchiveError, match="delete-missing"):
        import_archive(archive, store, REF, entities=["u1"], delete_missing=True)
    assert store.package_refs() == [REF]
