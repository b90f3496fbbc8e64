"""Classes D and E52: package structure, format versions and the entity graph (threats.md D39-D44, E52)."""

from __future__ import annotations

from support.v1kit import collection, component, container, tiny_members

from .base import COLLECTION, HTML, OUTRO, PACKAGE, UNIT, Case, intro, text_bytes, with_members

__all__ = ["cases"]


def cases() -> list[Case]:
    """Classes D and E52, package structure and graph consistency, in a fixed order."""
    return [
        Case("unknown-format-version", with_members({PACKAGE: tiny_members(fv=7)[PACKAGE]}), PACKAGE,
             "unsupported format version 7", "D44"),
        Case("format-version-string", with_members({PACKAGE: text_bytes(tiny_members()[PACKAGE]).replace(
            b"format_version = 1", b'format_version = "1"')}), PACKAGE, "$.meta.format_version", "D44"),
        Case("missing-package-toml", with_members({PACKAGE: None}), PACKAGE, "missing", "D40"),
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
        Case("entity-defined-twice", with_members({f"{HTML}/intro2.toml": intro()}),
             f"{HTML}/intro2.toml", "is also defined in", "E52"),
        Case("component-key-wrong-folder", with_members({OUTRO: component("xblock.v1:problem:outro", [(1, "O")],
                                                                          1, 1)}),
             OUTRO, "does not match the folder", "E52"),
    ]
