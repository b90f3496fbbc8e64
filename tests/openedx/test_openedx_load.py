"""``lc_archive.openedx.api.load_learning_package`` (the drop-in for openedx-core's) and the
``lc_archive_load`` / ``lc_archive_validate`` management commands."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from support.hostile import hostile_cases, write_cases
from support.openedx_db import OpenedxDb, any_user
from support.openedx_rows import table_rows
from support.v1kit import make_zip, tiny_members

from lc_archive.openedx.api import load_learning_package
from lc_archive.openedx.restore_api import ERROR_HEADER

pytestmark = pytest.mark.peer
KEYS = {"status", "log_file_error", "lp_restored_data", "backup_metadata"}
DATA_KEYS = {"id", "package_ref", "archive_package_ref", "archive_org_code", "archive_package_code", "title",
             "num_containers", "num_sections", "num_subsections", "num_units", "num_components", "num_collections"}
META_KEYS = {"format_version", "created_at", "created_by", "created_by_email", "original_server"}


def _peer_load(peer_python: Path, peer_dir: Path, archive: Path, tmp_path: Path) -> dict[str, Any]:
    """openedx-core's own ``load_learning_package`` on the same archive (staged ref, user "peer")."""
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import peer\n"
        "peer.open_db(sys.argv[3], fresh=True)\n"
        "from openedx_content import api\n"
        "r = api.load_learning_package(sys.argv[2], user=peer.get_or_create_user('peer'))\n"
        "r['log_file_error'] = r['log_file_error'] and r['log_file_error'].getvalue()\n"
        "print(json.dumps(r, default=str))\n"
    )
    done = subprocess.run([str(peer_python), "-c", code, str(peer_dir), str(archive), str(tmp_path / "peer.sqlite3")],
                          capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_result_matches_openedx_cores(openedx_db: OpenedxDb, peer_dir: Path, peer_python: Path, tmp_path: Path) -> None:
    archive = peer_dir / "archives" / "lib-N200-seed1.zip"
    user = any_user("peer")
    result = load_learning_package(str(archive), user=user)
    assert set(result) == KEYS
    assert result["status"] == "success", result["log_file_error"] and result["log_file_error"].getvalue()
    assert result["log_file_error"] is None
    data, meta = result["lp_restored_data"], result["backup_metadata"]
    assert set(data) == DATA_KEYS and set(meta) == META_KEYS
    theirs = _peer_load(peer_python, peer_dir, archive, tmp_path)
    assert theirs["status"] == "success"
    staged = re.compile(r"lp-restore:peer:Org:LIB1:\d{13}")
    assert staged.fullmatch(data["package_ref"]) and staged.fullmatch(theirs["lp_restored_data"]["package_ref"])
    for key in DATA_KEYS - {"id", "package_ref"}:
        assert data[key] == theirs["lp_restored_data"][key], key
    assert {k: str(v) for k, v in meta.items()} == {k: str(v) for k, v in theirs["backup_metadata"].items()}
    from openedx_content.models_api import LearningPackage

    assert LearningPackage.objects.get(package_ref=data["package_ref"]).id == data["id"]


def test_explicit_ref_and_v2(openedx_db: OpenedxDb, tmp_path: Path) -> None:
    from lc_archive.stores import open_store
    from lc_archive.usecases.backup import backup

    result = load_learning_package(str(make_zip(tmp_path / "v1.zip", tiny_members())), package_ref="lib:Org:ONE")
    assert result["status"] == "success" and result["lp_restored_data"]["package_ref"] == "lib:Org:ONE"
    with open_store(openedx_db.store_url) as store:
        backup(store, "lib:Org:ONE", tmp_path / "v2.zip", format="v2")
    again = load_learning_package(str(tmp_path / "v2.zip"), package_ref="lib:Org:TWO")
    assert again["status"] == "success", again["log_file_error"] and again["log_file_error"].getvalue()
    assert again["backup_metadata"]["format_version"] == 2 or again["backup_metadata"]["format_version"] >= 1
    assert again["lp_restored_data"]["num_components"] == result["lp_restored_data"]["num_components"]
    taken = load_learning_package(str(tmp_path / "v2.zip"), package_ref="lib:Org:TWO")
    assert taken["status"] == "error" and "already exists" in taken["log_file_error"].getvalue()


def test_no_user_and_no_ref_is_an_error_not_an_exception(openedx_db: OpenedxDb, tmp_path: Path) -> None:
    result = load_learning_package(str(make_zip(tmp_path / "v1.zip", tiny_members())))
    assert result["status"] == "error"
    assert "user is required" in result["log_file_error"].getvalue()
    missing = load_learning_package(str(tmp_path / "nope.zip"), package_ref="lib:Org:X")
    assert missing["status"] == "error" and "nope.zip" in missing["log_file_error"].getvalue()


def test_hostile_archives_are_errors_listing_every_problem(openedx_sqlite: OpenedxDb, tmp_path: Path) -> None:
    cases = [c for c in hostile_cases() if not c.args]  # cases needing lowered limits are the CLI's
    write_cases(tmp_path / "hostile", cases)
    before = table_rows()
    for case in cases:
        result = load_learning_package(str(tmp_path / "hostile" / f"{case.name}.zip"), package_ref="lib:Org:H")
        assert result["status"] == "error", case.name
        assert result["lp_restored_data"] is None and result["backup_metadata"] is None
        log = result["log_file_error"]
        assert isinstance(log, StringIO)
        text = log.getvalue()
        assert text.startswith(ERROR_HEADER), case.name
        assert any(line.startswith(case.member) and case.fragment in line for line in text.splitlines()[1:]) or \
            case.fragment in text, (case.name, text)
        assert not any(ord(ch) < 32 and ch != "\n" for ch in text), case.name
    assert table_rows() == before


def _manage(db: OpenedxDb, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "django", *args], env=db.env(), capture_output=True, text=True,
                          timeout=600, check=False)  # fmt: skip


def test_management_commands(openedx_sqlite: OpenedxDb, peer_dir: Path, tmp_path: Path) -> None:
    any_user("loader")
    archive = peer_dir / "archives" / "lib-N150-seed2.zip"
    ok = _manage(openedx_sqlite, "lc_archive_validate", str(archive))
    assert ok.returncode == 0 and "is valid" in ok.stdout, ok.stderr
    assert "warning: " in ok.stderr  # OLX naming static files some versions lack
    strict = _manage(openedx_sqlite, "lc_archive_validate", str(archive), "--strict")
    assert strict.returncode != 0 and "references /static/figure.png" in strict.stderr
    dry = _manage(openedx_sqlite, "lc_archive_load", str(archive), "loader", "--ref", "lib:Org:L", "--dry-run")
    assert dry.returncode == 0 and "nothing written" in dry.stdout, dry.stderr
    from openedx_content.models_api import LearningPackage

    assert not LearningPackage.objects.exists()
    done = _manage(openedx_sqlite, "lc_archive_load", str(archive), "loader", "--ref", "lib:Org:L")
    assert done.returncode == 0 and "loaded successfully as lib:Org:L" in done.stdout, done.stderr
    assert list(LearningPackage.objects.values_list("package_ref", flat=True)) == ["lib:Org:L"]
    members = tiny_members()
    members["package.toml"] = members["package.toml"].replace('title = "', 'title = "\\u001b[31mred ')
    members["entities/unit-1.toml"] = "[entity]\nkey = \"unit-1\x1b]0;pwned\x07\"\n"
    bad = make_zip(tmp_path / "bad.zip", members)
    refused = _manage(openedx_sqlite, "lc_archive_load", str(bad), "loader")
    assert refused.returncode != 0
    assert "\x1b" not in refused.stderr and "\x07" not in refused.stderr
    assert "unit-1.toml" in refused.stderr
    invalid = _manage(openedx_sqlite, "lc_archive_validate", str(bad))
    assert invalid.returncode != 0 and "\x1b" not in invalid.stderr and "problem" in invalid.stderr
    assert _manage(openedx_sqlite, "lc_archive_load", str(tmp_path / "x.txt"), "loader").returncode != 0
    assert _manage(openedx_sqlite, "lc_archive_load", str(archive), "nobody").returncode != 0
