"""ArchiveWriter against the zipfile-based writer it replaced: the same bytes for any sequence of calls.

``_ReferenceWriter`` is the previous implementation (docstrings left out; one ``zipfile.ZipFile.open(info, "w")``
per entry). Hypothesis drives both with the same calls (names with non-ASCII, unsafe, duplicate and
clashing ones, directories, empty files, compressible and random data up to ~3 MB, streams cut in
chunks, with right, missing, wrong and huge sizes, streams that raise, times before 1980 and after
2107, several kinds of output) and compares the archives byte for byte, what every call returned or
raised, and the counters. A second test patches zipfile's ZIP64 limits (both modules read them at
run time) so that the ZIP64 paths (local and central ZIP64 fields, ZIP64 end records, entries refused
for being too large) are compared with small data.
"""

from __future__ import annotations

import io
import random
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lc_archive.archive import zip_format, zip_writer
from lc_archive.archive.zip_writer import ArchiveWriter, EntryConflict

# -- the oracle: the zipfile-based ArchiveWriter as it was ----------------------------------------------

_MIN_DATE = (1980, 1, 1, 0, 0, 0)
_MAX_DATE = (2107, 12, 31, 23, 59, 58)
_UNIX = 3
_MODE = 0o600 << 16


def _date_time(when: datetime) -> tuple[int, int, int, int, int, int]:
    utc = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    stamp = (utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second)
    return min(max(stamp, _MIN_DATE), _MAX_DATE)


def _check_name(name: str) -> None:
    # The name policy: what lc-archive's reader accepts (no control characters, no drive letters...).
    path = name.removesuffix("/")
    if not path or "\\" in name or ":" in name or path.startswith("/") or any(c < " " or c == "\x7f" for c in name):
        raise EntryConflict(f"unsafe archive entry name {name!r}")
    if unicodedata.normalize("NFC", name) != name:
        raise EntryConflict(f"archive entry name {name!r} is not NFC")
    if any(part in ("", ".", "..") for part in path.split("/")):
        raise EntryConflict(f"unsafe archive entry name {name!r}")


class _ReferenceWriter:
    """Writes ZIP entries one at a time, in call order, to a path or a binary file object."""

    def __init__(self, target: Any) -> None:
        self._zip = zipfile.ZipFile(target, "w", allowZip64=True)
        self._names: set[str] = set()
        self._folded: dict[str, str] = {}
        self.entries = 0
        self.bytes_in = 0

    def __enter__(self) -> _ReferenceWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _info(self, name: str, when: datetime, compress: bool) -> zipfile.ZipInfo:
        _check_name(name)
        if name in self._names:
            raise EntryConflict(f"duplicate archive entry {name!r}")
        other = name.removesuffix("/") if name.endswith("/") else name + "/"
        if other in self._names:
            raise EntryConflict(f"archive entry {name!r} clashes with {other!r}")
        folded = unicodedata.normalize("NFC", name).casefold()
        if folded in self._folded:
            raise EntryConflict(f"archive entry {name!r} collides with {self._folded[folded]!r}")
        self._names.add(name)
        self._folded[folded] = name
        info = zipfile.ZipInfo(name, _date_time(when))
        info.create_system = _UNIX
        info.external_attr = _MODE
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        return info

    def has(self, name: str) -> bool:
        return name in self._names

    def add_dir(self, name: str, when: datetime) -> None:
        if not name.endswith("/"):
            raise EntryConflict(f"directory entry {name!r} must end with '/'")
        self._write(self._info(name, when, False), ())

    def add_bytes(self, name: str, data: bytes, when: datetime, *, compress: bool) -> None:
        self.add_stream(name, (data,), when, compress=compress, size=len(data))

    def add_stream(
        self,
        name: str,
        chunks: Iterable[bytes],
        when: datetime,
        *,
        compress: bool,
        size: int | None = None,
    ) -> int:
        if name.endswith("/"):
            raise EntryConflict(f"file entry {name!r} must not end with '/'")
        info = self._info(name, when, compress and size != 0)
        if size is not None:
            info.file_size = size
        return self._write(info, chunks)

    def _write(self, info: zipfile.ZipInfo, chunks: Iterable[bytes]) -> int:
        written = 0
        with self._zip.open(info, "w") as member:
            for chunk in chunks:
                member.write(chunk)
                written += len(chunk)
        self.entries += 1
        self.bytes_in += written
        return written

    def close(self) -> None:
        self._zip.close()


# -- calls, outputs, and playing them against a writer ---------------------------------------------


class _Boom(Exception):
    """Raised by a stream's chunks part way."""


@lru_cache(maxsize=64)
def _data(size: int, kind: str, seed: int) -> bytes:
    rnd = random.Random(seed)
    if kind == "random":
        return rnd.randbytes(size)
    if kind == "zeros":
        return bytes(size)
    words = [
        rnd.choice(["title", "version_num", "<problem>", "url_name", "=", '"', "\n", "été", "42"]) for _ in range(64)
    ]
    out = bytearray()
    while len(out) < size:
        out += " ".join(rnd.choice(words) for _ in range(12)).encode() + b"\n"
    return bytes(out[:size])


@dataclass(frozen=True)
class Dir:
    name: str
    when: datetime

    def play(self, w: Any) -> object:
        return w.add_dir(self.name, self.when)


@dataclass(frozen=True)
class Bytes:
    name: str
    size: int
    kind: str
    seed: int
    when: datetime
    compress: bool
    buffer: str  # bytes, bytearray or memoryview

    def play(self, w: Any) -> object:
        data: Any = _data(self.size, self.kind, self.seed)
        if self.buffer == "bytearray":
            data = bytearray(data)
        elif self.buffer == "memoryview":
            data = memoryview(data)
        return w.add_bytes(self.name, data, self.when, compress=self.compress)


@dataclass(frozen=True)
class Stream:
    name: str
    size: int
    kind: str
    seed: int
    when: datetime
    compress: bool
    chunk: int
    announce: str  # exact, none, zero, smaller, larger, huge, negative
    fail_after: int | None  # chunks before the iterator raises
    reuse: bool  # chunks are views of one buffer the producer overwrites

    def play(self, w: Any) -> object:
        data = _data(self.size, self.kind, self.seed)
        size = {
            "exact": self.size,
            "none": None,
            "zero": 0,
            "smaller": self.size // 3,
            "larger": self.size + (2 << 20),
            "huge": 3 << 30,
            "negative": -1,
        }[self.announce]
        return w.add_stream(self.name, self._chunks(data), self.when, compress=self.compress, size=size)

    def _chunks(self, data: bytes) -> Iterator[bytes]:
        step = max(self.chunk, len(data) // 40, 1)
        buffer = bytearray(step)
        for index, start in enumerate(range(0, len(data), step)):
            if index == self.fail_after:
                raise _Boom
            piece = data[start : start + step]
            if self.reuse:
                buffer[: len(piece)] = piece
                yield memoryview(buffer)[: len(piece)]  # type: ignore[misc]
                buffer[:] = bytes(len(buffer))  # the writer must not have kept the view
            else:
                yield piece
            if index % 3 == 1:
                yield b""
        if self.fail_after is not None:
            raise _Boom


class _Sink(io.RawIOBase):
    """An output that cannot tell or seek (a pipe)."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        data = bytes(b)
        self.data += data
        return len(data)


class _NoSeek(io.BytesIO):
    """An output that tells its position but cannot seek."""

    def seek(self, *args: Any) -> int:
        raise OSError("not seekable")


def _output(kind: str) -> tuple[Any, Callable[[], bytes]]:
    if kind == "unseekable":
        sink = _Sink()
        return sink, lambda: bytes(sink.data)
    if kind == "tell-only":
        tell_only = _NoSeek()
        tell_only.write(b"#!prefix\n")
        return tell_only, tell_only.getvalue
    buffer = io.BytesIO()
    if kind == "prefixed":
        buffer.write(b"some bytes before the archive\n" * 3)
    return buffer, buffer.getvalue


def _play(make: Callable[[Any], Any], calls: list[Any], output: str) -> tuple[bytes, list[str], int, int, list[bool]]:
    target, value = _output(output)
    writer = make(target)
    outcomes = []
    for call in calls:
        try:
            outcomes.append(repr(call.play(writer)))
        except Exception as exc:  # the same calls must fail the same way
            outcomes.append(type(exc).__name__)
    writer.close()
    names = [call.name for call in calls]
    has = [writer.has(n) for n in names] + [writer.has(n + "/") for n in names]
    return value(), outcomes, writer.entries, writer.bytes_in, has


def _reference(target: Any) -> _ReferenceWriter:
    return _ReferenceWriter(target)


def _fast(target: Any) -> ArchiveWriter:
    return ArchiveWriter(target, background=True)  # small entries packed on a worker thread


def _one_thread(target: Any) -> ArchiveWriter:
    return ArchiveWriter(target, background=False)


def _assert_same(calls: list[Any], output: str) -> bytes:
    expected = _play(_reference, calls, output)
    for make in (_fast, _one_thread):
        actual = _play(make, calls, output)
        assert actual[1:] == expected[1:]  # outcomes, counters, names taken
        assert actual[0] == expected[0], _first_difference(actual[0], expected[0])
    return actual[0]


def _first_difference(a: bytes, b: bytes) -> str:
    at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return f"lengths {len(a)} vs {len(b)}, first difference at {at}: {a[at : at + 24]!r} vs {b[at : at + 24]!r}"


# -- strategies ----------------------------------------------------------------------------------------

_PARTS = st.sampled_from(["a", "b", "static", "x.toml", "ü", "日本語", "e\u0301", "..", ".", "", "a\\b", "n\x00"])
_NAMES = st.one_of(
    st.lists(_PARTS, min_size=1, max_size=3).map("/".join),
    st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=2).map("/".join),
    st.text(min_size=1, max_size=6),
    st.sampled_from(["/abs", "a//b", "./a"]),
)
_ZONES = st.one_of(
    st.none(),
    st.just(UTC),
    st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes))),
)
_WHEN = st.datetimes(min_value=datetime(1960, 1, 1), max_value=datetime(2200, 12, 31), timezones=_ZONES)
_SIZES = st.one_of(
    st.integers(0, 4000),
    st.integers(0, 300_000),
    st.sampled_from([0, 1, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3_000_000]),
)
_KINDS = st.sampled_from(["text", "random", "zeros"])
_SEEDS = st.integers(0, 3)


def _dir_name(name: str) -> str:
    return name if name.endswith("/") else name + "/"


_DIR = st.builds(Dir, st.one_of(_NAMES.map(_dir_name), _NAMES), _WHEN)
_BYTES = st.builds(
    Bytes,
    _NAMES,
    _SIZES,
    _KINDS,
    _SEEDS,
    _WHEN,
    st.booleans(),
    st.sampled_from(["bytes", "bytes", "bytes", "bytearray", "memoryview"]),
)
_STREAM = st.builds(
    Stream,
    _NAMES,
    _SIZES,
    _KINDS,
    _SEEDS,
    _WHEN,
    st.booleans(),
    st.sampled_from([1, 1000, 64 << 10, 1 << 20, 4 << 20]),
    st.sampled_from(["exact", "exact", "none", "none", "zero", "smaller", "larger", "huge", "negative"]),
    st.one_of(st.none(), st.none(), st.integers(0, 5)),
    st.booleans(),
)
_CALLS = st.lists(st.one_of(_DIR, _DIR, _BYTES, _BYTES, _STREAM), max_size=10)
_OUTPUTS = st.sampled_from(["seekable", "seekable", "prefixed", "unseekable", "tell-only"])
_SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# -- the differential tests ----------------------------------------------------------------------------


@_SETTINGS
@given(calls=_CALLS, output=_OUTPUTS)
def test_same_bytes_as_the_zipfile_writer(calls: list[Any], output: str) -> None:
    archive = _assert_same(calls, output)
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        assert zf.testzip() is None


@_SETTINGS
@given(
    calls=_CALLS,
    output=_OUTPUTS,
    limit=st.sampled_from([3_000, 100_000, 1_200_000]),
    count_limit=st.integers(0, 6),
)
def test_same_bytes_with_small_zip64_limits(calls: list[Any], output: str, limit: int, count_limit: int) -> None:
    """ZIP64 fields, ZIP64 end records and refused entries, as zipfile writes them past its limits."""
    with (
        mock.patch.object(zipfile, "ZIP64_LIMIT", limit),
        mock.patch.object(zipfile, "ZIP_FILECOUNT_LIMIT", count_limit),
        mock.patch.object(zip_format, "ZIP64_LIMIT", limit),
        mock.patch.object(zip_format, "FILECOUNT_LIMIT", count_limit),
    ):
        _assert_same(calls, output)


@pytest.mark.parametrize("output", ["seekable", "unseekable", "tell-only"])
@pytest.mark.parametrize("last", [True, False])
def test_refused_entries_as_zipfile_leaves_them(output: str, last: bool) -> None:
    """With a 3,000-byte limit, streams announced smaller than they are get refused, as by zipfile:
    their data stays in the file (overwritten by what follows if the output can seek)."""
    when = datetime(2000, 1, 1)
    calls: list[Any] = [
        Dir("a/", when),
        Stream("a/gathered.txt", 3001, "text", 0, when, False, 1, "none", None, False),
        Stream("a/streamed.txt", 3_000_000, "text", 0, when, True, 1 << 20, "smaller", None, False),
        Bytes("a/ok.txt", 100, "text", 0, when, True, "bytes"),
        Stream("a/last.bin", 5000, "random", 1, when, False, 1000, "none", None, False),
    ]
    if not last:
        calls.append(Dir("b/", when))
    with mock.patch.object(zipfile, "ZIP64_LIMIT", 3000), mock.patch.object(zip_format, "ZIP64_LIMIT", 3000):
        _assert_same(calls, output)


@pytest.mark.parametrize("output", ["seekable", "unseekable", "tell-only", "prefixed"])
def test_examples_the_same_as_the_zipfile_writer(output: str) -> None:
    when = datetime(2025, 1, 6, 9, 0, 37, tzinfo=UTC)
    calls: list[Any] = [
        Dir("entities/", when),
        Bytes("entities/a.toml", 1000, "text", 1, when, True, "bytes"),
        Bytes("entities/empty.xml", 0, "text", 1, when, True, "bytes"),
        Stream("entities/big.bin", 3_000_000, "random", 2, when, False, 1 << 20, "exact", None, False),
        Stream("entities/big.txt", 3_000_000, "text", 2, when, True, 64 << 10, "none", None, True),
        Stream("entities/huge.txt", 5_000, "text", 2, when, True, 1000, "huge", None, False),
        Stream("entities/cut.txt", 50_000, "text", 3, when, True, 1000, "exact", 4, False),
        Stream("entities/cut-big.txt", 3_000_000, "text", 3, when, True, 1 << 20, "larger", 2, False),
        Bytes("entities/ünï/pic.png", 200_000, "random", 3, datetime(1970, 1, 1), False, "bytes"),
        Bytes("entities/late.txt", 10, "text", 3, datetime(2150, 1, 1, tzinfo=UTC), True, "memoryview"),
        Dir("entities/late.txt/", when),  # clash
        Bytes("entities/a.toml", 1, "text", 1, when, True, "bytes"),  # duplicate
    ]
    archive = _assert_same(calls, output)
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        assert zf.testzip() is None
        assert len(zf.infolist()) == 10


def test_a_call_from_inside_a_stream_fails_as_before() -> None:
    when = datetime(2025, 1, 1, tzinfo=UTC)

    def play(make: Callable[[Any], Any]) -> tuple[bytes, list[str]]:
        buffer = io.BytesIO()
        writer = make(buffer)
        seen: list[str] = []

        def chunks() -> Iterator[bytes]:
            yield b"one"
            try:
                writer.add_dir("inner/", when)
            except ValueError as exc:
                seen.append(type(exc).__name__)
            yield b"two"

        writer.add_bytes("first.txt", b"x" * 5000, when, compress=True)
        seen.append(repr(writer.add_stream("s.txt", chunks(), when, compress=True)))
        seen.append(repr(writer.has("inner/")))
        writer.close()
        return buffer.getvalue(), seen

    assert play(_fast) == play(_reference) == play(_one_thread)


@pytest.mark.slow
def test_70000_entries_zip64_end_records_same_bytes() -> None:
    """Past 65,535 entries zipfile writes the ZIP64 end records: the same ones, and readable."""
    when = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    calls: list[Any] = []
    for i in range(35_000):
        root = f"entities/xblock.v1/html/c{i:05d}/"
        calls.append(Dir(root, when + timedelta(seconds=i)))
        if i % 2:
            calls.append(Bytes(root[:-1] + ".toml", 40 + i % 7 * 90, "text", i % 3, when, True, "bytes"))
        elif i % 50 == 0:
            calls.append(Stream(root + "pic.png", 3000, "random", 1, when, False, 1 << 20, "exact", None, False))
        else:
            calls.append(Bytes(root + "e.txt", 0, "text", 0, when, False, "bytes"))
    assert len(calls) == 70_000
    expected = _play(_reference, calls, "seekable")
    actual = _play(_fast, calls, "seekable")
    assert actual[1:] == expected[1:]
    assert actual[0] == expected[0], _first_difference(actual[0], expected[0])
    archive = actual[0]
    assert b"PK\x06\x06" in archive[-200:] and b"PK\x06\x07" in archive[-200:]
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        assert len(zf.infolist()) == 70_000
        assert zf.testzip() is None


# -- seeks, memory, the helper thread -----------------------------------------------------------------


class _CountingFile(io.BytesIO):
    def __init__(self) -> None:
        super().__init__()
        self.seeks = 0

    def seek(self, *args: Any) -> int:
        self.seeks += 1
        return super().seek(*args)


def test_whole_entries_never_seek_and_large_streams_seek_twice() -> None:
    when = datetime(2025, 1, 1, tzinfo=UTC)
    out = _CountingFile()
    writer = ArchiveWriter(out)
    assert out.seeks == 1  # zipfile's test of whether the output can seek
    for i in range(2000):
        writer.add_dir(f"d{i}/", when)
        writer.add_bytes(f"d{i}/a.toml", b"key = 1\n" * (i % 50), when, compress=True)
        writer.add_stream(f"d{i}/pic.png", [b"\x89PNG" * 5000], when, compress=False, size=20_000)
        writer.add_stream(f"d{i}/b.xml", iter([b"<a/>"] * 100), when, compress=True)
    assert out.seeks == 1
    writer.add_stream("big.bin", (bytes(1 << 20) for _ in range(3)), when, compress=True)
    assert out.seeks == 3  # the provisional header patched once: back and forth
    writer.close()
    assert out.seeks == 3
    with zipfile.ZipFile(out) as zf:
        assert zf.testzip() is None
        assert zf.read("big.bin") == bytes(3 << 20)


def test_large_streams_are_written_as_they_come() -> None:
    out = io.BytesIO()
    writer = ArchiveWriter(out)
    writer.add_bytes("before.txt", b"x" * 100, datetime(2025, 1, 1), compress=True)
    lag: list[int] = []

    def chunks() -> Iterator[bytes]:
        for i in range(64):
            lag.append(64 * 1024 * i - len(out.getbuffer()))  # data given but not yet in the file
            yield random.Random(i).randbytes(64 * 1024)

    writer.add_stream("blob.bin", chunks(), datetime(2025, 1, 1), compress=False)
    writer.close()
    assert max(lag) <= (1 << 20) + 64 * 1024  # at most the 1 MiB gathered before streaming starts
    assert zipfile.ZipFile(out).read("blob.bin") == b"".join(random.Random(i).randbytes(64 * 1024) for i in range(64))


def test_path_target_and_use_after_close(tmp_path: Path) -> None:
    target = tmp_path / "x.zip"
    writer = ArchiveWriter(target)
    writer.add_bytes("a.txt", b"a" * 100, datetime(2025, 1, 1), compress=True)
    writer.close()
    writer.close()  # a no-op, as with zipfile
    with pytest.raises(ValueError, match="closed"):
        writer.add_dir("b/", datetime(2025, 1, 1))
    assert zipfile.ZipFile(target).read("a.txt") == b"a" * 100
    reference = tmp_path / "y.zip"
    with _ReferenceWriter(reference) as ref:
        ref.add_bytes("a.txt", b"a" * 100, datetime(2025, 1, 1), compress=True)
    assert target.read_bytes() == reference.read_bytes()


@given(st.text(alphabet="abC:./\\\x00\t\x7fe\u0301\u00e9", max_size=9))
def test_name_check_matches_the_policy(name: str) -> None:
    def outcome(check: Callable[[str], None]) -> bool:
        try:
            check(name)
        except EntryConflict:
            return False
        return True

    assert outcome(zip_writer._check_name) == outcome(_check_name)


@_SETTINGS
@given(calls=_CALLS, output=_OUTPUTS, spill=st.sampled_from([1, 60, 400]))
def test_same_bytes_when_the_central_directory_spills_to_disk(calls: list[Any], output: str, spill: int) -> None:
    """Past _IN_MEMORY bytes the central directory waits in a temporary file: same bytes."""
    import lc_archive.archive.zip_central as zc

    before = zc._IN_MEMORY
    zc._IN_MEMORY = spill
    try:
        archive = _assert_same(calls, output)
    finally:
        zc._IN_MEMORY = before
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        assert zf.testzip() is None
