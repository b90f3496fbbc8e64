"""A failed restore into openedx-core leaves every openedx-core table's rows and the media storage
directory exactly as they were: the hostile-archive set (refused before anything is written), a
failure raised at every step of the write, and a kill (SIGKILL) at a dozen steps followed by the
media journal's recovery (which any later restore runs first)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from support.hostile import hostile_cases, write_cases
from support.openedx_db import OpenedxDb
from support.openedx_rows import media_listing, store_snapshot

from lc_archive import faults
from lc_archive.cli import main
from lc_archive.faults import FaultInjected
from lc_archive.stores import open_store
from lc_archive.stores.openedx.media_journal import journal_dir, recover
from lc_archive.usecases.restore import restore

pytestmark = pytest.mark.peer
REF = "lib:Org:FAILED"
SEED = "lib:Org:SEED"
KILL_POINTS = [
    ("restore.validated", 1), ("openedx.begin", 1), ("restore.begin", 1), ("restore.blob", 1),
    ("restore.blob", 60), ("openedx.entity_rows", 1), ("openedx.version_rows", 1), ("openedx.entities", 1),
    ("restore.entities", 1), ("openedx.collections", 1), ("openedx.children", 1), ("openedx.logs", 1),
    ("openedx.before_commit", 1),
]


def snapshot(db: OpenedxDb) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Rows of every openedx-core table and the media directory's files."""
    return store_snapshot(db.media_root)


@pytest.fixture
def seeded(openedx_db: OpenedxDb, peer_dir: Path) -> OpenedxDb:
    """A database already holding one package with media files."""
    with open_store(openedx_db.store_url) as store:
        restore(peer_dir / "archives" / "probe" / "probe-control.zip", store, ref=SEED)
    assert media_listing(openedx_db.media_root)
    return openedx_db


def test_hostile_archives_write_nothing(seeded: OpenedxDb, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = hostile_cases()
    write_cases(tmp_path / "hostile", cases)
    before = snapshot(seeded)
    for case in cases:
        code = main(["restore", str(tmp_path / "hostile" / f"{case.name}.zip"), seeded.store_url, "--ref", REF,
                     *case.args])  # fmt: skip
        assert code == 1, case.name
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert snapshot(seeded) == before


def _points(db: OpenedxDb, archive: Path) -> list[tuple[str, int]]:
    """Every fault point a restore of ``archive`` passes before it commits (recorded, then rolled back)."""
    with faults.recording() as seen, pytest.raises(FaultInjected):
        faults.configure("openedx.before_commit:1:raise")
        try:
            with open_store(db.store_url) as store:
                restore(archive, store, ref=REF)
        finally:
            faults.configure(None)
    return list(seen)


def test_a_failure_at_any_step_rolls_everything_back(seeded: OpenedxDb, peer_dir: Path) -> None:
    archive = peer_dir / "archives" / "lib-N150-seed2.zip"
    before = snapshot(seeded)
    points = _points(seeded, archive)
    assert snapshot(seeded) == before
    names = {name for name, _ in points}
    assert {"openedx.begin", "openedx.entity_rows", "openedx.version_rows", "openedx.children", "openedx.logs",
            "openedx.before_commit"} <= names
    for name, k in sorted({p for p in points if p[1] in (1, 2) or p[0] != "restore.blob"}):
        faults.configure(f"{name}:{k}:raise")
        try:
            with pytest.raises(FaultInjected), open_store(seeded.store_url) as store:
                restore(archive, store, ref=REF)
        finally:
            faults.configure(None)
        assert snapshot(seeded) == before, f"{name}:{k}"
        assert not list(journal_dir().glob("*")), f"{name}:{k}: journal left behind"


def _restore_in_subprocess(db: OpenedxDb, archive: Path, fault: str) -> subprocess.CompletedProcess[str]:
    env: dict[str, Any] = {**db.env(), faults.ENV: fault}
    cmd = [sys.executable, "-m", "lc_archive", "restore", str(archive), db.store_url, "--ref", REF, "-q"]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.slow
@pytest.mark.parametrize(("point", "k"), KILL_POINTS, ids=[f"{n}:{k}" for n, k in KILL_POINTS])
def test_a_kill_at_any_step_leaves_nothing_after_recovery(
    seeded: OpenedxDb, peer_dir: Path, point: str, k: int
) -> None:
    if seeded.vendor != "sqlite" and point not in ("openedx.version_rows", "openedx.before_commit"):
        pytest.skip("every point runs on SQLite; two on the servers")
    archive = peer_dir / "archives" / "lib-N200-seed1.zip"
    before = snapshot(seeded)
    done = _restore_in_subprocess(seeded, archive, f"{point}:{k}:kill")
    assert done.returncode == -9, done.stderr[-2000:]
    from django.db import connections

    connections[seeded.alias].close()  # a new connection: SQLite rolls the hot journal back
    recover()
    assert snapshot(seeded) == before
    assert not list(journal_dir().glob("*"))
    # and the same restore then succeeds
    assert _restore_in_subprocess(seeded, archive, "").returncode == 0
    assert os.listdir(seeded.media_root / "content")
