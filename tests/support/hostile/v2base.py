"""A small valid v2 archive written member by member (no store needed), for the cases that need v2.

:class:`V2` holds the members in archive order as text or bytes; :meth:`V2.build` lays them out with
``zipfile`` (fixed dates, so the bytes are deterministic) and appends ``manifest.json``, computed
from the members unless the case supplies its own text. Helpers write the TOML documents of the
format (``docs/formats/v2.md``): a package, a component with versions and media, a container, a
collection, a publish log.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

__all__ = [
    "CREATED",
    "HTML_OLX",
    "V2",
    "V2_REF",
    "blob_name",
    "collection_toml",
    "component_toml",
    "container_toml",
    "manifest_text",
    "package_toml",
    "publish_log_toml",
    "sha",
    "tiny_v2",
]

CREATED = "2025-08-19T04:25:43Z"
V2_REF = "lib:Org:TINY2"
HTML_OLX = b'<html display_name="Intro"><p>Hello</p></html>'
_DATE = (2026, 1, 2, 3, 4, 6)


def sha(data: bytes) -> str:
    """SHA-256 hex digest."""
    return hashlib.sha256(data).hexdigest()


def blob_name(ref_path: str, number: int, path: str) -> str:
    """Where a writer puts the blob first used by version ``number`` of a component (``ns/type/code``)."""
    return f"entities/{ref_path}/v{number}/{path}"


def package_toml(*, ref: str = V2_REF, title: str = "Tiny v2", created_by: str | None = None) -> str:
    """``package.toml``."""
    by = f"created_by = {json.dumps(created_by)}\n" if created_by is not None else ""
    return (f'[meta]\nformat = "lc-archive"\nformat_version = 2\ncreated_at = 2026-01-01T00:00:00Z\n{by}\n'
            f"[learning_package]\nref = {json.dumps(ref)}\ntitle = {json.dumps(title)}\ndescription = \"\"\n"
            f"created = {CREATED}\nupdated = {CREATED}\n")


def _media(path: str, data: bytes, *, text: bool, media_type: str, shas: dict[int, str]) -> str:
    digest = shas.get(id(data))
    if digest is None:  # many versions may share one (large) blob: hash it once
        digest = shas[id(data)] = sha(data)
    return (f"\n[[version.media]]\npath = {json.dumps(path)}\nsha256 = \"{digest}\"\nsize = {len(data)}\n"
            f"media_type = {json.dumps(media_type)}\ntext = {str(text).lower()}\nfile = {str(not text).lower()}\n")


def component_toml(ns: str, type: str, code: str, versions: Iterable[dict[str, bytes]], *,
                   title: str = "Intro", created_by: str | None = None, published: bool = True) -> str:
    """A component document: one ``[[version]]`` per mapping of media path -> bytes (numbered from 1)."""
    listed = list(versions)
    by = f"created_by = {json.dumps(created_by)}\n" if created_by is not None else ""
    out = (f'[entity]\nref = "{ns}:{type}:{code}"\nkind = "component"\nnamespace = "{ns}"\ntype = "{type}"\n'
           f'code = "{code}"\ncan_stand_alone = true\ncreated = {CREATED}\n{by}')
    if listed:
        out += f"\n[entity.draft]\nversion = {len(listed)}\n"
        if published:
            out += f"\n[entity.published]\nversion = {len(listed)}\n"
    parts = [out]
    shas: dict[int, str] = {}
    for number, media in enumerate(listed, 1):
        parts.append(f"\n[[version]]\nnumber = {number}\ntitle = {json.dumps(title)}\ncreated = {CREATED}\n{by}")
        for path, data in media.items():
            olx = path == "block.xml"
            parts.append(_media(path, data, text=olx, shas=shas, media_type=f"application/vnd.openedx.{ns}.{type}+xml"
                                if olx else "application/octet-stream"))
    return "".join(parts)


def container_toml(code: str, type: str, children: Iterable[str], *, title: str = "Unit") -> str:
    """A container document with one version holding ``children`` (refs)."""
    out = (f'[entity]\nref = "{code}"\nkind = "container"\ntype = "{type}"\ncode = "{code}"\ncan_stand_alone = true\n'
           f"created = {CREATED}\n\n[entity.draft]\nversion = 1\n\n[entity.published]\nversion = 1\n\n"
           f"[[version]]\nnumber = 1\ntitle = {json.dumps(title)}\ncreated = {CREATED}\n")
    for ref in children:
        out += f"\n[[version.children]]\nref = {json.dumps(ref)}\n"
    return out


def collection_toml(code: str, members: Iterable[str], *, title: str = "Collection") -> str:
    """A collection document."""
    listed = "".join(f"    {json.dumps(ref)},\n" for ref in members)
    return (f"[collection]\ncode = \"{code}\"\ntitle = {json.dumps(title)}\ndescription = \"\"\nenabled = true\n"
            f"created = {CREATED}\nmodified = {CREATED}\nmembers = [\n{listed}]\n")


def publish_log_toml(publishes: Iterable[tuple[str, Iterable[tuple[str, int | None, int | None]]]]) -> str:
    """``publish_log.toml``: ``(message, [(ref, old, new), ...])`` per publish, oldest first."""
    out = []
    for message, changes in publishes:
        out.append(f"[[publish]]\npublished_at = {CREATED}\nmessage = {json.dumps(message)}\n")
        for ref, old, new in changes:
            line = f"\n[[publish.change]]\nref = {json.dumps(ref)}\n"
            line += f"old = {old}\n" if old is not None else ""
            line += f"new = {new}\n" if new is not None else ""
            out.append(line)
        out.append("\n")
    return "".join(out)


def manifest_text(members: Iterable[tuple[str, bytes]]) -> str:
    """The ``manifest.json`` a writer would append after ``members``."""
    lines = ",\n".join(f'    {{"name": {json.dumps(n, ensure_ascii=False)}, "size": {len(d)}, "sha256": "{sha(d)}"}}'
                       for n, d in members)
    return f'{{\n  "format": "lc-archive",\n  "format_version": 2,\n  "members": [\n{lines}\n  ]\n}}\n'


@dataclass
class V2:
    """The members of a v2 archive in order (manifest excluded); see the module docstring."""

    members: dict[str, bytes] = field(default_factory=dict)

    def set(self, name: str, data: bytes | str) -> V2:
        """Add or replace a member (kept at its place when replaced); returns self."""
        self.members[name] = data.encode("utf-8") if isinstance(data, str) else data
        return self

    def drop(self, name: str) -> V2:
        """Remove a member; returns self."""
        del self.members[name]
        return self

    def build(self, manifest: str | bytes | Callable[[str], str | bytes] | None = None) -> bytes:
        """The archive's bytes; ``manifest`` replaces the computed ``manifest.json`` (or edits it)."""
        computed = manifest_text(self.members.items())
        text = manifest(computed) if callable(manifest) else (computed if manifest is None else manifest)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in [*self.members.items(), ("manifest.json", text)]:
                info = zipfile.ZipInfo(name, _DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, data.encode("utf-8") if isinstance(data, str) else data)
        return out.getvalue()


def tiny_v2() -> V2:
    """A valid v2 archive: a package, an html component of two versions, a unit, a collection, a publish."""
    v1, v2 = {"block.xml": HTML_OLX}, {"block.xml": HTML_OLX.replace(b"Hello", b"Hello again")}
    html = "xblock.v1:html:intro"
    return (V2()
            .set("package.toml", package_toml())
            .set("entities/unit-1.toml", container_toml("unit-1", "unit", [html]))
            .set("entities/xblock.v1/html/intro.toml", component_toml("xblock.v1", "html", "intro", [v1, v2]))
            .set(blob_name("xblock.v1/html/intro", 1, "block.xml"), v1["block.xml"])
            .set(blob_name("xblock.v1/html/intro", 2, "block.xml"), v2["block.xml"])
            .set("collections/c1.toml", collection_toml("c1", [html, "unit-1"]))
            .set("publish_log.toml", publish_log_toml([("First", [(html, None, 2), ("unit-1", None, 1)])])))
