"""Archives on S3, against a real S3-compatible HTTP server (moto's server mode, started by the tests):
every command takes s3:// URLs, the bytes equal a local backup's, and a failed or killed backup leaves
no object at the key and, after the next run, no open multipart upload."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from support.services import S3
from support.sitekit import library_with_big_media

from lc_archive import faults
from lc_archive.cli import main
from lc_archive.stores import open_store
from lc_archive.synthetic import generate_library
from lc_archive.usecases.backup import backup

REF = "lib:Org:S3"


@pytest.fixture(scope="module")
def big_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small library plus a 20 MiB video: its archive needs three 8 MiB parts."""
    return library_with_big_media(tmp_path_factory.mktemp("s3") / "lib.db", REF, components=10, seed=4,
                                  files={"static/big.mp4": os.urandom(20 * 1024 * 1024)})


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lc_archive", *args], check=False, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


def test_every_command_works_on_s3_urls(s3: S3, tmp_path: Path) -> None:
    db = tmp_path / "lib.db"
    with open_store(db) as store:
        generate_library(store, REF, components=30, seed=5)
    url = s3.url("cli/lib.zip")
    done = _cli("backup", f"sqlite:///{db}", REF, "-o", url, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["result"]["path"] == url
    assert not Path("s3:").exists() and not (tmp_path / "s3:").exists()
    again = _cli("backup", f"sqlite:///{db}", REF, "-o", url, "--created-at", "2030-01-01T00:00:00Z")
    assert again.returncode == 1 and len(again.stderr.splitlines()) == 1, again.stderr  # the object exists
    assert "already exists" in again.stderr and "--force" in again.stderr
    local = tmp_path / "local.zip"
    assert main(["backup", f"sqlite:///{db}", REF, "-o", str(local), "-q"]) == 0
    body = s3.client().get_object(Bucket=s3.bucket, Key="cli/lib.zip")["Body"].read()
    assert body == local.read_bytes()  # the refused backup (another created_at) did not replace it
    assert main(["backup", f"sqlite:///{db}", REF, "-o", url, "-q", "--force"]) == 0
    assert main(["validate", "-q", "--allow-warnings", url]) == 0
    assert main(["verify", "-q", "--allow-warnings", url]) == 0
    assert main(["inspect", "-q", "--json", url]) == 0
    assert main(["diff", "-q", url, str(local)]) == 0
    assert main(["restore", "-q", url, f"sqlite:///{tmp_path / 'back.db'}", "--ref", "lib:Org:BACK"]) == 0
    assert main(["convert", "-q", url, s3.url("cli/lib-v1.zip"), "--format", "v1"]) == 0
    assert main(["validate", "-q", "--allow-warnings", s3.url("cli/lib-v1.zip")]) == 0
    missing = _cli("validate", s3.url("cli/none.zip"))
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert "testing-secret-key" not in missing.stderr + missing.stdout


def test_a_multipart_upload_is_completed_only_on_success(s3: S3, big_store: Path, tmp_path: Path) -> None:
    key = "raise/lib.zip"
    with open_store(big_store) as store:
        for point in ("upload.part:1", "upload.part:2", "backup.before_rename:1"):
            faults.configure(f"{point}:raise")
            try:
                with pytest.raises(faults.FaultInjected):
                    backup(store, REF, s3.url(key))
            finally:
                faults.configure(None)
            assert not s3.exists(key), point
            assert s3.open_uploads(key) == [], point  # aborted at once
        result = backup(store, REF, s3.url(key), checksum=True)
    assert s3.exists(key) and s3.open_uploads(key) == []
    assert result.archive_bytes > 16 * 1024 * 1024
    local = tmp_path / "local.zip"
    with open_store(big_store) as store:
        backup(store, REF, local)
    import hashlib
    assert result.sha256 == hashlib.sha256(local.read_bytes()).hexdigest()


KILL_POINTS = ["backup.begin:1", "upload.stale_aborted:1", "upload.part:1", "upload.part:2",
               "backup.entries_written:1", "backup.before_rename:1"]


def test_a_killed_backup_leaves_no_object_and_the_next_run_no_open_upload(s3: S3, big_store: Path) -> None:
    key = "kill/lib.zip"
    url = s3.url(key)
    leftovers = 0
    for point in KILL_POINTS:
        done = _cli("backup", f"sqlite:///{big_store}", REF, "-o", url, "-q",
                    env={"LC_ARCHIVE_FAULT": f"{point}:kill"})
        assert done.returncode == -signal.SIGKILL, (point, done.stderr)
        assert not s3.exists(key), point
        leftovers += len(s3.open_uploads(key))
        # The next run to the same target completes, and aborts what the killed one left open.
        assert main(["backup", f"sqlite:///{big_store}", REF, "-o", url, "-q"]) == 0
        assert s3.exists(key) and s3.open_uploads(key) == [], point
        s3.client().delete_object(Bucket=s3.bucket, Key=key)
    assert leftovers >= 3  # the kills after the upload started did leave uploads open


def test_sigterm_during_an_upload_aborts_it(s3: S3, big_store: Path) -> None:
    key = "term/lib.zip"
    done = _cli("backup", f"sqlite:///{big_store}", REF, "-o", s3.url(key), "-q",
                env={"LC_ARCHIVE_FAULT": "upload.part:2:sigterm"})
    assert done.returncode == 128 + signal.SIGTERM, done.stderr
    assert not s3.exists(key) and s3.open_uploads(key) == []
