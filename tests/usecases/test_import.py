"""Import into an existing package (``restore --into``): preview, apply, conflicts, rollback, atomicity."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from support.importkit import (
    EDIT,
    HTML,
    NEW,
    PROBLEM,
    REF,
    archive_of,
    clock,
    counts,
    edit_five,
    file_hash,
    note,
    setup_pair,
    snapshot,
    state,
    versions,
)
from support.pg import fresh_database

from lc_archive import faults
from lc_archive.domain import EntityRecord
from lc_archive.errors import ArchiveInvalid, PackageNotFound
from lc_archive.faults import FaultInjected
from lc_archive.stores import SqlStore, open_store
from lc_archive.usecases.import_apply import PlanMismatch, import_archive
from lc_archive.usecases.import_plan import ImportConflict, ImportRefused

Pair = tuple[SqlStore, SqlStore, Path]


@pytest.fixture(params=["sqlite", "postgresql"])
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Pair]:
    """The target store (SQLite or PostgreSQL) with A as REF, the editor (SQLite) with A as EDIT, and A."""
    with ExitStack() as stack:
        url = None if request.param == "sqlite" else stack.enter_context(fresh_database("lc_import"))
        target, editor, a = setup_pair(tmp_path, url)
        stack.callback(target.close)
        stack.callback(editor.close)
        yield target, editor, a


def test_round_trip_of_an_edit(pair: Pair, tmp_path: Path) -> None:
    target, editor, _ = pair
    edit_five(editor, EDIT)
    b = archive_of(editor, EDIT, tmp_path / "b.zip")
    before = versions(target, REF)
    untouched = snapshot(target)

    preview = import_archive(b, target, REF, preview=True)
    listed = {(c.ref, c.action) for c in preview.plan.entities}
    assert listed == {(HTML[1], "changed"), (HTML[2], "changed"), (PROBLEM, "changed"), (NEW, "added"),
                      (HTML[3], "deleted")}
    assert preview.plan.collections == []
    assert snapshot(target) == untouched  # a preview writes nothing
    changes = {c.ref: c for c in preview.plan.entities}
    assert changes[HTML[1]].details == {"olx": True, "media_changed": ["block.xml"]}
    assert changes[HTML[2]].details == {"media_added": ["static/new.png"]}
    assert changes[PROBLEM].details["title"] == ["p0", "p0 v2"]
    assert preview.plan.unchanged == len(before) - 4

    applied = import_archive(b, target, REF, expect=preview.plan.plan_id)
    assert applied.plan.plan_id == preview.plan.plan_id  # exactly the previewed changes
    assert applied.written["versions"] == 4  # three new versions and the new component's one
    assert applied.written["soft_deleted"] == 1
    assert state(target, REF) == state(editor, EDIT)
    after = versions(target, REF)
    for ref in (HTML[1], HTML[2], PROBLEM):
        assert after[ref] == [*before[ref], before[ref][-1] + 1]  # the old versions are all still there
    assert after[HTML[3]] == before[HTML[3]]


def test_unchanged_import_writes_nothing(pair: Pair, tmp_path: Path) -> None:
    target, _, a = pair
    before, rows = snapshot(target), counts(target)
    result = import_archive(a, target, REF)
    assert result.plan.changes == 0
    assert result.plan.entities == []
    assert result.written["versions"] == 0
    assert counts(target) == rows
    assert snapshot(target) == before


def test_conflict_refused_then_resolved(pair: Pair, tmp_path: Path) -> None:
    target, editor, _ = pair
    edit_five(editor, EDIT)
    b = archive_of(editor, EDIT, tmp_path / "b.zip")
    with target.author(REF, user="carol", clock=clock(5)) as a:
        a.add_component_version(HTML[1], {"block.xml": "<html display_name='h1'>ours</html>"}, title="h1 ours")
    ours = state(target, REF)
    before = snapshot(target)

    with pytest.raises(ImportConflict) as refused:
        import_archive(b, target, REF)
    assert [c.ref for c in refused.value.plan.conflicts] == [HTML[1]]
    assert snapshot(target) == before
    preview = import_archive(b, target, REF, preview=True)
    assert [(c.ref, c.action) for c in preview.plan.conflicts] == [(HTML[1], "conflict")]

    kept = import_archive(b, target, REF, resolve="ours")
    now = state(target, REF)
    assert now["entities"][HTML[1]] == ours["entities"][HTML[1]]
    assert now["entities"][PROBLEM]["draft"] == state(editor, EDIT)["entities"][PROBLEM]["draft"]
    assert kept.plan.conflicts[0].details["resolution"] == "ours"

    taken = import_archive(b, target, REF, resolve="theirs")
    assert [c.ref for c in taken.plan.entities] == [HTML[1]]
    assert taken.written["versions"] == 1
    assert state(target, REF) == state(editor, EDIT) | {"entities": state(target, REF)["entities"]}
    theirs_draft = state(editor, EDIT)["entities"][HTML[1]]["draft"]
    got = state(target, REF)["entities"][HTML[1]]["draft"]
    assert got["media"] == theirs_draft["media"] and got["title"] == theirs_draft["title"]
    assert got["version_num"] == 3  # after A's 1 and ours' 2 (the archive numbered it 2)


def test_rollback_brings_content_back_as_new_versions(pair: Pair, tmp_path: Path) -> None:
    target, editor, a = pair
    original = state(target, REF)
    edit_five(editor, EDIT)
    import_archive(archive_of(editor, EDIT, tmp_path / "b.zip"), target, REF)
    edited = versions(target, REF)
    result = import_archive(a, target, REF, delete_missing=True)
    assert {c.ref: c.action for c in result.plan.entities} == {
        HTML[1]: "changed", HTML[2]: "changed", PROBLEM: "changed", HTML[3]: "changed", NEW: "deleted"}
    assert {c.ref: c.details.get("restored", False) for c in result.plan.entities}[HTML[3]] is True
    back = state(target, REF)
    for ref in (HTML[1], HTML[2], PROBLEM, HTML[3]):
        draft, old = back["entities"][ref]["draft"], original["entities"][ref]["draft"]
        assert (draft["title"], draft["media"]) == (old["title"], old["media"])
        assert versions(target, REF)[ref] == [*edited[ref], edited[ref][-1] + 1]
    assert back["entities"][NEW]["draft"] is None


def test_publish_names_the_archive(pair: Pair, tmp_path: Path) -> None:
    target, editor, _ = pair
    edit_five(editor, EDIT)
    result = import_archive(archive_of(editor, EDIT, tmp_path / "b.zip"), target, REF, publish=True, user="dora")
    assert result.written["published"] == 5
    with target.read(REF) as source:
        last = list(source.iter_publish_log())[-1]
    assert last.message == "import of b.zip (lib:Org:EDIT)"
    assert last.published_by == "dora"
    assert {e.ref for e in last.entries} == {HTML[1], HTML[2], HTML[3], PROBLEM, NEW}
    now = state(target, REF)
    assert now["entities"][NEW]["published"] == now["entities"][NEW]["draft"]
    assert now["entities"][HTML[3]]["published"] is None


@pytest.mark.parametrize("point", ["import.begin", "import.blob", "update.versions", "sink.entity_rows",
                                   "update.soft_delete", "import.collections", "update.published",
                                   "store.before_commit"])
def test_failed_import_leaves_the_store_byte_identical(pair: Pair, tmp_path: Path,
                                                        point: str) -> None:
    target, editor, _ = pair
    edit_five(editor, EDIT)
    with editor.author(EDIT, clock=clock(3)) as a:
        a.create_collection("more", "More")
        a.add_to_collection("more", [NEW])
    b = archive_of(editor, EDIT, tmp_path / "b.zip")
    before = snapshot(target)
    faults.configure(f"{point}:1:raise")
    try:
        with pytest.raises(FaultInjected):
            import_archive(b, target, REF, publish=True)
    finally:
        faults.configure(None)
    assert snapshot(target) == before


def test_hostile_archive_refused_store_identical(pair: Pair, tmp_path: Path) -> None:
    target, _, a = pair
    bad = tmp_path / "bad.zip"
    data = bytearray(a.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    before = snapshot(target)
    with pytest.raises(ArchiveInvalid):
        import_archive(bad, target, REF)
    assert snapshot(target) == before


def test_unknown_package_and_stale_plan(pair: Pair, tmp_path: Path) -> None:
    target, editor, a = pair
    with pytest.raises(PackageNotFound):
        import_archive(a, target, "lib:Org:NOPE")
    edit_five(editor, EDIT)
    b = archive_of(editor, EDIT, tmp_path / "b.zip")
    plan_id = import_archive(b, target, REF, preview=True).plan.plan_id
    with target.author(REF, clock=clock(7)) as au:
        au.add_component_version(HTML[5], {"block.xml": "<html>moved on</html>"})
    before = snapshot(target)
    with pytest.raises(PlanMismatch):
        import_archive(b, target, REF, expect=plan_id)
    assert snapshot(target) == before


_KILL_SCRIPT = """
import sys
from lc_archive.stores import open_store
from lc_archive.usecases.import_apply import import_archive
with open_store(sys.argv[1]) as store:
    import_archive(sys.argv[2], store, sys.argv[3], publish=True)
"""


@pytest.mark.slow
@pytest.mark.parametrize("point", ["import.blob", "update.versions", "update.published", "store.before_commit"])
def test_killed_import_leaves_the_store_byte_identical(tmp_path: Path, point: str) -> None:
    target, editor, _ = setup_pair(tmp_path)
    with target, editor:
        edit_five(editor, EDIT)
        b = archive_of(editor, EDIT, tmp_path / "b.zip")
    db = tmp_path / "target.db"
    before = file_hash(db)
    env = {**os.environ, faults.ENV: f"{point}:1:kill"}
    run = subprocess.run([sys.executable, "-c", _KILL_SCRIPT, f"sqlite:///{db}", str(b), REF], env=env,
                         capture_output=True, check=False)
    assert run.returncode == -signal.SIGKILL, run.stderr
    with sqlite3.connect(db) as conn:  # the first connection rolls the hot journal back
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert file_hash(db) == before
    with open_store(f"sqlite:///{db}") as again:  # and the next import goes through
        assert import_archive(b, again, REF).written["versions"] == 4


def test_type_clash_refused(tmp_path: Path) -> None:
    target, editor, a = setup_pair(tmp_path)
    with target, editor:
        with target.author("lib:Org:OTHER", create={"title": "Other"}) as au:
            au.create_container("section", "u1")
            au.add_container_version("u1", [])
        before = snapshot(target)
        with pytest.raises(ImportRefused, match="u1 is a unit in the archive and a section here"):
            import_archive(a, target, "lib:Org:OTHER")
        assert snapshot(target) == before


def test_pins_follow_the_package_numbering(pair: Pair, tmp_path: Path) -> None:
    target, editor, _ = pair
    with target.author(REF, clock=clock(2)) as au:  # here h4 has a version 2 the archive never saw
        au.add_component_version(HTML[4], {"block.xml": "<html>local try</html>"})
        au.set_draft(HTML[4], 1)
    with editor.author(EDIT, clock=clock(3)) as au:
        au.add_component_version(HTML[4], {"block.xml": "<html>theirs</html>"})
        au.add_container_version("u2", [HTML[3], (HTML[4], 2), PROBLEM], title="Unit 2 pinned to 2")
    result = import_archive(archive_of(editor, EDIT, tmp_path / "b.zip"), target, REF)
    changes = {c.ref: c for c in result.plan.entities}
    assert (changes[HTML[4]].number, changes[HTML[4]].source_number) == (3, 2)
    assert changes["u2"].details["children"] == [[HTML[3], f"{HTML[4]}@1", PROBLEM],
                                                 [HTML[3], f"{HTML[4]}@3", PROBLEM]]
    unit = state(target, REF)["entities"]["u2"]["draft"]
    assert unit["children_pinned_versions"] == [None, 3, None]
    with target.read(REF) as source:
        h4 = next(e for e in source.iter_entities(history="all") if e.ref == HTML[4])
    assert h4.version(3) is not None and h4.version(3).media == next(
        e for e in _entities(editor, EDIT) if e.ref == HTML[4]).version(2).media  # type: ignore[union-attr]


def _entities(store: SqlStore, ref: str) -> list[EntityRecord]:
    with store.read(ref) as source:
        return list(source.iter_entities(history="all"))


def test_collections_added_changed_and_deleted(pair: Pair, tmp_path: Path) -> None:
    target, editor, _ = pair
    with editor.author(EDIT, clock=clock(3)) as au:
        au.add_to_collection("col", [HTML[5]])
        au.create_collection("extra", "Extra")
        au.add_to_collection("extra", [HTML[1], "u1"])
    with target.author(REF, clock=clock(4)) as au:
        au.add_to_collection("col", [HTML[2]])  # only here: kept, unless --delete-missing
        au.create_collection("local", "Local")
    b = archive_of(editor, EDIT, tmp_path / "b.zip")
    plan = import_archive(b, target, REF, preview=True).plan
    assert [(c.code, c.action) for c in plan.collections] == [("col", "changed"), ("extra", "added")]
    assert plan.collections[0].details == {"members_added": [HTML[5]]}
    import_archive(b, target, REF)
    cols = state(target, REF)["collections"]
    assert cols["col"]["entities"] == sorted([HTML[0], HTML[2], HTML[5], "u2"])
    assert cols["extra"]["entities"] == sorted([HTML[1], "u1"])
    assert "local" in cols
    result = import_archive(b, target, REF, delete_missing=True)
    assert [(c.code, c.action) for c in result.plan.collections] == [("col", "changed"), ("local", "deleted")]
    assert state(target, REF)["collections"] == state(editor, EDIT)["collections"]


def _payloads(store: SqlStore, ref: str) -> dict[tuple[str, str | None, int | None], bytes]:
    with store.read(ref) as source:
        return {(p.plugin, p.entity, p.version): p.body for p in source.iter_payloads()}


def test_payloads_follow_the_content(pair: Pair, tmp_path: Path) -> None:
    target, editor, _ = pair
    with target.author(REF, clock=clock(2)) as au:  # h4's next version here is 3, in the archive 2
        au.add_component_version(HTML[4], {"block.xml": "<html>local try</html>"})
        au.set_draft(HTML[4], 1)
        au.set_payload(note("xblock.v1:html:h0", "only here"))
    with editor.author(EDIT, clock=clock(3)) as au:
        au.add_component_version(HTML[4], {"block.xml": "<html>theirs</html>"})
        au.set_payload(note(HTML[4], "edited note"))
        au.set_payload(note(HTML[4], "on version 2", version=2))
        au.set_payload(note(None, "the package"))
    result = import_archive(archive_of(editor, EDIT, tmp_path / "b.zip"), target, REF)
    assert [(c.target, c.action) for c in result.plan.payloads] == [
        (("acme-notes", None, None), "added"), (("acme-notes", HTML[4], None), "changed"),
        (("acme-notes", HTML[4], 3), "added")]
    got, theirs = _payloads(target, REF), _payloads(editor, EDIT)
    assert got[("acme-notes", None, None)] == theirs[("acme-notes", None, None)]
    assert got[("acme-notes", HTML[4], None)] == theirs[("acme-notes", HTML[4], None)]
    assert json.loads(got[("acme-notes", HTML[4], 3)]) == {**json.loads(theirs[("acme-notes", HTML[4], 2)]),
                                                           "version": 3}
    assert ("acme-notes", "xblock.v1:html:h0", None) in got  # only in the package: kept
    assert import_archive(archive_of(editor, EDIT, tmp_path / "b2.zip"), target, REF).plan.changes == 0
