"""All-or-nothing restores and backups: kill -9, exceptions, SIGINT/SIGTERM and full disks at every step.

Restore and backup call ``lc_archive.faults.fault_point`` at each step; ``LC_ARCHIVE_FAULT=name:k:mode``
makes the k-th pass of one point kill the process (``kill``), raise (``raise``) or signal itself
(``sigint``/``sigterm``). The fixture library has 450 synthetic components plus one 2.5 MB media file
(so blobs are written in several chunks and entities in two batches), and the target store already
holds another package, so "unchanged" is a real check.

After every kill of ``python -m lc_archive restore``: ``PRAGMA integrity_check`` is ok (the first
connection rolls back a hot journal), and the store is either byte-identical to before (file hash and
row counts) or holds the fully restored package (state and row counts equal a clean restore's),
never anything in between, which one depending on whether the point is after the commit; no
temporary file is left; the next restore succeeds. After every kill of ``backup``: the target is the
previous archive or, only once renamed, the complete new one; the only leftover is the clearly named
temporary file, which the next backup sweeps once it is stale.
"""

from __future__ import annotations

import os
import random
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event
from support.files import sha
from support.paths import REPO

from lc_archive import faults, restore, validate
from lc_archive.cli import main
from lc_archive.errors import StoreError
from lc_archive.stores import open_store
from lc_archive.synthetic import generate_library
from lc_archive.usecases.backup import backup, sweep_stale

pytestmark = pytest.mark.slow

SRC_REF = "lib:Org:SRC"
REF = "lib:Org:CRASH"
EXISTING = "lib:Org:EXISTING"
NEW_AT = "2026-02-01T00:00:00Z"
OLD_AT = datetime(2025, 12, 1, tzinfo=UTC)

# (fault point, which pass): "first", "second", "q1", "mid", "q3" or "last" of that point's passes in a
# clean run. Each list must cover every point the operation passes (checked below).
RESTORE_POINTS = [
    ("restore.validated", "first"), ("restore.begin", "first"),
    ("restore.blob", "first"), ("restore.blob", "q1"), ("restore.blob", "mid"), ("restore.blob", "last"),
    ("sink.blob_chunk", "first"), ("sink.blob_chunk", "last"), ("sink.blob_rows", "first"),
    ("sink.entity_rows", "first"), ("sink.version_rows", "first"), ("sink.pointer_rows", "first"),
    ("restore.entities", "first"), ("sink.entity_rows", "last"), ("sink.pointer_rows", "last"),
    ("restore.entities", "last"), ("sink.collection_rows", "first"), ("restore.collections", "first"),
    ("sink.finished", "first"), ("store.before_commit", "first"), ("restore.committed", "first"),
]  # fmt: skip
BACKUP_POINTS = [
    ("backup.begin", "first"),
    ("backup.toml", "first"), ("backup.toml", "q1"), ("backup.toml", "mid"), ("backup.toml", "q3"),
    ("backup.toml", "last"),
    ("backup.media", "first"), ("backup.media", "second"), ("backup.media", "q1"), ("backup.media", "mid"),
    ("backup.media", "q3"), ("backup.media", "last"),
    ("backup.entity", "first"), ("backup.entity", "q1"), ("backup.entity", "mid"), ("backup.entity", "q3"),
    ("backup.entity", "last"),
    ("backup.entries_written", "first"), ("backup.before_rename", "first"), ("backup.renamed", "first"),
]  # fmt: skip
AFTER_COMMIT = {"restore.committed"}
AFTER_RENAME = {"backup.renamed"}


@dataclass(frozen=True)
class Lab:
    """Everything built once per session (per xdist worker)."""

    root: Path
    source: Path  # store holding SRC_REF
    archive: Path  # v1 backup of SRC_REF, created_at pinned
    pristine: Path  # target store holding only EXISTING
    pristine_sha: str
    pristine_counts: dict[str, int]
    restored_counts: dict[str, int]  # pristine + archive restored as REF
    expected_state: str  # state of REF after a clean restore
    new_backup: bytes  # backup of SRC_REF with --created-at NEW_AT
    old_backup: bytes  # a previous backup of SRC_REF (other created_at)
    restore_trace: dict[str, int]  # fault point -> passes in a clean restore
    backup_trace: dict[str, int]




def counts(db: Path) -> dict[str, int]:
    """Rows per table, after PRAGMA integrity_check (which also rolls back a hot journal)."""
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    finally:
        conn.close()


def state_of(db: Path, ref: str) -> str:
    out = db.parent / f"state-{ref.replace(':', '_')}.json"
    assert main(["state", f"sqlite:///{db}", ref, "-o", str(out)]) == 0  # the CLI's `lc-archive state`
    return out.read_text(encoding="utf-8")


def trace(run: object) -> dict[str, int]:
    with faults.recording() as passes:
        run()  # type: ignore[operator]
    totals: dict[str, int] = {}
    for name, k in passes:
        totals[name] = max(totals.get(name, 0), k)
    return totals


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    root = tmp_path_factory.mktemp("crash-lab")
    source = root / "source.db"
    with open_store(source) as store:
        generate_library(store, SRC_REF, components=450, seed=5)
        with store.author(SRC_REF) as author:  # one media file bigger than a blob chunk (1 MiB)
            big = author.create_component("xblock.v1", "html", "big-media")
            author.add_component_version(big, {"block.xml": "<html/>",
                                               "static/big.bin": random.Random(5).randbytes(2_500_000)})
            author.publish()
        archive = root / "archive.zip"
        backup(store, SRC_REF, archive, created_at=datetime(2026, 1, 1, tzinfo=UTC))
        backup_trace = trace(lambda: backup(store, SRC_REF, root / "traced.zip",
                                            created_at=datetime.fromisoformat(NEW_AT)))
        new_backup = (root / "traced.zip").read_bytes()
        backup(store, SRC_REF, root / "old.zip", created_at=OLD_AT)
    pristine = root / "pristine.db"
    with open_store(pristine) as store:
        restore(REPO / "testdata" / "sample-library.zip", store, ref=EXISTING)
    done = root / "done.db"
    shutil.copy(pristine, done)
    with open_store(done) as store:
        restore_trace = trace(lambda: restore(archive, store, ref=REF))
    return Lab(root, source, archive, pristine, sha(pristine), counts(pristine), counts(done),
               state_of(done, REF), new_backup, (root / "old.zip").read_bytes(), restore_trace, backup_trace)


def resolve(totals: dict[str, int], name: str, which: str) -> int:
    n = totals[name]
    return {"first": 1, "second": min(2, n), "q1": max(1, n // 4), "mid": max(1, n // 2),
            "q3": max(1, 3 * n // 4), "last": n}[which]


def run_cli(args: list[str], *, fault: str | None, tmpdir: Path,
            preexec: object = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != faults.ENV}
    env["TMPDIR"] = str(tmpdir)
    if fault:
        env[faults.ENV] = fault
    return subprocess.run([sys.executable, "-m", "lc_archive", *args], check=False, env=env, capture_output=True,
                          text=True, timeout=120, preexec_fn=preexec)  # type: ignore[arg-type]


@pytest.fixture
def armed() -> Iterator[None]:
    """Disarm in-process faults after the test, whatever it did."""
    yield
    faults.configure(None)


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private temporary directory for this process's tempfile use, to check nothing is left there."""
    path = tmp_path / "tmp"
    path.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(path))
    return path


# -- the point lists cover every fault point, and there are enough of them ----------------------------


def test_lab_archives_are_valid(lab: Lab, tmp_path: Path) -> None:
    for data in (lab.new_backup, lab.old_backup):
        (tmp_path / "a.zip").write_bytes(data)
        # The generated library, like openedx-core's generator, has dangling /static/figure.png references.
        summary = validate(tmp_path / "a.zip", strict=False)
        assert summary.entities == lab.restored_counts["lc_entity"] - lab.pristine_counts["lc_entity"]


def test_restore_points_cover_every_step(lab: Lab) -> None:
    assert {name for name, _ in RESTORE_POINTS} == set(lab.restore_trace)
    resolved = {(name, resolve(lab.restore_trace, name, which)) for name, which in RESTORE_POINTS}
    assert len(resolved) == len(RESTORE_POINTS) >= 20
    assert lab.restore_trace["restore.entities"] >= 2 and lab.restore_trace["sink.blob_chunk"] >= 2


def test_backup_points_cover_every_step(lab: Lab) -> None:
    assert {name for name, _ in BACKUP_POINTS} == set(lab.backup_trace)
    resolved = {(name, resolve(lab.backup_trace, name, which)) for name, which in BACKUP_POINTS}
    assert len(resolved) == len(BACKUP_POINTS) >= 20


# -- kill -9 ---------------------------------------------------------------------------------------------


def check_restore_outcome(lab: Lab, db: Path, complete: bool) -> None:
    """Integrity ok; untouched (bytes and rows) or complete (rows and state), as expected."""
    found = counts(db)
    if complete:
        assert found == lab.restored_counts
        assert state_of(db, REF) == lab.expected_state
    else:
        assert found == lab.pristine_counts
        assert sha(db) == lab.pristine_sha  # rolled back to the very same bytes
    with open_store(db, create=False) as store:
        assert set(store.package_refs()) == ({EXISTING, REF} if complete else {EXISTING})


def restore_again(lab: Lab, db: Path, complete: bool) -> None:
    """The next run works: the same ref if nothing was written, a new one otherwise."""
    ref = "lib:Org:AGAIN" if complete else REF
    with open_store(db, create=False) as store:
        restore(lab.archive, store, ref=ref)
    assert state_of(db, ref) == lab.expected_state
    assert counts(db)["lc_package"] == lab.pristine_counts["lc_package"] + (2 if complete else 1)


@pytest.mark.parametrize(("name", "which"), RESTORE_POINTS, ids=[f"{n}-{w}" for n, w in RESTORE_POINTS])
def test_restore_killed(lab: Lab, name: str, which: str, tmp_path: Path) -> None:
    k = resolve(lab.restore_trace, name, which)
    db = tmp_path / "store.db"
    shutil.copy(lab.pristine, db)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    result = run_cli(["restore", str(lab.archive), f"sqlite:///{db}", "--ref", REF, "-q"],
                     fault=f"{name}:{k}:kill", tmpdir=tmp)
    assert result.returncode == -signal.SIGKILL, result.stderr
    complete = name in AFTER_COMMIT
    check_restore_outcome(lab, db, complete)
    assert not list(tmp.iterdir())  # the plan spool and blob spools are anonymous files
    restore_again(lab, db, complete)


@pytest.mark.parametrize(("name", "which"), BACKUP_POINTS, ids=[f"{n}-{w}" for n, w in BACKUP_POINTS])
def test_backup_killed(lab: Lab, name: str, which: str, tmp_path: Path) -> None:
    k = resolve(lab.backup_trace, name, which)
    source = tmp_path / "source.db"
    shutil.copy(lab.source, source)
    source_sha = sha(source)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "library.zip"
    target.write_bytes(lab.old_backup)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    result = run_cli(["backup", f"sqlite:///{source}", SRC_REF, "-o", str(target), "--force", "--created-at", NEW_AT,
                      "-q"],
                     fault=f"{name}:{k}:kill", tmpdir=tmp)
    assert result.returncode == -signal.SIGKILL, result.stderr
    renamed = name in AFTER_RENAME
    assert target.read_bytes() == (lab.new_backup if renamed else lab.old_backup)  # never partial (both valid)
    leftovers = sorted(p.name for p in out_dir.iterdir() if p != target)
    assert len(leftovers) == (0 if renamed else 1)
    assert all(re.fullmatch(r"\.library\.zip\..+\.tmp", n) for n in leftovers), leftovers
    assert sha(source) == source_sha and not list(tmp.iterdir())
    # A fresh leftover (it might belong to a running backup) is kept; the next run still works.
    with open_store(source, create=False) as store:
        backup(store, SRC_REF, target, created_at=datetime.fromisoformat(NEW_AT), overwrite=True)
    assert target.read_bytes() == lab.new_backup
    assert sorted(p.name for p in out_dir.iterdir() if p != target) == leftovers
    # Once it is stale, the next run sweeps it.
    for name_ in leftovers:
        old = time.time() - 3600
        os.utime(out_dir / name_, (old, old))
    with open_store(source, create=False) as store:
        backup(store, SRC_REF, target, created_at=datetime.fromisoformat(NEW_AT), overwrite=True)
    assert [p.name for p in out_dir.iterdir()] == ["library.zip"]
    assert target.read_bytes() == lab.new_backup


# -- exceptions at every point (in process) ----------------------------------------------------------------


@pytest.mark.parametrize(("name", "which"), RESTORE_POINTS, ids=[f"{n}-{w}" for n, w in RESTORE_POINTS])
def test_restore_exception(lab: Lab, name: str, which: str, tmp_path: Path, armed: None,
                           private_tmp: Path) -> None:
    db = tmp_path / "store.db"
    shutil.copy(lab.pristine, db)
    faults.configure(f"{name}:{resolve(lab.restore_trace, name, which)}:raise")
    with open_store(db) as store, pytest.raises(faults.FaultInjected, match=name):
        restore(lab.archive, store, ref=REF)
    faults.configure(None)
    complete = name in AFTER_COMMIT
    assert not Path(f"{db}-journal").exists()  # rolled back in process: no journal left at all
    check_restore_outcome(lab, db, complete)
    assert not list(private_tmp.iterdir())
    restore_again(lab, db, complete)


BACKUP_EXCEPTIONS = [(n, w, True) for n, w in BACKUP_POINTS] + [
    (n, w, False) for n, w in BACKUP_POINTS if w == "first" or (n, w) == ("backup.media", "mid")]


@pytest.mark.parametrize(("name", "which", "previous"), BACKUP_EXCEPTIONS,
                         ids=[f"{n}-{w}-{'over-previous' if p else 'new-file'}" for n, w, p in BACKUP_EXCEPTIONS])
def test_backup_exception(lab: Lab, name: str, which: str, previous: bool, tmp_path: Path, armed: None,
                          private_tmp: Path) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "library.zip"
    if previous:
        target.write_bytes(lab.old_backup)
    faults.configure(f"{name}:{resolve(lab.backup_trace, name, which)}:raise")
    with open_store(lab.source, create=False) as store, pytest.raises(faults.FaultInjected, match=name):
        backup(store, SRC_REF, target, created_at=datetime.fromisoformat(NEW_AT), overwrite=True)
    faults.configure(None)
    if name in AFTER_RENAME:
        assert target.read_bytes() == lab.new_backup
    elif previous:
        assert target.read_bytes() == lab.old_backup
    else:
        assert not target.exists()
    assert [p.name for p in out_dir.iterdir()] == (["library.zip"] if target.exists() else [])
    assert not list(private_tmp.iterdir())


# -- SIGINT / SIGTERM --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("spec", "code", "signame"), [
    ("restore.blob:200:sigterm", 143, "SIGTERM"),
    ("sink.version_rows:2:sigint", 130, "SIGINT"),
    ("store.before_commit:1:sigterm", 143, "SIGTERM"),
])
def test_restore_signal_rolls_back(lab: Lab, spec: str, code: int, signame: str, tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    shutil.copy(lab.pristine, db)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    result = run_cli(["restore", str(lab.archive), f"sqlite:///{db}", "--ref", REF, "-q"], fault=spec, tmpdir=tmp)
    assert result.returncode == code, result.stderr
    assert result.stderr.strip().splitlines()[-1] == f"lc-archive: interrupted by {signame}; nothing was written"
    assert not Path(f"{db}-journal").exists()  # a real rollback, not a crash
    check_restore_outcome(lab, db, complete=False)
    assert not list(tmp.iterdir())
    restore_again(lab, db, complete=False)


@pytest.mark.parametrize("seed", range(4))
def test_restore_sigterm_at_a_random_moment(lab: Lab, seed: int, tmp_path: Path) -> None:
    """SIGTERM from outside, whenever it lands (while Python starts, validates, writes or exits)."""
    db = tmp_path / "store.db"
    shutil.copy(lab.pristine, db)
    env = {k: v for k, v in os.environ.items() if k != faults.ENV}
    process = subprocess.Popen([sys.executable, "-m", "lc_archive", "restore", str(lab.archive), f"sqlite:///{db}",
                                "--ref", REF, "-q"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(random.Random(seed).uniform(0.4, 2.0))
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode in (0, 143, -signal.SIGTERM), err
    complete = counts(db) != lab.pristine_counts  # which one it is, check_restore_outcome checks exactly
    print(f"seed {seed}: exit {process.returncode}, {'complete' if complete else 'untouched'}")
    check_restore_outcome(lab, db, complete)
    if process.returncode == 143:
        assert err.decode().endswith("lc-archive: interrupted by SIGTERM; nothing was written\n")
        assert not Path(f"{db}-journal").exists()
    restore_again(lab, db, complete)


@pytest.mark.parametrize(("spec", "code"), [("backup.media:300:sigterm", 143), ("backup.before_rename:1:sigint", 130)])
def test_backup_signal_leaves_no_file(lab: Lab, spec: str, code: int, tmp_path: Path) -> None:
    target = tmp_path / "library.zip"
    target.write_bytes(lab.old_backup)
    result = run_cli(["backup", f"sqlite:///{lab.source}", SRC_REF, "-o", str(target), "--force",
                      "--created-at", NEW_AT],
                     fault=spec, tmpdir=tmp_path)
    assert result.returncode == code, result.stderr
    assert "interrupted by SIG" in result.stderr
    assert target.read_bytes() == lab.old_backup
    assert [p.name for p in tmp_path.iterdir()] == ["library.zip"]


# -- full disks --------------------------------------------------------------------------------------------


def _file_size_limit(limit: int) -> object:
    def limit_files() -> None:  # in the child: writes past `limit` bytes fail with EFBIG instead of a signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return limit_files


@pytest.mark.parametrize("previous", [True, False], ids=["over-previous", "new-file"])
def test_backup_disk_full(lab: Lab, previous: bool, tmp_path: Path) -> None:
    target = tmp_path / "out" / "library.zip"
    target.parent.mkdir()
    if previous:
        target.write_bytes(lab.old_backup)
    result = run_cli(["backup", f"sqlite:///{lab.source}", SRC_REF, "-o", str(target), "--force",
                      "--created-at", NEW_AT],
                     fault=None, tmpdir=tmp_path, preexec=_file_size_limit(1_000_000))
    assert result.returncode == 1
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith(f"lc-archive: cannot write the backup {target} (File too large"), message
    assert "nothing was written" in message and ("is unchanged" in message) == previous
    assert [p.name for p in target.parent.iterdir()] == (["library.zip"] if previous else [])
    if previous:
        assert target.read_bytes() == lab.old_backup


def test_restore_disk_full(lab: Lab, tmp_path: Path) -> None:
    """The store's file system fills up (RLIMIT_FSIZE): refused, rolled back, and the next run works."""
    db = tmp_path / "store.db"
    shutil.copy(lab.pristine, db)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    result = run_cli(["restore", str(lab.archive), f"sqlite:///{db}", "--ref", REF, "-q"], fault=None, tmpdir=tmp,
                     preexec=_file_size_limit(db.stat().st_size + 1_000_000))
    assert result.returncode == 1, result.stderr
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith(f"lc-archive: restoring '{REF}' failed and was rolled back; nothing was written"), message
    check_restore_outcome(lab, db, complete=False)
    assert not list(tmp.iterdir())
    restore_again(lab, db, complete=False)


def test_restore_disk_full_into_a_new_store_leaves_no_file(lab: Lab, tmp_path: Path) -> None:
    """A restore into a store it creates fails on a full disk: the new store file is gone again."""
    db = tmp_path / "new.db"
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    result = run_cli(["restore", str(lab.archive), f"sqlite:///{db}", "--ref", REF, "-q"], fault=None, tmpdir=tmp,
                     preexec=_file_size_limit(200_000))
    assert result.returncode == 1, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not db.exists() and not Path(f"{db}-journal").exists()


def test_restore_database_full(lab: Lab, tmp_path: Path, private_tmp: Path) -> None:
    """SQLite's own SQLITE_FULL (PRAGMA max_page_count): StoreError, store byte-identical."""
    db = tmp_path / "store.db"
    shutil.copy(lab.pristine, db)
    conn = sqlite3.connect(db)
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()
    with open_store(db) as store:
        store.engine.dispose()  # new connections get the cap

        @event.listens_for(store.engine, "connect")
        def _cap(dbapi_connection: sqlite3.Connection, record: object) -> None:
            dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 50}")

        with pytest.raises(StoreError, match=r"failed and was rolled back; nothing was written.*full"):
            restore(lab.archive, store, ref=REF)
    assert not Path(f"{db}-journal").exists()
    check_restore_outcome(lab, db, complete=False)
    assert not list(private_tmp.iterdir())


def test_sweep_keeps_files_in_use(tmp_path: Path) -> None:
    """A temporary file a running backup holds (locked) is never swept, however old."""
    fcntl = pytest.importorskip("fcntl")
    target = tmp_path / "library.zip"
    busy, stale, other = (tmp_path / ".library.zip.busy.tmp", tmp_path / ".library.zip.stale.tmp",
                          tmp_path / ".other.zip.x.tmp")
    for path in (busy, stale, other):
        path.write_bytes(b"partial")
        os.utime(path, (time.time() - 3600, time.time() - 3600))
    with busy.open("rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        assert sweep_stale(target) == [stale]
    assert busy.exists() and other.exists() and not stale.exists()


def test_fault_spec_typos_are_loud(tmp_path: Path) -> None:
    result = run_cli(["validate", str(REPO / "testdata" / "sample-library.zip")], fault="restore.blob:x:kill",
                     tmpdir=tmp_path)
    assert result.returncode == 0  # validate passes no fault point
    result = run_cli(["restore", str(REPO / "testdata" / "sample-library.zip"), f"sqlite:///{tmp_path / 's.db'}"],
                     fault="restore.blob:0:kill", tmpdir=tmp_path)
    assert result.returncode == 1 and "expected name:k:mode" in result.stderr
    with pytest.raises(ValueError, match="expected name:k:mode"):
        faults.configure("restore.blob:1:explode")
