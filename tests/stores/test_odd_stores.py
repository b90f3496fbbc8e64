"""Stores in odd states: open errors are one line, a refused restore never creates or migrates a store,
writers wait for SQLite's lock and say so clearly when it stays locked, and concurrent backups and restores
of one SQLite store never end in a traceback."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from support.v1kit import make_zip, tiny_members

from lc_archive import LcArchiveError, StoreError, open_store, restore
from lc_archive.cli import main

CLI = [sys.executable, "-m", "lc_archive"]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _store(tmp_path: Path, name: str = "s.db") -> Path:
    db = tmp_path / name
    assert main(["restore", str(make_zip(tmp_path / "ok.zip", tiny_members())), str(db), "--ref", "lib:Org:A",
                 "-q"]) == 0
    return db


@pytest.mark.parametrize("content", [b"not a database at all\n" * 10, b"SQLite format 3\x00" + b"\x00" * 200])
def test_a_file_that_is_not_a_store_is_one_error(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(content)
    with pytest.raises(StoreError) as info:
        open_store(bad, create=False).close()
    assert "\n" not in str(info.value) and isinstance(info.value.__cause__ or info.value, Exception)
    assert bad.read_bytes() == content


def test_schema_version_not_a_number(tmp_path: Path) -> None:
    db = _store(tmp_path)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE lc_meta SET value = 'x1' WHERE key = 'schema_version'")
    conn.close()
    with pytest.raises(StoreError, match="schema version x1 is not supported"):
        open_store(db).close()


def test_refused_restore_neither_creates_nor_migrates(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 broken")
    missing = tmp_path / "new.db"
    with pytest.raises(LcArchiveError):
        restore(bad, str(missing))
    assert not missing.exists()
    db = _store(tmp_path)
    with sqlite3.connect(db) as conn:  # make it an old (version 1) store
        conn.execute("UPDATE lc_meta SET value = '1' WHERE key = 'schema_version'")
    conn.close()
    before = _sha(db)
    with pytest.raises(LcArchiveError):  # the ref is taken: refused after the archive was read
        restore(tmp_path / "ok.zip", str(db), ref="lib:Org:A")
    restore(tmp_path / "ok.zip", str(db), ref="lib:Org:B", dry_run=True)
    assert _sha(db) == before  # not migrated
    assert not (tmp_path / "dry.db").exists()
    restore(tmp_path / "ok.zip", str(tmp_path / "dry.db"), dry_run=True)
    assert not (tmp_path / "dry.db").exists()


def test_a_store_that_stays_locked_is_one_clear_line(tmp_path: Path) -> None:
    db = _store(tmp_path)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        env = {**os.environ, "LC_ARCHIVE_SQLITE_BUSY_TIMEOUT": "0.5"}
        done = subprocess.run([*CLI, "restore", str(tmp_path / "ok.zip"), str(db), "--ref", "lib:Org:L"],
                              capture_output=True, text=True, env=env, check=False, timeout=120)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert done.returncode == 1, done.stderr
    lines = (done.stdout + done.stderr).splitlines()
    assert len(lines) == 1 and "locked" in lines[0] and "try again" in lines[0], lines
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_50_concurrent_backup_restore_pairs(tmp_path: Path) -> None:
    db = _store(tmp_path)
    archive = tmp_path / "ok.zip"

    def pair(i: int) -> list[subprocess.CompletedProcess[str]]:
        procs = [subprocess.Popen([*CLI, "backup", str(db), "lib:Org:A", "-o", str(tmp_path / f"b{i}.zip"), "-q"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
                 subprocess.Popen([*CLI, "restore", str(archive), str(db), "--ref", f"lib:Org:R{i}", "-q"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)]
        out = []
        for proc in procs:
            stdout, stderr = proc.communicate(timeout=600)
            out.append(subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr))
        return out

    with ThreadPoolExecutor(max_workers=6) as pool:
        runs = [run for pair_runs in pool.map(pair, range(50)) for run in pair_runs]
    failures = [run for run in runs if run.returncode != 0]
    for run in runs:
        assert "Traceback" not in run.stderr, run.stderr
        assert run.returncode in (0, 1)
        if run.returncode:
            assert len((run.stdout + run.stderr).splitlines()) == 1, run.stderr
    with open_store(db) as store:
        restored = [r for r in store.package_refs() if r.startswith("lib:Org:R")]
    assert len(restored) == 50 - sum("restore" in run.args for run in failures)
