"""What importing an archive into an existing package would do, entity by entity (``restore --into``).

:func:`plan_import` compares two packages, the archive's (``theirs``, restored into a scratch store and
maybe narrowed to a selection) and the target (``ours``), by streaming both in ref order (a merge join:
one entity per side in memory, plus a small index of version numbers). Entities are matched by ref;
an entity's *content* is its draft version's title, media (path and SHA-256) and children with their
pins, or nothing when its draft is soft-deleted.

* equal content: **unchanged** (counted, not listed);
* only in the archive: **added** (created as the archive has it: every version, draft pointer; never
  published by the import unless ``--publish``);
* different content: **changed** (a new draft version, numbered after the package's own, with the
  archive's content, time and author), or **deleted** when the archive soft-deleted it;
* only in the package: kept (``missing``, counted), or **deleted** with ``delete_missing``;
* **conflict**: the two sides share a *common version* (the archive's latest version whose title,
  time, author and content equal one of the package's versions: v2 archives carry every version) and
  both changed the content since. Refused unless resolved: ``theirs`` applies the archive's (changed or
  deleted), ``ours`` keeps the package's. Without a common version (a v1 archive knows only draft and
  published versions; an unrelated package) the archive's content wins, as it does when only the
  package changed since the common version: importing an older archive rolls the package back.

Pins name versions in the archive's numbering; they are mapped to the package's version with the same
identity (or to the version the import creates). A pin to a version the package does not have and the
import does not create is refused (:class:`ImportRefused`). Collections are compared the same way.

The plan is a value: :attr:`ImportPlan.plan_id` is a digest of every change it lists, so an apply can
insist on the plan a preview showed (``--expect``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from ..domain import (
    COMPONENT,
    OLX_PATH,
    ChildRecord,
    CollectionRecord,
    EntityRecord,
    VersionRecord,
    entity_type,
)
from ..errors import LcArchiveError
from ..progress import NULL_PROGRESS, Progress
from ..stores.base import PackageSource, in_ref_order

if TYPE_CHECKING:
    from .import_payloads import PayloadChange

__all__ = ["CollectionChange", "EntityChange", "ImportConflict", "ImportPlan", "ImportRefused", "Resolve",
           "describe", "plan_import"]

Resolve = Literal["theirs", "ours"]
"""How conflicts are resolved: the archive's content, or the package's."""
Action = Literal["added", "changed", "deleted", "conflict"]

_DEPTH = {"unit": 1, "subsection": 2, "section": 3}
"""Containers pinned to other containers are decided children first."""


class ImportRefused(LcArchiveError):
    """The archive cannot be imported into this package (type clashes, unmappable pins); nothing written."""

    def __init__(self, ref: str, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__(f"cannot import into {ref}: " + "; ".join(reasons))


class ImportConflict(LcArchiveError):
    """Both the package and the archive changed these entities since their common version."""

    def __init__(self, plan: ImportPlan) -> None:
        self.plan = plan
        refs = [c.ref for c in plan.conflicts]
        shown = ", ".join(refs[:20]) + (f" and {len(refs) - 20} more" if len(refs) > 20 else "")
        super().__init__(f"{len(refs)} conflict(s) importing into {plan.into}: {shown} changed in both the "
                         "package and the archive since their common version; nothing was written "
                         "(--theirs takes the archive's, --ours keeps the package's)")


@dataclass(frozen=True, slots=True)
class EntityChange:
    """One entity the import adds, changes, deletes or finds in conflict.

    ``details`` says what differs: ``title`` ([ours, theirs]), ``olx`` (True), ``media_added``,
    ``media_removed``, ``media_changed`` (paths), ``children`` ([ours, theirs] as ``ref`` or ``ref@pin``),
    ``restored`` (the package's draft was soft-deleted), ``missing`` (deleted because the archive lacks
    it), ``resolution`` (a conflict resolved ``theirs`` or ``ours``).
    """

    ref: str
    action: Action
    type: str
    number: int | None = None
    """The package version the import creates (changed), or the draft it copies (added)."""
    source_number: int | None = None
    """The archive's version the new one copies (changed, or a conflict)."""
    children: tuple[ChildRecord, ...] = ()
    """A changed container's new children, pins in the package's numbering."""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def writes(self) -> bool:
        """Whether applying this change writes anything (an unresolved or ``ours`` conflict does not)."""
        return self.action != "conflict" or self.details.get("resolution") == "theirs"

    def as_dict(self) -> dict[str, Any]:
        """The machine form used by ``--json``."""
        out: dict[str, Any] = {"ref": self.ref, "action": self.action, "type": self.type}
        if self.number is not None:
            out["version"] = self.number
        if self.source_number is not None:
            out["archive_version"] = self.source_number
        return out | self.details


@dataclass(frozen=True, slots=True)
class CollectionChange:
    """One collection the import adds, changes, or disables (``record`` is what it will hold)."""

    code: str
    action: Literal["added", "changed", "deleted"]
    record: CollectionRecord
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The machine form used by ``--json``."""
        return {"code": self.code, "action": self.action} | self.details


@dataclass
class ImportPlan:
    """Every change an import makes into package ``into`` (see the module docstring)."""

    into: str
    delete_missing: bool = False
    resolve: Resolve | None = None
    selective: bool = False
    entities: list[EntityChange] = field(default_factory=list)
    """Sorted by ref."""
    collections: list[CollectionChange] = field(default_factory=list)
    """Sorted by code."""
    unchanged: int = 0
    missing: int = 0
    """Entities of the package the archive lacks, kept (without ``delete_missing``)."""
    payloads: list[PayloadChange] = field(default_factory=list)
    """Plugin payloads written besides those of created entities (:mod:`.import_payloads`)."""
    moved: dict[str, dict[int, int | None]] = field(default_factory=dict, repr=False)
    """The archive's version numbers that are other numbers here (None: no such version here)."""

    def map_pin(self, ref: str, number: int) -> int | None:
        """The package's number of the archive's version ``number`` of ``ref`` (None: none here)."""
        moved = self.moved.get(ref)
        return number if moved is None or number not in moved else moved[number]

    @property
    def conflicts(self) -> list[EntityChange]:
        """The conflicts, resolved or not."""
        return [c for c in self.entities if c.action == "conflict"]

    @property
    def unresolved(self) -> list[EntityChange]:
        """Conflicts that refuse the import."""
        return [c for c in self.conflicts if "resolution" not in c.details]

    @property
    def changes(self) -> int:
        """How many entities and collections applying the plan writes."""
        return sum(c.writes for c in self.entities) + len(self.collections) + len(self.payloads)

    def counts(self) -> dict[str, int]:
        """How many entities of each action, collections, unchanged and missing."""
        counts = dict.fromkeys(("added", "changed", "deleted", "conflict"), 0)
        for c in self.entities:
            counts[c.action] += 1
        return {**counts, "unchanged": self.unchanged, "missing": self.missing,
                "collections": len(self.collections), "payloads": len(self.payloads)}

    @property
    def plan_id(self) -> str:
        """A digest of every listed change (the same plan always gives the same id)."""
        body = json.dumps([[c.as_dict() for c in self.entities], [c.as_dict() for c in self.collections],
                           self.unchanged, self.missing, [c.as_dict() for c in self.payloads]],
                          sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(body.encode()).hexdigest()[:16]

    def as_dict(self) -> dict[str, Any]:
        """The machine form used by ``--json``."""
        return {"into": self.into, "plan_id": self.plan_id, "changes": self.changes, "counts": self.counts(),
                "delete_missing": self.delete_missing, "resolve": self.resolve, "selective": self.selective,
                "entities": [c.as_dict() for c in self.entities],
                "collections": [c.as_dict() for c in self.collections],
                "payloads": [c.as_dict() for c in self.payloads]}


Content = tuple[str, tuple[tuple[str, str], ...], tuple[tuple[str, int | None], ...]]


def _content(e: EntityRecord, v: VersionRecord | None, pins: _Pins | None = None) -> Content | None:
    """A version's content: title, media (path, SHA-256), children (ref, pin); pins mapped if asked."""
    if v is None:
        return None
    media = tuple(sorted((m.path, m.sha256) for m in v.media)) if e.kind == COMPONENT else ()
    kids = tuple((c.ref, c.pinned if pins is None or c.pinned is None else pins.map(c.ref, c.pinned))
                 for c in v.children)
    return (v.title, media, kids)


def _identity(e: EntityRecord, v: VersionRecord) -> tuple[Any, ...]:
    return (v.title, v.created, v.created_by, _content(e, v))


def _draft(e: EntityRecord) -> VersionRecord | None:
    return e.version(e.draft)


class _Pins:
    """Maps the archive's version numbers to the package's, for the few that differ.

    An archive version whose identity equals the package version with the same number is not stored.
    """

    def __init__(self, moved: dict[str, dict[int, int | None]]) -> None:
        self.moved = moved

    def record(self, ref: str, theirs: EntityRecord, ours: EntityRecord | None) -> None:
        known = {} if ours is None else {_identity(ours, v): v.number for v in ours.versions}
        for v in theirs.versions:
            if ours is None:
                continue  # added: the versions are copied with their numbers
            m = known.get(_identity(theirs, v))
            if m != v.number:
                self.moved.setdefault(ref, {})[v.number] = m

    def created(self, ref: str, source: int, number: int) -> None:
        self.moved.setdefault(ref, {})[source] = number

    def map(self, ref: str, number: int) -> int | None:
        moved = self.moved.get(ref)
        return number if moved is None or number not in moved else moved[number]


def _pin_text(children: tuple[tuple[str, int | None], ...]) -> list[str]:
    return [ref if pin is None else f"{ref}@{pin}" for ref, pin in children]


def _details(ours: Content | None, theirs: Content) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if ours is None:
        return {"restored": True}
    if ours[0] != theirs[0]:
        out["title"] = [ours[0], theirs[0]]
    mo, mt = dict(ours[1]), dict(theirs[1])
    if added := sorted(mt.keys() - mo.keys()):
        out["media_added"] = added
    if removed := sorted(mo.keys() - mt.keys()):
        out["media_removed"] = removed
    if changed := sorted(p for p in mo.keys() & mt.keys() if mo[p] != mt[p]):
        out["media_changed"] = changed
    if OLX_PATH in (*added, *removed, *changed):
        out["olx"] = True
    if ours[2] != theirs[2]:
        out["children"] = [_pin_text(ours[2]), _pin_text(theirs[2])]
    return out


class _Planner:
    def __init__(self, plan: ImportPlan) -> None:
        self.plan = plan
        self.pins = _Pins(plan.moved)
        self.deferred: list[tuple[EntityRecord, EntityRecord]] = []
        self.deferred_added: list[EntityRecord] = []
        self.problems: list[str] = []

    def pair(self, theirs: EntityRecord, ours: EntityRecord) -> None:
        if (theirs.kind, theirs.namespace, theirs.type) != (ours.kind, ours.namespace, ours.type):
            self.problems.append(f"{theirs.ref} is a {entity_type(theirs.kind, theirs.namespace, theirs.type)} in "
                                 f"the archive and a {entity_type(ours.kind, ours.namespace, ours.type)} here")
            return
        self.pins.record(theirs.ref, theirs, ours)
        if theirs.kind != COMPONENT and any(c.pinned is not None for v in theirs.versions for c in v.children):
            self.deferred.append((theirs, ours))
            return
        self.decide(theirs, ours)

    def decide(self, theirs: EntityRecord, ours: EntityRecord) -> None:
        plan = self.plan
        a, p = _draft(theirs), _draft(ours)
        if a is None and not theirs.draft_deleted:
            self.missing(ours)  # the archive's entity never had a version
            return
        a_content, p_content = _content(theirs, a, self.pins), _content(ours, p)
        if a_content == p_content:
            plan.unchanged += 1
            return
        details: dict[str, Any] = {}
        common = self._common(theirs, ours)
        if common is not None:
            ca, cp = common
            if _content(theirs, a) != _content(theirs, ca) and p_content != _content(ours, cp):
                details["common_version"] = cp.number
                if plan.resolve is None:
                    plan.entities.append(self._change(theirs, ours, "conflict", details))
                    return
                details["resolution"] = plan.resolve
                if plan.resolve == "ours":
                    plan.entities.append(self._change(theirs, ours, "conflict", details))
                    return
        action: Action = "conflict" if "resolution" in details else ("deleted" if a is None else "changed")
        plan.entities.append(self._change(theirs, ours, action, details))

    def _change(self, theirs: EntityRecord, ours: EntityRecord, action: Action, details: dict[str, Any]
                ) -> EntityChange:
        etype = entity_type(ours.kind, ours.namespace, ours.type)
        a = _draft(theirs)
        a_content, p_content = _content(theirs, a, self.pins), _content(ours, _draft(ours))
        if a is None or a_content is None:
            return EntityChange(ours.ref, action, etype, details=details | ({"deleted": True}
                                                                            if action == "conflict" else {}))
        details = _details(p_content, a_content) | details
        writes = action == "changed" or details.get("resolution") == "theirs"
        number: int | None = None
        children: tuple[ChildRecord, ...] = ()
        if writes:
            number = max((v.number for v in ours.versions), default=0) + 1
            self.pins.created(theirs.ref, a.number, number)
            children = tuple(ChildRecord(ref, pin) for ref, pin in a_content[2])
            unmapped = [f"{ref}@{c.pinned}" for (ref, pin), c in zip(a_content[2], a.children, strict=True)
                        if c.pinned is not None and pin is None]
            if unmapped:
                self.problems.append(f"{theirs.ref} v{a.number} pins {', '.join(unmapped)}: versions this package "
                                     "does not have and the import does not create")
        return EntityChange(ours.ref, action, etype, number, a.number, children, details)

    @staticmethod
    def _common(theirs: EntityRecord, ours: EntityRecord) -> tuple[VersionRecord, VersionRecord] | None:
        known = {_identity(ours, v): v for v in ours.versions}
        for v in reversed(theirs.versions):
            found = known.get(_identity(theirs, v))
            if found is not None:
                return v, found
        return None

    def added(self, theirs: EntityRecord) -> None:
        if theirs.kind != COMPONENT and any(c.pinned is not None for v in theirs.versions for c in v.children):
            self.deferred_added.append(theirs)  # its pins are checked once every child is decided
        etype = entity_type(theirs.kind, theirs.namespace, theirs.type)
        details: dict[str, Any] = {"versions": len(theirs.versions)}
        if theirs.draft_deleted:
            details["deleted"] = True
        self.plan.entities.append(EntityChange(theirs.ref, "added", etype, theirs.draft, details=details))

    def missing(self, ours: EntityRecord) -> None:
        plan = self.plan
        if plan.delete_missing and ours.draft is not None:
            plan.entities.append(EntityChange(ours.ref, "deleted", entity_type(ours.kind, ours.namespace, ours.type),
                                              details={"missing": True}))
        elif not plan.selective:
            plan.missing += 1

    def finish(self) -> None:
        for theirs, ours in sorted(self.deferred, key=lambda pair: _DEPTH.get(pair[0].type, 9)):
            self.decide(theirs, ours)
        for theirs in self.deferred_added:
            unmapped = sorted({f"{c.ref}@{c.pinned}" for v in theirs.versions for c in v.children
                               if c.pinned is not None and self.pins.map(c.ref, c.pinned) is None})
            if unmapped:
                self.problems.append(f"{theirs.ref} pins {', '.join(unmapped)}: versions this package does not "
                                     "have and the import does not create")
        self.plan.entities.sort(key=lambda c: c.ref)


def _merge(theirs: Iterator[EntityRecord], ours: Iterator[EntityRecord]
           ) -> Iterator[tuple[EntityRecord | None, EntityRecord | None]]:
    a, p = next(theirs, None), next(ours, None)
    while a is not None or p is not None:
        if p is None or (a is not None and a.ref < p.ref):
            yield a, None
            a = next(theirs, None)
        elif a is None or p.ref < a.ref:
            yield None, p
            p = next(ours, None)
        else:
            yield a, p
            a, p = next(theirs, None), next(ours, None)


def _plan_collections(theirs: PackageSource, ours: PackageSource, plan: ImportPlan, now: datetime) -> None:
    held = {c.code: c for c in ours.iter_collections(include_disabled=True)}
    seen: set[str] = set()
    out: list[CollectionChange] = []
    for a in theirs.iter_collections(include_disabled=True):
        seen.add(a.code)
        p = held.get(a.code)
        if p is None:
            if a.enabled:
                out.append(CollectionChange(a.code, "added", a, {"members": len(a.members)}))
            continue
        details: dict[str, Any] = {}
        for name in ("title", "description", "enabled"):
            if getattr(a, name) != getattr(p, name):
                details[name] = [getattr(p, name), getattr(a, name)]
        members = set(p.members)
        if added := sorted(set(a.members) - members):
            details["members_added"] = added
        removed = sorted(members - set(a.members)) if plan.delete_missing else []
        if removed:
            details["members_removed"] = removed
        if details:
            record = CollectionRecord(a.code, a.title, a.description, a.enabled, p.created, now, p.created_by,
                                      tuple(sorted((members | set(a.members)) - set(removed))))
            out.append(CollectionChange(a.code, "deleted" if p.enabled and not a.enabled else "changed", record,
                                        details))
    if plan.delete_missing:
        for code, p in held.items():
            if code not in seen and p.enabled:
                record = CollectionRecord(p.code, p.title, p.description, False, p.created, now, p.created_by,
                                          p.members)
                out.append(CollectionChange(code, "deleted", record, {"missing": True}))
    plan.collections = sorted(out, key=lambda c: c.code)


def plan_import(theirs: PackageSource, ours: PackageSource, *, delete_missing: bool = False,
                resolve: Resolve | None = None, selective: bool = False, now: datetime,
                progress: Progress = NULL_PROGRESS) -> ImportPlan:
    """What importing ``theirs`` (the archive's package) into ``ours`` would do (see the module docstring).

    ``selective``: ``theirs`` is a selection, so the package's entities it lacks are neither counted
    nor deleted. ``now`` stamps changed collections. Raises :class:`ImportRefused` listing every entity
    whose type differs and every pin that cannot be mapped.
    """
    plan = ImportPlan(ours.package.ref, delete_missing=delete_missing, resolve=resolve, selective=selective)
    planner = _Planner(plan)
    progress.phase("compare", max(theirs.entity_count(), ours.entity_count()))
    pairs = _merge(in_ref_order(theirs.iter_entities(history="all"), "archive"),
                   in_ref_order(ours.iter_entities(history="all"), "store"))
    for a, p in pairs:
        if p is None:
            assert a is not None
            planner.added(a)
        elif a is None:
            planner.missing(p)
        else:
            planner.pair(a, p)
        progress.advance()
    planner.finish()
    if planner.problems:
        raise ImportRefused(plan.into, planner.problems)
    _plan_collections(theirs, ours, plan, now)
    return plan


def describe(change: EntityChange) -> str:
    """One line for a human: what happens to the entity and what differs."""
    d = change.details
    parts: list[str] = []
    if "title" in d:
        parts.append(f"title {d['title'][0]!r} -> {d['title'][1]!r}")
    if d.get("olx"):
        parts.append("OLX")
    for key, word in (("media_added", "added"), ("media_removed", "removed"), ("media_changed", "changed")):
        paths = [p for p in d.get(key, []) if p != OLX_PATH]
        if paths:
            parts.append(f"media {word}: {', '.join(paths)}")
    if "children" in d:
        parts.append(f"children [{', '.join(d['children'][0])}] -> [{', '.join(d['children'][1])}]")
    for flag, text in (("restored", "restored (was deleted here)"), ("missing", "not in the archive"),
                       ("deleted", "deleted in the archive")):
        if d.get(flag):
            parts.append(text)
    if "resolution" in d:
        parts.append(f"resolved: {d['resolution']}")
    if change.number is not None and change.action != "added":
        parts.append(f"new version {change.number}")
    return f"{change.action} {change.ref} ({change.type})" + (f": {'; '.join(parts)}" if parts else "")

