"""ArchiveReader: the structural pre-flight, bounded member streams, and the real peer archives.

Each hostile case is a small valid archive plus one defect (built with ``zipcraft``); the test checks
that the reader raises ``ArchiveInvalid`` naming the offending member with the expected reason.
Sections follow the threat test plan (``threats.md``): A names and paths, B entry types and structure,
C bombs.
"""

from __future__ import annotations

import bz2
import gc
import io
import json
import lzma
import random
import stat
import struct
import subprocess
import sys
import textwrap
import time
import tracemalloc
import unicodedata
import zipfile
import zlib
from pathlib import Path

import pytest
import zipstream
from support.paths import REPO
from support.peer import peer_archives
from support.zipcraft import (
    DEFLATED,
    STORED,
    Entry,
    Raw,
    build,
    deflate,
    deflate_zeros,
    full_overlap_bomb,
    quoted_overlap_bomb,
    unix_attr,
    zip64_extra,
)

from lc_archive.archive import ARCHIVE, DEFAULT_LIMITS, ArchiveReader, Limits, Member, zip_directory
from lc_archive.errors import ArchiveInvalid, Problem

MIB = 1 << 20
TOML = b'key = "lib:Org:LIB"\ntitle = "A library"\n' * 4


def noise(size: int) -> bytes:
    """Incompressible bytes (so the ratio limits stay out of the way)."""
    return random.Random(size).randbytes(size)


def base_entries() -> list[Entry | Raw]:
    """A small valid archive in the v1 shape."""
    return [
        Entry("package.toml", TOML),
        Entry("entities/"),
        Entry("entities/unit1.toml", TOML, method=DEFLATED),
        Entry("entities/xblock.v1/html/a/component_versions/v1/block.xml", b"<html/>", method=DEFLATED),
    ]


def archive(*extra: Entry | Raw, **options: object) -> bytes:
    return build([*base_entries(), *extra], **options).data  # type: ignore[arg-type]


def problems_of(data: bytes, limits: Limits = DEFAULT_LIMITS) -> tuple[Problem, ...]:
    with pytest.raises(ArchiveInvalid) as info:
        ArchiveReader(io.BytesIO(data), limits)
    return tuple(info.value.problems)


def assert_rejected(data: bytes, member: str, fragment: str, limits: Limits = DEFAULT_LIMITS) -> None:
    problems = problems_of(data, limits)
    assert any(p.member == member and fragment in p.message and p.path == "$" for p in problems), problems


def read_fails(data: bytes, name: str, fragment: str) -> None:
    with ArchiveReader(io.BytesIO(data)) as reader, pytest.raises(ArchiveInvalid) as info:
        reader.read_bytes(name)
    assert [(p.member, p.path) for p in info.value.problems] == [(name, "$")]
    assert fragment in info.value.problems[0].message, info.value.problems


# -- valid archives ----------------------------------------------------------------------------------


def test_valid_archive_lists_and_reads_members() -> None:
    with ArchiveReader(io.BytesIO(archive())) as reader:
        assert reader.names() == ["package.toml", "entities/", "entities/unit1.toml",
                                  "entities/xblock.v1/html/a/component_versions/v1/block.xml"]
        assert len(reader) == 4
        assert "entities/" in reader and "nope" not in reader
        assert reader.member("entities/") == Member("entities/", True, 0, 0, 0, STORED)
        unit = reader.member("entities/unit1.toml")
        assert (unit.is_dir, unit.size, unit.compress_type, unit.crc) == (False, len(TOML), DEFLATED, zlib.crc32(TOML))
        assert reader.read_bytes("entities/unit1.toml") == TOML
        with reader.open("package.toml") as stream:
            assert stream.read(5) == TOML[:5]
            assert stream.read() == TOML[5:]
            assert stream.read() == b""
        assert reader.members[0].name == "package.toml"
        assert reader.comment == b""


def test_path_source_and_close(tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    path.write_bytes(archive())
    with ArchiveReader(path) as reader:
        stream = reader.open("package.toml")
    assert reader._file.closed
    with pytest.raises(ValueError):
        stream.read()
    with pytest.raises(ValueError):
        reader.open("package.toml")


def test_caller_file_object_is_not_closed() -> None:
    source = io.BytesIO(archive())
    with ArchiveReader(source):
        pass
    assert not source.closed


def test_lookup_errors() -> None:
    with ArchiveReader(io.BytesIO(archive())) as reader:
        with pytest.raises(KeyError):
            reader.open("missing.toml")
        with pytest.raises(KeyError):
            reader.member("missing.toml")
        with pytest.raises(IsADirectoryError):
            reader.open("entities/")


def test_empty_archive_is_valid() -> None:
    with ArchiveReader(io.BytesIO(build([]).data)) as reader:
        assert reader.members == ()


def test_comment_is_allowed_and_recorded() -> None:
    with ArchiveReader(io.BytesIO(archive(comment=b"made by a test"))) as reader:
        assert reader.comment == b"made by a test"


def test_comment_holding_a_signature_is_rejected() -> None:
    assert_rejected(archive(comment=b"xxPK\x01\x02yy"), ARCHIVE, "comment contains ZIP record signatures")


def test_data_descriptor_and_zip64_are_accepted() -> None:
    data = archive(Entry("d.bin", b"d" * 100, method=DEFLATED, descriptor=True),
                   Entry("z.bin", b"z" * 100, zip64=True),
                   Entry("zd.bin", b"q" * 10, method=DEFLATED, descriptor=True, zip64=True),
                   Entry("u.bin", b"u", descriptor=struct.pack("<III", zlib.crc32(b"u"), 1, 1)),
                   zip64_end=True)
    with ArchiveReader(io.BytesIO(data)) as reader:
        assert reader.read_bytes("d.bin") == b"d" * 100
        assert reader.read_bytes("z.bin") == b"z" * 100
        assert reader.read_bytes("zd.bin") == b"q" * 10
        assert reader.read_bytes("u.bin") == b"u"


def test_setuid_regular_file_and_typeless_mode_are_accepted() -> None:
    data = archive(Entry("static/run", b"x", external_attr=unix_attr(stat.S_IFREG | 0o4755)),
                   Entry("static/plain", b"y", external_attr=unix_attr(0o600)),
                   Entry("static/dos", b"z", create_system=0, external_attr=0x20))
    with ArchiveReader(io.BytesIO(data)) as reader:
        assert reader.read_bytes("static/run") == b"x"


def test_all_problems_are_reported_at_once() -> None:
    problems = problems_of(archive(Entry("../x"), Entry("/abs"), Entry("a\\b"), Entry("e", method=12)))
    assert {p.member for p in problems} == {"../x", "/abs", "a\\b", "e"}


# -- A. names and paths --------------------------------------------------------------------------------

NAME_CASES = [
    (b"../../outside/evil.toml", "../../outside/evil.toml", "'..' path component"),
    (b"static/a/../../../x.png", "static/a/../../../x.png", "'..' path component"),
    (b"entities/./x.toml", "entities/./x.toml", "'.' path component"),
    (b"..", "..", "'..' path component"),
    (b".", ".", "'.' path component"),
    (b"/etc/cron.d/evil", "/etc/cron.d/evil", "absolute path"),
    (b"/", "/", "absolute path"),
    (b"..\\..\\evil.toml", "..\\..\\evil.toml", "backslash"),
    (b"static\\..\\..\\x.png", "static\\..\\..\\x.png", "backslash"),
    (b"C:/Windows/evil.dll", "C:/Windows/evil.dll", "drive-letter path"),
    (b"C:evil", "C:evil", "drive-letter path"),
    (b"static/logo.png:stream", "static/logo.png:stream", "colon in the name"),
    (b"package.toml\x00.png", repr("package.toml\x00.png"), "control character 0x00 at byte 12"),
    (b"static/a\x1b[31m.png", repr("static/a\x1b[31m.png"), "control character 0x1b at byte 8"),
    (b"static/a\x7f.png", repr("static/a\x7f.png"), "control character 0x7f"),
    (b"", "''", "empty name"),
    (b"static//x.png", "static//x.png", "empty path component"),
    (b"static/" + b"a" * 300 + b".png", "static/" + "a" * 300 + ".png", "a path component is 304 bytes long"),
    (b"x/" * 1000 + b"y", "x/" * 1000 + "y", "the name is 2001 bytes long"),
    (b"d/" * 200 + b"x", "d/" * 200 + "x", "the path has 201 components"),
]


@pytest.mark.parametrize(("raw", "member", "fragment"), NAME_CASES, ids=[c[1][:30] for c in NAME_CASES])
def test_unsafe_names_are_rejected(raw: bytes, member: str, fragment: str) -> None:
    assert_rejected(archive(Entry(raw, b"x")), member, fragment)


def test_invalid_utf8_name_with_flag() -> None:
    assert_rejected(archive(Entry(b"static/\xff\xfe.png", b"x", flags=0x800)), repr("static/\\xff\\xfe.png"),
                    "not valid UTF-8")


def test_non_ascii_name_without_utf8_flag() -> None:
    assert_rejected(archive(Entry("static/café.png".encode(), b"x", flags=0)), "static/café.png",
                    "without the UTF-8 flag")
    assert_rejected(archive(Entry(b"static/caf\xe9.png", b"x", flags=0)), repr("static/caf\\xe9.png"),
                    "without the UTF-8 flag")


def test_non_nfc_name() -> None:
    nfd = unicodedata.normalize("NFD", "static/café.png")
    assert_rejected(archive(Entry(nfd, b"x")), nfd, "not in Unicode normalisation form NFC")


def test_nfc_utf8_name_is_accepted() -> None:
    with ArchiveReader(io.BytesIO(archive(Entry("static/café ü.png", b"x")))) as reader:
        assert reader.read_bytes("static/café ü.png") == b"x"


def test_unicode_path_extra_field_is_rejected() -> None:
    unicode_path = struct.pack("<HHB", 0x7075, 5 + 6, 1) + struct.pack("<I", zlib.crc32(b"a.txt")) + b"../evil"[:6]
    assert_rejected(archive(Entry("a.txt", b"x", extra=unicode_path)), "a.txt", "Unicode Path extra field")


def test_malformed_extra_field_is_rejected() -> None:
    assert_rejected(archive(Entry("a.txt", b"x", extra=b"\x01\x00\x40\x00")), "a.txt", "malformed extra field")


def test_duplicate_names() -> None:
    data = archive(Entry("package.toml", b'key = "lib:B"'))
    assert_rejected(data, "package.toml", "duplicate entry name")


def test_case_fold_collision() -> None:
    data = archive(Entry("static/Logo.png", b"1"), Entry("static/logo.png", b"2"))
    assert_rejected(data, "static/logo.png", "collides with 'static/Logo.png'")


def test_non_ascii_case_fold_collision() -> None:
    data = archive(Entry("static/STRASSE.txt", b"1"), Entry("static/straße.txt", b"2"))
    assert_rejected(data, "static/straße.txt", "collides with 'static/STRASSE.txt'")


def test_nfc_nfd_collision() -> None:
    nfc = "static/café.png"
    nfd = unicodedata.normalize("NFD", nfc)
    assert_rejected(archive(Entry(nfc, b"1"), Entry(nfd, b"2")), nfd, f"collides with {nfc!r}")


def test_file_used_as_directory() -> None:
    assert_rejected(archive(Entry("static/img", b"1"), Entry("static/img/a.png", b"2")), "static/img",
                    "also used as a directory (by 'static/img/a.png')")


def test_file_used_as_directory_case_insensitively() -> None:
    assert_rejected(archive(Entry("static/IMG", b"1"), Entry("static/img/a.png", b"2")), "static/IMG",
                    "also used as a directory")


def test_file_and_directory_with_same_name() -> None:
    assert_rejected(archive(Entry("static/x.png", b"1"), Entry("static/x.png/")), "static/x.png/",
                    "a file and a directory share this name")


def test_directory_entry_carrying_data() -> None:
    assert_rejected(archive(Entry("static/d/", b"abc")), "static/d/", "directory entry declares 3 bytes")
    assert_rejected(archive(Entry("static/d/", payload=b"abc", size=0)), "static/d/",
                    "directory entry carries 3 bytes")


# -- B. entry types, encryption, methods ---------------------------------------------------------------


@pytest.mark.parametrize(("mode", "kind"), [
    (stat.S_IFLNK | 0o777, "symbolic link"),
    (stat.S_IFIFO | 0o644, "FIFO"),
    (stat.S_IFCHR | 0o644, "character device"),
    (stat.S_IFBLK | 0o644, "block device"),
    (stat.S_IFSOCK | 0o644, "socket"),
])
def test_special_file_types_are_rejected(mode: int, kind: str) -> None:
    data = archive(Entry("static", b"/etc", external_attr=unix_attr(mode)), Entry("static2/passwd", b"x"))
    assert_rejected(data, "static", f"the entry is a {kind}")


def test_directory_mode_without_slash() -> None:
    assert_rejected(archive(Entry("static/d", external_attr=unix_attr(stat.S_IFDIR | 0o755))), "static/d",
                    "whose name does not end with '/'")


def test_encrypted_entries() -> None:
    assert_rejected(archive(Entry("static/logo.png", b"x", flags=0x1)), "static/logo.png", "encrypted entry")
    assert_rejected(archive(Entry("static/aes.png", b"x", method=99)), "static/aes.png", "encrypted entry")


@pytest.mark.parametrize(("method", "payload", "label"), [
    (12, bz2.compress(b"hello" * 100), "bzip2"),
    (14, lzma.compress(b"hello" * 100, format=lzma.FORMAT_ALONE), "lzma"),
    (9, deflate(b"hello" * 100), "deflate64"),
    (93, b"????", "zstandard"),
])
def test_unsupported_methods(method: int, payload: bytes, label: str) -> None:
    data = archive(Entry("static/x.bin", b"hello" * 100, method=method, payload=payload))
    assert_rejected(data, "static/x.bin", f"unsupported compression method {method} ({label})")


# -- B. structure -------------------------------------------------------------------------------------


def test_crc_mismatch_stored() -> None:
    data = archive(Entry("static/a.bin", b"a" * 1000, crc=0xDEADBEEF))
    read_fails(data, "static/a.bin", "CRC-32 mismatch")


def test_crc_mismatch_is_raised_before_the_last_bytes_are_returned() -> None:
    content = noise(MIB)
    payload = bytearray(deflate(content))
    entry = Entry("static/b.bin", content, method=DEFLATED, payload=bytes(payload), crc=zlib.crc32(content) ^ 1)
    with ArchiveReader(io.BytesIO(archive(entry))) as reader, reader.open("static/b.bin") as stream:
        got = 0
        with pytest.raises(ArchiveInvalid, match="CRC-32 mismatch"):
            while chunk := stream.read(65536):
                got += len(chunk)
        assert got < len(content)
        with pytest.raises(ArchiveInvalid):  # keeps failing
            stream.read(1)


def test_bit_flip_in_deflate_stream() -> None:
    content = bytes(range(256)) * 400
    payload = bytearray(deflate(content))
    payload[10] ^= 0xFF
    data = archive(Entry("static/c.bin", content, method=DEFLATED, payload=bytes(payload)))
    with ArchiveReader(io.BytesIO(data)) as reader, pytest.raises(ArchiveInvalid) as info:
        reader.read_bytes("static/c.bin")
    assert info.value.problems[0].member == "static/c.bin"


def test_garbage_deflate_data_is_wrapped() -> None:
    data = archive(Entry("static/g.bin", b"x" * 20, method=DEFLATED, payload=b"\xff" * 20))
    read_fails(data, "static/g.bin", "cannot read member data (error:")


@pytest.mark.parametrize("cut", ["half", "minus_one", "empty", "tiny", "not_zip"])
def test_truncated_or_not_a_zip(cut: str) -> None:
    blob = archive()
    data = {"half": blob[:len(blob) // 2], "minus_one": blob[:-1], "empty": b"", "tiny": b"PK\x05\x06",
            "not_zip": b"\x89PNG\r\n\x1a\n" + bytes(100)}[cut]
    problems = problems_of(data)
    assert [p.member for p in problems] == [ARCHIVE]


def test_truncated_central_directory() -> None:
    built = build(base_entries())
    broken = built.data[:built.cd_offset + 30] + built.data[built.eocd_offset:]
    assert_rejected(broken, ARCHIVE, "does not end where the end-of-central-directory record begins")


def test_central_record_running_past_the_directory() -> None:
    data = archive(Entry("a.txt", b"x", central={"comment_length": 500}))
    assert_rejected(data, ARCHIVE, "the central directory ends inside a record")


def test_bad_central_signature() -> None:
    data = archive(Entry("a.txt", b"x", central={"signature": 0x02014B51}))
    assert_rejected(data, ARCHIVE, "bad central directory record signature")


def test_trailing_garbage() -> None:
    assert_rejected(archive(suffix=b"GARBAGE"), ARCHIVE, "does not end the file")


def test_two_concatenated_archives() -> None:
    assert_rejected(archive() + archive(), ARCHIVE, "prepended data")


def test_prepended_data() -> None:
    assert_rejected(archive(prefix=b"MZ" + bytes(100)), ARCHIVE, "prepended data")


def test_prepended_data_with_absolute_offsets() -> None:
    assert_rejected(archive(prefix=b"MZ" + bytes(100), shift_offsets=True), ARCHIVE,
                    "the first 102 bytes are not referenced by the central directory (prepended data)")


@pytest.mark.parametrize("count", [65535, 1, 5])
def test_eocd_count_lie(count: int) -> None:
    assert_rejected(archive(end={"entries": count}), ARCHIVE,
                    f"declares {count} entries but the central directory holds 4")


def test_eocd_disk_count_mismatch() -> None:
    assert_rejected(archive(end={"disk_entries": 3}), ARCHIVE, "counts 3 entries on this disk")


def test_multi_disk() -> None:
    assert_rejected(archive(end={"disk": 1}), ARCHIVE, "multi-disk")


def test_local_central_name_mismatch() -> None:
    data = archive(Entry("static/logo.png", b"x", local={"name": b"safe.txt"}))
    assert_rejected(data, "static/logo.png", "the local header name b'safe.txt' differs")


def test_local_central_method_mismatch() -> None:
    data = archive(Entry("static/m.bin", b"x", local={"method": DEFLATED}))
    assert_rejected(data, "static/m.bin", "local header compression method 8 differs")


def test_local_central_flags_mismatch() -> None:
    data = archive(Entry("static/f.bin", b"x", local={"flags": 0x800}))
    assert_rejected(data, "static/f.bin", "local header flags 0x0800 differ")


def test_local_central_size_mismatch() -> None:
    data = archive(Entry("static/s.bin", b"xyz", local={"size": 2}))
    assert_rejected(data, "static/s.bin", "the local header (CRC")


def test_bad_local_signature() -> None:
    data = archive(Entry("static/l.bin", b"x", local={"signature": 0x04034B51}))
    assert_rejected(data, "static/l.bin", "no local file header at offset")


def test_local_entry_missing_from_central_directory() -> None:
    data = archive(Entry("entities/hidden.toml", TOML, in_central=False), Entry("static/after.png", b"png"))
    assert_rejected(data, "entities/xblock.v1/html/a/component_versions/v1/block.xml",
                    "bytes after the entry's data are not referenced by the central directory")


def test_hidden_local_entry_at_start() -> None:
    data = build([Entry("hidden.toml", TOML, in_central=False), *base_entries()]).data
    assert_rejected(data, ARCHIVE, "(an unlisted local entry)")


def test_data_descriptor_mismatch_and_missing() -> None:
    bad = struct.pack("<IIII", 0x08074B50, 1, 2, 3)
    assert_rejected(archive(Entry("d.bin", b"abc", descriptor=bad)), "d.bin", "the data descriptor (CRC 0x00000001")
    assert_rejected(archive(Entry("e.bin", b"abc", flags=0x8)), "e.bin", "missing or malformed data descriptor")


def test_size_lie_hidden_trailing_data() -> None:
    content = bytes(range(256)) * 4
    data = archive(Entry("static/h.bin", content, method=DEFLATED, size=10, crc=zlib.crc32(content[:10])))
    read_fails(data, "static/h.bin", "inflates past its declared size of 10 bytes")


def test_size_lie_short_stream() -> None:
    content = bytes(range(256)) * 4
    data = archive(Entry("static/s.bin", content, method=DEFLATED, size=1000 * 1000))
    read_fails(data, "static/s.bin", "inflates to 1024 bytes, less than the declared 1000000")


def test_compressed_data_after_deflate_stream_end() -> None:
    content = b"hello world" * 10
    data = archive(Entry("static/t.bin", content, method=DEFLATED, payload=deflate(content) + b"hidden"))
    read_fails(data, "static/t.bin", "continues after the end of the deflate stream")


def test_truncated_deflate_stream() -> None:
    content = bytes(range(256)) * 40
    data = archive(Entry("static/u.bin", content, method=DEFLATED, payload=deflate(content)[:-20]))
    read_fails(data, "static/u.bin", "compressed data ends before the deflate stream does")


def test_stored_size_mismatch() -> None:
    assert_rejected(archive(Entry("static/v.bin", b"abc", size=2)), "static/v.bin",
                    "stored entry whose compressed size (3) differs from its size (2)")


def test_compressed_size_past_end_of_file() -> None:
    data = archive(Entry("static/w.bin", b"abc", method=DEFLATED, compress_size=1 << 40, zip64=True))
    assert_rejected(data, "static/w.bin", "runs past the end of the file")


def test_zip64_absurd_declared_size() -> None:
    data = archive(Entry("static/y.bin", b"abc", size=2**64 - 1, zip64=True))
    assert_rejected(data, "static/y.bin", "above the per-member limit")
    central_only = {"size": 0xFFFFFFFF, "extra": zip64_extra(2**63)}
    assert_rejected(archive(Entry("static/y2.bin", b"abc", central=central_only)), "static/y2.bin",
                    "above the per-member limit")


def test_truncated_zip64_extra() -> None:
    data = archive(Entry("static/z.bin", b"abc", central={"size": 0xFFFFFFFF, "extra": b"\x01\x00\x04\x00abcd"}))
    assert_rejected(data, "static/z.bin", "ZIP64 extra field missing or truncated")


def test_zip64_locator_pointing_elsewhere() -> None:
    assert_rejected(archive(zip64_end=True, locator={"record_offset": 0}), ARCHIVE,
                    "no ZIP64 end-of-central-directory record at offset 0")
    assert_rejected(archive(zip64_end=True, locator={"record_offset": 10}), ARCHIVE,
                    "no ZIP64 end-of-central-directory record")


def test_zip64_record_with_gap_before_locator() -> None:
    assert_rejected(archive(zip64_end={"record_size": 40}), ARCHIVE, "does not end where its locator begins")


def test_zip64_record_disagrees_with_eocd() -> None:
    assert_rejected(archive(zip64_end={"entries": 5, "disk_entries": 5}, end={"entries": 4}), ARCHIVE,
                    "disagrees with the end-of-central-directory record on the entries")


# -- C. bombs and limits ------------------------------------------------------------------------------


def test_declared_one_gigabyte_member() -> None:
    data = archive(Entry("static/big.bin", b"x" * 100, method=DEFLATED, size=10**9))
    assert_rejected(data, "static/big.bin", "declared size of 1000000000 bytes is above the per-member limit")


def test_ratio_bomb_declared_10000x() -> None:
    payload = deflate(bytes(range(256)) * 4)
    data = archive(Entry("static/r.bin", method=DEFLATED, payload=payload, size=len(payload) * 10_000))
    assert_rejected(data, "static/r.bin", "declared compression ratio of 10000:1")


def test_real_deflate_ratio_bomb_is_rejected_before_inflating() -> None:
    payload, crc = deflate_zeros(64 * MIB)  # about 1030:1
    data = archive(Entry("static/zeros.bin", method=DEFLATED, payload=payload, crc=crc, size=64 * MIB))
    started = time.perf_counter()
    assert_rejected(data, "static/zeros.bin", "above the limit of 200:1 (possible zip bomb)")
    assert time.perf_counter() - started < 30  # a hang guard: inflating first would take far longer


def test_small_entries_are_exempt_from_the_ratio_limit() -> None:
    content = bytes(MIB)  # exactly the threshold: not above it
    limits = DEFAULT_LIMITS.replace(max_total_ratio=10_000)
    data = archive(Entry("static/z.bin", content, method=DEFLATED))
    with ArchiveReader(io.BytesIO(data), limits) as reader:
        assert reader.read_bytes("static/z.bin") == content


def test_total_size_limit() -> None:
    payload, crc = deflate_zeros(MIB)
    entries = [Entry(f"static/{i}.bin", method=DEFLATED, payload=payload, crc=crc, size=MIB) for i in range(20)]
    limits = DEFAULT_LIMITS.replace(max_total_uncompressed=10 * MIB)
    assert_rejected(archive(*entries), ARCHIVE, "declared total size of 20971", limits)


def test_total_ratio_limit() -> None:
    payload, crc = deflate_zeros(MIB)
    entries = [Entry(f"static/{i}.bin", method=DEFLATED, payload=payload, crc=crc, size=MIB) for i in range(5)]
    assert_rejected(archive(*entries), ARCHIVE, "declared total compression ratio")


def test_member_count_limit_from_eocd() -> None:
    limits = DEFAULT_LIMITS.replace(max_members=3)
    assert_rejected(archive(), ARCHIVE, "the archive declares 4 entries, above the limit of 3", limits)


def test_member_count_limit_when_eocd_lies_low() -> None:
    limits = DEFAULT_LIMITS.replace(max_members=3)
    assert_rejected(archive(end={"entries": 2}), ARCHIVE, "holds more than 3 entries", limits)


def test_full_overlap_bomb_same_name() -> None:
    problems = problems_of(full_overlap_bomb(1000))
    messages = {(p.member, p.message.split(" (")[0]) for p in problems}
    assert ("0", "duplicate entry name") in messages
    assert ("0", "the entry shares its local header") in messages


def test_full_overlap_bomb_unique_names() -> None:
    problems = problems_of(full_overlap_bomb(1000, unique_names=True))
    shared = [p for p in problems if "shares its local header (offset 0) with '0'" in p.message]
    assert len(shared) == 999 and shared[-1].member == "999"
    assert any(p.member == ARCHIVE and "total compression ratio" in p.message for p in problems)


def test_quoted_overlap_bomb() -> None:
    data = quoted_overlap_bomb(10, MIB)
    zipped = zipfile.ZipFile(io.BytesIO(data))  # it is a bomb: CPython 3.12.1's zipfile inflates it all
    assert len(zipped.read("f000")) > MIB
    overlaps = [p for p in problems_of(data) if "overlaps the next entry" in p.message]
    assert [p.member for p in overlaps] == [f"f{i:03d}" for i in range(9)]


_MEMORY_SCRIPT = textwrap.dedent("""
    import json, resource, sys, time, tracemalloc
    from lc_archive.archive import ArchiveReader
    from lc_archive.errors import ArchiveInvalid

    def peak_kib():
        # VmHWM belongs to this process image; ru_maxrss would carry over the parent's peak across exec.
        try:
            with open("/proc/self/status") as status:
                return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
        except OSError:
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    path, name, mode = sys.argv[1:4]
    before = peak_kib()
    tracemalloc.start()
    started = time.perf_counter()
    error, got = None, 0
    try:
        with ArchiveReader(path) as reader, reader.open(name) as stream:
            while chunk := stream.read(65536 if mode == "chunks" else -1):
                got += len(chunk)
    except ArchiveInvalid as exc:
        error = str(exc.problems[0])
    seconds = time.perf_counter() - started
    traced = tracemalloc.get_traced_memory()[1] // 1024
    print(json.dumps({"delta_kib": peak_kib() - before, "traced_kib": traced, "seconds": seconds,
                      "error": error, "got": got}))
""")


def run_reader(path: Path, name: str, mode: str) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT, str(path), name, mode], cwd=REPO,
                         capture_output=True, text=True, check=True, timeout=60)
    result: dict[str, object] = json.loads(out.stdout)
    return result


@pytest.mark.parametrize("mode", ["chunks", "all"])
@pytest.mark.parametrize("declared", [0, 10])
def test_entry_claiming_few_bytes_inflating_to_100mb_fails_fast(tmp_path: Path, declared: int, mode: str) -> None:
    payload, _ = deflate_zeros(100 * MIB)
    path = tmp_path / "bomb.zip"
    path.write_bytes(archive(Entry("static/empty.bin", method=DEFLATED, payload=payload, size=declared,
                                   crc=zlib.crc32(bytes(declared)))))
    result = run_reader(path, "static/empty.bin", mode)
    assert result["error"] == f"static/empty.bin: $: data inflates past its declared size of {declared} bytes"
    assert result["got"] == 0
    assert isinstance(result["delta_kib"], int) and result["delta_kib"] < 50 * 1024
    assert isinstance(result["traced_kib"], int) and result["traced_kib"] < 1024
    assert isinstance(result["seconds"], float) and result["seconds"] < 30  # hang guard only


def test_large_member_streams_in_bounded_memory(tmp_path: Path) -> None:
    content = noise(40 * MIB)
    path = tmp_path / "large.zip"
    path.write_bytes(archive(Entry("static/large.bin", content, method=DEFLATED)))
    for mode in ("chunks",):
        result = run_reader(path, "static/large.bin", mode)
        assert result["error"] is None and result["got"] == len(content)
        assert isinstance(result["delta_kib"], int) and result["delta_kib"] < 50 * 1024
        assert isinstance(result["traced_kib"], int) and result["traced_kib"] < 1024


def test_read_bytes_enforces_max_size() -> None:
    with ArchiveReader(io.BytesIO(archive())) as reader, pytest.raises(ArchiveInvalid) as info:
        reader.read_bytes("package.toml", max_size=10)
    assert info.value.problems == (Problem("package.toml", "$", f"member is {len(TOML)} bytes, above the limit of "
                                                                "10 bytes for this kind of file"),)


class FlakyFile(io.BytesIO):
    """Fails reads once ``broken`` is set, like a disk error after the pre-flight."""

    broken = False

    def read(self, size: int | None = -1, /) -> bytes:
        if self.broken:
            raise OSError(5, "Input/output error")
        return super().read(size)


def test_io_error_while_reading_is_wrapped() -> None:
    source = FlakyFile(archive())
    with ArchiveReader(source) as reader:
        source.broken = True
        with pytest.raises(ArchiveInvalid) as info:
            reader.read_bytes("package.toml")
    assert info.value.problems[0].member == "package.toml"
    assert "Input/output error" in info.value.problems[0].message


def test_io_error_during_preflight_is_wrapped() -> None:
    source = FlakyFile(archive())
    source.broken = True
    assert problems_of_source(source)[0].member == ARCHIVE


def problems_of_source(source: io.BytesIO) -> tuple[Problem, ...]:
    with pytest.raises(ArchiveInvalid) as info:
        ArchiveReader(source)
    return tuple(info.value.problems)


# -- limits ---------------------------------------------------------------------------------------------


def test_default_limits() -> None:
    assert DEFAULT_LIMITS.max_members == 1_000_000
    assert DEFAULT_LIMITS.max_total_uncompressed == 32 << 30
    assert DEFAULT_LIMITS.max_member_size == 64 * MIB
    assert DEFAULT_LIMITS.max_toml_size == MIB
    assert (DEFAULT_LIMITS.max_ratio, DEFAULT_LIMITS.max_total_ratio) == (200, 100)
    assert (DEFAULT_LIMITS.max_path_length, DEFAULT_LIMITS.max_path_depth) == (1024, 32)
    assert DEFAULT_LIMITS.max_name_component == 255


def test_limits_replace_and_validation() -> None:
    limits = DEFAULT_LIMITS.replace(max_members=7)
    assert limits.max_members == 7 and DEFAULT_LIMITS.max_members == 1_000_000
    with pytest.raises(ValueError, match="max_ratio"):
        DEFAULT_LIMITS.replace(max_ratio=0)
    with pytest.raises(TypeError):
        DEFAULT_LIMITS.replace(no_such_limit=1)


# -- real archives ---------------------------------------------------------------------------------------


def test_peer_archives_open_and_read_like_zipfile(peer_dir: Path) -> None:
    paths = peer_archives(peer_dir)
    assert len(paths) >= 18
    for path in paths:
        with ArchiveReader(path) as reader, zipfile.ZipFile(path) as reference:
            assert reader.names() == reference.namelist(), path
            for member in reader.members:
                if not member.is_dir:
                    assert reader.read_bytes(member.name) == reference.read(member.name), (path, member.name)


def test_zipfile_written_archive_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "std.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as out:
        out.writestr("package.toml", TOML)
        out.mkdir("entities")
        out.writestr("entities/ü.toml", TOML * 3)
        with out.open("static/stream.bin", "w", force_zip64=True) as stream:
            stream.write(b"abc" * 1000)
    with ArchiveReader(path) as reader:
        assert reader.names() == ["package.toml", "entities/", "entities/ü.toml", "static/stream.bin"]
        assert reader.read_bytes("static/stream.bin") == b"abc" * 1000


def test_zipstream_ng_archive_is_accepted() -> None:
    stream = zipstream.ZipStream(compress_type=zipstream.ZIP_DEFLATED)
    stream.add(TOML, "package.toml")
    stream.mkdir("entities")
    stream.add(iter([b"abc" * 1000, b"def"]), "entities/streamed.bin")  # unsized: ZIP64 + data descriptor
    stream.add(b"x", "entities/ü.toml", compress_type=zipstream.ZIP_STORED)
    with ArchiveReader(io.BytesIO(b"".join(stream))) as reader:
        assert reader.names() == ["package.toml", "entities/", "entities/streamed.bin", "entities/ü.toml"]
        assert reader.read_bytes("entities/streamed.bin") == b"abc" * 1000 + b"def"


def test_more_than_65535_entries_use_zip64_end_records() -> None:
    stream = zipstream.ZipStream(compress_type=zipstream.ZIP_STORED)
    for index in range(70_000):
        stream.add(b"", f"e/{index}")
    data = b"".join(stream)
    assert data[-12:-10] == b"\xff\xff"  # the EOCD count is the ZIP64 sentinel
    with ArchiveReader(io.BytesIO(data)) as reader:
        assert len(reader) == 70_000


def test_central_directory_too_large_for_its_count() -> None:
    built = build([Entry("a", b"x", central={"comment": bytes(10_000)})])
    assert_rejected(built.data, ARCHIVE, "is too large for 1 entries")


@pytest.mark.slow
def test_open_74k_member_archive(tmp_path: Path) -> None:
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as out:
        for index in range(74_000 // 4):
            base = f"entities/xblock.v1/problem/c{index:06d}"
            out.writestr(zipfile.ZipInfo(base + "/"), b"")
            out.writestr(zipfile.ZipInfo(base + "/component_versions/v1/"), b"")
            out.writestr(base + ".toml", TOML)
            out.writestr(base + "/component_versions/v1/block.xml", b"<problem/>" * (index % 50))
    with ArchiveReader(path) as reader:  # how fast: `make bench` (timings never live in unit tests)
        assert len(reader) == 74_000
        member = "entities/xblock.v1/problem/c000049/component_versions/v1/block.xml"
        assert reader.read_bytes(member) == b"<problem/>" * 49


# -- compact index and streamed central directory ------------------------------------------------------


def many_members_archive(count: int) -> bytes:
    """``count`` members shaped like a v1 library: per component two directories and two files."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zipped:
        for index in range(count // 4):
            base = f"entities/xblock.v1/problem/c{index:06d}"
            zipped.writestr(zipfile.ZipInfo(base + "/"), b"")
            zipped.writestr(zipfile.ZipInfo(base + "/component_versions/v1/"), b"")
            zipped.writestr(base + ".toml", TOML)
            zipped.writestr(base + "/component_versions/v1/block.xml", b"<problem/>" * (index % 5))
    return out.getvalue()


def test_memory_per_entry_is_bounded() -> None:
    """What an open reader keeps, and the pre-flight's peak, per entry (a 100,000-component archive
    has ~750,000 members). The kept index is the names plus ~60 bytes (a dict slot, an int and a few
    array cells for a file); it was ~390 bytes with an object per entry, and the peak ~640."""
    source = io.BytesIO(many_members_archive(20_000))
    gc.collect()
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        reader = ArchiveReader(source)
        retained, peak = tracemalloc.get_traced_memory()
    finally:
        if not tracing:
            tracemalloc.stop()
    assert len(reader) == 20_000
    per_entry, peak_per_entry = (retained - before) / 20_000, (peak - before) / 20_000
    assert per_entry < 350, f"{per_entry:.0f} bytes kept per entry"
    assert peak_per_entry < 500, f"{peak_per_entry:.0f} bytes per entry at the pre-flight's peak"


def test_central_directory_read_in_small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    data = many_members_archive(400)
    with ArchiveReader(io.BytesIO(data)) as reader:
        expected = (reader.names(), reader.members)
    for chunk in (1, 45, 46, 47, 100, 4096):
        monkeypatch.setattr(zip_directory, "_CD_CHUNK", chunk)
        with ArchiveReader(io.BytesIO(data)) as reader:
            assert (reader.names(), reader.members) == expected
            assert reader.read_bytes(expected[0][-1]) == b"<problem/>" * (99 % 5)
        assert_rejected(data[:-22] + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 401, 401, *struct.unpack_from(
            "<II", data, len(data) - 10), 0), ARCHIVE, "declares 401 entries but the central directory holds 400")


class ShortReadFile(io.BytesIO):
    """Reads from ``start`` on stop short at ``offset`` (or fail), like a file changing under the reader."""

    def __init__(self, data: bytes, start: int, offset: int, error: bool) -> None:
        super().__init__(data)
        self.start, self.offset, self.error = start, offset, error
        self.failed = False

    def read(self, size: int | None = -1, /) -> bytes:
        here = self.tell()
        if size is None or size < 0 or here < self.start or here + size <= self.offset:
            return super().read(size)
        self.failed = True
        if self.error:
            raise OSError(5, "Input/output error")
        return super().read(max(self.offset - here, 0))


@pytest.mark.parametrize("error", [False, True])
def test_unreadable_central_directory_is_the_only_problem(monkeypatch: pytest.MonkeyPatch, error: bool) -> None:
    """The directory is parsed as it is read, but a read failure is reported alone, as when it was read
    in one piece: neither after the problems of the records before it nor instead of a record problem
    that stopped the parse earlier."""
    monkeypatch.setattr(zip_directory, "_CD_CHUNK", 64)
    message = "cannot read the archive (OSError: [Errno 5] Input/output error)" if error else \
        "the central directory is truncated"
    bad_name = Entry("bad\\name.txt", b"1")
    bad_record = Entry("a.txt", b"x", central={"signature": 0})
    for items, fail_after in (([bad_name, *base_entries()], 100), ([bad_name, bad_record, *base_entries()], 250)):
        built = build(items)
        assert {p.message.split(" at offset")[0] for p in problems_of(built.data)} <= {
            "backslash in the name", "bad central directory record signature"}
        source = ShortReadFile(built.data, built.cd_offset, built.cd_offset + fail_after, error)
        assert problems_of_source(source) == (Problem(ARCHIVE, "$", message),) and source.failed


def test_directory_entries_keep_their_declared_fields() -> None:
    """Plain directory entries are kept as a shared code; others keep their own fields."""
    data = archive(Entry("static/", method=DEFLATED, payload=b"\x03\x00"),
                   Entry("static/crc/", crc=0x1234), Entry("static/f.bin", b"data"))
    with ArchiveReader(io.BytesIO(data)) as reader:
        assert reader.member("entities/") == Member("entities/", True, 0, 0, 0, STORED)
        assert reader.member("static/") == Member("static/", True, 0, 2, 0, DEFLATED)
        assert reader.member("static/crc/") == Member("static/crc/", True, 0, 0, 0x1234, STORED)
        assert reader.member("static/f.bin") == Member("static/f.bin", False, 4, 4, zlib.crc32(b"data"), STORED)
        assert [m.name for m in reader.members] == reader.names()
        with pytest.raises(IsADirectoryError):
            reader.open("static/")
        assert reader.read_bytes("static/f.bin") == b"data"


def test_names_is_a_fresh_list() -> None:
    with ArchiveReader(io.BytesIO(archive())) as reader:
        names = reader.names()
        names.clear()
        assert len(reader.names()) == 4 and "package.toml" in reader


def test_central_directory_out_of_file_order() -> None:
    built = build(base_entries())
    central = built.data[built.cd_offset:built.eocd_offset]
    records, pos = [], 0
    while pos < len(central):
        size = 46 + sum(struct.unpack_from("<HHH", central, pos + 28))
        records.append(central[pos:pos + size])
        pos += size
    data = built.data[:built.cd_offset] + b"".join(reversed(records)) + built.data[built.eocd_offset:]
    with ArchiveReader(io.BytesIO(data)) as reader:
        assert reader.names() == ["entities/xblock.v1/html/a/component_versions/v1/block.xml",
                                  "entities/unit1.toml", "entities/", "package.toml"]
        assert reader.read_bytes("package.toml") == TOML and reader.read_bytes("entities/unit1.toml") == TOML


def test_directory_and_doubled_slash_directory_do_not_collide() -> None:
    """'a/b//' is its own (invalid) path, not the file twin of directory 'a/b/'."""
    problems = problems_of(archive(Entry("static/b/"), Entry("static/b//")))
    assert problems == (Problem("static/b//", "$", "empty path component"),)


def test_collisions_between_names_that_are_not_utf8() -> None:
    data = archive(Entry(b"static/A\xff"), Entry(b"static/a\xff"), Entry(b"static/a\xff/x"))
    messages = {(p.member, p.message) for p in problems_of(data) if "UTF-8 flag" not in p.message}
    assert messages == {
        ("'static/a\\\\xff'", "the name collides with \"'static/A\\\\\\\\xff'\" after Unicode NFC normalisation and "
                                 "case folding"),
        ("'static/A\\\\xff'", "a file entry is also used as a directory (by 'static/a\\\\xff/x')"),
    }
