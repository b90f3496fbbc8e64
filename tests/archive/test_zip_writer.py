"""The streaming ZIP writer: entry attributes like openedx-core's, per-entry compression, atomic output."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from lc_archive.archive.zip_writer import ArchiveWriter, EntryConflict, atomic_output, is_compressible

WHEN = datetime(2025, 1, 6, 9, 0, 37, 123456, tzinfo=UTC)


def _write(build: object) -> zipfile.ZipFile:
    buffer = io.BytesIO()
    with ArchiveWriter(buffer) as writer:
        build(writer)  # type: ignore[operator]
    buffer.seek(0)
    return zipfile.ZipFile(buffer)


def test_entry_attributes_and_order() -> None:
    def build(w: ArchiveWriter) -> None:
        w.add_bytes("package.toml", b"[meta]\n" * 50, WHEN, compress=True)
        w.add_dir("entities/", WHEN)
        w.add_dir("entities/ünï/", WHEN)
        w.add_bytes("entities/ünï/a.png", b"\x89PNG" * 10, WHEN, compress=False)
        w.add_bytes("entities/empty.xml", b"", WHEN, compress=True)
        w.add_stream("entities/big.txt", (b"x" * 1000 for _ in range(100)), WHEN, compress=True)

    zf = _write(build)
    assert zf.namelist() == [
        "package.toml",
        "entities/",
        "entities/ünï/",
        "entities/ünï/a.png",
        "entities/empty.xml",
        "entities/big.txt",
    ]
    assert zf.comment == b""
    for info in zf.infolist():
        assert info.external_attr == 0o600 << 16, info.filename  # directories too, no DOS dir bit
        assert info.create_system == 3
        assert info.extra == b""
        assert info.comment == b""
        assert info.date_time == (2025, 1, 6, 9, 0, 36)  # UTC, floored to 2 seconds
        assert info.flag_bits == (0x800 if "ü" in info.filename else 0)
    kinds = {i.filename: i.compress_type for i in zf.infolist()}
    assert kinds == {
        "package.toml": zipfile.ZIP_DEFLATED,
        "entities/": zipfile.ZIP_STORED,
        "entities/ünï/": zipfile.ZIP_STORED,
        "entities/ünï/a.png": zipfile.ZIP_STORED,
        "entities/empty.xml": zipfile.ZIP_STORED,  # empty files are never deflated
        "entities/big.txt": zipfile.ZIP_DEFLATED,
    }
    assert zf.read("entities/big.txt") == b"x" * 100_000
    assert zf.getinfo("entities/big.txt").compress_size < 1000
    assert zf.testzip() is None


def test_timestamps_are_utc_and_clamped() -> None:
    def build(w: ArchiveWriter) -> None:
        w.add_bytes("a", b"", datetime(2025, 1, 1, 1, 30, 3, tzinfo=timezone(timedelta(hours=2))), compress=False)
        w.add_bytes("b", b"", datetime(1970, 1, 1, tzinfo=UTC), compress=False)
        w.add_bytes("c", b"", datetime(2200, 1, 1, tzinfo=UTC), compress=False)
        w.add_bytes("d", b"", datetime(2025, 1, 1, 5, 6, 7), compress=False)  # naive: taken as UTC

    zf = _write(build)
    assert [i.date_time for i in zf.infolist()] == [
        (2024, 12, 31, 23, 30, 2),
        (1980, 1, 1, 0, 0, 0),
        (2107, 12, 31, 23, 59, 58),
        (2025, 1, 1, 5, 6, 6),
    ]


@pytest.mark.parametrize(
    "name",
    ["", "/abs", "a/../b", "..", "a\\b", "a//b", "./a", "nul\x00x", "a/./b"],
)
def test_unsafe_names_are_refused(name: str) -> None:
    with pytest.raises(EntryConflict):
        _write(lambda w: w.add_bytes(name, b"x", WHEN, compress=False))


def test_duplicates_and_file_directory_clashes_are_refused() -> None:
    buffer = io.BytesIO()
    with ArchiveWriter(buffer) as w:
        w.add_dir("a/", WHEN)
        w.add_bytes("a/b", b"1", WHEN, compress=False)
        with pytest.raises(EntryConflict, match="duplicate"):
            w.add_bytes("a/b", b"2", WHEN, compress=False)
        with pytest.raises(EntryConflict, match="clashes"):
            w.add_dir("a/b/", WHEN)
        with pytest.raises(EntryConflict, match="clashes"):
            w.add_bytes("a", b"", WHEN, compress=False)
        with pytest.raises(EntryConflict, match="end with"):
            w.add_dir("c", WHEN)
        with pytest.raises(EntryConflict, match="must not end"):
            w.add_bytes("c/", b"", WHEN, compress=False)
        assert w.has("a/") and w.has("a/b") and not w.has("a")
        assert w.entries == 2
    assert zipfile.ZipFile(buffer).namelist() == ["a/", "a/b"]


def test_stream_is_written_in_chunks_without_joining() -> None:
    seen: list[int] = []

    def chunks() -> Iterator[bytes]:
        for i in range(64):
            seen.append(i)
            yield os.urandom(64 * 1024)

    buffer = io.BytesIO()
    with ArchiveWriter(buffer) as w:
        size = w.add_stream("blob.bin", chunks(), WHEN, compress=False, size=64 * 64 * 1024)
        assert w.bytes_in == size == 64 * 64 * 1024
    info = zipfile.ZipFile(buffer).getinfo("blob.bin")
    assert info.file_size == info.compress_size == size
    assert seen == list(range(64))


def test_unseekable_output() -> None:
    class Sink(io.RawIOBase):
        def __init__(self) -> None:
            self.data = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, b: object) -> int:
            data = bytes(b)  # type: ignore[call-overload]
            self.data += data
            return len(data)

    sink = Sink()
    with ArchiveWriter(sink) as w:  # type: ignore[arg-type]
        w.add_dir("d/", WHEN)
        w.add_stream("d/x.txt", [b"hello " * 100], WHEN, compress=True)
    zf = zipfile.ZipFile(io.BytesIO(bytes(sink.data)))
    assert zf.read("d/x.txt") == b"hello " * 100
    assert zf.getinfo("d/x.txt").external_attr == 0o600 << 16


def test_path_target(tmp_path: Path) -> None:
    target = tmp_path / "x.zip"
    with ArchiveWriter(target) as w:
        w.add_bytes("a.txt", b"a", WHEN, compress=True)
    assert zipfile.ZipFile(target).read("a.txt") == b"a"


# -- atomic_output ---------------------------------------------------------------------------------


def test_atomic_output_replaces_on_success(tmp_path: Path) -> None:
    target = tmp_path / "backup.zip"
    target.write_bytes(b"old")
    target.chmod(0o640)
    with atomic_output(target) as handle:
        handle.write(b"new")
        assert target.read_bytes() == b"old"  # untouched until the block ends
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup.zip"]


def test_atomic_output_new_file_is_private(tmp_path: Path) -> None:
    target = tmp_path / "new.zip"
    with atomic_output(target) as handle:
        handle.write(b"x")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyboardInterrupt()])
def test_atomic_output_leaves_nothing_on_failure(tmp_path: Path, exc: BaseException) -> None:
    target = tmp_path / "backup.zip"
    target.write_bytes(b"old")
    with pytest.raises(type(exc)), atomic_output(target) as handle:
        with ArchiveWriter(handle) as w:
            w.add_bytes("a.txt", b"partial" * 1000, WHEN, compress=True)
        raise exc
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup.zip"]


def test_atomic_output_with_no_previous_target_and_failure(tmp_path: Path) -> None:
    target = tmp_path / "backup.zip"
    with pytest.raises(ValueError), atomic_output(target) as handle:
        handle.write(b"x")
        raise ValueError
    assert list(tmp_path.iterdir()) == []


# -- is_compressible -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "media_type", "expected"),
    [
        ("block.xml", None, True),
        ("entities/x.toml", None, True),
        ("static/a.HTML", None, True),
        ("static/sub.srt", None, True),
        ("static/doc.json", None, True),
        ("static/pic.svg", None, True),
        ("static/pic.PNG", None, False),
        ("static/photo.jpeg", None, False),
        ("static/clip.mp4", None, False),
        ("static/font.woff2", None, False),
        ("static/slides.pdf", None, False),
        ("static/archive.zip", None, False),
        ("static/noext", "text/plain", True),
        ("static/noext", "image/png", False),
        ("static/data.bin", "application/vnd.foo+xml", True),
        ("static/data.bin", "video/x-foo", False),
        ("static/data.bin", None, True),
        ("static/noext", None, True),
    ],
)
def test_is_compressible(path: str, media_type: str | None, expected: bool) -> None:
    assert is_compressible(path, media_type) is expected
