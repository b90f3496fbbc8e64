"""The second validation layer: type-specific checks of each component, through the registry.

The archive readers (any format) check every entity and version themselves; then, for each
component, they hand every version to the serializer the registry has for its type
(:meth:`~lc_archive.plugins.contract.ComponentSerializer.check_version`). The serializer's issues
become :class:`~lc_archive.errors.Problem` records naming the archive member, and the facts it derives
from the OLX (display name, scoring, code-library files, Python imports) are attached to the version
records, so that ``inspect`` can show them. Facts are always recomputed here, never read from an archive.

Serializers can come from plugins: an exception raised by one is a problem of the archive being
checked (naming the serializer), never a crash of the restore.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any, BinaryIO

from ..archive.limits import Limits
from ..domain import EntityRecord, VersionRecord
from ..errors import Problem
from .contract import ComponentVersionView, VersionCheck
from .registry import Registry

__all__ = ["MEMO_SIZE", "CheckMemo", "check_component", "child_problem"]

MEMO_SIZE = 4096
"""Results a :data:`CheckMemo` keeps (the oldest is dropped first); each is small (facts and issues)."""

CheckMemo = dict[tuple[Any, ...], tuple[str, VersionCheck]]
"""Serializer results of one archive read, by what the serializer was given (see :func:`check_component`)."""


def check_component(
    entity: EntityRecord,
    *,
    registry: Registry,
    member: str,
    olx: Mapping[int, tuple[str, bytes, Any]],
    media_members: Mapping[int, Mapping[str, str]],
    open_member: Callable[[str], AbstractContextManager[BinaryIO]],
    limits: Limits,
    problems: list[Problem],
    memo: CheckMemo | None = None,
) -> EntityRecord:
    """Run the type's serializer over every version of ``entity``; return it with the derived facts.

    ``memo`` (one per archive read) remembers each result by what the serializer is given: its id, the
    component type, the ``block.xml`` member and every media member. A version whose OLX and media are
    members an earlier version used already (v2 stores each blob once, so thousands of versions may
    share one ``block.xml`` or ``python_lib.zip``) gets that result without the serializer running
    again, so the work is per distinct content, not per version; its issues are repeated (problems
    about the entity's own document name this entity's), with the messages of the first version.

    ``member`` is the entity's own document; ``olx`` maps a version number to its ``block.xml``
    member, bytes and the tree the core parsed (:func:`~.olx.parse_olx`, well-formed already);
    ``media_members`` maps a version number to ``{media path: archive member}``; ``open_member``
    streams one archive member.
    """
    serializer = registry.component(entity.namespace, entity.type)
    versions: list[VersionRecord] = []
    for v in entity.versions:
        members = media_members.get(v.number, {})
        olx_member, olx_bytes, olx_root = olx.get(v.number, (None, None, None))
        key = (serializer.id, entity.namespace, entity.type, olx_member, tuple(sorted(members.items())))
        known = memo.get(key) if memo is not None else None
        if known is not None:  # the same members (the same bytes) checked already: reuse, never redo
            first_member, result = known
            problems.extend(Problem(member if issue.member == first_member else issue.member or olx_member or member,
                                    issue.path, issue.message, issue.severity, issue.kind) for issue in result.issues)
            versions.append(_with_facts(v, result))
            continue

        def open_media(path: str, _members: Mapping[str, str] = members) -> AbstractContextManager[BinaryIO]:
            return open_member(_members[path])

        view = ComponentVersionView(
            ref=entity.ref, namespace=entity.namespace, type=entity.type, number=v.number, member=member,
            olx=olx_bytes, olx_member=olx_member, media=members, open_media=open_media, limits=limits,
            olx_root=olx_root,
        )  # fmt: skip
        try:
            result = serializer.check_version(view)
        except Exception as exc:  # plugin code: whatever it raises is reported, never a crash
            problems.append(Problem(olx_member or member, "$", f"version {v.number}: the {serializer.id!r} "
                                    f"serializer failed: {type(exc).__name__}: {exc}"))
            versions.append(v)
            continue
        if memo is not None:
            if len(memo) >= MEMO_SIZE:
                memo.pop(next(iter(memo)))
            memo[key] = (member, result)
        for issue in result.issues:
            problems.append(Problem(issue.member or olx_member or member, issue.path, issue.message, issue.severity,
                                    issue.kind))
        versions.append(_with_facts(v, result))
    return dataclasses.replace(entity, versions=tuple(versions))


def _with_facts(v: VersionRecord, result: VersionCheck) -> VersionRecord:
    if result.facts is None:
        return v
    # (dataclasses.replace is slow on a hot path)
    return VersionRecord(v.number, v.title, v.created, v.created_by, v.media, v.children, result.facts)


def child_problem(registry: Registry, container_type: str, kind: str, child_type: str) -> str | None:
    """Why an entity of ``kind``/``child_type`` cannot be a child of a ``container_type``, or None.

    Asks the container's serializer (the registry falls back to lc-archive's built-in rules).
    """
    serializer = registry.container(container_type)
    if serializer is None:  # an unknown container type: refused where the container itself is read
        return None
    try:
        return serializer.child_problem(kind, child_type)
    except Exception as exc:  # plugin code
        return f"the {serializer.id!r} serializer failed: {type(exc).__name__}: {exc}"
