"""A second process reads members ahead (``lc_archive.archive.read_ahead``): the same results, problems and
stores as one process, nothing left running after a close or a kill, and one process when asked or on
one core."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.hostile import hostile_cases

from lc_archive import faults, restore, validate
from lc_archive.archive import read_ahead as read_ahead_module
from lc_archive.archive.read_ahead import ENV, read_ahead
from lc_archive.archive.zip_reader import ArchiveReader
from lc_archive.cli import main
from lc_archive.stores import open_store
from lc_archive.synthetic import generate_library
from lc_archive.usecases.backup import backup

REF = "lib:Org:AHEAD"


def _read(reader: ArchiveReader, name: str) -> bytes:
    return reader.read_bytes(name)


@pytest.fixture
def small_zip(tmp_path: Path) -> Path:
    path = tmp_path / "small.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(300):
            z.writestr(f"m/{i:03}.txt", f"member {i} ".encode() * (i + 1))
    return path


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ahead")
    with open_store(root / "source.db") as store:
        generate_library(store, REF, components=120, seed=3)
        for fmt in ("v1", "v2"):
            backup(store, REF, root / f"{fmt}.zip", format=fmt)
    return {"v1": root / "v1.zip", "v2": root / "v2.zip", "root": root}


def test_results_come_in_order_and_names_passed_over_are_dropped(small_zip: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "2")
    with ArchiveReader(small_zip) as reader:
        names = reader.names()
        with read_ahead(reader, names, _read) as ahead:
            assert ahead.take(names[0]) == reader.read_bytes(names[0])
            assert ahead.take("not/a/member") is None
            assert ahead.take(names[5]) == reader.read_bytes(names[5])  # 1-4 dropped
            assert ahead.take(names[3]) is None  # passed over: the caller reads it itself
            assert ahead.take(names[200]) is None  # too far ahead of the expected name
            for name in names[6:]:
                assert ahead.take(name) == reader.read_bytes(name)
            assert ahead.taken == len(names) - 4  # all but names[1:5]


def test_one_process_when_asked_or_on_one_core(small_zip: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with ArchiveReader(small_zip) as reader:
        monkeypatch.setenv(ENV, "1")
        with read_ahead(reader, reader.names(), _read, min_members=1) as ahead:
            assert ahead.take(reader.names()[0]) is None
        monkeypatch.delenv(ENV)
        monkeypatch.setattr(read_ahead_module, "two_cores", lambda: False)
        monkeypatch.setattr(read_ahead_module.threading, "active_count", lambda: 1)
        with read_ahead(reader, reader.names(), _read, min_members=1) as ahead:
            assert ahead.take(reader.names()[0]) is None
        monkeypatch.setattr(read_ahead_module, "two_cores", lambda: True)
        with read_ahead(reader, reader.names(), _read, min_members=1) as ahead:
            assert ahead.take(reader.names()[0]) == reader.read_bytes(reader.names()[0])
        with read_ahead(reader, reader.names(), _read, min_members=301) as ahead:  # too few members to pay
            assert ahead.take(reader.names()[0]) is None
    with small_zip.open("rb") as f, ArchiveReader(f) as reader, \
            read_ahead(reader, reader.names(), _read, min_members=1) as ahead:  # an open file works too
        assert ahead.take(reader.names()[0]) == reader.read_bytes(reader.names()[0])


def test_a_child_that_dies_leaves_the_reading_to_this_process(small_zip: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "2")
    with ArchiveReader(small_zip) as reader:
        names = reader.names() * 100  # some 45 MB of results: far more than the pipe holds
        with read_ahead(reader, names, _read) as ahead:
            assert ahead.take(names[0]) is not None
            os.kill(ahead._pid, signal.SIGKILL)
            got = [ahead.take(name) for name in names[1:]]
            assert got[-1] is None  # from some point on, nothing more comes
            assert all(g == reader.read_bytes(n) for g, n in zip(got, names[1:], strict=True) if g is not None)


def test_close_stops_and_reaps_the_child(small_zip: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "2")
    with ArchiveReader(small_zip) as reader:
        ahead = read_ahead(reader, reader.names() * 50, _read)
        pid = ahead._pid
        assert pid and ahead.take(reader.names()[0]) is not None
        ahead.close()
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # already reaped


def _problems(path: Path, args: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> object:
    main(["validate", str(path), *args, "--json"])
    out = capsys.readouterr().out
    return json.loads(out) if out.startswith("{") else out


def test_hostile_archives_give_the_same_problems_with_a_second_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for case in hostile_cases():
        if "bomb" in case.name or "gigabyte" in case.name:
            continue  # slow, and refused by the pre-flight before any member is read
        path = tmp_path / f"{case.name}.zip"
        path.write_bytes(case.build())
        found = []
        for setting in ("1", "2"):
            monkeypatch.setenv(ENV, setting)
            found.append(_problems(path, case.args, capsys))
        assert found[0] == found[1], case.name


@pytest.mark.parametrize("fmt", ["v1", "v2"])
def test_a_restore_with_a_second_process_writes_the_same_store(library: dict[str, Path], fmt: str,
                                                                 tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    states = []
    for setting in ("1", "2"):
        monkeypatch.setenv(ENV, setting)
        db = tmp_path / f"{setting}.db"
        summary = validate(library[fmt], strict=False)
        restore(library[fmt], f"sqlite:///{db}", ref=REF)
        out = tmp_path / f"{setting}.json"
        assert main(["state", f"sqlite:///{db}", REF, "--all-versions", "-o", str(out)]) == 0
        states.append((out.read_text(encoding="utf-8"), summary))
    assert states[0] == states[1]


def _ours(archive: Path) -> Iterator[int]:
    """Processes whose command line names ``archive`` (a restore of it, or its read-ahead child)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if str(archive).encode() in cmdline:
                yield int(entry.name)


@pytest.mark.parametrize("fault", ["restore.validated:1:kill", "restore.blob:2:kill"])
def test_a_killed_restore_leaves_no_process_behind(library: dict[str, Path], tmp_path: Path, fault: str) -> None:
    archive = tmp_path / "killed-v2.zip"
    archive.write_bytes(library["v2"].read_bytes())
    env = {**os.environ, ENV: "2", faults.ENV: fault}
    result = subprocess.run([sys.executable, "-m", "lc_archive", "restore", str(archive),
                             f"sqlite:///{tmp_path / 'out.db'}", "--ref", REF, "-q"],
                            env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == -signal.SIGKILL, result.stderr
    deadline = time.monotonic() + 10
    while list(_ours(archive)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not list(_ours(archive))
    assert not (tmp_path / "out.db").exists() or fault.startswith("restore.blob")
