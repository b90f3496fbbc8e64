"""The hostile-archive set (``tests/support/hostile/``) through the CLI: refused, clearly, with nothing written.

For every case, ``lc-archive restore`` into a store that already holds one package and
``lc-archive validate`` must both exit 1 and print the same problems, one line each as
``member: path: message``, one of them naming the case's member with its message fragment. Afterwards
the store file is byte-identical, still lists only its one package, and neither the store's folder
nor the temporary folder holds anything new. ``--json`` gives the same problems in machine form.

The whole set also runs once in a fresh subprocess whose peak resident memory (``VmHWM``, which
unlike ``ru_maxrss`` is not inherited from the parent) must stay under 300 MB.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cli import refusal_lines
from support.files import sha
from support.hostile import (
    ARCHIVE,
    GIB,
    V2,
    Case,
    crafted,
    crc32_zeros,
    deflated_zeros,
    hostile_cases,
    write_cases,
)
from support.paths import HOSTILE, REPO
from support.v1kit import make_zip, tiny_members
from support.zipcraft import DEFLATED, STORED, Entry, build

from lc_archive.archive import ARCHIVE as READER_ARCHIVE
from lc_archive.cli import main
from lc_archive.stores import open_store

CASES = hostile_cases()
BY_NAME = {case.name: case for case in CASES}
EXISTING = "lib:Org:EXISTING"
REF = "lib:Org:HOSTILE"
PEAK_LIMIT_KIB = 300 * 1000  # 300 MB
CASE_SECONDS = 60  # a hang guard for bombs (an expanded one takes minutes), not a speed claim
LINE = re.compile(r"^(.+?): (\$\S*): (.+)$")
JSON_CASES = ["zip-slip", "gigabyte-member", "nfc-nfd-collision", "billion-laughs", "toml-10000-deep",
              "missing-child", "truncated-central-directory", "full-overlap-bomb"]




@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every case's archive, written once by hostile.write_cases (as the script does)."""
    outdir = tmp_path_factory.mktemp("hostile")
    write_cases(outdir, CASES)
    return outdir


@pytest.fixture(scope="module")
def seed_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding one package, restored from a valid archive."""
    work = tmp_path_factory.mktemp("seed")
    db = work / "store.db"
    assert main(["restore", str(make_zip(work / "ok.zip", tiny_members())), f"sqlite:///{db}",
                 "--ref", EXISTING, "-q"]) == 0
    return db


@pytest.fixture
def store(tmp_path: Path, seed_store: Path) -> Path:
    """A private copy of the seed store, alone in its folder."""
    folder = tmp_path / "store"
    folder.mkdir()
    return Path(shutil.copy(seed_store, folder / "store.db"))


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temporary folder of its own for lc-archive's spooled files, checked empty afterwards."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    assert list(folder.iterdir()) == [], "temporary files were left behind"


def run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str, float]:
    started = time.perf_counter()
    try:
        code = main(argv)
    except Exception as exc:  # only LcArchiveError may be raised inside, and main() turns it into exit 1
        pytest.fail(f"lc-archive {argv[0]} crashed with {type(exc).__name__}: {exc} (expected exit 1 and a "
                    "problem line naming the member)")
    seconds = time.perf_counter() - started
    captured = capsys.readouterr()
    return code, captured.out, captured.err, seconds


def problem_lines(err: str) -> list[str]:
    """The problem lines of a refusal: a count header, then exactly that many ``member: path: message``."""
    problems = refusal_lines(err)
    for line in problems:
        assert LINE.match(line), f"not a 'member: path: message' line: {line!r}"
    return problems


def assert_names(case: Case, problems: list[str]) -> None:
    prefix = f"{case.member}: "
    assert any(line.startswith(prefix) and case.fragment in line for line in problems), (
        f"no problem line starts with {prefix!r} and contains {case.fragment!r}:\n" + "\n".join(problems[:20]))


def assert_untouched(store: Path, digest: str) -> None:
    assert sha(store) == digest, "the store file changed"
    assert sorted(p.name for p in store.parent.iterdir()) == ["store.db"], "files were left in the store folder"
    with open_store(f"sqlite:///{store}", create=False) as opened:
        assert opened.package_refs() == [EXISTING]
    assert sha(store) == digest, "reading the store changed it"


# -- the set ------------------------------------------------------------------------------------------------


def test_the_set_is_big_enough_and_covers_the_issue() -> None:
    assert len(CASES) >= 45
    assert ARCHIVE == READER_ARCHIVE  # the member name of problems about the archive as a whole
    required = ["zip slip", "absolute path", "symlink", "duplicate member", "case collision", "NFC/NFD collision",
                "1 GB-inflating member", "10,000x ratio", "overlapping-entry bomb", "nested python_lib bomb",
                "billion laughs", "XXE with a file URL", "external DTD", "10,000-deep TOML nesting",
                "invalid UTF-8 in TOML", "invalid UTF-8 in block.xml", "CRC mismatch", "truncated central directory",
                "entry claiming 0 bytes"]
    threats = " | ".join(case.threat for case in CASES)
    missing = [name for name in required if f"issue: {name}" not in threats]
    assert not missing, missing


def test_script_writes_archives_and_expectations(tmp_path: Path) -> None:
    subset = [BY_NAME["zip-slip"], BY_NAME["billion-laughs"]]
    expected = write_cases(tmp_path, subset)
    assert json.loads((tmp_path / "expected.json").read_text(encoding="utf-8")) == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["billion-laughs.zip", "expected.json", "zip-slip.zip"]
    out = subprocess.run([sys.executable, str(HOSTILE)], capture_output=True, text=True,
                         check=False, timeout=60)
    assert out.returncode == 2 and "usage" in out.stderr


@pytest.mark.parametrize("size", [0, 1, 7, (1 << 20) - 1, 1 << 20, 3 * (1 << 20) + 5])
def test_cheap_zero_bombs_are_what_they_claim(size: int) -> None:
    payload, crc = deflated_zeros(size)
    inflater = zlib.decompressobj(-15)
    out = inflater.decompress(payload) + inflater.flush()
    assert inflater.eof and not inflater.unused_data
    assert out == bytes(size) and crc == zlib.crc32(out) == crc32_zeros(size)


def test_archives_are_small_on_disk(hostile_dir: Path) -> None:
    sizes = {case.name: (hostile_dir / f"{case.name}.zip").stat().st_size for case in CASES}
    assert max(sizes.values()) < 2_000_000, sizes
    assert sum(sizes.values()) < 5_000_000


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_archive_is_refused(case: Case, hostile_dir: Path, store: Path, private_tmp: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    archive = str(hostile_dir / f"{case.name}.zip")
    digest = sha(store)

    code, _, err, seconds = run(capsys, ["restore", archive, f"sqlite:///{store}", "--ref", REF, "-q", *case.args])
    assert code == 1, err
    restored = problem_lines(err)
    assert_names(case, restored)
    assert seconds < CASE_SECONDS
    assert_untouched(store, digest)

    code, _, err, seconds = run(capsys, ["validate", archive, "-q", *case.args])
    assert code == 1, err
    validated = problem_lines(err)
    assert validated == restored, "validate and restore must print the same problems"
    assert seconds < CASE_SECONDS
    assert "root:" not in err  # no XXE ever echoes a local file


@pytest.mark.parametrize("name", JSON_CASES)
@pytest.mark.parametrize("command", ["restore", "validate"])
def test_json_gives_the_same_problems(name: str, command: str, hostile_dir: Path, store: Path, private_tmp: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    case = BY_NAME[name]
    archive = str(hostile_dir / f"{case.name}.zip")
    digest = sha(store)
    target = [f"sqlite:///{store}", "--ref", REF] if command == "restore" else []
    _, _, err, _ = run(capsys, [command, archive, *target, *case.args])
    human = problem_lines(err)
    code, out, err, _ = run(capsys, [command, archive, *target, "--json", *case.args])
    assert code == 1 and err == ""
    data = json.loads(out)
    assert data["ok"] is False
    assert [f"{p['member']}: {p['path']}: {p['message']}" for p in data["problems"]] == human
    assert any(p["member"] == case.member and case.fragment in p["message"] + p["path"] for p in data["problems"])
    assert_untouched(store, digest)


def test_nested_python_lib_bomb_kept_opaque_or_refused(tmp_path: Path, store: Path, private_tmp: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """``python_lib.zip`` *stored* (so no outer ratio limit applies) holding a member of 2 GiB of zeros.

    Nothing in lc-archive opens nested zips today: the restore keeps the 2 MB file as an opaque,
    byte-exact blob and never inflates it. If code-library support starts opening it
    (``max_archive_nesting``), the refusal must name the member; either way it stays fast.
    """
    payload, crc = deflated_zeros(2 * GIB)
    inner = build([Entry("grader/zeros.py", method=DEFLATED, payload=payload, crc=crc, size=2 * GIB, zip64=True)],
                  zip64_end=True).data
    name = f"{V2}/static/python_lib.zip"
    archive = tmp_path / "stored-python-lib.zip"
    archive.write_bytes(crafted(Entry(name, inner, method=STORED)))
    code, _, err, seconds = run(capsys, ["restore", str(archive), f"sqlite:///{store}", "--ref", REF, "-q"])
    assert seconds < CASE_SECONDS
    if code == 1:
        assert any(line.startswith(f"{name}: ") for line in problem_lines(err))
        return
    assert code == 0, err
    with open_store(f"sqlite:///{store}", create=False) as opened:
        assert opened.package_refs() == [EXISTING, REF]
    state = tmp_path / "state.json"
    assert main(["state", f"sqlite:///{store}", REF, "-o", str(state)]) == 0
    assert hashlib.sha256(inner).hexdigest() in state.read_text(encoding="utf-8")


# -- memory ---------------------------------------------------------------------------------------------------

_PEAK_SCRIPT = textwrap.dedent("""
    import contextlib, io, json, shutil, sys, time
    from pathlib import Path

    def vmhwm_kib():
        # VmHWM is this process's own peak; ru_maxrss would report the parent's peak across fork/exec.
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

    from lc_archive.cli import main
    hostile, seed, work = (Path(arg) for arg in sys.argv[1:4])
    expected = json.loads((hostile / "expected.json").read_text(encoding="utf-8"))
    baseline = vmhwm_kib()
    report = {"baseline_kib": baseline, "cases": {}}
    started = time.perf_counter()
    for name, case in expected.items():
        store = work / "store.db"
        shutil.copy(seed, store)
        archive = str(hostile / case["archive"])
        codes = []
        for argv in (["restore", archive, f"sqlite:///{store}", "--ref", "lib:Org:HOSTILE", "-q"],
                     ["validate", archive, "-q"]):
            sink = io.StringIO()
            try:
                with contextlib.redirect_stderr(sink), contextlib.redirect_stdout(sink):
                    codes.append(main(argv + case["args"]))
            except Exception as exc:  # a crash is test_hostile_archive_is_refused's to report; go on measuring
                codes.append(type(exc).__name__)
        report["cases"][name] = {"codes": codes, "peak_kib": vmhwm_kib()}
    report["seconds"] = time.perf_counter() - started
    report["peak_kib"] = vmhwm_kib()
    print(json.dumps(report))
""")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc for VmHWM")
def test_peak_memory_of_the_whole_set(hostile_dir: Path, seed_store: Path, tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-c", _PEAK_SCRIPT, str(hostile_dir), str(seed_store), str(tmp_path)],
                         cwd=REPO, capture_output=True, text=True, check=False, timeout=120)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)  # exit codes are test_hostile_archive_is_refused's business
    steps, previous = {}, report["baseline_kib"]
    for name, case in report["cases"].items():
        steps[name], previous = case["peak_kib"] - previous, case["peak_kib"]
    biggest = sorted(steps.items(), key=lambda item: -item[1])[:3]
    assert report["peak_kib"] < PEAK_LIMIT_KIB, (report["peak_kib"], report["baseline_kib"], biggest)
    print(f"hostile set: {len(report['cases'])} cases in {report['seconds']:.1f} s, VmHWM {report['peak_kib']} KiB "
          f"(after imports {report['baseline_kib']} KiB); biggest steps {biggest}")
