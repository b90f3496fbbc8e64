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
import re
import stat
import struct
import unicodedata
import zlib
from array import array
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import compress, islice
from operator import le
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Final, Self

from ..errors import ArchiveInvalid, Problem
from .limits import DEFAULT_LIMITS, Limits

__all__ = ["ARCHIVE", "ArchiveReader", "Member"]

ARCHIVE: Final = "(archive)"
"""The member name used in a :class:`Problem` about the archive as a whole."""

STORED: Final = 0
DEFLATED: Final = 8

_CHUNK = 64 * 1024  # one read of member data, and the buffer size of member streams
_CD_CHUNK = 1024 * 1024  # one read of the central directory, which is parsed as it streams in
_WINDOW = 256 * 1024  # one read of the local-header pass over runs of small entries
_MAX_COMMENT = 0xFFFF
_RECORD_EXTRAS = 4096  # average extra field + comment per central record allowed before reading them

# Record layouts (APPNOTE.TXT 4.3), all little-endian.
_EOCD = struct.Struct("<IHHHHIIH")  # sig, disk, cd disk, entries here, entries, cd size, cd offset, comment
_EOCD_SIG = 0x06054B50
_Z64_LOCATOR = struct.Struct("<IIQI")  # sig, disk of zip64 EOCD, its offset, total disks
_Z64_LOCATOR_SIG = 0x07064B50
_Z64_EOCD = struct.Struct("<IQHHIIQQQQ")  # sig, size, made, needed, disk, cd disk, here, total, size, offset
_Z64_EOCD_SIG = 0x06064B50
_CENTRAL = struct.Struct("<IBBHHHHHIIIHHHHHII")
_CENTRAL_SIG = 0x02014B50
_LOCAL = struct.Struct("<IHHHHHIIIHH")  # sig, needed, flags, method, time, date, crc, csize, usize, nlen, elen
_LOCAL_SIG = 0x04034B50
_DESCRIPTOR = struct.Struct("<IIII")  # sig, crc, compressed size, size: the usual data descriptor
_DESCRIPTOR_SIG = 0x08074B50
_EXTRA_HEADER = struct.Struct("<HH")
_ZIP64_TAG = 0x0001
_UNICODE_PATH_TAG = 0x7075  # Info-ZIP Unicode Path: other tools prefer it to the header name
_U32: Final = 0xFFFFFFFF
_U16: Final = 0xFFFF

_FLAG_ENCRYPTED = 0x0001
_FLAG_DESCRIPTOR = 0x0008
_FLAG_STRONG_ENCRYPTION = 0x0040
_FLAG_UTF8 = 0x0800
_FLAG_MASKED_HEADER = 0x2000
_ENCRYPTION_FLAGS = _FLAG_ENCRYPTED | _FLAG_STRONG_ENCRYPTION | _FLAG_MASKED_HEADER
_AES_METHOD = 99
_METHOD_NAMES = {1: "shrink", 6: "implode", 9: "deflate64", 12: "bzip2", 14: "lzma", 93: "zstandard",
                 95: "xz", 96: "jpeg", 97: "wavpack", 98: "ppmd"}
_UNIX_SYSTEMS = frozenset({3, 19})  # "made by" host systems whose external attributes hold a st_mode
_S_IFMT, _S_IFDIR, _S_IFREG = 0o170000, stat.S_IFDIR, stat.S_IFREG
_SPECIAL_TYPES = {stat.S_IFLNK: "symbolic link", stat.S_IFIFO: "FIFO (named pipe)",
                  stat.S_IFCHR: "character device", stat.S_IFBLK: "block device", stat.S_IFSOCK: "socket"}
_SIGNATURES = (b"PK\x01\x02", b"PK\x03\x04", b"PK\x05\x06", b"PK\x06\x06", b"PK\x06\x07")

_BAD_BYTE = re.compile(rb"[\x00-\x1f\x7f]")
_PLAIN_BYTES = bytes(sorted(set(range(0x20, 0x7F)) - set(b"\\:")))  # printable ASCII but backslash and colon
_DRIVE = re.compile(rb"[A-Za-z]:")


@dataclass(frozen=True, slots=True)
class Member:
    """One entry of the archive, as declared by its central-directory record."""

    name: str
    """The entry name: NFC UTF-8, ``/``-separated, ending in ``/`` for a directory."""
    is_dir: bool
    size: int
    """Declared uncompressed size in bytes (0 for a directory)."""
    compressed_size: int
    crc: int
    """Declared CRC-32 of the uncompressed data."""
    compress_type: int
    """0 (stored) or 8 (deflate); nothing else passes the pre-flight."""


_U32_ARRAY = "I" if array("I").itemsize == 4 else "L"  # array typecode of a 4-byte unsigned int


class _Records:
    """What reads need of every entry after the pre-flight, held compactly (internal).

    ``index`` maps each name, in central-directory order, to its cell in the parallel arrays (data
    offset, compressed size, size, CRC-32, method), or, for a plain directory entry (no data, CRC 0),
    to a small negative code instead of a cell: -1 stored, ``-2 - compressed size`` deflated. Small
    ints are shared objects, so such a directory costs only its name and dict slot, and a file its
    name, dict slot, cell number and ~17 bytes of arrays (4-byte cells below 4 GiB). No per-entry
    object or display string is kept: displays are rebuilt from the name when a problem is reported.
    """

    __slots__ = ("crcs", "csizes", "index", "methods", "offsets", "usizes")

    def __init__(self, index: dict[str, int], offsets: array[int], csizes: array[int],  # noqa: PLR0917
                 usizes: array[int], crcs: array[int], methods: array[int]) -> None:
        self.index = index
        self.offsets = offsets
        self.csizes = csizes
        self.usizes = usizes
        self.crcs = crcs
        self.methods = methods

    def get(self, name: str) -> tuple[int, int, int, int, int]:
        """(data offset, compressed size, size, CRC-32, method) of entry ``name``; KeyError if none."""
        return self.record(self.index[name])

    def record(self, cell: int) -> tuple[int, int, int, int, int]:
        if cell < 0:  # the code of a plain directory, which is never read: no data offset
            return (0, 0, 0, 0, STORED) if cell == -1 else (0, -2 - cell, 0, 0, DEFLATED)
        return self.offsets[cell], self.csizes[cell], self.usizes[cell], self.crcs[cell], self.methods[cell]

    def member(self, name: str, cell: int) -> Member:
        _, csize, usize, crc, method = self.record(cell)
        return Member(name, name.endswith("/"), usize, csize, crc, method)


def _narrow(values: array[int]) -> array[int]:
    """``values`` in 4-byte cells if they all fit (offsets and sizes of archives under 4 GiB)."""
    return array(_U32_ARRAY, values) if not values or max(values) <= _U32 else values


class _Table:
    """The central directory while it is being checked, record by record in directory order (internal).

    The only objects per record are its name and, for a file, its cell number (both kept by
    :class:`_Records`); the numbers live in arrays, and the display form of a name is rebuilt when a
    problem is reported. The raw bytes of a name are its UTF-8 encoding, except for names that are
    not valid UTF-8 (kept in ``bad``; such an archive is rejected).
    """

    __slots__ = ("bad", "cells", "crcs", "csizes", "data_offsets", "flags", "kept", "methods", "names", "offsets",
                 "usizes")

    def __init__(self) -> None:
        self.names: list[str] = []
        self.cells: list[int] = []  # the record's cell in _Records, or the code of a plain directory
        self.kept = bytearray()  # 1 for the records that keep a cell in _Records
        self.bad: dict[int, bytes] = {}  # record -> raw name, for names that are not valid UTF-8
        self.offsets = array("Q")  # local header offsets
        self.csizes = array("Q")
        self.usizes = array("Q")
        self.crcs = array(_U32_ARRAY)
        self.flags = array("H")
        self.methods = array("H")
        self.data_offsets = array("Q")  # set by the layout check

    def display(self, record: int) -> str:
        return _display(self.names[record], record not in self.bad)

    def records(self) -> _Records:
        """The compact index kept after a successful pre-flight (every method is then 0 or 8)."""
        kept = self.kept
        return _Records(dict(zip(self.names, self.cells, strict=True)),
                        _narrow(array("Q", compress(self.data_offsets, kept))),
                        _narrow(array("Q", compress(self.csizes, kept))),
                        _narrow(array("Q", compress(self.usizes, kept))),
                        array(_U32_ARRAY, compress(self.crcs, kept)), array("B", compress(self.methods, kept)))


class _End:
    """Where the central directory is, according to the end records (internal)."""

    __slots__ = ("cd_end", "cd_offset", "cd_size", "comment", "count")

    def __init__(self, count: int, cd_offset: int, cd_size: int, cd_end: int, comment: bytes) -> None:
        self.count = count
        self.cd_offset = cd_offset
        self.cd_size = cd_size
        self.cd_end = cd_end  # where the central directory must end: the (ZIP64) EOCD record
        self.comment = comment


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


def _invalid(member: str, message: str) -> ArchiveInvalid:
    return ArchiveInvalid([Problem(member, "$", message)])


class ArchiveReader:
    """A checked, read-only view of one ZIP archive (a context manager).

    Construction runs the pre-flight and raises :class:`ArchiveInvalid` listing every structural
    problem. ``source`` is a path or a readable, seekable binary file object; a file object is not
    closed by :meth:`close`. Not thread-safe: member streams share the underlying file.
    """

    def __init__(self, source: str | os.PathLike[str] | BinaryIO, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        if isinstance(source, (str, os.PathLike)):
            self._file: BinaryIO = Path(source).open("rb")  # noqa: SIM115 (closed by close())
            self._owns_file = True
        else:
            if not (source.readable() and source.seekable()):
                raise ValueError("ArchiveReader needs a readable, seekable binary file")
            self._file = source
            self._owns_file = False
        self._closed = False
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
            raise _invalid(_display(name, True), f"member is {usize} bytes, above the limit of {limit} bytes "
                                                 "for this kind of file")
        with self.open(name) as stream:
            return stream.read()

    def _read_raw(self, offset: int, size: int) -> bytes:
        if self._closed:
            raise ValueError("I/O operation on a closed ArchiveReader")
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
        return _invalid(_display(self._name, True), message)  # the pre-flight accepted the name

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


def _preflight(file: BinaryIO, limits: Limits) -> tuple[bytes, _Records]:
    """Check the whole structure; return the archive comment and the compact index of its entries.

    Everything the checks need beyond that index (the directory order of all records, local header
    offsets, flags, the case-folding tables) is dropped when this returns.
    """
    problems: list[Problem] = []
    try:
        size = file.seek(0, os.SEEK_END)
        end = _read_end(file, size, limits)
        table = _parse_central(file, end, limits, problems)
        _check_names(table, problems)
        _check_totals(table, limits, problems)
        if table.names:
            _check_layout(file, size, end, table, problems)
    except ArchiveInvalid as exc:
        problems.extend(exc.problems)
    except (struct.error, ValueError, IndexError, OSError, EOFError, UnicodeError, zlib.error) as exc:
        problems.append(Problem(ARCHIVE, "$", f"cannot read the archive ({type(exc).__name__}: {exc})"))
    if problems:
        raise ArchiveInvalid(problems)
    return end.comment, table.records()


def _read_end(file: BinaryIO, size: int, limits: Limits) -> _End:
    """Find and check the (ZIP64) end-of-central-directory records, which must end the file."""
    if size < _EOCD.size:
        raise _invalid(ARCHIVE, f"not a ZIP archive: the file is only {size} bytes long")
    tail_start = max(0, size - _EOCD.size - _MAX_COMMENT - _Z64_LOCATOR.size)  # the locator may precede it
    file.seek(tail_start)
    tail = file.read(size - tail_start)
    candidates = []
    found = False
    pos = tail.rfind(b"PK\x05\x06")
    while pos >= 0:
        found = True
        if pos + _EOCD.size <= len(tail) and pos + _EOCD.size + _EOCD.unpack_from(tail, pos)[7] == len(tail):
            candidates.append(pos)
        pos = tail.rfind(b"PK\x05\x06", 0, pos)
    if not candidates:
        if found:
            raise _invalid(ARCHIVE, "the end-of-central-directory record does not end the file "
                                    "(trailing data after the archive, or a truncated archive)")
        raise _invalid(ARCHIVE, "not a ZIP archive, or truncated: no end-of-central-directory record")
    if len(candidates) > 1:
        raise _invalid(ARCHIVE, "ambiguous end-of-central-directory record (the archive comment holds another)")
    pos = candidates[0]
    eocd_offset = tail_start + pos
    _, disk, cd_disk, here, count, cd_size, cd_offset, _ = _EOCD.unpack_from(tail, pos)
    comment = tail[pos + _EOCD.size:]
    if any(signature in comment for signature in _SIGNATURES):
        raise _invalid(ARCHIVE, "the archive comment contains ZIP record signatures")
    cd_end = eocd_offset
    locator_pos = pos - _Z64_LOCATOR.size
    if locator_pos >= 0 and tail[locator_pos:locator_pos + 4] == b"PK\x06\x07":
        zip64 = _read_zip64_end(file, tail_start + locator_pos, tail[locator_pos:pos])
        for label, short, sentinel, value in (
            ("entries on this disk", here, _U16, zip64[2]), ("entries", count, _U16, zip64[3]),
            ("central directory size", cd_size, _U32, zip64[4]),
            ("central directory offset", cd_offset, _U32, zip64[5]),
        ):
            if short not in (sentinel, value):
                raise _invalid(ARCHIVE, f"the ZIP64 end-of-central-directory record disagrees with the "
                                        f"end-of-central-directory record on the {label} ({value} vs {short})")
        if disk not in (0, _U16) or cd_disk not in (0, _U16) or zip64[0] != 0 or zip64[1] != 0:
            raise _invalid(ARCHIVE, "multi-disk (split or spanned) archives are not supported")
        here, count, cd_size, cd_offset, cd_end = zip64[2], zip64[3], zip64[4], zip64[5], zip64[6]
    elif disk != 0 or cd_disk != 0:
        raise _invalid(ARCHIVE, "multi-disk (split or spanned) archives are not supported")
    if here != count:
        raise _invalid(ARCHIVE, f"the end-of-central-directory record counts {here} entries on this disk "
                                f"but {count} in total (multi-disk archives are not supported)")
    if count > limits.max_members:
        raise _invalid(ARCHIVE, f"the archive declares {count} entries, above the limit of {limits.max_members}")
    if cd_size > count * (_CENTRAL.size + limits.max_path_length + _RECORD_EXTRAS):
        raise _invalid(ARCHIVE, f"the central directory ({cd_size} bytes) is too large for {count} entries")
    if cd_offset + cd_size != cd_end:
        raise _invalid(ARCHIVE, f"the central directory (offset {cd_offset}, {cd_size} bytes) does not end where "
                                f"the end-of-central-directory record begins (offset {cd_end}): prepended "
                                "data, or a truncated or corrupt archive")
    return _End(count, cd_offset, cd_size, cd_end, comment)


def _read_zip64_end(file: BinaryIO, locator_offset: int, locator: bytes) -> tuple[int, ...]:
    """(disk, cd disk, entries here, entries, cd size, cd offset, record offset) of the ZIP64 EOCD."""
    _, disk, offset, disks = _Z64_LOCATOR.unpack(locator)
    if disk != 0 or disks != 1:
        raise _invalid(ARCHIVE, "multi-disk (split or spanned) archives are not supported")
    if offset + _Z64_EOCD.size > locator_offset:
        raise _invalid(ARCHIVE, "the ZIP64 end-of-central-directory locator points past itself")
    file.seek(offset)
    record = file.read(_Z64_EOCD.size)
    if len(record) != _Z64_EOCD.size:
        raise _invalid(ARCHIVE, "the ZIP64 end-of-central-directory record is truncated")
    sig, record_size, _, _, rec_disk, cd_disk, here, count, cd_size, cd_offset = _Z64_EOCD.unpack(record)
    if sig != _Z64_EOCD_SIG:
        raise _invalid(ARCHIVE, f"no ZIP64 end-of-central-directory record at offset {offset}, "
                                "where the ZIP64 locator points")
    if offset + 12 + record_size != locator_offset:
        raise _invalid(ARCHIVE, "the ZIP64 end-of-central-directory record does not end where its locator "
                                "begins (data hidden between them, or a bad locator offset)")
    return rec_disk, cd_disk, here, count, cd_size, cd_offset, offset


class _Central:
    """The central directory, read in bounded chunks as it is parsed (internal).

    If any part of it cannot be read, only that is reported, as when it was read in one piece: the
    problems found in the records before are dropped, and a record problem that stops the parse
    first reads the rest (see :meth:`drain`).
    """

    __slots__ = ("_file", "_left", "_mark", "_problems")

    def __init__(self, file: BinaryIO, end: _End, problems: list[Problem]) -> None:
        file.seek(end.cd_offset)
        self._file = file
        self._left = end.cd_size  # bytes not read yet
        self._problems = problems
        self._mark = len(problems)

    def refill(self, buffer: bytes, pos: int, need: int) -> bytes:
        """``buffer[pos:]`` extended to at least ``need`` bytes (the caller checked they exist)."""
        keep = buffer[pos:]
        return keep + self._read(min(max(_CD_CHUNK, need - len(keep)), self._left))

    def drain(self) -> None:
        """Read the rest of the directory, so that a read failure wins over the problem at hand."""
        while self._left:
            self._read(min(_CD_CHUNK, self._left))

    def _read(self, size: int) -> bytes:
        try:
            data = self._file.read(size)
        except BaseException:
            self._fail()
            raise
        if len(data) != size:
            self._fail()
            raise _invalid(ARCHIVE, "the central directory is truncated")
        self._left -= size
        return data

    def _fail(self) -> None:
        del self._problems[self._mark:]
        self._left = 0  # nothing for drain() to read


def _parse_central(file: BinaryIO, end: _End, limits: Limits, problems: list[Problem]) -> _Table:
    """Split the central directory into records and check each one on its own."""
    central = _Central(file, end, problems)
    try:
        return _parse_records(central, end, limits, problems)
    except ArchiveInvalid:
        central.drain()
        raise


def _parse_records(central: _Central, end: _End, limits: Limits, problems: list[Problem]) -> _Table:
    table = _Table()
    names, bad = table.names, table.bad
    add_name, add_offset, add_csize, add_usize = names.append, table.offsets.append, table.csizes.append, \
        table.usizes.append
    add_crc, add_flags, add_method = table.crcs.append, table.flags.append, table.methods.append
    add_cell, add_kept = table.cells.append, table.kept.append
    unpack = _CENTRAL.unpack_from
    header_size = _CENTRAL.size
    cd_size = end.cd_size
    max_members = limits.max_members
    plain_size = min(limits.max_name_component, limits.max_path_length)  # the fast path's bounds
    max_slashes = limits.max_path_depth - 1
    buffer = b""
    base = 0  # directory offset of buffer[0]
    pos = 0  # position of the next record in buffer
    count = 0  # records so far
    cells = 0  # records so far that keep a cell in _Records
    while base + pos < cd_size:
        if count >= max_members:
            raise _invalid(ARCHIVE, f"the central directory holds more than {max_members} entries")
        if pos + header_size > len(buffer):
            if base + pos + header_size > cd_size:
                raise _invalid(ARCHIVE, f"the central directory ends inside a record "
                                        f"(offset {end.cd_offset + base + pos})")
            buffer = central.refill(buffer, pos, header_size)
            base, pos = base + pos, 0
        (sig, _, system, _, flags, method, _, _, crc, csize, usize, nlen, elen, clen, disk, _, attrs,
         offset) = unpack(buffer, pos)
        if sig != _CENTRAL_SIG:
            raise _invalid(ARCHIVE, f"bad central directory record signature at offset {end.cd_offset + base + pos}")
        record_size = header_size + nlen + elen + clen
        if pos + record_size > len(buffer):
            if base + pos + record_size > cd_size:
                raise _invalid(ARCHIVE, f"the central directory ends inside a record "
                                        f"(offset {end.cd_offset + base + pos})")
            buffer = central.refill(buffer, pos, record_size)
            base, pos = base + pos, 0
        name_end = pos + header_size + nlen
        raw_name = buffer[pos + header_size:name_end]
        # Fast path for plain names (printable ASCII but backslash and colon, within the limits, no
        # '.' or empty component): _check_name would find nothing wrong with them.
        if 0 < nlen <= plain_size and not raw_name.translate(None, _PLAIN_BYTES):
            name = raw_name.decode("ascii")
            if name[0] in "/." or "//" in name or "/." in name or name.count("/") > max_slashes:
                name, valid, messages = _check_name(raw_name, flags, limits)
            else:
                valid, messages = True, []
        else:
            name, valid, messages = _check_name(raw_name, flags, limits)
        if elen or _U32 in (usize, csize, offset) or disk == _U16:
            usize, csize, offset, disk = _central_extra(buffer[name_end:name_end + elen],
                                                        (usize, csize, offset, disk), messages)
        is_dir = name.endswith("/")
        _check_entry(limits, messages, is_dir, flags, method, csize, usize, system, attrs, disk)
        if messages:
            display = _display(name, valid)
            problems.extend(Problem(display, "$", message) for message in messages)
        if not valid:
            bad[count] = raw_name
        add_name(name)
        add_offset(offset)
        add_csize(csize)
        add_usize(usize)
        add_crc(crc)
        add_flags(flags)
        add_method(method)
        if is_dir and not crc and not usize and (not csize if method == STORED else method == DEFLATED and csize <= 2):
            add_cell(-1 if method == STORED else -2 - csize)  # a plain directory (see _Records)
            add_kept(0)
        else:
            add_cell(cells)
            add_kept(1)
            cells += 1
        count += 1
        pos += record_size
    if count != end.count:
        problems.append(Problem(ARCHIVE, "$", f"the end-of-central-directory record declares {end.count} entries "
                                              f"but the central directory holds {count}"))
    table.data_offsets = array("Q", bytes(8 * count))
    return table


def _display(name: str, valid: bool) -> str:
    """The name as shown in problems: itself if printable, else its repr."""
    return name if valid and name and name.isprintable() else repr(name)


def _check_name(raw: bytes, flags: int, limits: Limits) -> tuple[str, bool, list[str]]:
    """Decode an entry name; return it, whether it is valid UTF-8 and what is wrong with it.

    :func:`_parse_records` skips this for plain names, with which it would find nothing wrong.
    """
    messages: list[str] = []
    valid = True
    if raw.isascii():
        name = raw.decode("ascii")
    else:
        try:
            name = raw.decode("utf-8")
        except UnicodeDecodeError:
            name = raw.decode("utf-8", "backslashreplace")
            valid = False
        if not flags & _FLAG_UTF8:
            messages.append("non-ASCII name without the UTF-8 flag (general purpose bit 11)")
        elif not valid:
            messages.append("the name is not valid UTF-8")
        elif not unicodedata.is_normalized("NFC", name):
            messages.append("the name is not in Unicode normalisation form NFC")
    if not raw:
        messages.append("empty name")
        return name, valid, messages
    bad = _BAD_BYTE.search(raw)
    if bad:
        messages.append(f"control character {bad.group()[0]:#04x} at byte {bad.start()} of the name")
    if b"\\" in raw:
        messages.append("backslash in the name")
    if _DRIVE.match(raw):
        messages.append("drive-letter path")
    elif b":" in raw:
        messages.append("colon in the name (drive or NTFS stream syntax; not portable)")
    body = name[:-1] if name.endswith("/") else name
    parts = body.split("/")
    if raw.startswith(b"/"):
        messages.append("absolute path")
        parts = parts[1:]
    if "" in parts:
        messages.append("empty path component")
    if ".." in parts:
        messages.append("'..' path component (path traversal)")
    if "." in parts:
        messages.append("'.' path component")
    if len(raw) > limits.max_path_length:
        messages.append(f"the name is {len(raw)} bytes long, above the limit of {limits.max_path_length}")
    if len(parts) > limits.max_path_depth:
        messages.append(f"the path has {len(parts)} components, above the limit of {limits.max_path_depth}")
    if len(raw) > limits.max_name_component:
        longest = max(len(part.encode("utf-8", "surrogateescape")) for part in parts)
        if longest > limits.max_name_component:
            messages.append(f"a path component is {longest} bytes long, "
                            f"above the limit of {limits.max_name_component}")
    return name, valid, messages


def _parse_extra(extra: bytes) -> dict[int, bytes] | None:
    """The fields of an extra block by tag, or None if it is malformed or repeats a tag."""
    fields: dict[int, bytes] = {}
    pos = 0
    while pos < len(extra):
        if pos + 4 > len(extra):
            return None
        tag, size = _EXTRA_HEADER.unpack_from(extra, pos)
        if pos + 4 + size > len(extra) or tag in fields:
            return None
        fields[tag] = extra[pos + 4:pos + 4 + size]
        pos += 4 + size
    return fields


def _central_extra(extra: bytes, values: tuple[int, int, int, int],
                   messages: list[str]) -> tuple[int, int, int, int]:
    """Apply the ZIP64 extra field to a record's (size, compressed size, offset, disk); reject unsafe
    extras."""
    usize, csize, offset, disk = values
    fields = _parse_extra(extra)
    if fields is None:
        messages.append("malformed extra field")
        return usize, csize, offset, disk
    if _UNICODE_PATH_TAG in fields:
        messages.append("Info-ZIP Unicode Path extra field (0x7075) is not supported: other tools would "
                        "use a different name")
    if _U32 in (usize, csize, offset) or disk == _U16:
        data = fields.get(_ZIP64_TAG)
        wanted = [usize == _U32, csize == _U32, offset == _U32]
        needed = 8 * sum(wanted) + (4 if disk == _U16 else 0)
        if data is None or len(data) < needed:
            messages.append("ZIP64 extra field missing or truncated")
            return usize, csize, offset, disk
        wide = iter(struct.unpack_from(f"<{sum(wanted)}Q", data))
        usize = next(wide) if wanted[0] else usize
        csize = next(wide) if wanted[1] else csize
        offset = next(wide) if wanted[2] else offset
        if disk == _U16:
            disk = struct.unpack_from("<I", data, 8 * sum(wanted))[0]
    return usize, csize, offset, disk


def _check_entry(limits: Limits, messages: list[str], is_dir: bool, flags: int, method: int,  # noqa: PLR0917
                 csize: int, usize: int, system: int, attrs: int, disk: int) -> None:
    """Checks of one record that need no other record: type, encryption, method, sizes."""
    if disk != 0:
        messages.append("the entry starts on another disk (multi-disk archives are not supported)")
    if flags & _ENCRYPTION_FLAGS or method == _AES_METHOD:
        messages.append("encrypted entry (encryption is not supported)")
    elif method not in (STORED, DEFLATED):
        label = _METHOD_NAMES.get(method, "unknown")
        messages.append(f"unsupported compression method {method} ({label}); "
                        "only stored (0) and deflate (8) are allowed")
    if system in _UNIX_SYSTEMS:
        file_type = (attrs >> 16) & _S_IFMT  # stat.S_IFMT(), without the call
        if file_type == _S_IFDIR and not is_dir:
            messages.append("directory entry (by its mode) whose name does not end with '/'")
        elif file_type == _S_IFREG and is_dir:
            messages.append("regular-file entry (by its mode) whose name ends with '/'")
        elif file_type not in (0, _S_IFREG, _S_IFDIR):
            kind = _SPECIAL_TYPES.get(file_type, f"file of unknown type {file_type:#o}")
            messages.append(f"the entry is a {kind}; only regular files and directories are allowed")
    if is_dir:
        if usize:
            messages.append(f"directory entry declares {usize} bytes of data")
        elif csize > (2 if method == DEFLATED else 0):
            messages.append(f"directory entry carries {csize} bytes of compressed data")
        return
    if method == STORED and csize != usize:
        messages.append(f"stored entry whose compressed size ({csize}) differs from its size "
                        f"({usize})")
    if usize > limits.max_member_size:
        messages.append(f"declared size of {usize} bytes is above the per-member limit of "
                        f"{limits.max_member_size} bytes")
    if usize > limits.ratio_min_size and usize > limits.max_ratio * csize:
        ratio = usize // max(csize, 1)
        messages.append(f"declared compression ratio of {ratio}:1 ({usize} bytes from {csize}) "
                        f"is above the limit of {limits.max_ratio}:1 (possible zip bomb)")


def _fold(name: str) -> str:
    """The key under which two names would land on the same file on a case-insensitive filesystem."""
    if name.isascii():
        return name.lower()
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())


def _check_names(table: _Table, problems: list[Problem]) -> None:
    """Duplicates, NFC/case-fold collisions and file/directory clashes between entries.

    Keys are folded whole names, a directory's with its trailing '/', so that a name already in
    folded form (the usual case) is its own key and the tables hold no new string for it; a file and
    a directory of the same name meet by looking up the other form too.
    """
    names = table.names
    bad = table.bad
    folded: dict[str, str | int] = {}  # key -> the first entry's name (its record if not valid UTF-8)
    # Folded directory path, with its '/' -> name of the first entry inside it, or "" for a directory
    # entry with nothing inside so far: listing directory entries first makes their keys (often
    # their names) the keys here, rather than new strings.
    parents: dict[str, str] = {}
    lookup = folded.get
    for record, name in enumerate(names):
        is_dir = name.endswith("/")
        key = name.lower() if name.isascii() else _fold(name)
        if key == name:
            key = name  # the name itself: no new string kept for a name already in folded form
        other = lookup(key)
        if other is None and not key.endswith("//"):  # a directory "x//" has no file twin "x/"
            other = lookup(key[:-1] if is_dir else key + "/")  # a file and a directory of the same name
        if other is None:
            folded[key] = record if bad and record in bad else name
        else:
            other_name = names[other] if isinstance(other, int) else other
            if other_name == name:
                problems.append(Problem(table.display(record), "$", "duplicate entry name"))
                continue
            other_display = _display(other_name, not isinstance(other, int))
            if other_name.endswith("/") != is_dir:
                problems.append(Problem(table.display(record), "$", f"a file and a directory share this name "
                                                                    f"(with {other_display!r})"))
            else:
                problems.append(Problem(table.display(record), "$", f"the name collides with {other_display!r} "
                                                                    "after Unicode NFC normalisation and case "
                                                                    "folding"))
        if is_dir:
            parents.setdefault(key, "")
        cut = key.rfind("/", 0, -1)
        while cut > 0:
            parent = key[:cut + 1]
            inside = parents.get(parent)
            if inside is None:
                parents[parent] = name
                cut = key.rfind("/", 0, cut)
                continue
            if not inside:  # the directory's entry came first; it already went up the path
                parents[parent] = name
            break
    for key, first in folded.items():
        if not key.endswith("/") and (user := parents.get(key + "/")):
            display = table.display(first) if isinstance(first, int) else _display(first, True)
            problems.append(Problem(display, "$", f"a file entry is also used as a directory (by {user!r})"))


def _check_totals(table: _Table, limits: Limits, problems: list[Problem]) -> None:
    """Total declared size and total compression ratio."""
    total = sum(table.usizes)
    compressed = sum(table.csizes)
    if total > limits.max_total_uncompressed:
        problems.append(Problem(ARCHIVE, "$", f"declared total size of {total} bytes is above the limit of "
                                              f"{limits.max_total_uncompressed} bytes"))
    if total > limits.ratio_min_size and total > limits.max_total_ratio * compressed:
        problems.append(Problem(ARCHIVE, "$", f"declared total compression ratio of "
                                              f"{total // max(compressed, 1)}:1 is above the limit of "
                                              f"{limits.max_total_ratio}:1 (possible zip bomb)"))


class _Window:
    """Batched reads of a file in increasing offset order: one read serves many small entries."""

    def __init__(self, file: BinaryIO) -> None:
        self._file = file
        self.start = 0  # file offset of data
        self.data = b""

    def get(self, offset: int, size: int, span: int) -> bytes:
        """``size`` bytes at ``offset`` (fewer at end of file), reading ``span`` bytes on a miss."""
        start = offset - self.start
        if start < 0 or start + size > len(self.data):
            self._file.seek(offset)
            self.data = self._file.read(max(size, span))
            self.start = offset
            start = 0
        return self.data[start:start + size]


def _check_layout(file: BinaryIO, size: int, end: _End, table: _Table, problems: list[Problem]) -> None:
    """Check each local header against its record, and that the entries tile the file exactly.

    Sorted by offset, every entry (local header, data, data descriptor) must end exactly where the
    next one begins, and the last exactly where the central directory begins: no overlap (the
    overlapping-entry zip bomb), no repeated offset, no unreferenced bytes (hidden local entries).
    """
    offsets = table.offsets
    count = len(offsets)
    in_order = all(map(le, offsets, islice(offsets, 1, None)))  # the usual case: no list to sort
    order: Sequence[int] = range(count) if in_order else sorted(range(count), key=offsets.__getitem__)
    window = _Window(file)
    first = offsets[order[0]]
    if first != 0:
        head = window.get(0, 4, 4)
        problems.append(Problem(ARCHIVE, "$", f"the first {first} bytes are not referenced by the "
                                              "central directory" + (" (prepended data)" if head != b"PK\x03\x04"
                                                                     else " (an unlisted local entry)")))
    cd_offset = end.cd_offset
    names, bad, data_offsets = table.names, table.bad, table.data_offsets
    all_flags, methods, crcs, csizes, usizes = table.flags, table.methods, table.crcs, table.csizes, table.usizes
    unpack = _LOCAL.unpack_from
    header_size = _LOCAL.size
    previous = previous_offset = -1
    following_index = 0
    for index, record in enumerate(order):
        offset = offsets[record]
        if offset == previous_offset:
            problems.append(Problem(table.display(record), "$", f"the entry shares its local header (offset {offset}) "
                                                                f"with {table.display(previous)!r} (overlapping "
                                                                "entries, possible zip bomb)"))
            continue
        previous, previous_offset = record, offset
        if following_index <= index:
            following_index = index + 1
        while following_index < count and offsets[order[following_index]] == offset:
            following_index += 1
        following: int | None = order[following_index] if following_index < count else None
        if following is not None and offsets[following] > cd_offset:
            following = None  # reported on its own: a local header offset past the central directory
        boundary = offsets[following] if following is not None else cd_offset
        if not bad:
            # Fast path for the usual entry, in which _check_local would find nothing wrong: its local
            # header (no extra field) agrees with its record, and its data, plus a plain data
            # descriptor if it has one, ends exactly at the boundary. Anything else, including
            # bytes not in the window yet, takes the full check.
            raw_name = names[record].encode()
            data = window.data
            at = offset - window.start
            data_offset = offset + header_size + len(raw_name)
            if at >= 0 and data_offset - window.start <= len(data):
                sig, _, flags, method, _, _, crc, csize, usize, nlen, elen = unpack(data, at)
                if (sig == _LOCAL_SIG and nlen == len(raw_name) and not elen and flags == all_flags[record]
                        and method == methods[record] and data.startswith(raw_name, at + header_size)):
                    declared = (crcs[record], csizes[record], usizes[record])
                    data_end = data_offset + declared[1]
                    if flags & _FLAG_DESCRIPTOR:
                        tail = data_end - window.start
                        plain = (data_end + _DESCRIPTOR.size == boundary and tail + _DESCRIPTOR.size <= len(data)
                                 and _DESCRIPTOR.unpack_from(data, tail) == (_DESCRIPTOR_SIG, *declared))
                    else:
                        plain = data_end == boundary and (crc, csize, usize) == declared and _U32 not in (csize, usize)
                    if plain:
                        data_offsets[record] = data_offset
                        continue
        messages = _check_local(window, table, record, end, size=size, boundary=boundary, following=following)
        if messages:
            problems.extend(Problem(table.display(record), "$", message) for message in messages)


def _check_local(window: _Window, table: _Table, record: int, end: _End, *, size: int, boundary: int,
                 following: int | None) -> list[str]:
    """Check one entry's local header, data extent and data descriptor; set its data offset."""
    offset = table.offsets[record]
    header_size = _LOCAL.size
    if offset + header_size > end.cd_offset:
        return [f"the local header offset {offset} is not before the central directory"]
    bad = table.bad
    raw_name = bad[record] if bad and record in bad else table.names[record].encode()
    name_size = len(raw_name)
    span = _WINDOW if boundary - offset < _WINDOW else header_size + name_size + 1024
    header = window.get(offset, header_size + name_size, span)
    sig, _, flags, method, _, _, crc, csize, usize, nlen, elen = _LOCAL.unpack_from(header)
    if sig != _LOCAL_SIG:
        return [f"no local file header at offset {offset}"]
    central_flags, central_method = table.flags[record], table.methods[record]
    declared = (table.crcs[record], table.csizes[record], table.usizes[record])
    messages = []
    if nlen == name_size and not elen:
        name_extra = header[header_size:]
    else:
        name_extra = window.get(offset + header_size, nlen + elen, span)
    if name_extra[:nlen] != raw_name:
        messages.append(f"the local header name {name_extra[:nlen]!r} differs from the central directory name")
    if method != central_method:
        messages.append(f"the local header compression method {method} differs from the central "
                        f"directory's {central_method}")
    if flags != central_flags:
        messages.append(f"the local header flags {flags:#06x} differ from the central directory's "
                        f"{central_flags:#06x}")
    fields = _parse_extra(name_extra[nlen:]) if elen else {}
    if fields is None:
        messages.append("malformed local extra field")
        fields = {}
    if _UNICODE_PATH_TAG in fields:
        messages.append("Info-ZIP Unicode Path extra field (0x7075) in the local header is not supported")
    if not central_flags & _FLAG_DESCRIPTOR:
        if _U32 in (usize, csize):
            zip64 = fields.get(_ZIP64_TAG, b"")
            if len(zip64) < 16:
                messages.append("local ZIP64 extra field missing or truncated")
            else:
                usize, csize = struct.unpack_from("<QQ", zip64)
        if (crc, csize, usize) != declared:
            messages.append(f"the local header (CRC {crc:#010x}, {csize} compressed, {usize} bytes) differs "
                            f"from the central directory (CRC {declared[0]:#010x}, {declared[1]} compressed, "
                            f"{declared[2]} bytes)")
    data_offset = offset + header_size + nlen + elen
    table.data_offsets[record] = data_offset
    compressed = declared[1]
    data_end = data_offset + compressed
    if data_end > size:
        messages.append(f"the compressed data ({compressed} bytes at offset {data_offset}) runs past the "
                        f"end of the file ({size} bytes)")
    elif data_end > boundary:
        where = (f"the next entry {table.display(following)!r} at offset {boundary}" if following is not None
                 else f"the central directory at offset {boundary}")
        messages.append(f"the entry's data (offsets {data_offset}-{data_end}) overlaps {where} "
                        "(overlapping entries, possible zip bomb)")
    elif central_flags & _FLAG_DESCRIPTOR:
        messages.extend(_check_descriptor(window, declared, data_end, boundary))
    elif data_end < boundary:
        messages.append(f"{boundary - data_end} bytes after the entry's data are not referenced by the "
                        "central directory (hidden data)")
    return messages


def _check_descriptor(window: _Window, declared: tuple[int, int, int], data_end: int, boundary: int) -> list[str]:
    """The data descriptor must fill the gap to the next entry exactly and match the central record."""
    gap = boundary - data_end
    raw = window.get(data_end, gap, _WINDOW) if gap <= 24 else b""
    bodies = [raw, raw[4:]] if raw[:4] == b"PK\x07\x08" else [raw]
    found: tuple[int, ...] | None = None
    for body in bodies:
        if len(body) in (12, 20):
            found = struct.unpack("<III" if len(body) == 12 else "<IQQ", body)
            if found == declared:
                return []
    if found is None:
        return [f"missing or malformed data descriptor ({gap} bytes between the data and the next record)"]
    return [f"the data descriptor (CRC {found[0]:#010x}, {found[1]} compressed, {found[2]} bytes) "
            "differs from the central directory"]
