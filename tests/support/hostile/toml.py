"""Class E: TOML content: nesting, integers, duplicates, encodings, types, sizes (threats.md E45-E53)."""

from __future__ import annotations

from support.v1kit import collection, container, tiny_members

from .base import COLLECTION, INTRO, PACKAGE, UNIT, Case, intro, padding, text_bytes, with_members

__all__ = ["cases"]


def cases() -> list[Case]:
    """Class E, TOML content, in a fixed order."""
    deep_toml = "a = " + "[" * 10_000 + "]" * 10_000 + "\n"
    return [
        Case("toml-10000-deep", with_members({UNIT: container("unit-1", "unit", ["xblock.v1:html:intro"])
                                              + deep_toml}),
             UNIT, "nested more than 100 levels deep", "E45 / issue: 10,000-deep TOML nesting"),
        Case("toml-dotted-key-10000", with_members({COLLECTION: "a" + ".a" * 10_000 + " = 1\n"}),
             COLLECTION, "nested more than 100 levels deep", "E45"),
        Case("toml-huge-integer", with_members({INTRO: intro(extra="weight = " + "9" * 5000)}),
             INTRO, "invalid TOML", "E46"),
        Case("toml-int64-overflow", with_members({INTRO: intro(
            '[[version]]\ntitle = "Intro"\nversion_num = 9223372036854775808\n\n'
            '[[version]]\ntitle = "Intro"\nversion_num = 1\n', draft="version_num = 9223372036854775808")}),
             INTRO, "$.version[0].version_num", "E46"),
        Case("toml-duplicate-key", with_members({PACKAGE: text_bytes(tiny_members()[PACKAGE]).replace(
            b'title = "Tiny"', b'title = "Tiny"\ntitle = "Evil"')}), PACKAGE, "invalid TOML", "E47"),
        Case("toml-duplicate-table", with_members({INTRO: intro() + "\n[entity]\nkey = \"x\"\n"}),
             INTRO, "invalid TOML", "E47"),
        Case("toml-duplicate-version", with_members({INTRO: intro(
            '[[version]]\ntitle = "Intro"\nversion_num = 1\n\n[[version]]\ntitle = "Again"\nversion_num = 1\n',
            draft="version_num = 1")}), INTRO, "version 1 appears more than once", "E47"),
        Case("toml-invalid-utf8", with_members({COLLECTION: text_bytes(collection("c1", ["unit-1"])).replace(
            b'title = "C c1"', b'title = "\xff\xfe"')}), COLLECTION, "not valid UTF-8",
             "E48 / issue: invalid UTF-8 in TOML"),
        Case("toml-bom", with_members({PACKAGE: b"\xef\xbb\xbf" + text_bytes(tiny_members()[PACKAGE])}), PACKAGE,
             "BOM", "E48"),
        Case("toml-utf16", with_members({COLLECTION: collection("c1", ["unit-1"]).encode("utf-16")}),
             COLLECTION, "not valid UTF-8", "E48"),
        Case("toml-nul-in-title", with_members({PACKAGE: text_bytes(tiny_members()[PACKAGE]).replace(
            b'title = "Tiny"', b'title = "Ti\\u0000ny"')}), PACKAGE, "$.learning_package.title: ", "E49"),
        Case("toml-datetime-out-of-range", with_members({PACKAGE: text_bytes(tiny_members()[PACKAGE]).replace(
            b"created = 2025-08-19T04:25:10.988166Z", b"created = 0001-01-01T00:00:00+01:00")}), PACKAGE,
             "$.learning_package.created: ", "E51"),
        Case("toml-wrong-types", with_members({INTRO: intro(
            '[[version]]\ntitle = "Intro"\nversion_num = "2"\n\n[[version]]\ntitle = "Intro"\nversion_num = 1\n')
            .replace("can_stand_alone = true", 'can_stand_alone = "true"')}),
             INTRO, "$.entity.can_stand_alone", "E51"),
        Case("toml-children-not-a-list", with_members({UNIT: container("unit-1", "unit", []).replace(
            "children = []", 'children = "xblock.v1:html:intro"')}), UNIT, "$.version[0].container.children", "E51"),
        Case("toml-too-large", with_members({COLLECTION: collection("c1", ["unit-1"]) + padding(1_200_000)}),
             COLLECTION, "above the limit of 1048576 bytes", "E53"),
    ]
