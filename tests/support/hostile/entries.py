"""Class B: entry types, encoding of member data, headers that lie (threats.md B16-B29)."""

from __future__ import annotations

import bz2
import lzma
import stat
import struct
import zlib

from support.v1kit import collection
from support.zipcraft import DEFLATED, STORED, Entry, build, unix_attr

from .base import (
    ARCHIVE,
    COLLECTION,
    IMAGE,
    INTRO_XML,
    V2,
    Case,
    base_members,
    crafted,
    entries,
    patch,
    replace_entry,
    text_bytes,
    with_extra,
)

__all__ = ["cases"]

def _truncated_central_directory() -> bytes:
    """The central directory cut short (its last 30 bytes gone), the EOCD record kept and unchanged."""
    built = build(entries())
    cut = built.eocd_offset - 30
    return built.data[:cut] + built.data[built.eocd_offset:]


def _cut_in_half() -> bytes:
    data = crafted()
    return data[: len(data) // 2]


def _crc_mismatch() -> bytes:
    return crafted(members={**base_members(), IMAGE: b"\x89PNG fake"}).replace(
        struct.pack("<I", zlib.crc32(b"\x89PNG fake")), struct.pack("<I", 0xDEADBEEF))


def _bit_flip_in_deflate() -> bytes:
    """One byte of the compressed OLX flipped (headers untouched): the CRC or the inflater notices."""
    content = ("<html><p>" + "lorem ipsum dolor sit amet " * 40 + "</p></html>").encode()
    built = build(entries({**base_members(), INTRO_XML: content}))
    names = list(base_members())
    offset = built.local_offsets[names.index(INTRO_XML)] + 30 + len(INTRO_XML) + 10
    data = bytearray(built.data)
    data[offset] ^= 0x55
    return bytes(data)


def _eocd_count_lie() -> bytes:
    built = build(entries())
    return patch(built.data, built.eocd_offset + 8, struct.pack("<HH", 65535, 65535))


def _local_entry_hidden_from_central_directory() -> bytes:
    return crafted(Entry("entities/hidden.toml", b'[entity]\nkey = "x"\n', in_central=False),
                   Entry("collections/c2.toml", text_bytes(collection("c2", ["unit-1"]))))


def _size_lie_hidden_tail() -> bytes:
    content = b"A" * 1000
    return crafted(Entry(f"{V2}/static/short.txt", content, method=DEFLATED, size=10, crc=zlib.crc32(content[:10])))


def _size_lie_short_stream() -> bytes:
    content = b"B" * 1000
    return crafted(Entry(f"{V2}/static/long.txt", content, method=DEFLATED, size=5000))


def _zip64_absurd_size() -> bytes:
    return crafted(Entry(f"{V2}/static/huge.bin", b"abc", size=2**64 - 1, zip64=True))


def _zip64_locator_lie() -> bytes:
    return crafted(zip64_end=True, locator={"record_offset": 10})




def cases() -> list[Case]:
    """Class B, entry types and the encoding of data, in a fixed order."""
    png_like = b"\x89PNG\r\n\x1a\n" + bytes(100)
    return [
        Case("symlink", with_extra(Entry(f"{V2}/static/link", b"/etc/passwd",
                                          external_attr=unix_attr(stat.S_IFLNK | 0o777))),
             f"{V2}/static/link", "symbolic link", "B16 / issue: symlink"),
        Case("fifo", with_extra(Entry(f"{V2}/static/pipe", b"", external_attr=unix_attr(stat.S_IFIFO | 0o644))),
             f"{V2}/static/pipe", "FIFO", "B17"),
        Case("encrypted", replace_entry(IMAGE, flags=0x1), IMAGE, "encrypted entry", "B18"),
        Case("aes-method", replace_entry(IMAGE, method=99, payload=b"\x00" * 20), IMAGE, "encrypted entry", "B18"),
        Case("bzip2-method", replace_entry(IMAGE, method=12, payload=bz2.compress(b"\x89PNG fake")),
             IMAGE, "unsupported compression method 12 (bzip2)", "B19"),
        Case("lzma-method", replace_entry(IMAGE, method=14, payload=lzma.compress(b"\x89PNG fake",
                                                                                    format=lzma.FORMAT_ALONE)),
             IMAGE, "unsupported compression method 14 (lzma)", "B19"),
        Case("crc-mismatch", _crc_mismatch, IMAGE, "CRC-32 mismatch", "B20 / issue: CRC mismatch"),
        Case("corrupt-deflate", _bit_flip_in_deflate, INTRO_XML, "cannot read member data", "B21"),
        Case("truncated-half", _cut_in_half, ARCHIVE, "no end-of-central-directory record", "B22"),
        Case("empty-file", lambda: b"", ARCHIVE, "not a ZIP archive", "B22"),
        Case("png-not-zip", lambda: png_like, ARCHIVE, "not a ZIP archive", "B22"),
        Case("truncated-central-directory", _truncated_central_directory, ARCHIVE, "truncated",
             "B22 / issue: truncated central directory"),
        Case("prepended-data", lambda: b"MZ" + bytes(100) + crafted(), ARCHIVE, "prepended data", "B23"),
        Case("trailing-garbage", lambda: crafted() + b"GARBAGE", ARCHIVE, "trailing data after the archive", "B23"),
        Case("local-central-name-mismatch", replace_entry(IMAGE, local={"name": IMAGE.upper().encode()}), IMAGE,
             "differs from the central directory name", "B24"),
        Case("local-central-method-mismatch", replace_entry(IMAGE, local={"method": STORED}), IMAGE,
             "the local header compression method 0 differs", "B24"),
        Case("hidden-local-entry", _local_entry_hidden_from_central_directory, COLLECTION,
             "not referenced by the central directory (hidden data)", "B25"),
        Case("data-descriptor-lie", with_extra(Entry(f"{V2}/static/dd.bin", b"data" * 50, method=DEFLATED,
                                                      descriptor=struct.pack("<IIII", 0x08074B50, 1, 2, 3))),
             f"{V2}/static/dd.bin", "the data descriptor", "B24"),
        Case("unicode-path-extra-field", with_extra(Entry(f"{V2}/static/u.png", b"x",
                                                           extra=struct.pack("<HHB", 0x7075, 5, 1) + b"../x")),
             f"{V2}/static/u.png", "Unicode Path extra field", "A10"),
        Case("eocd-count-lie", _eocd_count_lie, ARCHIVE, "declares 65535 entries but the central directory holds 9",
             "B26"),
        Case("size-lie-hidden-tail", _size_lie_hidden_tail, f"{V2}/static/short.txt",
             "data inflates past its declared size of 10 bytes", "B27"),
        Case("size-lie-short-stream", _size_lie_short_stream, f"{V2}/static/long.txt",
             "data inflates to 1000 bytes, less than the declared 5000", "B27"),
        Case("zip64-absurd-size", _zip64_absurd_size, f"{V2}/static/huge.bin",
             f"declared size of {2**64 - 1} bytes is above the per-member limit", "B28"),
        Case("zip64-compressed-size-past-eof", with_extra(Entry(f"{V2}/static/w.bin", b"abc", method=DEFLATED,
                                                                 compress_size=1 << 40, zip64=True)),
             f"{V2}/static/w.bin", "runs past the end of the file", "B28"),
        Case("zip64-locator-lie", _zip64_locator_lie, ARCHIVE, "no ZIP64 end-of-central-directory record", "B29"),
        Case("zip64-truncated-extra", with_extra(Entry(f"{V2}/static/z.bin", b"abc", central={
            "size": 0xFFFFFFFF, "extra": b"\x01\x00\x04\x00abcd"})),
             f"{V2}/static/z.bin", "ZIP64 extra field missing or truncated", "B28"),
    ]
