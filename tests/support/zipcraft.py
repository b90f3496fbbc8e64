"""Craft ZIP archives byte by byte, malformed ones included, for tests of the archive reader.

:func:`build` lays out local entries, then the central directory, then the (ZIP64) end records.
Every header field can be overridden, separately for the local header and the central record, so a
test can make exactly one thing wrong::

    build([Entry("a.txt", b"hi"), Entry("b.txt", b"x", central={"name": b"../b.txt"})])

Defaults produce a valid archive in the shape CPython's ``zipfile`` writes (unix "made by" system,
mode 0o644 / 0o755, no extra fields). :class:`Raw` inserts literal bytes among the local entries, and an
:class:`Entry` can be written only locally (hidden from the central directory) or only centrally
(pointing at another entry's local header: overlap bombs).
"""

from __future__ import annotations

import dataclasses
import stat
import struct
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DEFLATED",
    "STORED",
    "Archive",
    "CentralRecord",
    "EndRecord",
    "Entry",
    "LocalHeader",
    "Raw",
    "Zip64EndRecord",
    "Zip64Locator",
    "build",
    "deflate",
    "deflate_zeros",
    "full_overlap_bomb",
    "quoted_overlap_bomb",
    "stored_block",
    "unix_attr",
    "zip64_extra",
]

STORED = 0
DEFLATED = 8
FLAG_DESCRIPTOR = 0x0008
FLAG_UTF8 = 0x0800
U32 = 0xFFFFFFFF
U16 = 0xFFFF
DOS_TIME = 0  # 00:00:00
DOS_DATE = (45 << 9) | (1 << 5) | 1  # 2025-01-01


# -- records ------------------------------------------------------------------------------------------


@dataclass
class LocalHeader:
    """A local file header (APPNOTE 4.3.7). Lengths default to those of ``name`` and ``extra``."""

    name: bytes
    flags: int = 0
    method: int = STORED
    crc: int = 0
    compress_size: int = 0
    size: int = 0
    extra: bytes = b""
    version: int = 20
    time: int = DOS_TIME
    date: int = DOS_DATE
    signature: int = 0x04034B50
    name_length: int | None = None
    extra_length: int | None = None

    def pack(self) -> bytes:
        return struct.pack(
            "<IHHHHHIIIHH", self.signature, self.version, self.flags, self.method, self.time, self.date,
            self.crc, self.compress_size, self.size,
            len(self.name) if self.name_length is None else self.name_length,
            len(self.extra) if self.extra_length is None else self.extra_length,
        ) + self.name + self.extra


@dataclass
class CentralRecord:
    """A central-directory file header (APPNOTE 4.3.12)."""

    name: bytes
    header_offset: int
    flags: int = 0
    method: int = STORED
    crc: int = 0
    compress_size: int = 0
    size: int = 0
    extra: bytes = b""
    comment: bytes = b""
    create_system: int = 3
    create_version: int = 20
    extract_version: int = 20
    external_attr: int = 0
    internal_attr: int = 0
    disk_start: int = 0
    time: int = DOS_TIME
    date: int = DOS_DATE
    signature: int = 0x02014B50
    name_length: int | None = None
    extra_length: int | None = None
    comment_length: int | None = None

    def pack(self) -> bytes:
        return struct.pack(
            "<IBBHHHHHIIIHHHHHII", self.signature, self.create_version, self.create_system,
            self.extract_version, self.flags, self.method, self.time, self.date, self.crc,
            self.compress_size, self.size,
            len(self.name) if self.name_length is None else self.name_length,
            len(self.extra) if self.extra_length is None else self.extra_length,
            len(self.comment) if self.comment_length is None else self.comment_length,
            self.disk_start, self.internal_attr, self.external_attr, self.header_offset,
        ) + self.name + self.extra + self.comment


@dataclass
class EndRecord:
    """The end-of-central-directory record (APPNOTE 4.3.16)."""

    entries: int
    cd_size: int
    cd_offset: int
    disk_entries: int | None = None  # default: ``entries``
    disk: int = 0
    cd_disk: int = 0
    comment: bytes = b""
    comment_length: int | None = None
    signature: int = 0x06054B50

    def pack(self) -> bytes:
        return struct.pack(
            "<IHHHHIIH", self.signature, self.disk, self.cd_disk,
            self.entries if self.disk_entries is None else self.disk_entries, self.entries, self.cd_size,
            self.cd_offset, len(self.comment) if self.comment_length is None else self.comment_length,
        ) + self.comment


@dataclass
class Zip64EndRecord:
    """The ZIP64 end-of-central-directory record (APPNOTE 4.3.14)."""

    entries: int
    cd_size: int
    cd_offset: int
    disk_entries: int | None = None
    disk: int = 0
    cd_disk: int = 0
    record_size: int = 44  # size of the rest of the record
    signature: int = 0x06064B50

    def pack(self) -> bytes:
        return struct.pack(
            "<IQHHIIQQQQ", self.signature, self.record_size, 45, 45, self.disk, self.cd_disk,
            self.entries if self.disk_entries is None else self.disk_entries, self.entries, self.cd_size,
            self.cd_offset,
        )


@dataclass
class Zip64Locator:
    """The ZIP64 end-of-central-directory locator (APPNOTE 4.3.15)."""

    record_offset: int
    disk: int = 0
    total_disks: int = 1
    signature: int = 0x07064B50

    def pack(self) -> bytes:
        return struct.pack("<IIQI", self.signature, self.disk, self.record_offset, self.total_disks)


# -- what to build ------------------------------------------------------------------------------------


@dataclass
class Entry:
    """One archive entry: its content, and any lies to tell about it.

    ``content`` is the uncompressed data (it sets the default CRC and size); ``payload`` is what is
    written after the local header (default: ``content``, deflated when ``method`` is 8). A ``str``
    name is UTF-8 encoded and gets flag bit 11 when it is not ASCII. ``local`` and ``central`` override
    fields of :class:`LocalHeader` and :class:`CentralRecord` after the defaults are computed.
    """

    name: bytes | str
    content: bytes = b""
    method: int = STORED
    payload: bytes | None = None
    flags: int | None = None
    crc: int | None = None
    size: int | None = None
    compress_size: int | None = None
    external_attr: int | None = None  # default: unix regular file 0o644, or directory 0o755
    create_system: int = 3
    extra: bytes = b""  # in both headers
    zip64: bool = False  # sizes in ZIP64 extra fields, 0xFFFFFFFF in the 32-bit fields
    descriptor: bool | bytes = False  # True: signed data descriptor with the sizes; bytes: written as is
    local: Mapping[str, Any] = field(default_factory=dict)
    central: Mapping[str, Any] = field(default_factory=dict)
    in_local: bool = True  # False: central record only; give central={"header_offset": ...}
    in_central: bool = True  # False: a local entry the central directory does not list

    @property
    def raw_name(self) -> bytes:
        return self.name.encode("utf-8") if isinstance(self.name, str) else self.name

    @property
    def raw_payload(self) -> bytes:
        if self.payload is not None:
            return self.payload
        return deflate(self.content) if self.method == DEFLATED else self.content

    def header_fields(self) -> dict[str, Any]:
        """The values both headers share, before overrides."""
        flags = self.flags
        if flags is None:
            flags = FLAG_UTF8 if isinstance(self.name, str) and not self.name.isascii() else 0
            flags |= FLAG_DESCRIPTOR if self.descriptor is not False else 0
        return {
            "name": self.raw_name, "flags": flags, "method": self.method,
            "crc": zlib.crc32(self.content) if self.crc is None else self.crc,
            "compress_size": len(self.raw_payload) if self.compress_size is None else self.compress_size,
            "size": len(self.content) if self.size is None else self.size,
        }


@dataclass
class Raw:
    """Literal bytes written among the local entries."""

    data: bytes


@dataclass
class Archive:
    """A built archive and where its parts are."""

    data: bytes
    local_offsets: list[int]  # of each Entry with in_local, in order
    cd_offset: int
    eocd_offset: int


def build(
    items: Sequence[Entry | Raw],
    *,
    prefix: bytes = b"",
    shift_offsets: bool = False,
    suffix: bytes = b"",
    comment: bytes = b"",
    end: Mapping[str, Any] | None = None,
    zip64_end: bool | Mapping[str, Any] = False,
    locator: Mapping[str, Any] | None = None,
) -> Archive:
    """Lay out ``items``, then the central directory and the end records.

    ``prefix`` is prepended to the result (offsets relative to the archive unless ``shift_offsets``,
    which makes them absolute, like a self-extractor); ``suffix`` is appended after the end record.
    ``end``, ``zip64_end`` (True, or overrides) and ``locator`` override end-record fields.
    """
    base = len(prefix) if shift_offsets else 0
    body = bytearray()
    records: list[CentralRecord] = []
    local_offsets: list[int] = []
    for item in items:
        if isinstance(item, Raw):
            body += item.data
            continue
        common = item.header_fields()
        offset = base + len(body)
        if item.in_local:
            local_offsets.append(offset)
            body += _local_header(item, common).pack() + item.raw_payload + _descriptor(item, common)
        if item.in_central:
            records.append(_central_record(item, common, offset))
    cd_offset = base + len(body)
    central = b"".join(record.pack() for record in records)
    tail = bytearray()
    end_fields: dict[str, Any] = {"entries": len(records), "cd_size": len(central), "cd_offset": cd_offset,
                                  "comment": comment}
    if zip64_end is not False:
        record_offset = cd_offset + len(central)
        record = Zip64EndRecord(entries=len(records), cd_size=len(central), cd_offset=cd_offset)
        record = dataclasses.replace(record, **(zip64_end if isinstance(zip64_end, Mapping) else {}))
        tail += record.pack()
        tail += dataclasses.replace(Zip64Locator(record_offset), **(locator or {})).pack()
        end_fields.update(entries=U16, cd_size=U32, cd_offset=U32)
    eocd_offset = len(prefix) + len(body) + len(central) + len(tail)
    tail += EndRecord(**{**end_fields, **(end or {})}).pack()
    data = prefix + bytes(body) + central + bytes(tail) + suffix
    return Archive(data, local_offsets, cd_offset, eocd_offset)


def _local_header(entry: Entry, common: dict[str, Any]) -> LocalHeader:
    header = LocalHeader(**common, extra=entry.extra)
    if entry.descriptor is not False:
        header = dataclasses.replace(header, crc=0, compress_size=0, size=0)
    elif entry.zip64:
        header = dataclasses.replace(header, compress_size=U32, size=U32,
                                     extra=zip64_extra(common["size"], common["compress_size"]) + entry.extra)
    return dataclasses.replace(header, **entry.local)


def _central_record(entry: Entry, common: dict[str, Any], offset: int) -> CentralRecord:
    is_dir = entry.raw_name.endswith(b"/")
    attr = entry.external_attr
    if attr is None:
        attr = unix_attr(stat.S_IFDIR | 0o755) | 0x10 if is_dir else unix_attr(stat.S_IFREG | 0o644)
    record = CentralRecord(**common, header_offset=offset, extra=entry.extra, external_attr=attr,
                           create_system=entry.create_system)
    if entry.zip64:
        record = dataclasses.replace(record, compress_size=U32, size=U32, extract_version=45,
                                     extra=zip64_extra(common["size"], common["compress_size"]) + entry.extra)
    return dataclasses.replace(record, **entry.central)


def _descriptor(entry: Entry, common: dict[str, Any]) -> bytes:
    if entry.descriptor is False:
        return b""
    if isinstance(entry.descriptor, bytes):
        return entry.descriptor
    if entry.zip64:
        return struct.pack("<IIQQ", 0x08074B50, common["crc"], common["compress_size"], common["size"])
    return struct.pack("<IIII", 0x08074B50, common["crc"], common["compress_size"], common["size"])


# -- helpers ------------------------------------------------------------------------------------------


def unix_attr(mode: int) -> int:
    """The external attributes holding a unix ``st_mode`` (use with ``create_system=3``)."""
    return mode << 16


def zip64_extra(*values: int) -> bytes:
    """A ZIP64 extended-information extra field holding ``values`` (size, compressed size, offset)."""
    return struct.pack(f"<HH{len(values)}Q", 0x0001, 8 * len(values), *values)


def deflate(data: bytes, level: int = 9) -> bytes:
    """Raw deflate (no zlib header), as stored in ZIP entries."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def _zero_chunks(size: int, chunk: int) -> Iterator[bytes]:
    block = bytes(chunk)
    while size > 0:
        yield block[:min(size, chunk)]
        size -= chunk


def deflate_zeros(size: int, chunk: int = 1 << 20) -> tuple[bytes, int]:
    """(raw deflate of ``size`` zero bytes, their CRC-32), without holding them in memory."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    out = bytearray()
    crc = 0
    for piece in _zero_chunks(size, chunk):
        out += compressor.compress(piece)
        crc = zlib.crc32(piece, crc)
    out += compressor.flush()
    return bytes(out), crc


def stored_block(data: bytes, *, final: bool = False) -> bytes:
    """A deflate stored block quoting ``data`` (at most 65535 bytes)."""
    return struct.pack("<BHH", 1 if final else 0, len(data), len(data) ^ 0xFFFF) + data


def full_overlap_bomb(copies: int = 1000, size: int = 10 << 20, *, unique_names: bool = False) -> bytes:
    """One deflated entry of ``size`` zeros, and ``copies`` central records all pointing at it."""
    payload, crc = deflate_zeros(size)
    items: list[Entry | Raw] = [Entry("0", method=DEFLATED, payload=payload, crc=crc, size=size)]
    for index in range(1, copies):
        name = str(index) if unique_names else "0"
        items.append(Entry(name, method=DEFLATED, payload=payload, crc=crc, size=size, in_local=False,
                           central={"header_offset": 0}))
    return build(items).data


def quoted_overlap_bomb(count: int = 10, kernel_size: int = 1 << 20) -> bytes:
    """Fifield's overlapping-entry bomb ("A better zip bomb", 2019), small.

    Entry k's local header sits inside entry k-1's deflate stream, quoted by a non-final stored
    block, so every entry inflates to the next entry's header plus everything after it, ending in one
    shared kernel of zeros. Each central record points at its own local header.
    """
    kernel, _ = deflate_zeros(kernel_size)
    names = [f"f{index:03d}".encode() for index in range(count)]
    content = bytes(kernel_size)
    payload = kernel
    headers: list[bytes] = []
    sizes: list[tuple[int, int, int]] = []  # (crc, compressed, size) per entry, built last to first
    for name in reversed(names):
        crc = zlib.crc32(content)
        header = LocalHeader(name, method=DEFLATED, crc=crc, compress_size=len(payload), size=len(content)).pack()
        headers.append(header)
        sizes.append((crc, len(payload), len(content)))
        content = header + content
        payload = stored_block(header) + payload
    headers.reverse()
    sizes.reverse()
    body = headers[0] + payload[5 + len(headers[0]):]  # entry 0's header, then its data
    items: list[Entry | Raw] = [Raw(body)]
    offset = 0
    for name, header, (crc, csize, size) in zip(names, headers, sizes, strict=True):
        items.append(Entry(name, method=DEFLATED, crc=crc, compress_size=csize, size=size, in_local=False,
                           central={"header_offset": offset}))
        offset += len(header) + 5
    return build(items).data
