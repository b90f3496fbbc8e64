"""The ZIP record layouts (APPNOTE.TXT 4.3), defined once for the reader and the writer.

Every structure is little-endian and starts with its signature as a 4-byte int. The reader unpacks
them from untrusted bytes; the writer packs them exactly as the standard library's ``zipfile`` does
(a ``version needed`` written as two bytes ``(version, 0)`` is the same 2-byte field here).
"""

from __future__ import annotations

import stat
import struct
from typing import Final

from ..errors import ArchiveInvalid, Problem

ARCHIVE: Final = "(archive)"
"""The member name used in a :class:`Problem` about the archive as a whole."""

STORED: Final = 0
DEFLATED: Final = 8

EOCD = struct.Struct("<IHHHHIIH")  # sig, disk, cd disk, entries here, entries, cd size, cd offset, comment
EOCD_SIG = 0x06054B50
Z64_LOCATOR = struct.Struct("<IIQI")  # sig, disk of zip64 EOCD, its offset, total disks
Z64_LOCATOR_SIG = 0x07064B50
Z64_EOCD = struct.Struct("<IQHHIIQQQQ")  # sig, size, made, needed, disk, cd disk, here, total, size, offset
Z64_EOCD_SIG = 0x06064B50
CENTRAL = struct.Struct("<IBBHHHHHIIIHHHHHII")
CENTRAL_SIG = 0x02014B50
LOCAL = struct.Struct("<IHHHHHIIIHH")  # sig, needed, flags, method, time, date, crc, csize, usize, nlen, elen
LOCAL_SIG = 0x04034B50
DESCRIPTOR = struct.Struct("<IIII")  # sig, crc, compressed size, size: the usual data descriptor
DESCRIPTOR_SIG = 0x08074B50
EXTRA_HEADER = struct.Struct("<HH")
ZIP64_TAG = 0x0001
UNICODE_PATH_TAG = 0x7075  # Info-ZIP Unicode Path: other tools prefer it to the header name
U32: Final = 0xFFFFFFFF
U16: Final = 0xFFFF

FLAG_ENCRYPTED = 0x0001
FLAG_DESCRIPTOR = 0x0008
FLAG_STRONG_ENCRYPTION = 0x0040
FLAG_UTF8 = 0x0800
FLAG_MASKED_HEADER = 0x2000
ENCRYPTION_FLAGS = FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION | FLAG_MASKED_HEADER
AES_METHOD = 99
METHOD_NAMES = {1: "shrink", 6: "implode", 9: "deflate64", 12: "bzip2", 14: "lzma", 93: "zstandard",
                 95: "xz", 96: "jpeg", 97: "wavpack", 98: "ppmd"}
UNIX_SYSTEMS = frozenset({3, 19})  # "made by" host systems whose external attributes hold a st_mode
S_IFMT, S_IFDIR, S_IFREG = 0o170000, stat.S_IFDIR, stat.S_IFREG
SPECIAL_TYPES = {stat.S_IFLNK: "symbolic link", stat.S_IFIFO: "FIFO (named pipe)",
                  stat.S_IFCHR: "character device", stat.S_IFBLK: "block device", stat.S_IFSOCK: "socket"}
SIGNATURES = (b"PK\x01\x02", b"PK\x03\x04", b"PK\x05\x06", b"PK\x06\x06", b"PK\x06\x07")
DESCRIPTOR64 = struct.Struct("<IIQQ")  # sig, crc, compressed size, size: the ZIP64 data descriptor
DESCRIPTOR_BODY = struct.Struct("<III")  # a data descriptor without its (optional) signature
DESCRIPTOR64_BODY = struct.Struct("<IQQ")
ZIP64_LOCAL_EXTRA = struct.Struct("<HHQQ")  # tag 1, length 16, size, compressed size (a local header's)


def invalid(member: str, message: str) -> ArchiveInvalid:
    """One problem about ``member`` as a whole, ready to raise."""
    return ArchiveInvalid([Problem(member, "$", message)])

ZIP64_LIMIT = (1 << 31) - 1
"""zipfile's ``ZIP64_LIMIT`` (2 GiB - 1): past it, sizes and offsets need ZIP64 (read at call time)."""
FILECOUNT_LIMIT = (1 << 16) - 1
"""zipfile's ``ZIP_FILECOUNT_LIMIT``: past 65,535 entries the ZIP64 end records are written."""
