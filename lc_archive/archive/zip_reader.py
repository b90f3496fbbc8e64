"""Read a hostile ZIP archive: a strict structural pre-flight, then bounded member streams.

Python's :mod:`zipfile` repairs or ignores too much to be trusted with uploaded archives (see
``threats.md`` §1), so this module does not use it. :class:`ArchiveReader` parses the
end-of-central-directory records and the central directory itself, checks every entry and every
local header, and raises one :class:`~lc_archive.errors.ArchiveInvalid` listing every structural
problem it found. It never repairs an archive. Member data is read straight from the file and
inflated with :mod:`zlib` in bounded steps, so a member can never yield more than its declared size,
and a lie about that size is cut off after one read buffer.

Usage::

    with ArchiveReader(path) as archive:
        package = archive.read_bytes("package.toml", max_size=limits.max_toml_size)
        with archive.open(media_name) as stream:
            shutil.copyfileobj(stream, target)   # raises ArchiveInvalid on any corruption

The reader is the ZIP implementation of an *archive reader* (``members``, ``names``, ``member``,
``open``, ``read_bytes``); a reader over an unpacked directory tree could offer the same methods.
"""

from __future__ import annotations

import gc
import io
import os
import struct
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import BinaryIO, Self

from ..errors import ArchiveInvalid, Problem
from .limits import DEFAULT_LIMITS, Limits
from .locations import open_archive_file
from .names import clash_problems, display
from .zip_directory import Member, Records, check_totals, parse_central
from .zip_end import read_end
from .zip_format import ARCHIVE, DEFLATED, invalid
from .zip_layout import check_layout

__all__ = ["ARCHIVE", "ArchiveReader", "Member"]

_CHUNK = 64 * 1024  # one read of member data, and the buffer size of member streams


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while building up to a million acyclic records (a third of the time, else)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class ArchiveReader:
    """A checked, read-only view of one ZIP archive (a context manager).

    Construction runs the pre-flight and raises :class:`ArchiveInvalid` listing every structural
    problem. ``source`` is a path, a URL (:mod:`~lc_archive.archive.locations`: ``s3://...``, read
    with a bounded block cache) or a readable, seekable binary file object; a file object is not
    closed by :meth:`close`. Not thread-safe: member streams share the underlying file.
    """

    def __init__(self, source: str | os.PathLike[str] | BinaryIO, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        if isinstance(source, (str, os.PathLike)):
            self._file: BinaryIO = open_archive_file(source)  # closed by close()
            self._owns_file = True
        else:
            if not (source.readable() and source.seekable()):
                raise ValueError("ArchiveReader needs a readable, seekable binary file")
            self._file = source
            self._owns_file = False
        self._closed = False
        self._pread_fd: int | None = None
        try:
            with _gc_paused():
                self.comment, self._records = _preflight(self._file, limits)
        except BaseException:
            self.close()
            raise
        self._members: tuple[Member, ...] | None = None  # built on first use

    # -- context manager -------------------------------------------------------------------------

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Release the file (if this reader opened it); open member streams stop working."""
        if not self._closed:
            self._closed = True
            if self._owns_file:
                self._file.close()

    # -- listing ---------------------------------------------------------------------------------

    @property
    def members(self) -> Sequence[Member]:
        """Every entry, directories included, in central-directory order."""
        if self._members is None:
            records = self._records
            with _gc_paused():
                self._members = tuple(records.member(name, cell) for name, cell in records.index.items())
        return self._members

    def names(self) -> list[str]:
        """Every entry name, in central-directory order (a new list; the strings are shared)."""
        return list(self._records.index)

    def member(self, name: str) -> Member:
        """The entry called ``name``; raises ``KeyError`` if there is none."""
        return self._records.member(name, self._records.index[name])

    def slot(self, name: str) -> int:
        """A small number unique to file entry ``name`` (``0 <= slot < slots``), for tables indexed by
        entry; -1 for a directory entry that holds no data. ``KeyError`` if there is no such entry."""
        return max(self._records.index[name], -1)

    @property
    def slots(self) -> int:
        """How many slot numbers :meth:`slot` hands out."""
        return len(self._records.offsets)

    def __contains__(self, name: object) -> bool:
        return name in self._records.index

    def __len__(self) -> int:
        return len(self._records.index)

    # -- reading ---------------------------------------------------------------------------------

    def open(self, name: str) -> BinaryIO:
        """A stream over the data of file entry ``name``.

        The stream never yields more than the declared size. It raises :class:`ArchiveInvalid`
        naming the member if the data is corrupt, inflates past or falls short of the declared size,
        or fails the CRC-32 check, which happens on the read that reaches the end: treat the data as
        untrusted until the stream is exhausted. ``KeyError`` if there is no such entry,
        ``IsADirectoryError`` for a directory entry.
        """
        if self._closed:
            raise ValueError("I/O operation on a closed ArchiveReader")
        record = self._records.get(name)
        if name.endswith("/"):
            raise IsADirectoryError(f"{name!r} is a directory entry")
        return io.BufferedReader(_MemberStream(self, name, record), buffer_size=_CHUNK)

    def read_bytes(self, name: str, *, max_size: int | None = None) -> bytes:
        """The whole, verified data of a small file entry, refused if its declared size is above
        ``max_size`` (default: the per-member limit)."""
        limit = self.limits.max_member_size if max_size is None else max_size
        usize = self._records.get(name)[2]
        if usize > limit:
            raise invalid(display(name, True), f"member is {usize} bytes, above the limit of {limit} bytes "
                                                 "for this kind of file")
        with self.open(name) as stream:
            return stream.read()

    def fileno(self) -> int | None:
        """The descriptor of the archive when it is a file of this machine (not a URL or an in-memory
        stream), else None."""
        try:
            fd = self._file.fileno()
        except (OSError, ValueError, AttributeError):
            return None
        return fd if isinstance(fd, int) and fd >= 0 and not self._closed else None

    def use_pread(self, fd: int) -> None:
        """Read member data with ``os.pread`` on ``fd`` from now on, never moving the file position (a
        forked process reading the same open file as its parent: see :mod:`.read_ahead`)."""
        self._pread_fd = fd

    def _read_raw(self, offset: int, size: int) -> bytes:
        if self._closed:
            raise ValueError("I/O operation on a closed ArchiveReader")
        if self._pread_fd is not None:
            return os.pread(self._pread_fd, size, offset)
        self._file.seek(offset)
        return self._file.read(size)


class _MemberStream(io.RawIOBase):
    """Raw stream that inflates one member in bounded steps and verifies it at the end."""

    def __init__(self, archive: ArchiveReader, name: str, record: tuple[int, int, int, int, int]) -> None:
        super().__init__()
        self._archive = archive
        self._name = name
        self._pos, compressed, self._size, self._declared_crc, method = record
        self._left_in = compressed  # compressed bytes not yet read from the file
        self._left_out = self._size  # bytes not yet produced
        self._crc = 0
        self._inflater = zlib.decompressobj(-15) if method == DEFLATED else None
        self._tail = b""  # compressed input the inflater has not consumed yet
        self._done = False
        self._error: ArchiveInvalid | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._next(len(buffer))
        size = len(data)
        buffer[:size] = data
        return size

    def readall(self) -> bytes:
        pieces = []
        while piece := self._next(_CHUNK):
            pieces.append(piece)
        return b"".join(pieces)

    def _next(self, want: int) -> bytes:
        """Up to ``want`` bytes; b"" at the (verified) end."""
        if self._error is not None:
            raise self._error
        if self._done or want <= 0:
            return b""
        try:
            data = self._produce(min(want, self._left_out)) if self._left_out else b""
            self._left_out -= len(data)
            self._crc = zlib.crc32(data, self._crc)
            if not self._left_out:
                self._finish()
            return data
        except ArchiveInvalid as exc:
            self._error = exc
        except (zlib.error, OSError, EOFError, ValueError) as exc:
            if self._archive._closed:
                raise
            self._error = self._fail(f"cannot read member data ({type(exc).__name__}: {exc})")
        raise self._error

    def _fail(self, message: str) -> ArchiveInvalid:
        return invalid(display(self._name, True), message)  # the pre-flight accepted the name

    def _raw(self, size: int) -> bytes:
        size = min(size, self._left_in)
        if size <= 0:
            return b""
        data = self._archive._read_raw(self._pos, size)
        if len(data) != size:
            raise self._fail("the archive file ends inside this member's data (truncated)")
        self._pos += size
        self._left_in -= size
        return data

    def _produce(self, want: int) -> bytes:
        """Between 1 and ``want`` bytes of member data (``want`` > 0)."""
        inflater = self._inflater
        if inflater is None:
            return self._raw(want)  # stored: compressed size == size, checked by the pre-flight
        while True:
            if inflater.eof:
                done = self._size - self._left_out
                raise self._fail(f"data inflates to {done} bytes, less than the declared {self._size}")
            data = self._tail or self._raw(_CHUNK)
            if not data:
                raise self._fail("compressed data ends before the deflate stream does (truncated or corrupt)")
            out = inflater.decompress(data, want)
            self._tail = inflater.unconsumed_tail
            if out:
                return out

    def _finish(self) -> None:
        """Check the member ends exactly here and its CRC-32; called once all declared bytes are out."""
        inflater = self._inflater
        if inflater is not None:
            while not inflater.eof:
                data = self._tail or self._raw(_CHUNK)
                if not data:
                    raise self._fail("compressed data ends before the deflate stream does (truncated)")
                if inflater.decompress(data, 1):
                    raise self._fail(f"data inflates past its declared size of {self._size} bytes")
                self._tail = inflater.unconsumed_tail
            if inflater.unused_data or self._left_in:
                raise self._fail("compressed data continues after the end of the deflate stream")
        if self._crc != self._declared_crc:
            raise self._fail(f"CRC-32 mismatch: data has {self._crc:#010x}, "
                             f"the archive declares {self._declared_crc:#010x}")
        self._done = True


# -- pre-flight --------------------------------------------------------------------------------------


def _preflight(file: BinaryIO, limits: Limits) -> tuple[bytes, Records]:
    """Check the whole structure; return the archive comment and the compact index of its entries.

    Everything the checks need beyond that index (the directory order of all records, local header
    offsets, flags, the case-folding tables) is dropped when this returns.
    """
    problems: list[Problem] = []
    try:
        size = file.seek(0, os.SEEK_END)
        end = read_end(file, size, limits)
        table = parse_central(file, end, limits, problems)
        clash_problems(table.names, table.bad, problems)
        check_totals(table, limits, problems)
        if table.names:
            check_layout(file, size, end, table, problems)
    except ArchiveInvalid as exc:
        problems.extend(exc.problems)
    except (struct.error, ValueError, IndexError, OSError, EOFError, UnicodeError, zlib.error) as exc:
        problems.append(Problem(ARCHIVE, "$", f"cannot read the archive ({type(exc).__name__}: {exc})"))
    if problems:
        raise ArchiveInvalid(problems)
    return end.comment, table.records()
