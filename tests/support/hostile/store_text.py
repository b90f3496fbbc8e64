"""Class 4 of issue 12: values one supported store takes and another refuses.

SQLite stores a NUL inside text and ignores ``VARCHAR(n)`` lengths; PostgreSQL refuses both at write
time. Every case here is a value that only PostgreSQL would refuse (a NUL in a field that had no NUL
check, a user name or media type longer than its column, a publish message or user with a NUL), so
``validate`` must refuse it, naming the member and the field, before any store is touched.
"""

from __future__ import annotations

from collections.abc import Callable

from support.v1kit import tiny_members

from .base import INTRO, PACKAGE, Case, text_bytes, with_members
from .v2base import CREATED, tiny_v2

__all__ = ["cases"]

V2_HTML = "entities/xblock.v1/html/intro.toml"
V2_LOG = "publish_log.toml"
V2_COLLECTION = "collections/c1.toml"


def _v2(member: str, old: str, new: str) -> Callable[[], bytes]:
    """The tiny v2 archive with ``old`` replaced by ``new`` in ``member`` (once; it must be there)."""

    def make() -> bytes:
        archive = tiny_v2()
        text = archive.members[member].decode()
        assert old in text, (member, old)
        return archive.set(member, text.replace(old, new, 1)).build()

    return make


def _v1_package(old: bytes, new: bytes) -> Callable[[], bytes]:
    package = text_bytes(tiny_members()[PACKAGE])
    assert old in package
    return with_members({PACKAGE: package.replace(old, new, 1)})


def cases() -> list[Case]:
    """Class 4, values only some stores hold, in a fixed order."""
    created = f"created = {CREATED}\n"
    long_user = "u" * 151
    return [
        Case("v2-nul-in-entity-author", _v2(V2_HTML, created, created + 'created_by = "ali\\u0000ce"\n'),
             V2_HTML, "NUL", "issue 12 / 4: NUL in an author name"),
        Case("v2-nul-in-version-author", _v2(V2_HTML, "number = 1\n", 'number = 1\ncreated_by = "\\u0000"\n'),
             V2_HTML, "NUL", "issue 12 / 4"),
        Case("v2-nul-in-media-type", _v2(V2_HTML, 'media_type = "application/vnd',
                                         'media_type = "\\u0000application/vnd'), V2_HTML, "NUL", "issue 12 / 4"),
        Case("v2-nul-in-publish-message", _v2(V2_LOG, 'message = "First"', 'message = "Fir\\u0000st"'),
             V2_LOG, "NUL", "issue 12 / 4"),
        Case("v2-nul-in-publisher", _v2(V2_LOG, 'message = "First"', 'message = "First"\npublished_by = "\\u0000"'),
             V2_LOG, "NUL", "issue 12 / 4"),
        Case("v2-nul-in-extension", _v2(V2_COLLECTION, "enabled = true\n",
                                        'enabled = true\nx = { note = "\\u0000" }\n'),
             V2_COLLECTION, "NUL", "issue 12 / 4: NUL in any field"),
        Case("v2-author-longer-than-its-column", _v2(V2_HTML, created, created + f'created_by = "{long_user}"\n'),
             V2_HTML, "150", "issue 12 / 4: a value longer than PostgreSQL's column"),
        Case("v2-publisher-longer-than-its-column", _v2(V2_LOG, 'message = "First"',
                                                         f'message = "First"\npublished_by = "{long_user}"'),
             V2_LOG, "150", "issue 12 / 4"),
        Case("v1-nul-in-version-title", with_members({INTRO: text_bytes(tiny_members()[INTRO]).replace(
            b'title = "Intro"', b'title = "In\\u0000tro"', 1)}), INTRO, "NUL", "issue 12 / 4"),
        Case("v1-nul-in-backup-author", _v1_package(b"format_version = 1",
                                                    b'format_version = 1\ncreated_by = "\\u0000"'),
             PACKAGE, "NUL", "issue 12 / 4: NUL in the v1 backup author"),
        Case("v1-nul-in-extra-key", _v1_package(b"format_version = 1", b'format_version = 1\n"k\\u0000" = 1'),
             PACKAGE, "NUL", "issue 12 / 4: NUL in a key"),
    ]
