"""The local headers of a ZIP archive: each must agree with its central record, and the entries must
tile the file exactly.

Sorted by offset, every entry (local header, data, data descriptor) must end exactly where the next
one begins, and the last exactly where the central directory begins: no overlap (the overlapping-entry
zip bomb), no repeated offset, no unreferenced bytes (prepended data, hidden local entries).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from itertools import islice
from operator import le
from typing import BinaryIO

from ..errors import Problem
from .zip_directory import Table, parse_extra
from .zip_end import End
from .zip_format import (
    ARCHIVE,
    DESCRIPTOR,
    DESCRIPTOR64_BODY,
    DESCRIPTOR_BODY,
    DESCRIPTOR_SIG,
    FLAG_DESCRIPTOR,
    LOCAL,
    LOCAL_SIG,
    U32,
    UNICODE_PATH_TAG,
    ZIP64_TAG,
)

__all__ = ["check_layout"]

_WINDOW = 256 * 1024  # one read of the local-header pass over runs of small entries


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


def check_layout(file: BinaryIO, size: int, end: End, table: Table, problems: list[Problem]) -> None:
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
    unpack = LOCAL.unpack_from
    header_size = LOCAL.size
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
                if (sig == LOCAL_SIG and nlen == len(raw_name) and not elen and flags == all_flags[record]
                        and method == methods[record] and data.startswith(raw_name, at + header_size)):
                    declared = (crcs[record], csizes[record], usizes[record])
                    data_end = data_offset + declared[1]
                    if flags & FLAG_DESCRIPTOR:
                        tail = data_end - window.start
                        plain = (data_end + DESCRIPTOR.size == boundary and tail + DESCRIPTOR.size <= len(data)
                                 and DESCRIPTOR.unpack_from(data, tail) == (DESCRIPTOR_SIG, *declared))
                    else:
                        plain = data_end == boundary and (crc, csize, usize) == declared and U32 not in (csize, usize)
                    if plain:
                        data_offsets[record] = data_offset
                        continue
        messages = _check_local(window, table, record, end, size=size, boundary=boundary, following=following)
        if messages:
            problems.extend(Problem(table.display(record), "$", message) for message in messages)


def _check_local(window: _Window, table: Table, record: int, end: End, *, size: int, boundary: int,
                 following: int | None) -> list[str]:
    """Check one entry's local header, data extent and data descriptor; set its data offset."""
    offset = table.offsets[record]
    header_size = LOCAL.size
    if offset + header_size > end.cd_offset:
        return [f"the local header offset {offset} is not before the central directory"]
    bad = table.bad
    raw_name = bad[record] if bad and record in bad else table.names[record].encode()
    name_size = len(raw_name)
    span = _WINDOW if boundary - offset < _WINDOW else header_size + name_size + 1024
    header = window.get(offset, header_size + name_size, span)
    sig, _, flags, method, _, _, crc, csize, usize, nlen, elen = LOCAL.unpack_from(header)
    if sig != LOCAL_SIG:
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
    fields = parse_extra(name_extra[nlen:]) if elen else {}
    if fields is None:
        messages.append("malformed local extra field")
        fields = {}
    if UNICODE_PATH_TAG in fields:
        messages.append("Info-ZIP Unicode Path extra field (0x7075) in the local header is not supported")
    if not central_flags & FLAG_DESCRIPTOR:
        if U32 in (usize, csize):
            zip64 = fields.get(ZIP64_TAG, b"")
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
    elif central_flags & FLAG_DESCRIPTOR:
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
            found = (DESCRIPTOR_BODY if len(body) == 12 else DESCRIPTOR64_BODY).unpack(body)
            if found == declared:
                return []
    if found is None:
        return [f"missing or malformed data descriptor ({gap} bytes between the data and the next record)"]
    return [f"the data descriptor (CRC {found[0]:#010x}, {found[1]} compressed, {found[2]} bytes) "
            "differs from the central directory"]
