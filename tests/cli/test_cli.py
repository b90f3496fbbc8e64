"""The CLI end to end: restore, backup, validate, inspect, state; refusals change nothing on disk."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from support.files import sha
from support.v1kit import container, make_zip, tiny_members

from lc_archive.cli import main
from lc_archive.stores import open_store

REF = "lib:Org:TINY"




@pytest.fixture
def store_file(tmp_path: Path) -> Path:
    """A store that already holds one package, so 'unchanged' is a real check."""
    db = tmp_path / "store.db"
    assert main(["restore", str(make_zip(tmp_path / "ok.zip", tiny_members())), f"sqlite:///{db}",
                 "--ref", "lib:Org:EXISTING", "-q"]) == 0
    return db


def _truncated(tmp_path: Path) -> Path:
    good = make_zip(tmp_path / "full.zip", tiny_members())
    bad = tmp_path / "truncated.zip"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    return bad


def _hostile(tmp_path: Path, case: str) -> tuple[Path, str]:
    """(archive, text naming the member that the message must contain)."""
    m = tiny_members()
    if case == "dotdot":
        m["entities/../../evil.toml"] = "x = 1"
        return make_zip(tmp_path / "a.zip", m), "entities/../../evil.toml"
    if case == "missing-child":
        m["entities/unit-1.toml"] = container("unit-1", "unit", ["xblock.v1:html:nope"])
        return make_zip(tmp_path / "a.zip", m), "entities/unit-1.toml: $.version[0].container.children[0]"
    if case == "format-version":
        return make_zip(tmp_path / "a.zip", tiny_members(fv=7)), "package.toml: $.meta.format_version"
    if case == "invalid-toml":
        m["collections/c1.toml"] = "[collection\n"
        return make_zip(tmp_path / "a.zip", m), "collections/c1.toml: $: invalid TOML"
    if case == "truncated":
        return _truncated(tmp_path), "(archive)"
    raise AssertionError(case)


@pytest.mark.parametrize("case", ["dotdot", "missing-child", "format-version", "invalid-toml", "truncated"])
@pytest.mark.parametrize("command", ["restore", "validate"])
def test_hostile_smoke_set(case: str, command: str, tmp_path: Path, store_file: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    archive, naming = _hostile(tmp_path, case)
    before = sha(store_file)
    args = [command, str(archive)] + ([f"sqlite:///{store_file}", "--ref", REF] if command == "restore" else [])
    assert main(args) == 1
    err = capsys.readouterr().err
    assert naming in err, err
    assert sha(store_file) == before
    with open_store(f"sqlite:///{store_file}") as store:
        assert store.package_refs() == ["lib:Org:EXISTING"]


def test_validate_json_lists_every_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    m = tiny_members(fv=9)
    m["entities/unit-1.toml"] = container("unit-1", "unit", ["a", "b"])
    assert main(["validate", str(make_zip(tmp_path / "a.zip", m)), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False
    paths = {(p["member"], p["path"]) for p in out["problems"]}
    assert {("package.toml", "$.meta.format_version"),
            ("entities/unit-1.toml", "$.version[0].container.children[0]"),
            ("entities/unit-1.toml", "$.version[0].container.children[1]")} <= paths


def test_restore_never_overwrites_and_stages_refs(tmp_path: Path, store_file: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    archive = make_zip(tmp_path / "ok.zip", tiny_members())
    before = sha(store_file)
    assert main(["restore", str(archive), f"sqlite:///{store_file}", "--ref", "lib:Org:EXISTING"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert sha(store_file) == before
    assert main(["restore", str(archive), f"sqlite:///{store_file}", "--user", "dave", "--json"]) == 0
    staged = json.loads(capsys.readouterr().out)["result"]["ref"]
    assert staged.startswith("lp-restore:dave:Org:TINY:")


def test_dry_run_writes_nothing(tmp_path: Path, store_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = sha(store_file)
    archive = make_zip(tmp_path / "ok.zip", tiny_members())
    assert main(["restore", str(archive), f"sqlite:///{store_file}", "--ref", REF, "--dry-run", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)["result"]
    assert (out["dry_run"], out["entities"], out["versions"]) == (True, 3, 4)
    assert sha(store_file) == before


def test_backup_inspect_state(tmp_path: Path, store_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_zip = tmp_path / "backup.zip"
    url = f"sqlite:///{store_file}"
    assert main(["backup", url, "lib:Org:EXISTING", "-o", str(out_zip), "--json",
                 "--created-at", "2026-01-01T00:00:00Z"]) == 0
    data = json.loads(capsys.readouterr().out)["result"]
    assert data["entities"] == 3 and data["archive_bytes"] == out_zip.stat().st_size
    names = zipfile.ZipFile(out_zip).namelist()
    assert data["format"] == "v2"  # the default: v2, with every version and a manifest
    assert names[0] == "package.toml" and names[-1] == "manifest.json"
    assert main(["backup", url, "lib:Org:EXISTING", "-o", str(tmp_path / "v1.zip"), "--format", "v1", "-q"]) == 0
    capsys.readouterr()
    names = zipfile.ZipFile(tmp_path / "v1.zip").namelist()
    assert names[0] == "package.toml" and not any(n.endswith("/") for n in names)  # no directory entries
    assert main(["backup", url, "lib:Org:EXISTING", "-o", str(tmp_path / "v1d.zip"), "--format", "v1", "-q",
                 "--directory-entries"]) == 0
    capsys.readouterr()
    exact = zipfile.ZipFile(tmp_path / "v1d.zip").namelist()
    assert exact[:3] == ["package.toml", "entities/", "collections/"]
    assert [n for n in exact if not n.endswith("/")] == names
    assert main(["inspect", str(out_zip), "--json"]) == 0
    inspected = json.loads(capsys.readouterr().out)["result"]
    assert {e["ref"]: e["versions"] for e in inspected["entity_list"]}["xblock.v1:html:intro"] == [1, 2]
    assert main(["state", url, "lib:Org:EXISTING"]) == 0
    state = json.loads(capsys.readouterr().out)
    assert state["summary"]["xblock.v1:html"] == 2
    assert state["entities"]["xblock.v1:html:intro"]["draft"]["version_num"] == 2


def test_backup_of_missing_store_or_package_fails_cleanly(tmp_path: Path, store_file: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backup", f"sqlite:///{tmp_path / 'nope.db'}", REF, "-o", str(tmp_path / "x.zip")]) == 1
    assert main(["backup", f"sqlite:///{store_file}", "lib:No:PE", "-o", str(tmp_path / "x.zip")]) == 1
    err = capsys.readouterr().err
    assert "lib:No:PE" in err
    assert not (tmp_path / "nope.db").exists() and not (tmp_path / "x.zip").exists()
