"""Which outputs may be written (archive.targets): only regular files or new paths, never a store."""

from __future__ import annotations

import os
import socket
import sqlite3
from pathlib import Path

import pytest

from lc_archive.archive.targets import TargetRefused, check_target


def test_new_paths_and_forced_files(tmp_path: Path) -> None:
    check_target(tmp_path / "new.zip")
    (tmp_path / "old.zip").write_bytes(b"PK\x03\x04 old")
    with pytest.raises(TargetRefused, match="already exists; give --force"):
        check_target(tmp_path / "old.zip")
    check_target(tmp_path / "old.zip", force=True)
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(TargetRefused, match="is not an archive"):
        check_target(tmp_path / "notes.txt")
    with pytest.raises(TargetRefused, match="does not exist"):
        check_target(tmp_path / "no" / "dir.zip", force=True)


def test_never_a_store_a_device_a_directory_or_a_socket(tmp_path: Path) -> None:
    db = tmp_path / "any.db"
    sqlite3.connect(db).execute("CREATE TABLE t (x)").connection.close()
    store = tmp_path / "store.zip"  # a store whatever its name
    store.write_bytes(b"PK\x03\x04")
    refused = {db: "SQLite database", tmp_path: "directory", Path(os.devnull): "character device",
               store: "the store being read"}
    sock_path = tmp_path / "s.sock"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(sock_path))
        refused[sock_path] = "socket"
        for target, why in refused.items():
            with pytest.raises(TargetRefused, match=why):
                check_target(target, force=True, reading=[store])
    finally:
        server.close()
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(TargetRefused, match="FIFO"):
        check_target(tmp_path / "fifo", force=True)
