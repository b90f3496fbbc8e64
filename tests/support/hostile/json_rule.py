"""Class 5 of issue 12: one strictness for every member of a kind.

Every JSON member (``manifest.json`` included, not only plugin payloads) refuses duplicate keys, NaN
and infinities, lone surrogates, a byte-order mark and deep nesting; OLX must be UTF-8, and an XML
declaration naming another encoding is an error naming the member (v1 and v2 alike).
"""

from __future__ import annotations

from collections.abc import Callable

from .base import INTRO_XML, Case, with_members
from .v2base import HTML_OLX, blob_name, sha, tiny_v2

__all__ = ["cases"]

MANIFEST = "manifest.json"
_V2_XML = blob_name("xblock.v1/html/intro", 1, "block.xml")


def _manifest(edit: Callable[[str], str]) -> Callable[[], bytes]:
    return lambda: tiny_v2().build(edit)


def _first_member(extra: str) -> Callable[[str], str]:
    """Insert ``extra`` (``"key": value``) at the start of the first member's object."""
    return lambda text: text.replace('{"name": "package.toml"', '{' + extra + ', "name": "package.toml"', 1)


def _v2_olx(data: bytes) -> Callable[[], bytes]:
    def make() -> bytes:
        archive = tiny_v2()
        v1 = archive.members["entities/xblock.v1/html/intro.toml"].decode()
        old = archive.members[_V2_XML]
        v1 = v1.replace(sha(old), sha(data)).replace(f"size = {len(old)}\n", f"size = {len(data)}\n", 1)
        return archive.set("entities/xblock.v1/html/intro.toml", v1).set(_V2_XML, data).build()

    return make


def cases() -> list[Case]:
    """Class 5, JSON and OLX strictness, in a fixed order."""
    deep = "[" * 150 + "]" * 150
    utf16 = b'<?xml version="1.0" encoding="UTF-16"?>\n' + HTML_OLX
    latin1 = '<?xml version="1.0" encoding="latin-1"?>\n<html display_name="Café"><p>né</p></html>'.encode()
    return [
        Case("manifest-duplicate-top-key", _manifest(lambda t: t.replace('"format_version": 2,',
                                                                          '"format_version": 2, "format_version": 2,')),
             MANIFEST, "duplicate key 'format_version'", "issue 12 / 5: manifest duplicate keys"),
        Case("manifest-duplicate-member-key", _manifest(_first_member('"size": 1')),
             MANIFEST, "duplicate key 'size'", "issue 12 / 5"),
        Case("manifest-nan", _manifest(lambda t: t.replace('"format_version": 2', '"format_version": NaN')),
             MANIFEST, "NaN is not a JSON number", "issue 12 / 5: manifest NaN"),
        Case("manifest-infinity-size", _manifest(_first_member('"x": {"y": -Infinity}')),
             MANIFEST, "-Infinity is not a JSON number", "issue 12 / 5"),
        Case("manifest-too-deep", _manifest(lambda t: t.replace('"format": "lc-archive",', f'"x": {deep},')),
             MANIFEST, "nests more than 100 levels deep", "issue 12 / 5: manifest depth"),
        Case("manifest-bom", _manifest(lambda t: "\ufeff" + t), MANIFEST, "byte order mark", "issue 12 / 5"),
        Case("manifest-lone-surrogate", _manifest(_first_member('"x": "\\ud800"')),
             MANIFEST, "lone surrogate", "issue 12 / 5"),
        Case("manifest-trailing-data", _manifest(lambda t: t + "{}"), MANIFEST, "extra data", "issue 12 / 5"),
        Case("olx-declares-utf16-v1", with_members({INTRO_XML: utf16}), INTRO_XML, 'encoding="UTF-16"',
             "issue 12 / 5: OLX declaring UTF-16"),
        Case("olx-declares-latin1-v1", with_members({INTRO_XML: latin1}), INTRO_XML, 'encoding="latin-1"',
             "issue 12 / 5: OLX declaring latin-1"),
        Case("olx-declares-latin1-v2", _v2_olx(latin1), _V2_XML, 'encoding="latin-1"', "issue 12 / 5"),
        Case("olx-declares-ascii-v2", _v2_olx(b"<?xml version='1.0' encoding='ascii'?><html/>"), _V2_XML,
             'encoding="ascii"', "issue 12 / 5"),
    ]
