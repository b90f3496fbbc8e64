"""The CLI of issue 15: ``restore --into`` (preview, apply, conflicts), selective restore, ``packages``,
``delete``, ``rename``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.importkit import EDIT, HTML, NEW, REF, archive_of, clock, edit_five, file_hash, setup_pair, state

from lc_archive.cli import main


@pytest.fixture
def work(tmp_path: Path) -> tuple[str, Path, Path]:
    """(target store URL, archive A, archive B = A with the issue's five edits)."""
    target, editor, a = setup_pair(tmp_path)
    with target, editor:
        edit_five(editor, EDIT)
        b = archive_of(editor, EDIT, tmp_path / "b.zip")
    return f"sqlite:///{tmp_path / 'target.db'}", a, b


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    code = main([*argv, "--json"])
    envelope = json.loads(capsys.readouterr().out)
    return code, envelope["result"] if envelope["result"] is not None else envelope


def test_preview_apply_and_again(work: tuple[str, Path, Path], tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    url, _, b = work
    db = tmp_path / "target.db"
    before = file_hash(db)
    assert main(["restore", str(b), url, "--into", REF, "--preview"]) == 1  # like diff: 1 = changes
    text = capsys.readouterr().out
    assert f"changed {HTML[1]} (xblock.v1:html): OLX; new version 2" in text
    assert f"added {NEW} (xblock.v1:html)" in text
    assert f"deleted {HTML[3]} (xblock.v1:html)" in text
    assert "1 added, 3 changed, 1 deleted; 6 unchanged" in text
    code, plan = run_json(capsys, "restore", str(b), url, "--into", REF, "--preview")
    assert code == 1 and plan["preview"] is True and plan["changes"] == 5
    assert file_hash(db) == before
    code, done = run_json(capsys, "restore", str(b), url, "--into", REF, "--expect", plan["plan_id"], "-q")
    assert code == 0 and done["plan_id"] == plan["plan_id"] and done["written"]["versions"] == 4
    assert main(["restore", str(b), url, "--into", REF, "--preview"]) == 0  # nothing left to change
    assert "nothing to change; 11 unchanged" in capsys.readouterr().out


def test_conflict_exit_and_resolution(work: tuple[str, Path, Path], tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    url, _, b = work
    from lc_archive.stores import open_store

    with open_store(url) as store, store.author(REF, clock=clock(5)) as a:
        a.add_component_version(HTML[1], {"block.xml": "<html>ours</html>"})
    db = tmp_path / "target.db"
    before = file_hash(db)
    assert main(["restore", str(b), url, "--into", REF]) == 1
    captured = capsys.readouterr()
    assert f"conflict: {HTML[1]} (xblock.v1:html): changed in the package and in the archive since version 1" in \
        captured.err
    assert "nothing was written" in captured.err
    assert file_hash(db) == before
    assert main(["restore", str(b), url, "--into", REF, "--theirs", "-q"]) == 0
    with open_store(url) as store:
        assert state(store, REF)["entities"][HTML[1]]["draft"]["version_num"] == 3


def test_usage_errors(work: tuple[str, Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    url, a, _ = work
    assert main(["restore", str(a), url, "--preview"]) == 2  # bad usage
    assert "--preview only go with --into REF" in capsys.readouterr().err
    assert main(["restore", str(a), url, "--into", REF, "--ref", "lib:X:Y"]) == 2  # bad usage too
    assert main(["restore", str(a), url, "--into", "lib:No:PE", "--preview"]) == 2  # an error, as diff(1)
    assert "no learning package 'lib:No:PE'" in capsys.readouterr().err
    assert main(["restore", str(a), url, "--into", REF, "--theirs", "--ours"]) == 2


def test_selective_packages_rename_delete(work: tuple[str, Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    url, a, _ = work
    assert main(["restore", str(a), url, "--entity", "u1", "--ref", "lib:Org:U1", "-q"]) == 0
    capsys.readouterr()
    code, listed = run_json(capsys, "packages", url)
    assert code == 0
    assert [(p["ref"], p["components"], p["containers"]) for p in listed["packages"]] == [
        ("lib:Org:REF", 7, 3), ("lib:Org:U1", 3, 1)]
    assert main(["packages", url]) == 0
    assert "lib:Org:U1" in capsys.readouterr().out
    assert main(["rename", url, "lib:Org:U1", "lib:Org:UNIT"]) == 0
    assert main(["delete", url, "lib:Org:UNIT"]) == 1  # nobody to ask: refused
    assert "without --yes" in capsys.readouterr().err
    code, deleted = run_json(capsys, "delete", url, "lib:Org:UNIT", "--yes")
    assert code == 0 and deleted["deleted"] is True and deleted["entities"] == 4
    code, listed = run_json(capsys, "packages", url)
    assert [p["ref"] for p in listed["packages"]] == [REF]
