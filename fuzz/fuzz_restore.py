#!/usr/bin/env python3
"""Atheris fuzz target for lc-archive: the input bytes are an archive; only LcArchiveError may escape.

Each input goes through :func:`lc_archive.usecases.restore.validate`. An input that validates is then restored
into a copy of a SQLite store that already holds one package, and must restore; one in eight of the
others is restored too, and must be refused with the same problems, leaving the store file
byte-identical. Any other exception, or a broken invariant (an ``AssertionError``), is a finding:
libFuzzer saves the input as ``crash-<sha1>`` and stops.

Usage (see fuzz/README.md)::

    pip install atheris
    python fuzz/fuzz_restore.py --make-corpus corpus/          # seed corpus (no atheris needed)
    python fuzz/fuzz_restore.py --make-dict zip.dict            # libFuzzer dictionary (optional)
    python fuzz/fuzz_restore.py -max_total_time=3600 -dict=zip.dict corpus/
    python fuzz/fuzz_restore.py --replay crash-1234abcd          # re-run inputs without atheris

Everything after the script name that is not one of the ``--`` modes above goes to libFuzzer.
"""

from __future__ import annotations

import atexit
import hashlib
import io
import shutil
import sys
import tempfile
import traceback
import zlib
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TESTS = REPO / "tests"
EXISTING = "lib:Org:EXISTING"
TARGET = "lib:Fuzz:TARGET"
RESTORE_ONE_IN = 8  # invalid inputs restored too (by CRC-32 of the input): checks refusals write nothing
MAX_SEED = 64 * 1024  # larger hostile archives are left out of the seed corpus

_lc: dict[str, Any] = {}  # lc_archive's entry points, imported by _load() (instrumented when fuzzing)
_work: dict[str, Path] = {}


def _load() -> None:
    """Import lc-archive (call inside ``atheris.instrument_imports()`` to get coverage feedback)."""
    import tomllib  # noqa: F401 (imported here so that it is instrumented too)

    from lc_archive import restore, validate
    from lc_archive.errors import ArchiveInvalid, LcArchiveError
    from lc_archive.stores import open_store

    _lc.update(ArchiveInvalid=ArchiveInvalid, LcArchiveError=LcArchiveError, restore=restore, validate=validate,
               open_store=open_store)


def _tiny_archive() -> bytes:
    sys.path.insert(0, str(TESTS))
    from support.hostile import crafted

    data: bytes = crafted()
    return data


def _setup_store() -> None:
    """A temporary folder with a seed store (one package), removed at exit."""
    if _work:
        return
    folder = Path(tempfile.mkdtemp(prefix="lc-archive-fuzz-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    seed = folder / "seed.db"
    with _lc["open_store"](f"sqlite:///{seed}") as store:
        _lc["restore"](io.BytesIO(_tiny_archive()), store, ref=EXISTING)
    work = folder / "work"
    work.mkdir()
    _work.update(seed=seed, work=work, db=work / "store.db")


def check(data: bytes) -> None:
    """The property: see the module docstring. Raises anything but LcArchiveError on a finding."""
    lc_error = _lc["LcArchiveError"]
    refusal = None
    try:
        _lc["validate"](io.BytesIO(data))
    except lc_error as exc:
        refusal = exc
    if refusal is not None and zlib.crc32(data) % RESTORE_ONE_IN:
        return
    _setup_store()
    db = _work["db"]
    shutil.copyfile(_work["seed"], db)
    before = hashlib.sha256(db.read_bytes()).digest()
    try:
        with _lc["open_store"](f"sqlite:///{db}", create=False) as store:
            _lc["restore"](io.BytesIO(data), store, ref=TARGET)
    except lc_error as exc:
        if refusal is None:
            raise AssertionError(f"validate accepted the archive but restore refused it: {exc!r}") from exc
        if isinstance(refusal, _lc["ArchiveInvalid"]):
            assert isinstance(exc, _lc["ArchiveInvalid"]) and exc.problems == refusal.problems, (refusal, exc)
        assert hashlib.sha256(db.read_bytes()).digest() == before, "a refused restore changed the store"
        assert sorted(p.name for p in db.parent.iterdir()) == ["store.db"], "a refused restore left files"
        return
    if refusal is not None:
        raise AssertionError(f"validate refused the archive but restore accepted it: {refusal!r}")


def TestOneInput(data: bytes) -> None:  # atheris's name for the target
    check(data)


def make_corpus(outdir: Path) -> int:
    """Write seed inputs: the tiny and sample archives, variants of them, and the small hostile cases."""
    sys.path.insert(0, str(TESTS))
    from support.hostile import hostile_cases

    outdir.mkdir(parents=True, exist_ok=True)
    seeds: dict[str, bytes] = {
        "tiny.zip": _tiny_archive(),
        "sample-library.zip": (REPO / "testdata" / "sample-library.zip").read_bytes(),
    }
    for case in hostile_cases():
        data = case.build()
        if len(data) <= MAX_SEED:
            seeds[f"hostile-{case.name}.zip"] = data
    for name, data in seeds.items():
        (outdir / name).write_bytes(data)
    print(f"wrote {len(seeds)} seed inputs to {outdir}")
    return 0


_DICT_TOKENS = [
    b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06", b"PK\x06\x06", b"PK\x06\x07", b"PK\x07\x08", b"\xff\xff\xff\xff",
    b"package.toml", b"entities/", b"collections/", b"component_versions/v1/", b"block.xml", b"static/",
    b"xblock.v1/html/", b"python_lib.zip", b"..", b"/", b"\\", b"[meta]", b"format_version = 1", b"[entity]",
    b"[entity.draft]", b"[entity.published]", b"[[version]]", b"version_num = ", b"[version.container]",
    b"children = [", b"[collection]", b"entities = [", b"key = ", b"title = ", b"created = ",
    b"2025-01-01T00:00:00Z", b"<!DOCTYPE", b"<!ENTITY", b"SYSTEM", b"<html/>",
]


def make_dict(path: Path) -> int:
    """Write a libFuzzer dictionary of ZIP signatures, v1 member names and TOML/OLX tokens."""
    lines = ['"' + "".join(chr(b) if 0x20 <= b < 0x7F and b not in b'"\\' else f"\\x{b:02x}" for b in token) + '"'
             for token in _DICT_TOKENS]
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    print(f"wrote {len(lines)} tokens to {path}")
    return 0


def replay(paths: list[str]) -> int:
    """Run ``check`` on files (or every file in folders) without atheris; exit 1 if any is a finding."""
    _load()
    count = 0
    findings = []
    for arg in paths:
        root = Path(arg)
        for path in sorted(root.iterdir()) if root.is_dir() else [root]:
            if not path.is_file():
                continue
            count += 1
            try:
                check(path.read_bytes())
            except Exception as exc:  # every finding is reported, not just the first
                where = traceback.extract_tb(exc.__traceback__)[-1]
                findings.append(path)
                print(f"FINDING {path}: {type(exc).__name__}: {exc} (at {where.filename}:{where.lineno})",
                      file=sys.stderr)
    print(f"replayed {count} inputs: {len(findings)} finding(s)")
    return 1 if findings else 0


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[1] in ("--make-corpus", "--make-dict", "--replay"):
        if len(argv) < 3:
            print(f"usage: {argv[0]} {argv[1]} PATH...", file=sys.stderr)
            return 2
        if argv[1] == "--make-corpus":
            return make_corpus(Path(argv[2]))
        if argv[1] == "--make-dict":
            return make_dict(Path(argv[2]))
        return replay(argv[2:])
    try:
        import atheris
    except ImportError:
        print("atheris is not installed: pip install atheris (or use --replay to run inputs without it)",
              file=sys.stderr)
        return 2
    with atheris.instrument_imports(include=["lc_archive", "tomllib"]):
        _load()
    _setup_store()
    atheris.Setup(argv, TestOneInput)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
