"""Build small v1 archives in tests, from TOML text written out by hand."""

from __future__ import annotations

from pathlib import Path

from .files import write_zip

PACKAGE = """[meta]
format_version = {fv}
created_at = 2025-10-05T18:23:45.180535Z

[learning_package]
title = "Tiny"
key = "lib:Org:TINY"
description = ""
created = 2025-08-19T04:25:10.988166Z
updated = 2025-08-19T04:25:10.988166Z
"""

COMPONENT = """[entity]
can_stand_alone = true
key = "{key}"
created = 2025-08-19T04:25:43.685529Z
{draft}
[entity.published]
{published}

# ### Versions
{versions}"""


def component(key: str, versions: list[tuple[int, str]], draft: int | None, published: int | None) -> str:
    """A component TOML; ``versions`` are (number, title)."""
    d = f"\n[entity.draft]\nversion_num = {draft}\n" if draft is not None else ""
    p = f"version_num = {published}" if published is not None else "# unpublished: no published_version_num"
    v = "".join(f'\n[[version]]\ntitle = "{t}"\nversion_num = {n}\n' for n, t in versions)
    return COMPONENT.format(key=key, draft=d, published=p, versions=v)


def container(key: str, ctype: str, children: list[str], number: int = 1) -> str:
    """A container TOML with one version, published and draft."""
    kids = ", ".join(f'"{c}"' for c in children)
    return (f'[entity]\ncan_stand_alone = true\nkey = "{key}"\ncreated = 2025-09-04T22:51:40.919872Z\n\n'
            f"[entity.draft]\nversion_num = {number}\n\n[entity.published]\nversion_num = {number}\n\n"
            f'[entity.container.{ctype}]\n\n# ### Versions\n\n[[version]]\ntitle = "{key}"\n'
            f"version_num = {number}\n\n[version.container]\nchildren = [{kids}]\n")


def collection(key: str, members: list[str]) -> str:
    """A collection TOML."""
    items = "".join(f'    "{m}",\n' for m in members)
    return (f'[collection]\ntitle = "C {key}"\nkey = "{key}"\ndescription = ""\n'
            f"created = 2025-08-19T04:25:27.754968Z\nentities = [\n{items}]\n")


def tiny_members(fv: int = 1) -> dict[str, bytes | str]:
    """A valid archive: two html components (one with an image), a unit, a collection."""
    base = "entities/xblock.v1/html"
    return {
        "package.toml": PACKAGE.format(fv=fv),
        f"{base}/intro.toml": component("xblock.v1:html:intro", [(2, "Intro"), (1, "Intro")], 2, 1),
        f"{base}/intro/component_versions/v2/block.xml": '<html display_name="Intro"><p>two</p></html>',
        f"{base}/intro/component_versions/v2/static/me.png": b"\x89PNG fake",
        f"{base}/intro/component_versions/v1/block.xml": '<html display_name="Intro"><p>one</p></html>',
        f"{base}/outro.toml": component("xblock.v1:html:outro", [(1, "Outro")], 1, 1),
        f"{base}/outro/component_versions/v1/block.xml": "<html/>",
        "entities/unit-1.toml": container("unit-1", "unit", ["xblock.v1:html:intro", "xblock.v1:html:outro"]),
        "collections/c1.toml": collection("c1", ["xblock.v1:html:intro", "unit-1"]),
    }


def make_zip(path: Path, members: dict[str, bytes | str]) -> Path:
    """Write ``members`` (name -> text or bytes) to a zip at ``path``, directories implied."""
    return write_zip(path, members)
