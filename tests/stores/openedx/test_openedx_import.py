"""Import into an existing openedx-core package (``restore --into`` on ``openedx:``), ``delete`` and
``rename``, on SQLite, MariaDB and PostgreSQL: the issue's done-when items against a live openedx-core
database (the edited package comes from lc-archive's SQL authoring API in a second store)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.importkit import EDIT, HTML, NEW, PROBLEM, REF, START, archive_of, edit_five, make_source, state
from support.openedx_db import OpenedxDb, any_user
from support.openedx_rows import media_listing, store_snapshot, table_rows

from lc_archive import faults
from lc_archive.errors import PackageExists, PackageNotFound
from lc_archive.faults import FaultInjected
from lc_archive.stores import SqlStore, open_store
from lc_archive.stores.base import Store
from lc_archive.stores.openedx.media_journal import journal_dir, recover
from lc_archive.usecases.import_apply import import_archive
from lc_archive.usecases.import_plan import ImportConflict
from lc_archive.usecases.restore import restore

OTHER = "lib:Org:OTHER"
Setup = tuple[Store, SqlStore, Path, OpenedxDb]


def snapshot(db: OpenedxDb) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Rows of every openedx-core table and the media directory's files."""
    return store_snapshot(db.media_root)


@pytest.fixture
def setup(openedx_db: OpenedxDb, tmp_path: Path) -> Iterator[Setup]:
    """openedx-core holds archive A as REF (and as OTHER, sharing its media); a SQL store holds A as EDIT."""
    for name in ("alice", "bob", "carol"):
        any_user(name)
    src = make_source(tmp_path / "src.db")
    a = archive_of(src, "lib:Org:SRC", tmp_path / "a.zip")
    src.close()
    target = open_store(openedx_db.store_url)
    restore(a, target, ref=REF)
    restore(a, target, ref=OTHER)
    editor = open_store(f"sqlite:///{tmp_path / 'editor.db'}")
    restore(a, editor, ref=EDIT)
    yield target, editor, a, openedx_db
    editor.close()
    target.close()


def _versions(store: Store, ref: str) -> dict[str, list[int]]:
    with store.read(ref) as source:
        return {e.ref: [v.number for v in e.versions] for e in source.iter_entities(history="all")}


def _edited(setup: Setup, tmp_path: Path) -> Path:
    _, editor, _, _ = setup
    edit_five(editor, EDIT)
    return archive_of(editor, EDIT, tmp_path / "b.zip")


def test_round_trip_of_an_edit(setup: Setup, tmp_path: Path) -> None:
    target, editor, _, db = setup
    b = _edited(setup, tmp_path)
    before, untouched = _versions(target, REF), snapshot(db)
    preview = import_archive(b, target, REF, preview=True)
    assert {(c.ref, c.action) for c in preview.plan.entities} == {
        (HTML[1], "changed"), (HTML[2], "changed"), (PROBLEM, "changed"), (NEW, "added"), (HTML[3], "deleted")}
    assert snapshot(db) == untouched
    applied = import_archive(b, target, REF, expect=preview.plan.plan_id)
    assert applied.written["versions"] == 4 and applied.written["soft_deleted"] == 1
    assert state(target, REF) == state(editor, EDIT)
    after = _versions(target, REF)
    for ref in (HTML[1], HTML[2], PROBLEM):
        assert after[ref] == [*before[ref], before[ref][-1] + 1]  # history kept, numbers follow the package's
    assert _versions(target, OTHER) == before
    # the import is one DraftChangeLog; pictures are files in the package's folder
    from openedx_content.models_api import DraftChangeLog, LearningPackage

    lp = LearningPackage.objects.get(package_ref=REF)
    assert DraftChangeLog.objects.filter(learning_package=lp).count() == 2  # the restore's and the import's
    assert any(f"content/{lp.uuid}/" in name for name in media_listing(db.media_root))
    # rollback: importing A again brings the old content back as new versions
    rolled = import_archive(tmp_path / "a.zip", target, REF)
    assert rolled.written["versions"] == 4  # h1, h2, p0 as they were; h3 restored
    now, old = state(target, REF)["entities"], state(target, OTHER)["entities"]
    for ref in (HTML[1], HTML[2], PROBLEM, HTML[3]):
        assert now[ref]["draft"]["media"] == old[ref]["draft"]["media"], ref


def test_unchanged_import_writes_nothing(setup: Setup) -> None:
    target, _, a, db = setup
    before = snapshot(db)
    result = import_archive(a, target, REF)
    assert result.plan.entities == [] and result.plan.collections == [] and result.written["versions"] == 0
    # openedx-core has no place for plugin payloads: A's note is planned each time, counted, never kept
    assert [c.action for c in result.plan.payloads] == ["added"]
    assert target.last_warnings == ["1 plugin payload(s) not kept: openedx-core has no place for them"]  # type: ignore[attr-defined]
    assert snapshot(db) == before
    assert not list(journal_dir().glob("*"))


def _edit_ours(ref: str) -> None:
    """The package's own edit of HTML[1], through openedx-core's authoring API."""
    from openedx_content import api
    from openedx_content.models_api import Component, LearningPackage

    lp = LearningPackage.objects.get(package_ref=ref)
    component = Component.objects.get(learning_package=lp, publishable_entity__entity_ref=HTML[1])
    api.create_next_component_version(
        component.pk, media_to_replace={"block.xml": b"<html display_name='h1'>ours</html>"},
        created=START.replace(year=2026), title="h1 ours", created_by=any_user("carol").id)


def test_conflict_refused_then_resolved(setup: Setup, tmp_path: Path) -> None:
    target, editor, _, db = setup
    b = _edited(setup, tmp_path)
    _edit_ours(REF)
    ours = state(target, REF)
    before = snapshot(db)
    with pytest.raises(ImportConflict) as refused:
        import_archive(b, target, REF)
    assert [c.ref for c in refused.value.plan.conflicts] == [HTML[1]]
    assert snapshot(db) == before
    import_archive(b, target, REF, resolve="ours")
    kept = state(target, REF)
    assert kept["entities"][HTML[1]] == ours["entities"][HTML[1]]
    assert kept["entities"][PROBLEM]["draft"] == state(editor, EDIT)["entities"][PROBLEM]["draft"]
    import_archive(b, target, REF, resolve="theirs")
    got, theirs = state(target, REF)["entities"][HTML[1]]["draft"], state(editor, EDIT)["entities"][HTML[1]]["draft"]
    assert (got["media"], got["title"], got["version_num"]) == (theirs["media"], theirs["title"], 3)


def test_publish_publishes_what_the_import_changed(setup: Setup, tmp_path: Path) -> None:
    target, editor, _, _ = setup
    b = _edited(setup, tmp_path)
    result = import_archive(b, target, REF, publish=True, user="carol")
    assert result.written["published"] == 5
    with editor.author(EDIT, user="carol") as a:
        a.publish("same", refs=[HTML[1], HTML[2], PROBLEM, NEW, HTML[3]])
    ours, theirs = state(target, REF)["entities"], state(editor, EDIT)["entities"]
    assert {r: e.get("published") for r, e in ours.items()} == {r: e.get("published") for r, e in theirs.items()}
    from openedx_content.models_api import PublishLog

    log = PublishLog.objects.filter(learning_package__package_ref=REF).order_by("-id").first()
    assert log is not None and log.message == "import of b.zip (lib:Org:EDIT)"
    assert log.published_by is not None and log.published_by.username == "carol"


IMPORT_POINTS = ["openedx.update_begin", "import.blob", "openedx.version_rows", "openedx.update_versions",
                 "openedx.entities", "openedx.update_soft_delete", "openedx.children", "openedx.logs",
                 "openedx.update_published", "openedx.update_before_commit"]


def test_a_failed_import_leaves_the_store_as_it_was(setup: Setup, tmp_path: Path) -> None:
    target, _, _, db = setup
    b = _edited(setup, tmp_path)
    before = snapshot(db)
    for point in IMPORT_POINTS:
        faults.configure(f"{point}:1:raise")
        try:
            with pytest.raises(FaultInjected):
                import_archive(b, target, REF, publish=True)
        finally:
            faults.configure(None)
        assert snapshot(db) == before, point
        assert not list(journal_dir().glob("*")), point
    import_archive(b, target, REF, publish=True)
    assert snapshot(db) != before


@pytest.mark.slow
def test_a_killed_import_leaves_the_store_as_it_was_after_recovery(setup: Setup, tmp_path: Path) -> None:
    target, _, _, db = setup
    b = _edited(setup, tmp_path)
    target.close()
    before = snapshot(db)
    env: dict[str, Any] = {**db.env(), faults.ENV: "openedx.update_before_commit:1:kill"}
    cmd = [sys.executable, "-m", "lc_archive", "restore", str(b), db.store_url, "--into", REF, "--publish", "-q"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == -9, done.stderr[-2000:]
    from django.db import connections

    connections[db.alias].close()
    assert list(journal_dir().glob("*.journal"))
    recover()
    assert snapshot(db) == before
    assert not list(journal_dir().glob("*"))


def test_delete_and_rename(setup: Setup) -> None:
    target, _, _, db = setup
    from openedx_content.models_api import LearningPackage

    uuid = str(LearningPackage.objects.get(package_ref=REF).uuid)
    other = str(LearningPackage.objects.get(package_ref=OTHER).uuid)
    kept = {k: v for k, v in media_listing(db.media_root).items() if other in k}
    assert kept and any(uuid in k for k in media_listing(db.media_root))
    with pytest.raises(PackageExists):
        target.rename_package(REF, OTHER)  # type: ignore[attr-defined]
    target.rename_package(REF, "lib:Org:RENAMED")  # type: ignore[attr-defined]
    assert target.package_refs() == ["lib:Org:OTHER", "lib:Org:RENAMED"]
    result = target.delete_package("lib:Org:RENAMED")  # type: ignore[attr-defined]
    assert result.entities == 10 and result.versions > 11 and result.blobs_freed > 0 and result.bytes_freed > 0
    assert [i.ref for i in target.package_infos()] == [OTHER]  # type: ignore[attr-defined]
    listing = media_listing(db.media_root)
    assert not any(uuid in k for k in listing)  # its files are freed
    assert {k: v for k, v in listing.items() if other in k} == kept  # the other package's are untouched
    with pytest.raises(PackageNotFound):
        target.delete_package(REF)  # type: ignore[attr-defined]
    assert table_rows()["PublishableEntity"]  # OTHER's rows are all there
    with target.read(OTHER) as source:
        assert source.entity_count() == 10


def test_a_failed_delete_changes_nothing(setup: Setup) -> None:
    target, _, _, db = setup
    before = snapshot(db)
    for point in ("openedx.delete_begin", "openedx.delete_rows"):
        faults.configure(f"{point}:1:raise")
        try:
            with pytest.raises(FaultInjected):
                target.delete_package(REF)  # type: ignore[attr-defined]
        finally:
            faults.configure(None)
        assert snapshot(db) == before, point
        assert not list(journal_dir().glob("*")), point


def _cli(db: OpenedxDb, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "lc_archive", *args]
    return subprocess.run(cmd, env=db.env(), capture_output=True, text=True, timeout=600, check=False)


def test_cli_import_delete_and_rename_on_openedx(setup: Setup, tmp_path: Path) -> None:
    target, _, _, db = setup
    b = _edited(setup, tmp_path)
    target.close()
    url = db.store_url
    preview = _cli(db, "restore", str(b), url, "--into", REF, "--preview", "--json")
    assert preview.returncode == 1, preview.stderr  # like diff: 1 when there are changes
    plan = json.loads(preview.stdout)["result"]
    assert plan["counts"]["changed"] == 3 and plan["counts"]["added"] == 1 and plan["counts"]["deleted"] == 1
    done = _cli(db, "restore", str(b), url, "--into", REF, "--expect", plan["plan_id"], "--publish")
    assert done.returncode == 0, done.stderr
    assert _cli(db, "rename", url, REF, "lib:Org:NEW").returncode == 0
    gone = _cli(db, "delete", url, "lib:Org:NEW", "--yes", "--json")
    assert gone.returncode == 0, gone.stderr
    assert json.loads(gone.stdout)["result"]["entities"] == 11
    listed = _cli(db, "packages", url, "--json")
    assert [p["ref"] for p in json.loads(listed.stdout)["result"]["packages"]] == [OTHER]
    missing = _cli(db, "delete", url, REF, "--yes")
    assert missing.returncode != 0 and REF in missing.stderr and "Traceback" not in missing.stderr


def test_delete_missing_and_collections(setup: Setup, tmp_path: Path) -> None:
    target, editor, a, _ = setup
    from openedx_content import api
    from openedx_content.models_api import LearningPackage, PublishableEntity

    with editor.author(EDIT) as au:
        au.add_to_collection("col", [HTML[5]])
        au.create_collection("extra", "Extra")
        au.add_to_collection("extra", [HTML[1], "u1"])
    b = _edited(setup, tmp_path)
    lp = LearningPackage.objects.get(package_ref=REF)
    api.add_to_collection(lp.id, "col", PublishableEntity.objects.filter(learning_package=lp, entity_ref=HTML[2]))
    api.create_collection(lp.id, "local", title="Local", created_by=None)
    import_archive(b, target, REF)
    cols = state(target, REF)["collections"]
    assert cols["col"]["entities"] == sorted([HTML[0], HTML[2], HTML[5], "u2"])  # h2 only here: kept
    assert cols["extra"]["entities"] == sorted([HTML[1], "u1"])
    result = import_archive(b, target, REF, delete_missing=True)
    assert [(c.code, c.action) for c in result.plan.collections] == [("col", "changed"), ("local", "deleted")]
    assert state(target, REF)["collections"] == state(editor, EDIT)["collections"]
    rolled = import_archive(a, target, REF, delete_missing=True)  # A lacks NEW: soft-deleted
    assert {c.ref: c.action for c in rolled.plan.entities}[NEW] == "deleted"
    assert state(target, REF)["entities"][NEW]["draft"] is None
    assert _versions(target, REF)[NEW] == [1]  # its version stays
