"""Classify the members of a v1 archive by their place in the layout.

The layout (``docs/formats/v1.md``)::

    package.toml
    entities/<container>.toml
    entities/<namespace>/<type>/<component>.toml
    entities/<namespace>/<type>/<component>/component_versions/v<N>/<media path>
    collections/<collection>.toml
    plugins/<plugin>/<...>.json                  lc-archive's plugin payloads (openedx-core ignores them)

Unlike openedx-core's reader, nothing is guessed: a ``.toml`` under ``component_versions/`` is a media
file, ``v<N>/`` inside a media path is part of the path, and every member that fits nowhere is a
problem rather than silently dropped. Directory entries are skipped. An archive whose members all sit
in one top-level folder (zipped with a wrapper directory) is read from inside that folder.
openedx-core 1.15.2 writes a component whose code slugifies to nothing as ``entities/ns/type/.toml``
with its versions directly in ``entities/ns/type/component_versions/``; that shape is accepted too.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field

from ...errors import Problem, ProblemList
from ...plugins.payload_members import is_payload_member

__all__ = ["ComponentFiles", "V1Layout", "classify"]

PACKAGE_TOML = "package.toml"
_VERSION_DIR = re.compile(r"^v([1-9][0-9]{0,9})$")


class ComponentFiles:
    """A component TOML member and the media members of its version directories.

    Only the media members' names are kept (a 100,000-component archive has some 270,000 of them);
    :meth:`versions` splits them into version numbers and media paths when the component is read.
    """

    __slots__ = ("media", "namespace", "toml", "type")

    def __init__(self, toml: str, namespace: str, type: str) -> None:
        self.toml = toml
        self.namespace = namespace
        self.type = type
        self.media: list[str] = []
        """Media member names, in archive order, each inside ``<root>v<N>/`` (see :meth:`versions`)."""

    @property
    def root(self) -> str:
        """The folder holding the version directories: ``<stem>/component_versions/`` beside the TOML
        (``component_versions/`` itself beside an empty-slug ``.toml``)."""
        stem = self.toml[:-5]  # ".toml"
        return f"{stem[:-1] if stem.endswith('/') else stem}/component_versions/"

    def versions(self) -> dict[int, list[tuple[str, str]]]:
        """Version number -> [(media path, member name)] in archive order."""
        cut = len(self.root)
        out: dict[int, list[tuple[str, str]]] = {}
        for name in self.media:
            directory, _, path = name[cut:].partition("/")
            out.setdefault(int(directory[1:]), []).append((path, name))
        return out


@dataclass
class V1Layout:
    """Where everything is in a v1 archive (member names include the wrapper ``prefix``)."""

    prefix: str = ""
    package: str | None = None
    containers: list[str] = field(default_factory=list)
    components: dict[str, ComponentFiles] = field(default_factory=dict)
    collections: list[str] = field(default_factory=list)
    payloads: list[str] = field(default_factory=list)
    """Plugin payload members (``plugins/<plugin>/...json``)."""
    ignored: list[str] = field(default_factory=list)
    problems: ProblemList = field(default_factory=ProblemList)


def _wrapper_prefix(names: list[str]) -> str:
    if PACKAGE_TOML in names:
        return ""
    tops = {n.split("/", 1)[0] for n in names}
    if len(tops) == 1:
        top = tops.pop()
        if f"{top}/{PACKAGE_TOML}" in names:
            return f"{top}/"
    return ""


def classify(member_names: Iterable[str]) -> V1Layout:
    """Sort archive members into package, container, component, media and collection files."""
    names = list(member_names)
    layout = V1Layout(prefix=_wrapper_prefix(names))
    pre = layout.prefix
    media: list[str] = []  # names only: split again when placed (a list of parts per member held them all)
    for name in names:
        if name.endswith("/") or (pre and name == pre):
            continue
        rel = name[len(pre):] if name.startswith(pre) else None
        if rel is None:
            layout.problems.append(Problem(name, "$", f"member outside the archive folder {pre!r}"))
            continue
        parts = rel.split("/")
        if rel == PACKAGE_TOML:
            layout.package = name
        elif parts[0] == "entities" and len(parts) == 2 and rel.endswith(".toml"):
            layout.containers.append(name)
        elif parts[0] == "entities" and len(parts) == 4 and rel.endswith(".toml"):
            layout.components[name] = ComponentFiles(name, sys.intern(parts[1]), sys.intern(parts[2]))
        elif parts[0] == "entities" and len(parts) >= 5:
            media.append(name)
        elif parts[0] == "collections" and rel.endswith(".toml") and len(parts) >= 2:
            layout.collections.append(name)
        elif is_payload_member(rel):
            layout.payloads.append(name)
        elif parts[0] in ("entities", "collections", "plugins"):
            layout.problems.append(Problem(name, "$", "unexpected file: it fits nowhere in the v1 layout"))
        else:
            layout.ignored.append(name)
    for name in media:
        _place_media(layout, name, name[len(pre):].split("/"))
    if layout.package is None:
        layout.problems.append(Problem(pre + PACKAGE_TOML, "$", "missing: every archive needs package.toml"))
    return layout


def _place_media(layout: V1Layout, name: str, parts: list[str]) -> None:
    """``entities/ns/type/<stem>/component_versions/vN/<path>`` -> that component's version N."""
    base = layout.prefix + "/".join(parts[:3])
    candidates = [(f"{base}/{parts[3]}.toml", parts[4:])]
    if parts[3] == "component_versions":  # openedx-core's layout for an empty slug: ns/type/.toml
        candidates.append((f"{base}/.toml", parts[3:]))
    for toml, rest in candidates:
        comp = layout.components.get(toml)
        if comp is None or len(rest) < 3 or rest[0] != "component_versions":
            continue
        match = _VERSION_DIR.match(rest[1])
        if match is None:
            continue
        comp.media.append(name)  # comp.root + rest[1] + "/" + the media path: split again by versions()
        return
    stem = "/".join(parts[:4])
    if f"{base}/{parts[3]}.toml" in layout.components or parts[3] == "component_versions":
        msg = "not inside component_versions/v<N>/ of its component"
    else:
        msg = f"media file of no component: {layout.prefix}{stem}.toml is missing"
    layout.problems.append(Problem(name, "$", msg))
