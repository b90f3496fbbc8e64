"""The end of a ZIP archive: the end-of-central-directory record and its ZIP64 variants, checked.

The records must end the file exactly (no trailing data, no second record hidden in the comment), the
ZIP64 records must agree with the classic one, and the central directory they point at must end where
they begin; a multi-disk archive is refused. :func:`read_end` returns where the central directory is.
"""

from __future__ import annotations

from typing import BinaryIO

from .limits import Limits
from .zip_format import (
    ARCHIVE,
    CENTRAL,
    EOCD,
    SIGNATURES,
    U16,
    U32,
    Z64_EOCD,
    Z64_EOCD_SIG,
    Z64_LOCATOR,
    invalid,
)

__all__ = ["End", "read_end"]

_MAX_COMMENT = 0xFFFF
_RECORD_EXTRAS = 4096  # average extra field + comment per central record allowed before reading them


class End:
    """Where the central directory is, according to the end records (internal)."""

    __slots__ = ("cd_end", "cd_offset", "cd_size", "comment", "count")

    def __init__(self, count: int, cd_offset: int, cd_size: int, cd_end: int, comment: bytes) -> None:
        self.count = count
        self.cd_offset = cd_offset
        self.cd_size = cd_size
        self.cd_end = cd_end  # where the central directory must end: the (ZIP64) EOCD record
        self.comment = comment


def read_end(file: BinaryIO, size: int, limits: Limits) -> End:
    """Find and check the (ZIP64) end-of-central-directory records, which must end the file."""
    if size < EOCD.size:
        raise invalid(ARCHIVE, f"not a ZIP archive: the file is only {size} bytes long")
    tail_start = max(0, size - EOCD.size - _MAX_COMMENT - Z64_LOCATOR.size)  # the locator may precede it
    file.seek(tail_start)
    tail = file.read(size - tail_start)
    candidates = []
    found = False
    pos = tail.rfind(b"PK\x05\x06")
    while pos >= 0:
        found = True
        if pos + EOCD.size <= len(tail) and pos + EOCD.size + EOCD.unpack_from(tail, pos)[7] == len(tail):
            candidates.append(pos)
        pos = tail.rfind(b"PK\x05\x06", 0, pos)
    if not candidates:
        if found:
            raise invalid(ARCHIVE, "the end-of-central-directory record does not end the file "
                                    "(trailing data after the archive, or a truncated archive)")
        raise invalid(ARCHIVE, "not a ZIP archive, or truncated: no end-of-central-directory record")
    if len(candidates) > 1:
        raise invalid(ARCHIVE, "ambiguous end-of-central-directory record (the archive comment holds another)")
    pos = candidates[0]
    eocd_offset = tail_start + pos
    _, disk, cd_disk, here, count, cd_size, cd_offset, _ = EOCD.unpack_from(tail, pos)
    comment = tail[pos + EOCD.size:]
    if any(signature in comment for signature in SIGNATURES):
        raise invalid(ARCHIVE, "the archive comment contains ZIP record signatures")
    cd_end = eocd_offset
    locator_pos = pos - Z64_LOCATOR.size
    if locator_pos >= 0 and tail[locator_pos:locator_pos + 4] == b"PK\x06\x07":
        zip64 = _read_zip64_end(file, tail_start + locator_pos, tail[locator_pos:pos])
        for label, short, sentinel, value in (
            ("entries on this disk", here, U16, zip64[2]), ("entries", count, U16, zip64[3]),
            ("central directory size", cd_size, U32, zip64[4]),
            ("central directory offset", cd_offset, U32, zip64[5]),
        ):
            if short not in (sentinel, value):
                raise invalid(ARCHIVE, f"the ZIP64 end-of-central-directory record disagrees with the "
                                        f"end-of-central-directory record on the {label} ({value} vs {short})")
        if disk not in (0, U16) or cd_disk not in (0, U16) or zip64[0] != 0 or zip64[1] != 0:
            raise invalid(ARCHIVE, "multi-disk (split or spanned) archives are not supported")
        here, count, cd_size, cd_offset, cd_end = zip64[2], zip64[3], zip64[4], zip64[5], zip64[6]
    elif disk != 0 or cd_disk != 0:
        raise invalid(ARCHIVE, "multi-disk (split or spanned) archives are not supported")
    if here != count:
        raise invalid(ARCHIVE, f"the end-of-central-directory record counts {here} entries on this disk "
                                f"but {count} in total (multi-disk archives are not supported)")
    if count > limits.max_members:
        raise invalid(ARCHIVE, f"the archive declares {count} entries, above the limit of {limits.max_members}")
    if cd_size > count * (CENTRAL.size + limits.max_path_length + _RECORD_EXTRAS):
        raise invalid(ARCHIVE, f"the central directory ({cd_size} bytes) is too large for {count} entries")
    if cd_offset + cd_size != cd_end:
        raise invalid(ARCHIVE, f"the central directory (offset {cd_offset}, {cd_size} bytes) does not end where "
                                f"the end-of-central-directory record begins (offset {cd_end}): prepended "
                                "data, or a truncated or corrupt archive")
    return End(count, cd_offset, cd_size, cd_end, comment)


def _read_zip64_end(file: BinaryIO, locator_offset: int, locator: bytes) -> tuple[int, ...]:
    """(disk, cd disk, entries here, entries, cd size, cd offset, record offset) of the ZIP64 EOCD."""
    _, disk, offset, disks = Z64_LOCATOR.unpack(locator)
    if disk != 0 or disks != 1:
        raise invalid(ARCHIVE, "multi-disk (split or spanned) archives are not supported")
    if offset + Z64_EOCD.size > locator_offset:
        raise invalid(ARCHIVE, "the ZIP64 end-of-central-directory locator points past itself")
    file.seek(offset)
    record = file.read(Z64_EOCD.size)
    if len(record) != Z64_EOCD.size:
        raise invalid(ARCHIVE, "the ZIP64 end-of-central-directory record is truncated")
    sig, record_size, _, _, rec_disk, cd_disk, here, count, cd_size, cd_offset = Z64_EOCD.unpack(record)
    if sig != Z64_EOCD_SIG:
        raise invalid(ARCHIVE, f"no ZIP64 end-of-central-directory record at offset {offset}, "
                                "where the ZIP64 locator points")
    if offset + 12 + record_size != locator_offset:
        raise invalid(ARCHIVE, "the ZIP64 end-of-central-directory record does not end where its locator "
                                "begins (data hidden between them, or a bad locator offset)")
    return rec_disk, cd_disk, here, count, cd_size, cd_offset, offset
