"""The valid base archive every hostile case changes, the :class:`Case` record, and the builders.

Every :class:`Case` starts from the tiny valid v1 archive of ``v1kit`` (laid out byte by byte with
``zipcraft`` where the attack lives in the ZIP structure) and changes one thing.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

from support.v1kit import tiny_members
from support.zipcraft import DEFLATED, Entry, Raw, build

__all__ = [
    "ARCHIVE", "COLLECTION", "GIB", "HTML", "IMAGE", "INTRO", "INTRO_XML", "MIB", "OUTRO", "OUTRO_XML", "PACKAGE",
    "UNIT", "V2", "Case", "base_members", "crafted", "entries", "intro", "padding", "patch", "replace_entry",
    "text_bytes", "with_extra", "with_members",
]

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


def text_bytes(data: bytes | str) -> bytes:
    """``data`` as bytes (text as UTF-8)."""
    return data.encode("utf-8") if isinstance(data, str) else data


def base_members() -> dict[str, bytes]:
    """The tiny valid archive of ``v1kit``: package, two html components, a unit, a collection."""
    return {name: text_bytes(data) for name, data in tiny_members().items()}


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
                members[name] = text_bytes(data)
        return crafted(members=members)

    return make


def replace_entry(name: str, **fields: object) -> Callable[[], bytes]:
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


def with_extra(*extra: Entry | Raw) -> Callable[[], bytes]:
    return lambda: crafted(*extra)


def patch(data: bytes, offset: int, new: bytes) -> bytes:
    return data[:offset] + new + data[offset + len(new):]


def padding(size: int) -> str:
    """``size`` bytes of TOML comments that compress about 30:1 (under the ratio limits, unlike a plain run)."""
    lines = []
    for n in range(size // 320 + 1):
        lines.append(f"# {zlib.crc32(n.to_bytes(4, 'little')):08x} " + "x" * 308 + "\n")
    return "".join(lines)[:size]


def intro(versions: str | None = None, *, draft: str = "version_num = 2", published: str = "version_num = 1",
           key: str = '"xblock.v1:html:intro"', extra: str = "") -> str:
    """intro.toml with parts replaced (TOML text)."""
    if versions is None:
        versions = ('[[version]]\ntitle = "Intro"\nversion_num = 2\n\n'
                    '[[version]]\ntitle = "Intro"\nversion_num = 1\n')
    return (f"[entity]\ncan_stand_alone = true\nkey = {key}\ncreated = 2025-08-19T04:25:43.685529Z\n{extra}\n"
            f"[entity.draft]\n{draft}\n\n[entity.published]\n{published}\n\n{versions}")

