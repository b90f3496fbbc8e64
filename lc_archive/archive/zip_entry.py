"""One entry of an archive being written: its local header, data descriptor and central record,
packed as the standard library's ``zipfile`` packs them (``ZipInfo.FileHeader``, ``_ZipWriteFile.close``,
``ZipFile._write_end_record``), with the record layouts of :mod:`.zip_format`."""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from typing import Final

from . import zip_format as fmt
from .zip_format import (
    CENTRAL,
    CENTRAL_SIG,
    DESCRIPTOR,
    DESCRIPTOR64,
    DESCRIPTOR_SIG,
    LOCAL,
    LOCAL_SIG,
    ZIP64_LOCAL_EXTRA,
    ZIP64_TAG,
)

__all__ = ["DATA_DESCRIPTOR", "UTF8", "VERSION", "ZIP64_VERSION", "Entry", "dos_date_time", "too_large"]

_MIN_DATE = (1980, 1, 1, 0, 0, 0)
_MAX_DATE = (2107, 12, 31, 23, 59, 58)
_UNIX = 3
_MODE = 0o600 << 16
VERSION: Final = 20  # zipfile.DEFAULT_VERSION
ZIP64_VERSION: Final = 45
DATA_DESCRIPTOR: Final = 0x08
"""General purpose flag: sizes and CRC follow the data (an output that cannot seek)."""
UTF8: Final = 0x800
"""General purpose flag: the name is UTF-8."""


def _date_time(when: datetime) -> tuple[int, int, int, int, int, int]:
    utc = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    stamp = (utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second)
    return min(max(stamp, _MIN_DATE), _MAX_DATE)


def dos_date_time(when: datetime) -> tuple[int, int]:
    """``(dosdate, dostime)`` of the clamped UTC stamp, packed as ``ZipInfo.FileHeader`` does."""
    year, month, day, hour, minute, second = _date_time(when)
    return (year - 1980) << 9 | month << 5 | day, hour << 11 | minute << 5 | second // 2


def too_large(name: bytes, usize: int, csize: int) -> RuntimeError:
    what = "File size" if usize > fmt.ZIP64_LIMIT else "Compressed size"
    return RuntimeError(
        f"{what} of archive entry {name.decode('utf-8')!r} too large for an entry started without ZIP64 "
        "(pass its size to add_stream)"
    )


class Entry:
    """What the headers of one entry need besides its CRC and sizes."""

    __slots__ = ("dosdate", "dostime", "flags", "method", "name", "offset", "zip64")

    def __init__(self, name: bytes, flags: int, stamp: tuple[int, int], method: int, zip64: bool) -> None:
        self.name = name
        self.flags = flags  # 0x08 on an unseekable output, | 0x800 for a non-ASCII name
        self.dosdate, self.dostime = stamp
        self.method = method
        self.zip64 = zip64  # zipfile's guess from the announced size: a ZIP64 field in the local header
        self.offset = 0  # set when its header is written

    def header(self, crc: int, csize: int, usize: int) -> bytes:
        """The local file header, as ``ZipInfo.FileHeader(zip64)`` packs it."""
        if self.flags & DATA_DESCRIPTOR:  # the values follow the data
            crc = csize = usize = 0
        name = self.name
        if self.zip64:
            return (
                LOCAL.pack(LOCAL_SIG, ZIP64_VERSION, self.flags, self.method, self.dostime, self.dosdate, crc,
                            0xFFFFFFFF, 0xFFFFFFFF, len(name), ZIP64_LOCAL_EXTRA.size)
                + name
                + ZIP64_LOCAL_EXTRA.pack(1, ZIP64_LOCAL_EXTRA.size - 4, usize, csize)
            )  # fmt: skip
        return (
            LOCAL.pack(LOCAL_SIG, VERSION, self.flags, self.method, self.dostime, self.dosdate, crc, csize,
                        usize, len(name), 0)
            + name
        )  # fmt: skip

    def descriptor(self, crc: int, csize: int, usize: int) -> bytes:
        """The data descriptor ``_ZipWriteFile.close`` writes after the data on an unseekable output."""
        return (DESCRIPTOR64 if self.zip64 else DESCRIPTOR).pack(DESCRIPTOR_SIG, crc, csize, usize)

    def record(self, crc: int, csize: int, usize: int) -> bytes:
        """The central directory record, as ``ZipFile._write_end_record`` packs it."""
        limit = fmt.ZIP64_LIMIT
        offset = self.offset
        if usize > limit or csize > limit or offset > limit or self.zip64:
            extra: list[int] = []
            if usize > limit or csize > limit:
                extra += (usize, csize)
                usize = csize = 0xFFFFFFFF
            if offset > limit:
                extra.append(offset)
                offset = 0xFFFFFFFF
            version = ZIP64_VERSION  # also when only the local header had a ZIP64 field
            fields = struct.pack(f"<HH{len(extra)}Q", ZIP64_TAG, 8 * len(extra), *extra) if extra else b""
        else:
            version, fields = VERSION, b""
        name = self.name
        return (
            CENTRAL.pack(CENTRAL_SIG, version, _UNIX, version, self.flags, self.method, self.dostime,
                          self.dosdate, crc, csize, usize, len(name), len(fields), 0, 0, 0, _MODE, offset)
            + name
            + fields
        )  # fmt: skip
