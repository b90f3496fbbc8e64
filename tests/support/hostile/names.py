"""Class A: member names and paths (threats.md A1-A15)."""

from __future__ import annotations

import unicodedata

from support.v1kit import tiny_members
from support.zipcraft import DEFLATED, Entry

from .base import IMAGE, PACKAGE, V2, Case, text_bytes, with_extra

__all__ = ["cases"]


def cases() -> list[Case]:
    """Class A, names and paths, in a fixed order."""
    png_like = b"\x89PNG\r\n\x1a\n" + bytes(100)
    nfc = unicodedata.normalize("NFC", f"{V2}/static/café.png")
    nfd = unicodedata.normalize("NFD", f"{V2}/static/café.png")
    return [
        Case("zip-slip", with_extra(Entry("entities/../../evil.toml", b"x = 1")),
             "entities/../../evil.toml", "'..' path component (path traversal)", "A1 / issue: zip slip"),
        Case("zip-slip-mid-path", with_extra(Entry(f"{V2}/static/a/../../../../../../../x.png", b"x")),
             f"{V2}/static/a/../../../../../../../x.png", "'..' path component", "A2"),
        Case("dot-segment", with_extra(Entry("entities/./x.toml", b"x = 1")),
             "entities/./x.toml", "'.' path component", "A2"),
        Case("absolute-path", with_extra(Entry("/etc/cron.d/evil", b"* * * * * root sh")),
             "/etc/cron.d/evil", "absolute path", "A3 / issue: absolute path"),
        Case("backslash", with_extra(Entry("..\\..\\evil.toml", b"x = 1")),
             "..\\..\\evil.toml", "backslash in the name", "A4"),
        Case("drive-letter", with_extra(Entry("C:/Windows/evil.dll", b"MZ")),
             "C:/Windows/evil.dll", "drive-letter path", "A5"),
        Case("ntfs-stream", with_extra(Entry(f"{IMAGE}:stream", b"x")),
             f"{IMAGE}:stream", "colon in the name", "A5"),
        Case("nul-in-name", with_extra(Entry(b"package.toml\x00.png", b"x")),
             repr("package.toml\x00.png"), "control character 0x00 at byte 12", "A7"),
        Case("escape-in-name", with_extra(Entry(b"entities/a\x1b[31m.toml", b"x = 1")),
             repr("entities/a\x1b[31m.toml"), "control character 0x1b", "A7"),
        Case("empty-path-component", with_extra(Entry(f"{V2}/static//x.png", b"x")),
             f"{V2}/static//x.png", "empty path component", "A8"),
        Case("long-path-component", with_extra(Entry(f"{V2}/static/" + "a" * 300 + ".png", b"x")),
             f"{V2}/static/" + "a" * 300 + ".png", "a path component is 304 bytes long", "A9"),
        Case("deep-path", with_extra(Entry("/".join(["d"] * 200) + "/x", b"x")),
             "/".join(["d"] * 200) + "/x", "the path has 201 components", "A9"),
        Case("invalid-utf8-name", with_extra(Entry(f"{V2}/static/\xff\xfe.png".encode("latin-1"), b"x", flags=0x800)),
             repr(f"{V2}/static/\\xff\\xfe.png"), "the name is not valid UTF-8", "A10"),
        Case("non-ascii-name-without-flag", with_extra(Entry(f"{V2}/static/caf\xe9.png".encode("latin-1"), b"x",
                                                              flags=0)),
             repr(f"{V2}/static/caf\\xe9.png"), "non-ASCII name without the UTF-8 flag", "A11"),
        Case("nfd-name", with_extra(Entry(nfd, png_like)), nfd, "not in Unicode normalisation form NFC", "A12"),
        Case("nfc-nfd-collision", with_extra(Entry(nfc, png_like), Entry(nfd, b"other")),
             nfd, f"collides with {nfc!r}", "A12 / issue: NFC/NFD collision"),
        Case("case-collision", with_extra(Entry(f"{V2}/static/ME.png", b"other")),
             f"{V2}/static/ME.png", f"collides with {IMAGE!r}", "A13 / issue: case collision"),
        Case("duplicate-member", with_extra(Entry(PACKAGE, text_bytes(tiny_members()[PACKAGE]).replace(
            b"lib:Org:TINY", b"lib:Org:EVIL"), method=DEFLATED)),
             PACKAGE, "duplicate entry name", "A14 / issue: duplicate member"),
        Case("empty-name", with_extra(Entry(b"", b"x")), "''", "empty name", "A8"),
        Case("directory-with-data", with_extra(Entry(f"{V2}/static/d/", payload=b"abc", size=0)),
             f"{V2}/static/d/", "directory entry carries 3 bytes", "A15"),
        Case("file-used-as-directory", with_extra(Entry(f"{IMAGE}/inner.png", b"x")),
             IMAGE, "a file entry is also used as a directory", "A15"),
    ]
