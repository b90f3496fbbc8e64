"""The adapter against the real openedx-core 1.15.2 (``../shared/peer``): a library ``peer.py gen``
made, read through the adapter, gives openedx-core's own canonical state; its v1 backup restores in
openedx-core's ``lp_load`` exactly as ``lp_dump``'s does; its v2 backup keeps every version."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support.openedx_db import OpenedxDb, open_sqlite_copy
from support.peer import peer_restore

from lc_archive import backup, open_store, restore
from lc_archive.usecases.state import compute_state, state_json

pytestmark = pytest.mark.peer
REF = "lib:Org:LIB1"


def _peer(peer_python: Path, peer_dir: Path, *args: str) -> dict[str, object]:
    done = subprocess.run([str(peer_python), str(peer_dir / "peer.py"), *args], capture_output=True, text=True,
                          timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout) if done.stdout.strip().startswith("{") else {}
    return result


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory, peer_dir: Path, peer_python: Path) -> Path:
    """A library of 40 components made by openedx-core itself (history, pins, soft deletes, collections)."""
    db = tmp_path_factory.mktemp("peer-gen") / "src.sqlite3"
    _peer(peer_python, peer_dir, "gen", "--components", "40", "--seed", "5", "--out-db", str(db))
    return db


@pytest.fixture
def library(generated: Path, tmp_path: Path) -> OpenedxDb:
    return open_sqlite_copy(generated, tmp_path)


@pytest.fixture
def unicode_library(tmp_path: Path, peer_dir: Path, peer_python: Path) -> OpenedxDb:
    """Non-ASCII codes and titles (refs that sort differently by code point and by collation)."""
    db = tmp_path / "gen" / "unicode.sqlite3"
    db.parent.mkdir()
    _peer(peer_python, peer_dir, "gen", "--components", "30", "--seed", "7", "--profile", "unicode",
          "--out-db", str(db))
    return open_sqlite_copy(db, tmp_path)


@pytest.mark.parametrize("which", ["library", "unicode_library"])
def test_state_through_the_adapter_is_openedx_cores_own(
    which: str, request: pytest.FixtureRequest, peer_dir: Path, peer_python: Path, tmp_path: Path
) -> None:
    library: OpenedxDb = request.getfixturevalue(which)
    theirs = tmp_path / "peer-state.json"
    _peer(peer_python, peer_dir, "state", "--db", str(library.sqlite_path), "--out", str(theirs), "--media-types")
    done = subprocess.run([sys.executable, "-m", "lc_archive", "state", library.store_url, REF, "--media-types"],
                          env=library.env(), capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == json.loads(theirs.read_text(encoding="utf-8"))


def test_v1_backup_restores_in_lp_load_as_lp_dumps_does(
    library: OpenedxDb, peer_dir: Path, peer_python: Path, tmp_path: Path
) -> None:
    ours, theirs = tmp_path / "ours.zip", tmp_path / "lp_dump.zip"
    cmd = [sys.executable, "-m", "django", "lc_archive_dump", REF, str(ours), "--format", "v1",
           "--origin_server", "cms.test"]
    done = subprocess.run(cmd, env=library.env(), capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert f"{REF} written to {ours}" in done.stdout
    _peer(peer_python, peer_dir, "dump", "--db", str(library.sqlite_path), "--ref", REF, "--out", str(theirs))
    from_ours = peer_restore(peer_dir, peer_python, ours, tmp_path / "a.sqlite3")
    from_theirs = peer_restore(peer_dir, peer_python, theirs, tmp_path / "b.sqlite3")
    assert from_ours["status"] == from_theirs["status"] == "success"
    assert from_ours["state"] == from_theirs["state"]


def test_v2_backup_keeps_every_version(library: OpenedxDb, tmp_path: Path) -> None:
    archive = tmp_path / "full.zip"
    with open_store(library.store_url) as store:
        backup(store, REF, archive, format="v2")
        with store.read(REF) as source:
            before = state_json(compute_state(source, all_versions=True, media_types=True))
    with open_store(tmp_path / "copy.db") as copy:
        restore(archive, copy, ref=REF)
        with copy.read(REF) as source:
            after = state_json(compute_state(source, all_versions=True, media_types=True))
    assert after == before
    summary = json.loads(before)["summary"]
    assert summary["versions"] == 113 and summary["publish_events"] == 2  # every version of the 52 entities
