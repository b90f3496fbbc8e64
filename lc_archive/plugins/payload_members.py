"""Plugin payloads as archive members, shared by the v1 and v2 formats.

Every payload is one JSON member under ``plugins/<plugin>/`` (openedx-core's v1 reader ignores
top-level folders other than ``entities/`` and ``collections/``, so a v1 archive carrying plugin data
still restores there)::

    plugins/<plugin>/package.json                          package scope
    plugins/<plugin>/<namespace>/<type>/<code>.json        a component
    plugins/<plugin>/<code>.json                           a container
    plugins/<plugin>/<...>.v<N>.json                       one version of that entity
    plugins/<plugin>/_/<sha256 of the target>.json         when the readable name is not a safe,
                                                           unique member name

The name is only for browsing: the document's envelope says what the payload belongs to (see
:mod:`.payloads`). Readers check the envelope, that its target exists in the archive, that no target
has two payloads of one plugin, and hand the document to the plugin's serializer when it is installed.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from ..archive.limits import DEFAULT_LIMITS, Limits
from ..archive.names import NameClaims
from ..archive.zip_reader import ArchiveReader
from ..domain import PayloadRecord
from ..errors import ArchiveInvalid, Problem
from .contract import PayloadTarget
from .payloads import check_payload, parse_payload
from .registry import Registry

__all__ = [
    "PAYLOADS_DIR",
    "PayloadNames",
    "TargetInfo",
    "component_type",
    "entity_lookup",
    "is_payload_member",
    "read_payload_members",
]

PAYLOADS_DIR = "plugins/"


def is_payload_member(name: str) -> bool:
    """Whether ``name`` (relative to the archive root) is a plugin payload member."""
    return name.startswith(PAYLOADS_DIR) and name.endswith(".json") and name.count("/") >= 2


class PayloadNames:
    """Hands out member names for payloads: readable when safe and unique, hashed otherwise."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self._claims = NameClaims(limits)

    def name(self, record: PayloadRecord) -> str:
        """The member name for ``record`` (each target once: callers never pass one target twice)."""
        base = f"{PAYLOADS_DIR}{record.plugin}/"
        if record.entity is None:
            return self._claims.claim(f"{base}package.json")
        readable = base + record.entity.replace(":", "/", 2)
        if record.version is not None:
            readable += f".v{record.version}"
        candidate = f"{readable}.json"
        hashed = candidate == f"{base}package.json" or candidate.startswith(f"{base}_/")
        if not hashed and self._claims.free(candidate):
            return self._claims.claim(candidate)
        target = f"{record.entity}\n{record.version or ''}"
        return self._claims.claim(f"{base}_/{hashlib.sha256(target.encode('utf-8')).hexdigest()}.json")


@dataclass(frozen=True, slots=True)
class TargetInfo:
    """What a reader knows about an entity that a payload may name."""

    kind: str
    type: str
    has_version: Callable[[int], bool]


class _Indexed(Protocol):
    """What the readers' entity index holds per ref: ``kind``, and ``type`` (``namespace:type`` of a
    component, the container type of a container)."""

    @property
    def kind(self) -> str: ...

    @property
    def type(self) -> str: ...


def component_type(namespace: str, type: str) -> str:
    """``namespace:type``, one shared string per component type (readers keep one per entity)."""
    return sys.intern(f"{namespace}:{type}")


def entity_lookup[S: _Indexed](
    seen: Callable[[str], S | None], has_version: Callable[[S, int], bool]
) -> Callable[[str], TargetInfo | None]:
    """A ``lookup`` for :func:`read_payload_members` over a reader's index of the entities it accepted
    (``seen``: ref -> its entry, or None)."""

    def lookup(ref: str) -> TargetInfo | None:
        entry = seen(ref)
        if entry is None:
            return None
        return TargetInfo(entry.kind, entry.type, lambda number: has_version(entry, number))

    return lookup


@dataclass
class _Read:
    seen: dict[tuple[str, str | None, int | None], str] = field(default_factory=dict)


def read_payload_members(
    reader: ArchiveReader,
    members: Iterable[str],
    *,
    prefix: str = "",
    limits: Limits,
    registry: Registry,
    lookup: Callable[[str], TargetInfo | None],
    add: Callable[[PayloadRecord], None] | None,
    problems: list[Problem],
    on_read: Callable[[str, bytes], None] | None = None,
) -> list[str]:
    """Read and check every payload member, handing each record to store to ``add`` (when given);
    return the notes (problems are appended, never raised).

    ``lookup`` answers for an entity ref of the archive (None: no such valid entity); ``on_read`` sees
    each member's bytes (the v2 reader checks them against its manifest).
    """

    state = _Read()
    notes: list[str] = []
    for member in members:
        try:
            raw = reader.read_bytes(member, max_size=limits.max_toml_size)
        except ArchiveInvalid as exc:
            problems.extend(exc.problems)
            continue
        if on_read is not None:
            on_read(member, raw)
        parsed = parse_payload(member, raw, limits=limits, problems=problems)
        if parsed is None:
            continue
        folder = member[len(prefix) + len(PAYLOADS_DIR):].split("/", 1)[0]
        if folder != parsed.plugin:
            problems.append(Problem(member, "$.plugin", f"payload of plugin {parsed.plugin!r} inside "
                                                        f"{PAYLOADS_DIR}{folder}/; it belongs in "
                                                        f"{PAYLOADS_DIR}{parsed.plugin}/"))
            continue
        key = (parsed.plugin, parsed.entity, parsed.version)
        first = state.seen.get(key)
        if first is not None:
            problems.append(Problem(member, "$", f"a second {parsed.plugin!r} payload for the same target "
                                                 f"(the first is {first})"))
            continue
        state.seen[key] = member
        target = PayloadTarget("package")
        if parsed.entity is not None:
            info = lookup(parsed.entity)
            if info is None:
                problems.append(Problem(member, "$.entity", f"no valid entity {parsed.entity!r} in this archive"))
                continue
            if parsed.version is not None and not info.has_version(parsed.version):
                problems.append(Problem(member, "$.version", f"{parsed.entity!r} has no version {parsed.version} "
                                                             "in this archive"))
                continue
            target = PayloadTarget("entity" if parsed.version is None else "version", parsed.entity,
                                   parsed.version, info.kind, info.type)
        record = check_payload(parsed, registry.plugin(parsed.plugin), target, problems=problems, notes=notes)
        if record is not None and add is not None:
            add(record)
    return list(dict.fromkeys(notes))
