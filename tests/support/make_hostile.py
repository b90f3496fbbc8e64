"""Build the hostile-archive set: small v1 archives that each carry one attack or defect.

Every :class:`Case` starts from the tiny valid v1 archive of ``v1kit`` (laid out byte by byte with
``zipcraft`` where the attack lives in the ZIP structure) and changes one thing. Each case says which
archive member the refusal must name and a fragment of the message; ``tests/test_hostile.py`` restores
and validates every one through the CLI and checks that, and that the store is left untouched.

Bombs stay small on disk: deflated zeros are made by repeating one fully-flushed deflate block, and
their CRC-32 is computed arithmetically (:func:`crc32_zeros`), so a 1 GiB member costs about 1 MB and
a few milliseconds; lies are told in the headers.

Usage::

    python tests/support/make_hostile.py OUTDIR      # writes OUTDIR/<case>.zip and OUTDIR/expected.json

or, from Python, ``hostile_cases()`` (a list of :class:`Case`) and ``write_cases(outdir)``.
"""

from __future__ import annotations

import bz2
import json
import lzma
import stat
import struct
import sys
import unicodedata
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: find the support package

from support.v1kit import collection, component, container, tiny_members
from support.zipcraft import (
    DEFLATED,
    STORED,
    Entry,
    Raw,
    build,
    deflate,
    full_overlap_bomb,
    quoted_overlap_bomb,
    unix_attr,
)

__all__ = ["ARCHIVE", "Case", "crc32_zeros", "deflated_zeros", "hostile_cases", "main", "write_cases"]

ARCHIVE = "(archive)"  # the member name of a problem about the archive as a whole
MIB = 1 << 20
GIB = 1 << 30

PACKAGE = "package.toml"
HTML = "entities/xblock.v1/html"
INTRO = f"{HTML}/intro.toml"
OUTRO = f"{HTML}/outro.toml"
V2 = f"{HTML}/intro/component_versions/v2"
INTRO_XML = f"{V2}/block.xml"
IMAGE = f"{V2}/static/me.png"
OUTRO_XML = f"{HTML}/outro/component_versions/v1/block.xml"
UNIT = "entities/unit-1.toml"
COLLECTION = "collections/c1.toml"


@dataclass(frozen=True)
class Case:
    """One hostile archive and the refusal it must produce (exit status 1 from restore and validate)."""

    name: str
    build: Callable[[], bytes]
    """Makes the archive bytes (deterministic)."""
    member: str
    """The member the refusal must name: some problem line starts with ``member + ": "``."""
    fragment: str
    """Text that problem's message must contain."""
    threat: str
    """Where it comes from: an item of threats.md's test plan (A1 ... F60) or of issue 5."""
    args: tuple[str, ...] = ()
    """Extra CLI flags for both commands (limits lowered to make a small archive hit them)."""

    def expected(self) -> dict[str, object]:
        """The JSON form written to ``expected.json``."""
        return {"archive": f"{self.name}.zip", "member": self.member, "fragment": self.fragment,
                "threat": self.threat, "args": list(self.args)}


# -- cheap bombs ---------------------------------------------------------------------------------------


def _gf2_times(matrix: Sequence[int], vector: int) -> int:
    total = 0
    row = 0
    while vector:
        if vector & 1:
            total ^= matrix[row]
        vector >>= 1
        row += 1
    return total


def _gf2_square(matrix: Sequence[int]) -> list[int]:
    return [_gf2_times(matrix, matrix[n]) for n in range(32)]


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """CRC-32 of A+B from crc(A), crc(B) and len(B) (zlib's ``crc32_combine``, which Python lacks)."""
    if len2 <= 0:
        return crc1
    odd = [0xEDB88320] + [1 << n for n in range(31)]  # the operator for one zero bit
    even = _gf2_square(odd)  # two zero bits
    odd = _gf2_square(even)  # four zero bits
    while True:
        even = _gf2_square(odd)
        if len2 & 1:
            crc1 = _gf2_times(even, crc1)
        len2 >>= 1
        if not len2:
            break
        odd = _gf2_square(even)
        if len2 & 1:
            crc1 = _gf2_times(odd, crc1)
        len2 >>= 1
        if not len2:
            break
    return crc1 ^ crc2


def crc32_zeros(size: int) -> int:
    """CRC-32 of ``size`` zero bytes, in O(log size) without making them."""
    crc, have = 0, 0  # crc of ``have`` zeros
    block_crc, block = zlib.crc32(bytes(1)), 1  # crc of ``block`` zeros, block = 2**k
    while size:
        if size & 1:
            crc = crc32_combine(crc, block_crc, block) if have else block_crc
            have += block
        size >>= 1
        block_crc = crc32_combine(block_crc, block_crc, block)
        block *= 2
    return crc


_CHUNK = MIB


def deflated_zeros(size: int) -> tuple[bytes, int]:
    """(raw deflate stream of ``size`` zero bytes, their CRC-32), made in time linear in the *output*.

    One MiB of zeros is compressed and fully flushed (which resets the compressor, so every further
    MiB compresses to the same bytes); that block is repeated, then the remainder and the final block.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(_CHUNK)) + compressor.flush(zlib.Z_FULL_FLUSH)
    count, rest = divmod(size, _CHUNK)
    tail_compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    tail = tail_compressor.compress(bytes(rest)) + tail_compressor.flush()
    return block * count + tail, crc32_zeros(size)


# -- the valid base archive ------------------------------------------------------------------------------


def _bytes(data: bytes | str) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


def base_members() -> dict[str, bytes]:
    """The tiny valid archive of ``v1kit``: package, two html components, a unit, a collection."""
    return {name: _bytes(data) for name, data in tiny_members().items()}


def entries(members: dict[str, bytes] | None = None) -> list[Entry | Raw]:
    """``members`` (default: the base archive) as deflated zipcraft entries, in order."""
    items = base_members() if members is None else members
    return [Entry(name, data, method=DEFLATED) for name, data in items.items()]


def crafted(*extra: Entry | Raw, members: dict[str, bytes] | None = None, **options: object) -> bytes:
    """The base archive (or ``members``) plus ``extra`` entries, laid out by zipcraft."""
    return build([*entries(members), *extra], **options).data  # type: ignore[arg-type]


def with_members(changes: dict[str, bytes | str | None]) -> Callable[[], bytes]:
    """A builder: the base archive with the members in ``changes`` replaced, added or (``None``) dropped."""

    def make() -> bytes:
        members = base_members()
        for name, data in changes.items():
            if data is None:
                members.pop(name, None)
            else:
                members[name] = _bytes(data)
        return crafted(members=members)

    return make


def _replace_entry(name: str, **fields: object) -> Callable[[], bytes]:
    """A builder: the base archive with the zipcraft entry ``name`` rebuilt with ``fields``."""

    def make() -> bytes:
        items: list[Entry | Raw] = []
        for item in entries():
            if isinstance(item, Entry) and item.name == name:
                options: dict[str, object] = {"content": item.content, "method": item.method, **fields}
                items.append(Entry(name, **options))  # type: ignore[arg-type]
            else:
                items.append(item)
        return build(items).data

    return make


def _with_extra(*extra: Entry | Raw) -> Callable[[], bytes]:
    return lambda: crafted(*extra)


def _patch(data: bytes, offset: int, new: bytes) -> bytes:
    return data[:offset] + new + data[offset + len(new):]


# -- ZIP structure builders ------------------------------------------------------------------------------


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
    return _patch(built.data, built.eocd_offset + 8, struct.pack("<HH", 65535, 65535))


def _local_entry_hidden_from_central_directory() -> bytes:
    return crafted(Entry("entities/hidden.toml", b'[entity]\nkey = "x"\n', in_central=False),
                   Entry("collections/c2.toml", _bytes(collection("c2", ["unit-1"]))))


def _size_claims_zero_inflates_100_mib() -> bytes:
    payload, _ = deflated_zeros(100 * MIB)
    return crafted(Entry(f"{V2}/static/empty.bin", method=DEFLATED, payload=payload, size=0, crc=0))


def _size_lie_hidden_tail() -> bytes:
    content = b"A" * 1000
    return crafted(Entry(f"{V2}/static/short.txt", content, method=DEFLATED, size=10, crc=zlib.crc32(content[:10])))


def _size_lie_short_stream() -> bytes:
    content = b"B" * 1000
    return crafted(Entry(f"{V2}/static/long.txt", content, method=DEFLATED, size=5000))


def _gigabyte_member() -> bytes:
    payload, crc = deflated_zeros(GIB)
    return crafted(Entry(f"{V2}/static/zeros.bin", method=DEFLATED, payload=payload, crc=crc, size=GIB))


def _ratio_10000() -> bytes:
    """Deflated noise-ish data (about 1 KB) declared to inflate 10,000 times larger: a lie, refused unread."""
    payload = deflate(bytes(range(256)) * 4)
    return crafted(Entry(f"{V2}/static/ratio.bin", method=DEFLATED, payload=payload, size=len(payload) * 10_000))


def _many_medium_zero_members() -> bytes:
    """20 members of 1,000,000 zeros: each under the per-member ratio threshold, 1000:1 in total."""
    payload, crc = deflated_zeros(1_000_000)
    return crafted(*[Entry(f"{V2}/static/z{i:02d}.bin", method=DEFLATED, payload=payload, crc=crc,
                           size=1_000_000) for i in range(20)])


def _nested_python_lib_bomb() -> bytes:
    """``static/python_lib.zip``: a valid zip whose one member inflates to 2 GiB of zeros.

    The inner deflate stream (2 MiB) is itself a run of identical blocks, so the outer member holding
    it compresses about 1000:1 again: the per-member ratio limit refuses it from the central
    directory, before the nested zip is opened or stored.
    """
    payload, crc = deflated_zeros(2 * GIB)
    inner = build([Entry("grader/zeros.py", method=DEFLATED, payload=payload, crc=crc, size=2 * GIB, zip64=True)],
                  zip64_end=True).data
    return crafted(Entry(f"{V2}/static/python_lib.zip", inner, method=DEFLATED))


def _zip64_absurd_size() -> bytes:
    return crafted(Entry(f"{V2}/static/huge.bin", b"abc", size=2**64 - 1, zip64=True))


def _zip64_locator_lie() -> bytes:
    return crafted(zip64_end=True, locator={"record_offset": 10})


def _member_count_lie() -> bytes:
    """A ZIP64 end record declaring two million entries (the archive holds 9): refused before reading them."""
    return crafted(zip64_end={"entries": 2_000_000, "disk_entries": 2_000_000})


def _billion_laughs() -> str:
    """The classic: ten levels of ten references, 10**9 "lol"s once expanded."""
    entities = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{n} "' + f"&lol{n - 1};" * 10 + '">' for n in range(1, 10)]
    return ('<?xml version="1.0"?>\n<!DOCTYPE lolz [\n' + "\n".join(entities) + "\n]>\n"
            '<html display_name="&lol9;"><p>&lol9;</p></html>')


_XXE = ('<?xml version="1.0"?>\n<!DOCTYPE html [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        '<html display_name="&xxe;"><p>&xxe;</p></html>')
_EXTERNAL_DTD = ('<?xml version="1.0"?>\n<!DOCTYPE html SYSTEM "http://127.0.0.1:9/evil.dtd">\n'
                 '<html display_name="x"><p>&ext;</p></html>')
_PARAMETER_ENTITY = ('<?xml version="1.0"?>\n<!DOCTYPE html [<!ENTITY % pe SYSTEM "http://127.0.0.1:9/pe.dtd"> %pe;]>\n'
                     "<html/>")
_QUADRATIC = ('<?xml version="1.0"?>\n<!DOCTYPE html [<!ENTITY a "' + "A" * 50_000 + '">]>\n<html><p>'
              + "&a;" * 20_000 + "</p></html>")


def _padding(size: int) -> str:
    """``size`` bytes of TOML comments that compress about 30:1 (under the ratio limits, unlike a plain run)."""
    lines = []
    for n in range(size // 320 + 1):
        lines.append(f"# {zlib.crc32(n.to_bytes(4, 'little')):08x} " + "x" * 308 + "\n")
    return "".join(lines)[:size]


def _intro(versions: str | None = None, *, draft: str = "version_num = 2", published: str = "version_num = 1",
           key: str = '"xblock.v1:html:intro"', extra: str = "") -> str:
    """intro.toml with parts replaced (TOML text)."""
    if versions is None:
        versions = ('[[version]]\ntitle = "Intro"\nversion_num = 2\n\n'
                    '[[version]]\ntitle = "Intro"\nversion_num = 1\n')
    return (f"[entity]\ncan_stand_alone = true\nkey = {key}\ncreated = 2025-08-19T04:25:43.685529Z\n{extra}\n"
            f"[entity.draft]\n{draft}\n\n[entity.published]\n{published}\n\n{versions}")


# -- the set ---------------------------------------------------------------------------------------------


def hostile_cases() -> list[Case]:
    """Every hostile case, in a fixed order (names are unique and safe as file names)."""
    png_like = b"\x89PNG\r\n\x1a\n" + bytes(100)
    nfc = unicodedata.normalize("NFC", f"{V2}/static/café.png")
    nfd = unicodedata.normalize("NFD", f"{V2}/static/café.png")
    deep_toml = "a = " + "[" * 10_000 + "]" * 10_000 + "\n"
    cases = [
        # A. names and paths
        Case("zip-slip", _with_extra(Entry("entities/../../evil.toml", b"x = 1")),
             "entities/../../evil.toml", "'..' path component (path traversal)", "A1 / issue: zip slip"),
        Case("zip-slip-mid-path", _with_extra(Entry(f"{V2}/static/a/../../../../../../../x.png", b"x")),
             f"{V2}/static/a/../../../../../../../x.png", "'..' path component", "A2"),
        Case("dot-segment", _with_extra(Entry("entities/./x.toml", b"x = 1")),
             "entities/./x.toml", "'.' path component", "A2"),
        Case("absolute-path", _with_extra(Entry("/etc/cron.d/evil", b"* * * * * root sh")),
             "/etc/cron.d/evil", "absolute path", "A3 / issue: absolute path"),
        Case("backslash", _with_extra(Entry("..\\..\\evil.toml", b"x = 1")),
             "..\\..\\evil.toml", "backslash in the name", "A4"),
        Case("drive-letter", _with_extra(Entry("C:/Windows/evil.dll", b"MZ")),
             "C:/Windows/evil.dll", "drive-letter path", "A5"),
        Case("ntfs-stream", _with_extra(Entry(f"{IMAGE}:stream", b"x")),
             f"{IMAGE}:stream", "colon in the name", "A5"),
        Case("nul-in-name", _with_extra(Entry(b"package.toml\x00.png", b"x")),
             repr("package.toml\x00.png"), "control character 0x00 at byte 12", "A7"),
        Case("escape-in-name", _with_extra(Entry(b"entities/a\x1b[31m.toml", b"x = 1")),
             repr("entities/a\x1b[31m.toml"), "control character 0x1b", "A7"),
        Case("empty-path-component", _with_extra(Entry(f"{V2}/static//x.png", b"x")),
             f"{V2}/static//x.png", "empty path component", "A8"),
        Case("long-path-component", _with_extra(Entry(f"{V2}/static/" + "a" * 300 + ".png", b"x")),
             f"{V2}/static/" + "a" * 300 + ".png", "a path component is 304 bytes long", "A9"),
        Case("deep-path", _with_extra(Entry("/".join(["d"] * 200) + "/x", b"x")),
             "/".join(["d"] * 200) + "/x", "the path has 201 components", "A9"),
        Case("invalid-utf8-name", _with_extra(Entry(f"{V2}/static/\xff\xfe.png".encode("latin-1"), b"x", flags=0x800)),
             repr(f"{V2}/static/\\xff\\xfe.png"), "the name is not valid UTF-8", "A10"),
        Case("non-ascii-name-without-flag", _with_extra(Entry(f"{V2}/static/caf\xe9.png".encode("latin-1"), b"x",
                                                              flags=0)),
             repr(f"{V2}/static/caf\\xe9.png"), "non-ASCII name without the UTF-8 flag", "A11"),
        Case("nfd-name", _with_extra(Entry(nfd, png_like)), nfd, "not in Unicode normalisation form NFC", "A12"),
        Case("nfc-nfd-collision", _with_extra(Entry(nfc, png_like), Entry(nfd, b"other")),
             nfd, f"collides with {nfc!r}", "A12 / issue: NFC/NFD collision"),
        Case("case-collision", _with_extra(Entry(f"{V2}/static/ME.png", b"other")),
             f"{V2}/static/ME.png", f"collides with {IMAGE!r}", "A13 / issue: case collision"),
        Case("duplicate-member", _with_extra(Entry(PACKAGE, _bytes(tiny_members()[PACKAGE]).replace(
            b"lib:Org:TINY", b"lib:Org:EVIL"), method=DEFLATED)),
             PACKAGE, "duplicate entry name", "A14 / issue: duplicate member"),
        Case("empty-name", _with_extra(Entry(b"", b"x")), "''", "empty name", "A8"),
        Case("directory-with-data", _with_extra(Entry(f"{V2}/static/d/", payload=b"abc", size=0)),
             f"{V2}/static/d/", "directory entry carries 3 bytes", "A15"),
        Case("file-used-as-directory", _with_extra(Entry(f"{IMAGE}/inner.png", b"x")),
             IMAGE, "a file entry is also used as a directory", "A15"),
        # B. entry types and encoding of data
        Case("symlink", _with_extra(Entry(f"{V2}/static/link", b"/etc/passwd",
                                          external_attr=unix_attr(stat.S_IFLNK | 0o777))),
             f"{V2}/static/link", "symbolic link", "B16 / issue: symlink"),
        Case("fifo", _with_extra(Entry(f"{V2}/static/pipe", b"", external_attr=unix_attr(stat.S_IFIFO | 0o644))),
             f"{V2}/static/pipe", "FIFO", "B17"),
        Case("encrypted", _replace_entry(IMAGE, flags=0x1), IMAGE, "encrypted entry", "B18"),
        Case("aes-method", _replace_entry(IMAGE, method=99, payload=b"\x00" * 20), IMAGE, "encrypted entry", "B18"),
        Case("bzip2-method", _replace_entry(IMAGE, method=12, payload=bz2.compress(b"\x89PNG fake")),
             IMAGE, "unsupported compression method 12 (bzip2)", "B19"),
        Case("lzma-method", _replace_entry(IMAGE, method=14, payload=lzma.compress(b"\x89PNG fake",
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
        Case("local-central-name-mismatch", _replace_entry(IMAGE, local={"name": IMAGE.upper().encode()}), IMAGE,
             "differs from the central directory name", "B24"),
        Case("local-central-method-mismatch", _replace_entry(IMAGE, local={"method": STORED}), IMAGE,
             "the local header compression method 0 differs", "B24"),
        Case("hidden-local-entry", _local_entry_hidden_from_central_directory, COLLECTION,
             "not referenced by the central directory (hidden data)", "B25"),
        Case("data-descriptor-lie", _with_extra(Entry(f"{V2}/static/dd.bin", b"data" * 50, method=DEFLATED,
                                                      descriptor=struct.pack("<IIII", 0x08074B50, 1, 2, 3))),
             f"{V2}/static/dd.bin", "the data descriptor", "B24"),
        Case("unicode-path-extra-field", _with_extra(Entry(f"{V2}/static/u.png", b"x",
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
        Case("zip64-compressed-size-past-eof", _with_extra(Entry(f"{V2}/static/w.bin", b"abc", method=DEFLATED,
                                                                 compress_size=1 << 40, zip64=True)),
             f"{V2}/static/w.bin", "runs past the end of the file", "B28"),
        Case("zip64-locator-lie", _zip64_locator_lie, ARCHIVE, "no ZIP64 end-of-central-directory record", "B29"),
        Case("zip64-truncated-extra", _with_extra(Entry(f"{V2}/static/z.bin", b"abc", central={
            "size": 0xFFFFFFFF, "extra": b"\x01\x00\x04\x00abcd"})),
             f"{V2}/static/z.bin", "ZIP64 extra field missing or truncated", "B28"),
        # C. bombs
        Case("gigabyte-member", _gigabyte_member, f"{V2}/static/zeros.bin",
             f"declared size of {GIB} bytes is above the per-member limit", "C30 / issue: 1 GB-inflating member"),
        Case("ratio-10000", _ratio_10000, f"{V2}/static/ratio.bin", "declared compression ratio of 10000:1",
             "C30 / issue: 10,000x ratio"),
        Case("many-medium-members", _many_medium_zero_members, ARCHIVE, "declared total compression ratio",
             "C31"),
        Case("full-overlap-bomb", lambda: full_overlap_bomb(1000, unique_names=True), "999",
             "shares its local header (offset 0) with '0'", "C32 / issue: overlapping-entry bomb"),
        Case("quoted-overlap-bomb", lambda: quoted_overlap_bomb(10, MIB), "f000", "overlaps the next entry",
             "C33 / issue: overlapping-entry bomb"),
        Case("member-count", _member_count_lie, ARCHIVE, "the archive declares 2000000 entries, above the limit",
             "C34"),
        Case("member-count-limit-flag", crafted, ARCHIVE, "above the limit of 5",
             "C34 (limit from the CLI)", args=("--max-members", "5")),
        Case("nested-python-lib-bomb", _nested_python_lib_bomb, f"{V2}/static/python_lib.zip",
             "(possible zip bomb)", "C35 / issue: nested python_lib bomb"),
        Case("zero-size-inflates-100mib", _size_claims_zero_inflates_100_mib, f"{V2}/static/empty.bin",
             "data inflates past its declared size of 0 bytes", "B27 / issue: entry claiming 0 bytes"),
        # D. package structure and format
        Case("unknown-format-version", with_members({PACKAGE: tiny_members(fv=7)[PACKAGE]}), PACKAGE,
             "unsupported format version 7", "D44"),
        Case("format-version-string", with_members({PACKAGE: _bytes(tiny_members()[PACKAGE]).replace(
            b"format_version = 1", b'format_version = "1"')}), PACKAGE, "$.meta.format_version", "D44"),
        Case("missing-package-toml", with_members({PACKAGE: None}), PACKAGE, "missing", "D40"),
        # E. TOML content
        Case("toml-10000-deep", with_members({UNIT: container("unit-1", "unit", ["xblock.v1:html:intro"])
                                              + deep_toml}),
             UNIT, "nested more than 100 levels deep", "E45 / issue: 10,000-deep TOML nesting"),
        Case("toml-dotted-key-10000", with_members({COLLECTION: "a" + ".a" * 10_000 + " = 1\n"}),
             COLLECTION, "nested more than 100 levels deep", "E45"),
        Case("toml-huge-integer", with_members({INTRO: _intro(extra="weight = " + "9" * 5000)}),
             INTRO, "invalid TOML", "E46"),
        Case("toml-int64-overflow", with_members({INTRO: _intro(
            '[[version]]\ntitle = "Intro"\nversion_num = 9223372036854775808\n\n'
            '[[version]]\ntitle = "Intro"\nversion_num = 1\n', draft="version_num = 9223372036854775808")}),
             INTRO, "$.version[0].version_num", "E46"),
        Case("toml-duplicate-key", with_members({PACKAGE: _bytes(tiny_members()[PACKAGE]).replace(
            b'title = "Tiny"', b'title = "Tiny"\ntitle = "Evil"')}), PACKAGE, "invalid TOML", "E47"),
        Case("toml-duplicate-table", with_members({INTRO: _intro() + "\n[entity]\nkey = \"x\"\n"}),
             INTRO, "invalid TOML", "E47"),
        Case("toml-duplicate-version", with_members({INTRO: _intro(
            '[[version]]\ntitle = "Intro"\nversion_num = 1\n\n[[version]]\ntitle = "Again"\nversion_num = 1\n',
            draft="version_num = 1")}), INTRO, "version 1 appears more than once", "E47"),
        Case("toml-invalid-utf8", with_members({COLLECTION: _bytes(collection("c1", ["unit-1"])).replace(
            b'title = "C c1"', b'title = "\xff\xfe"')}), COLLECTION, "not valid UTF-8",
             "E48 / issue: invalid UTF-8 in TOML"),
        Case("toml-bom", with_members({PACKAGE: b"\xef\xbb\xbf" + _bytes(tiny_members()[PACKAGE])}), PACKAGE,
             "BOM", "E48"),
        Case("toml-utf16", with_members({COLLECTION: collection("c1", ["unit-1"]).encode("utf-16")}),
             COLLECTION, "not valid UTF-8", "E48"),
        Case("toml-nul-in-title", with_members({PACKAGE: _bytes(tiny_members()[PACKAGE]).replace(
            b'title = "Tiny"', b'title = "Ti\\u0000ny"')}), PACKAGE, "$.learning_package.title: ", "E49"),
        Case("toml-datetime-out-of-range", with_members({PACKAGE: _bytes(tiny_members()[PACKAGE]).replace(
            b"created = 2025-08-19T04:25:10.988166Z", b"created = 0001-01-01T00:00:00+01:00")}), PACKAGE,
             "$.learning_package.created: ", "E51"),
        Case("toml-wrong-types", with_members({INTRO: _intro(
            '[[version]]\ntitle = "Intro"\nversion_num = "2"\n\n[[version]]\ntitle = "Intro"\nversion_num = 1\n')
            .replace("can_stand_alone = true", 'can_stand_alone = "true"')}),
             INTRO, "$.entity.can_stand_alone", "E51"),
        Case("toml-children-not-a-list", with_members({UNIT: container("unit-1", "unit", []).replace(
            "children = []", 'children = "xblock.v1:html:intro"')}), UNIT, "$.version[0].container.children", "E51"),
        Case("toml-too-large", with_members({COLLECTION: collection("c1", ["unit-1"]) + _padding(1_200_000)}),
             COLLECTION, "above the limit of 1048576 bytes", "E53"),
        # E52. graph consistency
        Case("missing-child", with_members({UNIT: container("unit-1", "unit", ["xblock.v1:html:intro",
                                                                                "xblock.v1:problem:missing"])}),
             UNIT, "no valid entity 'xblock.v1:problem:missing'", "E52"),
        Case("wrong-child-kind", with_members({UNIT: container("unit-1", "unit", ["unit-1"])}),
             UNIT, "a unit holds components", "E52"),
        Case("draft-points-at-missing-version", with_members({OUTRO: component(
            "xblock.v1:html:outro", [(1, "Outro")], 7, 1)}), OUTRO, "points at version 7", "E52"),
        Case("dangling-collection-member", with_members({COLLECTION: collection("c1", ["unit-1", "unit-404"])}),
             COLLECTION, "no valid entity 'unit-404'", "E52"),
        Case("unexpected-file", with_members({"entities/readme.txt": "hello"}), "entities/readme.txt",
             "fits nowhere in the v1 layout", "D39"),
        Case("container-file-is-a-component", with_members({UNIT: component("unit-1", [(1, "U")], 1, 1)}), UNIT,
             "$.entity.container", "E52"),
        Case("orphan-media", with_members({f"{HTML}/ghost/component_versions/v1/block.xml": "<html/>"}),
             f"{HTML}/ghost/component_versions/v1/block.xml", "media file of no component", "E52"),
        Case("media-of-missing-version", with_members({f"{HTML}/outro/component_versions/v9/block.xml": "<html/>"}),
             f"{HTML}/outro/component_versions/v9/block.xml", "belongs to no version", "E52"),
        Case("entity-defined-twice", with_members({f"{HTML}/intro2.toml": _intro()}),
             f"{HTML}/intro2.toml", "is also defined in", "E52"),
        Case("component-key-wrong-folder", with_members({OUTRO: component("xblock.v1:problem:outro", [(1, "O")],
                                                                          1, 1)}),
             OUTRO, "does not match the folder", "E52"),
        # F. XML
        Case("billion-laughs", with_members({INTRO_XML: _billion_laughs()}), INTRO_XML,
             "DOCTYPE declaration", "F54 / issue: billion laughs"),
        Case("quadratic-blowup", with_members({INTRO_XML: _QUADRATIC}), INTRO_XML, "DOCTYPE declaration", "F55"),
        Case("xxe-file-url", with_members({INTRO_XML: _XXE}), INTRO_XML, "DOCTYPE declaration",
             "F56 / issue: XXE with a file URL"),
        Case("external-dtd", with_members({INTRO_XML: _EXTERNAL_DTD}), INTRO_XML, "DOCTYPE declaration",
             "F57 / issue: external DTD"),
        Case("parameter-entity", with_members({INTRO_XML: _PARAMETER_ENTITY}), INTRO_XML, "DOCTYPE declaration",
             "F57"),
        Case("xml-deep-nesting", with_members({INTRO_XML: "<a>" * 5000 + "</a>" * 5000}), INTRO_XML,
             "not well-formed XML", "F58"),
        Case("xml-invalid-utf8", with_members({INTRO_XML: b'<html display_name="\xff\xfe"/>'}), INTRO_XML,
             "not valid UTF-8", "F60 / issue: invalid UTF-8 in block.xml"),
        Case("xml-two-roots", with_members({INTRO_XML: "<html/><html/>"}), INTRO_XML, "not well-formed XML", "F60"),
        Case("xml-undefined-entity", with_members({INTRO_XML: "<html>&nbsp;</html>"}), INTRO_XML,
             "not well-formed XML", "F60"),
        Case("xml-nul-char-ref", with_members({INTRO_XML: "<html>&#0;</html>"}), INTRO_XML,
             "not well-formed XML", "F60"),
        Case("xml-too-large", with_members({OUTRO_XML: "<html>" + "<p>x</p>" * 2000 + "</html>"}), OUTRO_XML,
             "above the limit of 1024 bytes", "F58 (limit from the CLI)", args=("--max-xml-size", "1KiB")),
    ]
    names = [case.name for case in cases]
    assert len(names) == len(set(names)), "case names must be unique"
    return cases


def write_cases(outdir: Path, cases: Sequence[Case] | None = None) -> dict[str, dict[str, object]]:
    """Write every case's archive to ``outdir/<name>.zip`` and ``outdir/expected.json``; return the latter."""
    outdir.mkdir(parents=True, exist_ok=True)
    expected: dict[str, dict[str, object]] = {}
    for case in hostile_cases() if cases is None else cases:
        (outdir / f"{case.name}.zip").write_bytes(case.build())
        expected[case.name] = case.expected()
    (outdir / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return expected


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: python tests/support/make_hostile.py OUTDIR", file=sys.stderr)
        return 2
    outdir = Path(args[0])
    expected = write_cases(outdir)
    size = sum((outdir / f"{name}.zip").stat().st_size for name in expected)
    print(f"wrote {len(expected)} hostile archives ({size:,} bytes) and expected.json to {outdir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
