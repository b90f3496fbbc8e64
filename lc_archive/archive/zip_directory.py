"""The central directory of a ZIP archive, read in bounded chunks and checked record by record.

Each record is checked on its own (name, type, encryption, method, declared sizes and ratio, ZIP64
extra field) as it streams in; then the names are checked together (:func:`~.names.clash_problems`)
and the totals against the limits. What a reader needs afterwards is kept compactly
(:class:`Records`); the rest (:class:`Table`) is dropped once the pre-flight is over.
"""

from __future__ import annotations

import struct
from array import array
from dataclasses import dataclass
from itertools import compress
from typing import BinaryIO

from ..errors import ArchiveInvalid, Problem
from .limits import Limits
from .name_index import NameIndex
from .names import PLAIN_BYTES, check_raw_name, display
from .zip_end import End
from .zip_format import (
    AES_METHOD,
    ARCHIVE,
    CENTRAL,
    CENTRAL_SIG,
    DEFLATED,
    ENCRYPTION_FLAGS,
    EXTRA_HEADER,
    FLAG_UTF8,
    METHOD_NAMES,
    S_IFDIR,
    S_IFMT,
    S_IFREG,
    SPECIAL_TYPES,
    STORED,
    U16,
    U32,
    UNICODE_PATH_TAG,
    UNIX_SYSTEMS,
    ZIP64_TAG,
    invalid,
)

__all__ = ["Member", "Records", "Table", "check_totals", "parse_central", "parse_extra"]

_CD_CHUNK = 1024 * 1024  # one read of the central directory, which is parsed as it streams in


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


class Records:
    """What reads need of every entry after the pre-flight, held compactly (internal).

    ``index`` (a :class:`~.name_index.NameIndex`, ~24 bytes an entry besides the name) maps each name, in
    central-directory order, to its cell in the parallel arrays (data offset, compressed size, size,
    CRC-32, method), or, for a plain directory entry (no data, CRC 0), to a small negative code instead
    of a cell: -1 stored, ``-2 - compressed size`` deflated. So an entry costs its name, its index entry
    and, for a file, ~17 bytes of arrays (4-byte cells below 4 GiB). No per-entry
    object or display string is kept: displays are rebuilt from the name when a problem is reported.
    """

    __slots__ = ("crcs", "csizes", "index", "methods", "offsets", "usizes")

    def __init__(self, index: NameIndex, offsets: array[int], csizes: array[int],  # noqa: PLR0917
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
    return array(_U32_ARRAY, values) if not values or max(values) <= U32 else values


class Table:
    """The central directory while it is being checked, record by record in directory order (internal).

    The only objects per record are its name and, for a file, its cell number (both kept by
    :class:`Records`); the numbers live in arrays, and the display form of a name is rebuilt when a
    problem is reported. The raw bytes of a name are its UTF-8 encoding, except for names that are
    not valid UTF-8 (kept in ``bad``; such an archive is rejected).
    """

    __slots__ = ("bad", "cells", "crcs", "csizes", "data_offsets", "flags", "kept", "methods", "names", "offsets",
                 "usizes")

    def __init__(self) -> None:
        self.names: list[str] = []
        self.cells: list[int] = []  # the record's cell in Records, or the code of a plain directory
        self.kept = bytearray()  # 1 for the records that keep a cell in Records
        self.bad: dict[int, bytes] = {}  # record -> raw name, for names that are not valid UTF-8
        self.offsets = array("Q")  # local header offsets
        self.csizes = array("Q")
        self.usizes = array("Q")
        self.crcs = array(_U32_ARRAY)
        self.flags = array("H")
        self.methods = array("H")
        self.data_offsets = array("Q")  # set by the layout check

    def display(self, record: int) -> str:
        return display(self.names[record], record not in self.bad)

    def records(self) -> Records:
        """The compact index kept after a successful pre-flight (every method is then 0 or 8)."""
        kept = self.kept
        return Records(NameIndex(self.names, self.cells),
                        _narrow(array("Q", compress(self.data_offsets, kept))),
                        _narrow(array("Q", compress(self.csizes, kept))),
                        _narrow(array("Q", compress(self.usizes, kept))),
                        array(_U32_ARRAY, compress(self.crcs, kept)), array("B", compress(self.methods, kept)))


class _Central:
    """The central directory, read in bounded chunks as it is parsed (internal).

    If any part of it cannot be read, only that is reported, as when it was read in one piece: the
    problems found in the records before are dropped, and a record problem that stops the parse
    first reads the rest (see :meth:`drain`).
    """

    __slots__ = ("_file", "_left", "_mark", "_problems")

    def __init__(self, file: BinaryIO, end: End, problems: list[Problem]) -> None:
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
            raise invalid(ARCHIVE, "the central directory is truncated")
        self._left -= size
        return data

    def _fail(self) -> None:
        del self._problems[self._mark:]
        self._left = 0  # nothing for drain() to read


def parse_central(file: BinaryIO, end: End, limits: Limits, problems: list[Problem]) -> Table:
    """Split the central directory into records and check each one on its own."""
    central = _Central(file, end, problems)
    try:
        return _parse_records(central, end, limits, problems)
    except ArchiveInvalid:
        central.drain()
        raise


def _parse_records(central: _Central, end: End, limits: Limits, problems: list[Problem]) -> Table:
    table = Table()
    names, bad = table.names, table.bad
    add_name, add_offset, add_csize, add_usize = names.append, table.offsets.append, table.csizes.append, \
        table.usizes.append
    add_crc, add_flags, add_method = table.crcs.append, table.flags.append, table.methods.append
    add_cell, add_kept = table.cells.append, table.kept.append
    unpack = CENTRAL.unpack_from
    header_size = CENTRAL.size
    cd_size = end.cd_size
    max_members = limits.max_members
    plain_size = min(limits.max_name_component, limits.max_path_length)  # the fast path's bounds
    max_slashes = limits.max_path_depth - 1
    buffer = b""
    base = 0  # directory offset of buffer[0]
    pos = 0  # position of the next record in buffer
    count = 0  # records so far
    cells = 0  # records so far that keep a cell in Records
    while base + pos < cd_size:
        if count >= max_members:
            raise invalid(ARCHIVE, f"the central directory holds more than {max_members} entries")
        if pos + header_size > len(buffer):
            if base + pos + header_size > cd_size:
                raise invalid(ARCHIVE, f"the central directory ends inside a record "
                                        f"(offset {end.cd_offset + base + pos})")
            buffer = central.refill(buffer, pos, header_size)
            base, pos = base + pos, 0
        (sig, _, system, _, flags, method, _, _, crc, csize, usize, nlen, elen, clen, disk, _, attrs,
         offset) = unpack(buffer, pos)
        if sig != CENTRAL_SIG:
            raise invalid(ARCHIVE, f"bad central directory record signature at offset {end.cd_offset + base + pos}")
        record_size = header_size + nlen + elen + clen
        if pos + record_size > len(buffer):
            if base + pos + record_size > cd_size:
                raise invalid(ARCHIVE, f"the central directory ends inside a record "
                                        f"(offset {end.cd_offset + base + pos})")
            buffer = central.refill(buffer, pos, record_size)
            base, pos = base + pos, 0
        name_end = pos + header_size + nlen
        raw_name = buffer[pos + header_size:name_end]
        # Fast path for plain names (printable ASCII but backslash and colon, within the limits, no
        # '.' or empty component): check_raw_name would find nothing wrong with them.
        if 0 < nlen <= plain_size and not raw_name.translate(None, PLAIN_BYTES):
            name = raw_name.decode("ascii")
            if name[0] in "/." or "//" in name or "/." in name or name.count("/") > max_slashes:
                name, valid, messages = check_raw_name(raw_name, bool(flags & FLAG_UTF8), limits)
            else:
                valid, messages = True, []
        else:
            name, valid, messages = check_raw_name(raw_name, bool(flags & FLAG_UTF8), limits)
        if elen or U32 in (usize, csize, offset) or disk == U16:
            usize, csize, offset, disk = _central_extra(buffer[name_end:name_end + elen],
                                                        (usize, csize, offset, disk), messages)
        is_dir = name.endswith("/")
        _check_entry(limits, messages, is_dir, flags, method, csize, usize, system, attrs, disk)
        if messages:
            shown = display(name, valid)
            problems.extend(Problem(shown, "$", message) for message in messages)
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
            add_cell(-1 if method == STORED else -2 - csize)  # a plain directory (see Records)
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


def parse_extra(extra: bytes) -> dict[int, bytes] | None:
    """The fields of an extra block by tag, or None if it is malformed or repeats a tag."""
    fields: dict[int, bytes] = {}
    pos = 0
    while pos < len(extra):
        if pos + 4 > len(extra):
            return None
        tag, size = EXTRA_HEADER.unpack_from(extra, pos)
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
    fields = parse_extra(extra)
    if fields is None:
        messages.append("malformed extra field")
        return usize, csize, offset, disk
    if UNICODE_PATH_TAG in fields:
        messages.append("Info-ZIP Unicode Path extra field (0x7075) is not supported: other tools would "
                        "use a different name")
    if U32 in (usize, csize, offset) or disk == U16:
        data = fields.get(ZIP64_TAG)
        wanted = [usize == U32, csize == U32, offset == U32]
        needed = 8 * sum(wanted) + (4 if disk == U16 else 0)
        if data is None or len(data) < needed:
            messages.append("ZIP64 extra field missing or truncated")
            return usize, csize, offset, disk
        wide = iter(struct.unpack_from(f"<{sum(wanted)}Q", data))
        usize = next(wide) if wanted[0] else usize
        csize = next(wide) if wanted[1] else csize
        offset = next(wide) if wanted[2] else offset
        if disk == U16:
            disk = struct.unpack_from("<I", data, 8 * sum(wanted))[0]
    return usize, csize, offset, disk


def _check_entry(limits: Limits, messages: list[str], is_dir: bool, flags: int, method: int,  # noqa: PLR0917
                 csize: int, usize: int, system: int, attrs: int, disk: int) -> None:
    """Checks of one record that need no other record: type, encryption, method, sizes."""
    if disk != 0:
        messages.append("the entry starts on another disk (multi-disk archives are not supported)")
    if flags & ENCRYPTION_FLAGS or method == AES_METHOD:
        messages.append("encrypted entry (encryption is not supported)")
    elif method not in (STORED, DEFLATED):
        label = METHOD_NAMES.get(method, "unknown")
        messages.append(f"unsupported compression method {method} ({label}); "
                        "only stored (0) and deflate (8) are allowed")
    if system in UNIX_SYSTEMS:
        file_type = (attrs >> 16) & S_IFMT  # stat.S_IFMT(), without the call
        if file_type == S_IFDIR and not is_dir:
            messages.append("directory entry (by its mode) whose name does not end with '/'")
        elif file_type == S_IFREG and is_dir:
            messages.append("regular-file entry (by its mode) whose name ends with '/'")
        elif file_type not in (0, S_IFREG, S_IFDIR):
            kind = SPECIAL_TYPES.get(file_type, f"file of unknown type {file_type:#o}")
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


def check_totals(table: Table, limits: Limits, problems: list[Problem]) -> None:
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
