"""Shared fixtures: where the openedx-core peer lives, and how to run it.

The peer's archives and fixtures are read from ``../shared/peer`` (or ``$LC_ARCHIVE_PEER_DIR``), never
copied into this repo. When ``LC_ARCHIVE_PEER_DIR`` is set (CI sets it) and the folder is missing, the
tests fail; when it is unset and the folder is missing, they skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support.peer import DEFAULT_PEER_DIR, peer_dir_or_none

# The S3 server and Celery worker fixtures (one of each per test process); openedx-core databases.
pytest_plugins = ("support.services", "support.openedx_db")


@pytest.fixture(scope="session")
def peer_dir() -> Path:
    """The openedx-core peer folder (archives/, fixtures/, peer.py)."""
    path = peer_dir_or_none()
    if path is None:
        pytest.skip(f"no openedx-core peer folder at {DEFAULT_PEER_DIR}; set LC_ARCHIVE_PEER_DIR to run")
    return path


@pytest.fixture(scope="session")
def peer_python(peer_dir: Path) -> Path:
    """The Python of the peer venv with openedx-core 1.15.2 (made by ../shared/peer/setup.sh)."""
    configured = os.environ.get("LC_ARCHIVE_PEER_PYTHON")
    default = Path(os.environ.get("TMPDIR", "/tmp")) / "peer-venv" / "bin" / "python"
    path = Path(configured) if configured else default
    if not path.exists():
        if configured or os.environ.get("LC_ARCHIVE_PEER_DIR"):
            pytest.fail(f"peer venv python {path} missing: run {peer_dir}/setup.sh")
        pytest.skip(f"no peer venv at {path}; run {peer_dir}/setup.sh (or `make peer`) to run these tests")
    return path
