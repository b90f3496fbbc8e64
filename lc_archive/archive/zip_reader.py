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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from operator import attrgetter
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


class _Entry:
    """A central-directory record while it is being checked (internal)."""

    __slots__ = ("crc", "csize", "data_offset", "display", "flags", "is_dir", "method", "name", "offset",
                 "raw_name", "usize")

    def __init__(self, raw_name: bytes, name: str, display: str, flags: int, method: int,  # noqa: PLR0917
                 crc: int, csize: int, usize: int, offset: int) -> None:
        self.raw_name = raw_name
        self.name = name
        self.display = display
        self.flags = flags
        self.method = method
        self.crc = crc
        self.csize = csize
        self.usize = usize
        self.offset = offset
        self.is_dir = name.endswith("/")
        self.data_offset = -1

    def member(self) -> Member:
        return Member(self.name, self.is_dir, self.usize, self.csize, self.crc, self.method)


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
                self.comment, entries = _preflight(self._file, limits)
        except BaseException:
            self.close()
            raise
        self._entries = {entry.name: entry for entry in entries}
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
            with _gc_paused():
                self._members = tuple(entry.member() for entry in self._entries.values())
        return self._members

    def names(self) -> list[str]:
        """Every entry name, in central-directory order."""
        return list(self._entries)

    def member(self, name: str) -> Member:
        """The entry called ``name``; raises ``KeyError`` if there is none."""
        return self._entries[name].member()

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)

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
        entry = self._entries[name]
        if entry.is_dir:
            raise IsADirectoryError(f"{name!r} is a directory entry")
        return io.BufferedReader(_MemberStream(self, entry), buffer_size=_CHUNK)

    def read_bytes(self, name: str, *, max_size: int | None = None) -> bytes:
        """The whole, verified data of a small file entry, refused if its declared size is above
        ``max_size`` (default: the per-member limit)."""
        limit = self.limits.max_member_size if max_size is None else max_size
        entry = self._entries[name]
        if entry.usize > limit:
            raise _invalid(entry.display, f"member is {entry.usize} bytes, above the limit of {limit} bytes "
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

    def __init__(self, archive: ArchiveReader, entry: _Entry) -> None:
        super().__init__()
        self._archive = archive
        self._entry = entry
        self._pos = entry.data_offset
        self._left_in = entry.csize  # compressed bytes not yet read from the file
        self._left_out = entry.usize  # bytes not yet produced
        self._crc = 0
        self._inflater = zlib.decompressobj(-15) if entry.method == DEFLATED else None
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
            self._error = _invalid(self._entry.display, f"cannot read member data ({type(exc).__name__}: {exc})")
        raise self._error

    def _fail(self, message: str) -> ArchiveInvalid:
        return _invalid(self._entry.display, message)

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
                done = self._entry.usize - self._left_out
                raise self._fail(f"data inflates to {done} bytes, less than the declared {self._entry.usize}")
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
                    raise self._fail(f"data inflates past its declared size of {self._entry.usize} bytes")
                self._tail = inflater.unconsumed_tail
            if inflater.unused_data or self._left_in:
                raise self._fail("compressed data continues after the end of the deflate stream")
        if self._crc != self._entry.crc:
            raise self._fail(f"CRC-32 mismatch: data has {self._crc:#010x}, "
                             f"the archive declares {self._entry.crc:#010x}")
        self._done = True


# -- pre-flight --------------------------------------------------------------------------------------


def _preflight(file: BinaryIO, limits: Limits) -> tuple[bytes, list[_Entry]]:
    """Check the whole structure; return the archive comment and the entries in directory order."""
    problems: list[Problem] = []
    try:
        size = file.seek(0, os.SEEK_END)
        end = _read_end(file, size, limits)
        file.seek(end.cd_offset)
        central = file.read(end.cd_size)
        if len(central) != end.cd_size:
            raise _invalid(ARCHIVE, "the central directory is truncated")
        entries = _parse_central(central, end, limits, problems)
        _check_names(entries, problems)
        _check_totals(entries, limits, problems)
        if entries:
            _check_layout(file, size, end, entries, problems)
    except ArchiveInvalid as exc:
        problems.extend(exc.problems)
    except (struct.error, ValueError, IndexError, OSError, EOFError, UnicodeError, zlib.error) as exc:
        problems.append(Problem(ARCHIVE, "$", f"cannot read the archive ({type(exc).__name__}: {exc})"))
    if problems:
        raise ArchiveInvalid(problems)
    return end.comment, entries


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


def _parse_central(central: bytes, end: _End, limits: Limits, problems: list[Problem]) -> list[_Entry]:
    """Split the central directory into records and check each one on its own."""
    entries: list[_Entry] = []
    pos = 0
    cd_size = len(central)
    unpack = _CENTRAL.unpack_from
    while pos < cd_size:
        if len(entries) >= limits.max_members:
            raise _invalid(ARCHIVE, f"the central directory holds more than {limits.max_members} entries")
        if pos + _CENTRAL.size > cd_size:
            raise _invalid(ARCHIVE, f"the central directory ends inside a record (offset {end.cd_offset + pos})")
        (sig, _, system, _, flags, method, _, _, crc, csize, usize, nlen, elen, clen, disk, _, attrs,
         offset) = unpack(central, pos)
        if sig != _CENTRAL_SIG:
            raise _invalid(ARCHIVE, f"bad central directory record signature at offset {end.cd_offset + pos}")
        name_end = pos + _CENTRAL.size + nlen
        record_end = name_end + elen + clen
        if record_end > cd_size:
            raise _invalid(ARCHIVE, f"the central directory ends inside a record (offset {end.cd_offset + pos})")
        raw_name = central[pos + _CENTRAL.size:name_end]
        name, display, messages = _check_name(raw_name, flags, limits)
        if elen or _U32 in (usize, csize, offset) or disk == _U16:
            usize, csize, offset, disk = _central_extra(central[name_end:name_end + elen],
                                                        (usize, csize, offset, disk), messages)
        entry = _Entry(raw_name, name, display, flags, method, crc, csize, usize, offset)
        _check_entry(entry, limits, messages, system=system, attrs=attrs, disk=disk)
        if messages:
            problems.extend(Problem(display, "$", message) for message in messages)
        entries.append(entry)
        pos = record_end
    if len(entries) != end.count:
        problems.append(Problem(ARCHIVE, "$", f"the end-of-central-directory record declares {end.count} entries "
                                              f"but the central directory holds {len(entries)}"))
    return entries


def _display(name: str, valid: bool) -> str:
    """The name as shown in problems: itself if printable, else its repr."""
    return name if valid and name and name.isprintable() else repr(name)


def _check_name(raw: bytes, flags: int, limits: Limits) -> tuple[str, str, list[str]]:
    """Decode an entry name; return it, its display form and what is wrong with it."""
    if raw and not raw.translate(None, _PLAIN_BYTES):
        name = raw.decode("ascii")  # fast path for plain names; the checks below find the same nothing
        if (name[0] not in "/." and "//" not in name and "/." not in name
                and len(raw) <= limits.max_name_component and len(raw) <= limits.max_path_length
                and name.count("/") < limits.max_path_depth):
            return name, name, []
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
    display = _display(name, valid)
    if not raw:
        messages.append("empty name")
        return name, display, messages
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
    return name, display, messages


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


def _check_entry(entry: _Entry, limits: Limits, messages: list[str], *, system: int, attrs: int,
                 disk: int) -> None:
    """Checks of one record that need no other record: type, encryption, method, sizes."""
    if disk != 0:
        messages.append("the entry starts on another disk (multi-disk archives are not supported)")
    if entry.flags & _ENCRYPTION_FLAGS or entry.method == _AES_METHOD:
        messages.append("encrypted entry (encryption is not supported)")
    elif entry.method not in (STORED, DEFLATED):
        label = _METHOD_NAMES.get(entry.method, "unknown")
        messages.append(f"unsupported compression method {entry.method} ({label}); "
                        "only stored (0) and deflate (8) are allowed")
    if system in _UNIX_SYSTEMS:
        file_type = stat.S_IFMT(attrs >> 16)
        if file_type == stat.S_IFDIR and not entry.is_dir:
            messages.append("directory entry (by its mode) whose name does not end with '/'")
        elif file_type == stat.S_IFREG and entry.is_dir:
            messages.append("regular-file entry (by its mode) whose name ends with '/'")
        elif file_type not in (0, stat.S_IFREG, stat.S_IFDIR):
            kind = _SPECIAL_TYPES.get(file_type, f"file of unknown type {file_type:#o}")
            messages.append(f"the entry is a {kind}; only regular files and directories are allowed")
    if entry.is_dir:
        if entry.usize:
            messages.append(f"directory entry declares {entry.usize} bytes of data")
        elif entry.csize > (2 if entry.method == DEFLATED else 0):
            messages.append(f"directory entry carries {entry.csize} bytes of compressed data")
        return
    if entry.method == STORED and entry.csize != entry.usize:
        messages.append(f"stored entry whose compressed size ({entry.csize}) differs from its size "
                        f"({entry.usize})")
    if entry.usize > limits.max_member_size:
        messages.append(f"declared size of {entry.usize} bytes is above the per-member limit of "
                        f"{limits.max_member_size} bytes")
    if entry.usize > limits.ratio_min_size and entry.usize > limits.max_ratio * entry.csize:
        ratio = entry.usize // max(entry.csize, 1)
        messages.append(f"declared compression ratio of {ratio}:1 ({entry.usize} bytes from {entry.csize}) "
                        f"is above the limit of {limits.max_ratio}:1 (possible zip bomb)")


def _fold(name: str) -> str:
    """The key under which two names would land on the same file on a case-insensitive filesystem."""
    if name.isascii():
        return name.lower()
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())


def _check_names(entries: list[_Entry], problems: list[Problem]) -> None:
    """Duplicates, NFC/case-fold collisions and file/directory clashes between entries."""
    folded: dict[str, _Entry] = {}
    parents: dict[str, str] = {}  # folded directory path -> name of the first entry inside it
    for entry in entries:
        name = entry.name
        body = name[:-1] if entry.is_dir else name
        key = body.lower() if body.isascii() else _fold(body)
        other = folded.get(key)
        if other is None:
            folded[key] = entry
        elif other.name == name:
            problems.append(Problem(entry.display, "$", "duplicate entry name"))
            continue
        elif other.is_dir != entry.is_dir:
            problems.append(Problem(entry.display, "$", f"a file and a directory share this name "
                                                        f"(with {other.display!r})"))
        else:
            problems.append(Problem(entry.display, "$", f"the name collides with {other.display!r} after "
                                                        "Unicode NFC normalisation and case folding"))
        parent = key.rpartition("/")[0]
        while parent and parent not in parents:
            parents[parent] = name
            parent = parent.rpartition("/")[0]
    for key, entry in folded.items():
        if not entry.is_dir and key in parents:
            problems.append(Problem(entry.display, "$", f"a file entry is also used as a directory "
                                                        f"(by {parents[key]!r})"))


def _check_totals(entries: list[_Entry], limits: Limits, problems: list[Problem]) -> None:
    """Total declared size and total compression ratio."""
    total = sum(entry.usize for entry in entries)
    compressed = sum(entry.csize for entry in entries)
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
        self._start = 0
        self._data = b""

    def get(self, offset: int, size: int, span: int) -> bytes:
        """``size`` bytes at ``offset`` (fewer at end of file), reading ``span`` bytes on a miss."""
        start = offset - self._start
        if start < 0 or start + size > len(self._data):
            self._file.seek(offset)
            self._data = self._file.read(max(size, span))
            self._start = offset
            start = 0
        return self._data[start:start + size]


def _check_layout(file: BinaryIO, size: int, end: _End, entries: list[_Entry], problems: list[Problem]) -> None:
    """Check each local header against its record, and that the entries tile the file exactly.

    Sorted by offset, every entry (local header, data, data descriptor) must end exactly where the
    next one begins, and the last exactly where the central directory begins: no overlap (the
    overlapping-entry zip bomb), no repeated offset, no unreferenced bytes (hidden local entries).
    """
    order = sorted(entries, key=attrgetter("offset"))
    window = _Window(file)
    if order[0].offset != 0:
        head = window.get(0, 4, 4)
        problems.append(Problem(ARCHIVE, "$", f"the first {order[0].offset} bytes are not referenced by the "
                                              "central directory" + (" (prepended data)" if head != b"PK\x03\x04"
                                                                     else " (an unlisted local entry)")))
    previous: _Entry | None = None
    following_index = 0
    for index, entry in enumerate(order):
        if previous is not None and entry.offset == previous.offset:
            problems.append(Problem(entry.display, "$", f"the entry shares its local header (offset {entry.offset}) "
                                                        f"with {previous.display!r} (overlapping entries, "
                                                        "possible zip bomb)"))
            continue
        previous = entry
        following_index = max(following_index, index + 1)
        while following_index < len(order) and order[following_index].offset == entry.offset:
            following_index += 1
        following = order[following_index] if following_index < len(order) else None
        if following is not None and following.offset > end.cd_offset:
            following = None  # reported on its own: a local header offset past the central directory
        boundary = following.offset if following is not None else end.cd_offset
        messages = _check_local(window, entry, end, size=size, boundary=boundary, following=following)
        if messages:
            problems.extend(Problem(entry.display, "$", message) for message in messages)


def _check_local(window: _Window, entry: _Entry, end: _End, *, size: int, boundary: int,
                 following: _Entry | None) -> list[str]:
    """Check one entry's local header, data extent and data descriptor; set its data offset."""
    if entry.offset + _LOCAL.size > end.cd_offset:
        return [f"the local header offset {entry.offset} is not before the central directory"]
    span = _WINDOW if boundary - entry.offset < _WINDOW else _LOCAL.size + len(entry.raw_name) + 1024
    header = window.get(entry.offset, _LOCAL.size + len(entry.raw_name), span)
    sig, _, flags, method, _, _, crc, csize, usize, nlen, elen = _LOCAL.unpack_from(header)
    if sig != _LOCAL_SIG:
        return [f"no local file header at offset {entry.offset}"]
    messages = []
    if nlen == len(entry.raw_name) and not elen:
        name_extra = header[_LOCAL.size:]
    else:
        name_extra = window.get(entry.offset + _LOCAL.size, nlen + elen, span)
    if name_extra[:nlen] != entry.raw_name:
        messages.append(f"the local header name {name_extra[:nlen]!r} differs from the central directory name")
    if method != entry.method:
        messages.append(f"the local header compression method {method} differs from the central "
                        f"directory's {entry.method}")
    if flags != entry.flags:
        messages.append(f"the local header flags {flags:#06x} differ from the central directory's "
                        f"{entry.flags:#06x}")
    fields = _parse_extra(name_extra[nlen:]) if elen else {}
    if fields is None:
        messages.append("malformed local extra field")
        fields = {}
    if _UNICODE_PATH_TAG in fields:
        messages.append("Info-ZIP Unicode Path extra field (0x7075) in the local header is not supported")
    if not entry.flags & _FLAG_DESCRIPTOR:
        if _U32 in (usize, csize):
            zip64 = fields.get(_ZIP64_TAG, b"")
            if len(zip64) < 16:
                messages.append("local ZIP64 extra field missing or truncated")
            else:
                usize, csize = struct.unpack_from("<QQ", zip64)
        if (crc, csize, usize) != (entry.crc, entry.csize, entry.usize):
            messages.append(f"the local header (CRC {crc:#010x}, {csize} compressed, {usize} bytes) differs "
                            f"from the central directory (CRC {entry.crc:#010x}, {entry.csize} compressed, "
                            f"{entry.usize} bytes)")
    entry.data_offset = entry.offset + _LOCAL.size + nlen + elen
    data_end = entry.data_offset + entry.csize
    if data_end > size:
        messages.append(f"the compressed data ({entry.csize} bytes at offset {entry.data_offset}) runs past the "
                        f"end of the file ({size} bytes)")
    elif data_end > boundary:
        where = (f"the next entry {following.display!r} at offset {boundary}" if following is not None
                 else f"the central directory at offset {boundary}")
        messages.append(f"the entry's data (offsets {entry.data_offset}-{data_end}) overlaps {where} "
                        "(overlapping entries, possible zip bomb)")
    elif entry.flags & _FLAG_DESCRIPTOR:
        messages.extend(_check_descriptor(window, entry, data_end, boundary))
    elif data_end < boundary:
        messages.append(f"{boundary - data_end} bytes after the entry's data are not referenced by the "
                        "central directory (hidden data)")
    return messages


def _check_descriptor(window: _Window, entry: _Entry, data_end: int, boundary: int) -> list[str]:
    """The data descriptor must fill the gap to the next entry exactly and match the central record."""
    gap = boundary - data_end
    raw = window.get(data_end, gap, _WINDOW) if gap <= 24 else b""
    bodies = [raw, raw[4:]] if raw[:4] == b"PK\x07\x08" else [raw]
    declared = (entry.crc, entry.csize, entry.usize)
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
