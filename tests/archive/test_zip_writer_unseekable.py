"""``ArchiveWriter(..., sizes_in_headers=True)`` on an output that cannot seek writes the bytes a
seekable output gets: large entries wait in a temporary file, no data descriptors."""

from __future__ import annotations

import io
import os
import random
from datetime import UTC, datetime
from typing import Any

import pytest

from lc_archive.archive.zip_reader import ArchiveReader
from lc_archive.archive.zip_writer import ArchiveWriter

WHEN = datetime(2025, 3, 14, 15, 9, 26, tzinfo=UTC)


class _Stream:
    """A write-only output, as an upload or an HTTP response is: no tell, no seek."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.writes = 0

    def write(self, b: Any) -> int:
        self.data += bytes(b)
        self.writes += 1
        return len(b)

    def flush(self) -> None:
        pass


def _write(writer: ArchiveWriter, big: bytes) -> None:
    writer.add_dir("d/", WHEN)
    writer.add_bytes("d/small.toml", b"x = 1\n" * 50, WHEN, compress=True)
    # Past the 1 MiB in-memory threshold, compressed and stored, announced and not.
    writer.add_stream("d/big.txt", (big[i:i + 65536] for i in range(0, len(big), 65536)), WHEN, compress=True)
    writer.add_stream("d/big.bin", iter([big, big[:1000]]), WHEN, compress=False, size=len(big) + 1000)
    writer.add_stream("d/empty", iter([]), WHEN, compress=True)
    writer.add_bytes("d/last.xml", b"<a/>", WHEN, compress=True)
    writer.close()


@pytest.mark.parametrize("seed", [1, 2])
def test_unseekable_output_gets_the_bytes_of_a_file(seed: int, tmp_path: Any) -> None:
    rng = random.Random(seed)
    words = [bytes(rng.choice(b"abcdefgh") for _ in range(rng.randint(2, 9))) for _ in range(300)]
    text = b" ".join(rng.choice(words) for _ in range(400_000))[: 3 * 1024 * 1024 + 17]
    seekable = io.BytesIO()
    _write(ArchiveWriter(seekable), text)
    stream = _Stream()
    _write(ArchiveWriter(stream, sizes_in_headers=True), text)
    assert bytes(stream.data) == seekable.getvalue()
    # Without the option an unseekable output gets data descriptors (zipfile's way): other bytes.
    plain = _Stream()
    _write(ArchiveWriter(plain), text)
    assert bytes(plain.data) != seekable.getvalue()
    path = tmp_path / "a.zip"
    path.write_bytes(stream.data)
    with ArchiveReader(path) as reader:
        assert reader.read_bytes("d/big.txt", max_size=10 << 20) == text


def test_a_failing_stream_is_cut_short_and_the_spool_removed(tmp_path: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def chunks() -> Any:
        yield os.urandom(2 << 20)
        raise RuntimeError("source failed")

    writer = ArchiveWriter(_Stream(), sizes_in_headers=True)
    with pytest.raises(RuntimeError, match="source failed"):
        writer.add_stream("x.bin", chunks(), WHEN, compress=False)
    assert list(tmp_path.iterdir()) == []  # the spool was an unnamed temporary file, closed
