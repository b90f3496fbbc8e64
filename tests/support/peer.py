"""Where the openedx-core peer lives (``../shared/peer`` or ``$LC_ARCHIVE_PEER_DIR``)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .paths import PEER_DRIVER, REPO

DEFAULT_PEER_DIR = REPO.parent / "shared" / "peer"


def peer_dir_or_none() -> Path | None:
    """The peer folder; None when it is missing and not asked for (a failure when it was asked for)."""
    configured = os.environ.get("LC_ARCHIVE_PEER_DIR")
    path = Path(configured) if configured else DEFAULT_PEER_DIR
    if path.is_dir():
        return path
    if configured:
        pytest.fail(f"LC_ARCHIVE_PEER_DIR={configured} is set but that folder does not exist")
    return None


def peer_archives(peer_dir: Path) -> list[Path]:
    """Every archive openedx-core wrote that the peer folder holds."""
    return sorted([*peer_dir.glob("archives/*.zip"), *peer_dir.glob("archives/probe/*.zip"),
                   *peer_dir.glob("fixtures/*.zip")])


PEER_REF = "lib:Peer:RESTORED"
"""The ref the peer restores archives under."""


def peer_restore(peer_dir: Path, peer_python: Path, zip_path: Path, db: Path, ref: str = PEER_REF) -> dict[str, Any]:
    """Restore ``zip_path`` with the real openedx-core into a fresh ``db``: its status, errors and state."""
    proc = subprocess.run([str(peer_python), str(PEER_DRIVER), str(peer_dir), str(zip_path), str(db), ref],
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result: dict[str, Any] = json.loads(proc.stdout)
    return result
