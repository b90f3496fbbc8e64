"""The second half of a restore into openedx-core: children, change logs, side effects and pointers.

:class:`EntityState` is what the sink remembers of every entity (ids, version ids, pointers, pending
child rows): a few integers per entity and version. :class:`LogWriter` turns it into the rows that
openedx-core's API writes for the package's history (docs/decisions/0008-openedx-bulk-writer-and-media.md):

1. one ``DraftChangeLog`` (the restore's time and user) as ``bulk_draft_changes_for`` leaves it after
   every version was created and each draft pointer set: one record per entity with a live draft
   (``None`` -> draft version), ``DraftSideEffect`` rows, dependency hashes, ``Draft`` rows;
2. one ``PublishLog`` per archived publish event, its entries as direct records, with the side effects
   and hashes ``publish_from_drafts`` adds; then, when the archive's log does not end at an entity's
   published version (a v1 archive has no log), one more ``PublishLog`` at the restore's time that
   does; ``Published`` rows pointing at each entity's last record.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ...domain import ChildRecord, EntityRecord, PublishLogRecord
from ...errors import StoreError
from .bulk_rows import insert_rows, insert_values
from .side_effects import Branch, DependencyGraph, LogRecord, LogResult, apply_log
from .users import UserResolver

__all__ = ["EntityState", "LogWriter", "save_records"]


@dataclass(frozen=True, slots=True)
class _Pointers:
    ref: str
    draft: int | None
    draft_deleted: bool
    published: int | None
    published_deleted: bool
    has_versions: bool


class EntityState:
    """Ids and pointers of every entity written so far, and the child rows still to link."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.versions: dict[tuple[int, int], int] = {}
        self.order: list[int] = []
        self.pointers: dict[int, _Pointers] = {}
        self.graph = DependencyGraph()
        self._children: list[tuple[int, int, str, int | None, int]] = []

    def add_entity(self, e: EntityRecord, entity_id: int) -> None:
        """Remember an entity's id and pointers."""
        self.ids[e.ref] = entity_id
        self.order.append(entity_id)
        self.pointers[entity_id] = _Pointers(e.ref, e.draft, e.draft_deleted, e.published, e.published_deleted,
                                             bool(e.versions))

    def add_version(self, ref: str, number: int, version_id: int) -> None:
        """Remember a version's id."""
        entity_id = self.ids[ref]
        self.versions[(entity_id, number)] = version_id
        self.graph.add_version(version_id, entity_id)

    def add_children(self, ref: str, version_id: int, entity_list: int, children: Sequence[ChildRecord]) -> None:
        """Queue a container version's child rows (children may be added later)."""
        self._children.extend((entity_list, i, c.ref, c.pinned, version_id) for i, c in enumerate(children))

    def version_id(self, entity_id: int, number: int | None, what: str) -> int | None:
        """The id of version ``number`` of an entity (None for None); StoreError if it was not restored."""
        if number is None:
            return None
        found = self.versions.get((entity_id, number))
        if found is None:
            p = self.pointers.get(entity_id)
            name = p.ref if p is not None else f"entity id {entity_id}"
            raise StoreError(f"{name}: {what} names version {number}, not in the package")
        return found

    def write_children(self, using: str) -> None:
        """Insert every ``EntityListRow`` and version dependency (the unpinned children)."""
        from openedx_content.models_api import EntityListRow, PublishableEntityVersionDependency

        rows: list[tuple[int, int, int, int | None]] = []
        deps: dict[int, list[int]] = {}
        for elist, order, ref, pin, vid in self._children:
            child = self.ids.get(ref)
            if child is None:
                raise StoreError(f"container child {ref!r} is not an entity of this package")
            pinned = self.version_id(child, pin, f"a pin of a child of version id {vid}")
            rows.append((elist, order, child, pinned))
            if pinned is None:
                deps.setdefault(vid, []).append(child)
        self._children = []
        insert_values(EntityListRow, ["entity_list", "order_num", "entity", "entity_version"], rows, using)
        dep_rows: list[tuple[int, int]] = []
        for vid, entities in deps.items():
            self.graph.set_deps(vid, entities)
            dep_rows.extend((vid, e) for e in dict.fromkeys(entities))
        insert_values(PublishableEntityVersionDependency, ["referring_version", "referenced_entity"], dep_rows, using)


def save_records(model: Any, result: LogResult, fields: dict[str, int], using: str, *, publish: bool = False) -> None:
    """Insert a log's records (``DraftChangeLogRecord`` or, ``publish``, ``PublishLogRecord`` with its
    ``direct`` flag), ``fields`` naming their log; each record learns its ``db_id``."""
    rows = []
    for r in result.records:
        extra = {"direct": r.direct} if publish else {}
        rows.append({"entity": r.entity, "old_version": r.old, "new_version": r.new,
                     "dependencies_hash_digest": r.digest, **fields, **extra})
    for r, rid in zip(result.records, insert_rows(model, rows, using), strict=True):
        r.db_id = rid


@dataclass(frozen=True, slots=True)
class _Event:
    published_at: datetime
    published_by: str | None
    message: str
    entries: tuple[tuple[str, int | None, int | None], ...]


class LogWriter:
    """Writes the draft change log, the publish logs and the Draft/Published pointers."""

    def __init__(self, using: str, package_id: int, state: EntityState, users: UserResolver, *,
                 restorer: int | None, now: datetime) -> None:
        self._using, self._lp, self._state, self._users = using, package_id, state, users
        self._restorer, self._now = restorer, now
        self._events: list[_Event] = []
        self.notes: list[str] = []

    def add_publish_events(self, records: Iterable[PublishLogRecord]) -> None:
        """Keep publish events (compactly) until :meth:`write`."""
        for r in records:
            self._events.append(_Event(r.published_at, r.published_by, r.message,
                                       tuple((x.ref, x.old, x.new) for x in r.entries)))

    def write(self) -> None:
        """Write every change log, side effect and pointer (call once, after every entity)."""
        self._write_drafts()
        self._write_publishes()

    # -- drafts --------------------------------------------------------------------------------------

    def _write_drafts(self) -> None:
        from openedx_content.models_api import Draft, DraftChangeLog, DraftChangeLogRecord, DraftSideEffect

        state, branch = self._state, Branch(self._state.graph)
        originals, targets = [], {}
        for eid in state.order:
            p = state.pointers[eid]
            if not p.has_versions:
                continue
            if p.draft is None and not p.draft_deleted:
                self.notes.append(f"{p.ref}: versions but no draft pointer; restored as a deleted draft")
            target = state.version_id(eid, p.draft, "the draft pointer")
            targets[eid] = target
            branch.version[eid] = target
            if target is not None:
                originals.append(LogRecord(eid, None, target))
        result = apply_log(branch, originals)
        if result.records:
            log = {"learning_package": self._lp, "changed_at": self._now, "changed_by": self._restorer}
            log_id = insert_rows(DraftChangeLog, [log], self._using)[0]
            save_records(DraftChangeLogRecord, result, {"draft_change_log": log_id}, self._using)
            insert_values(DraftSideEffect, ["cause", "effect"],
                          [(c.db_id, e.db_id) for c, e in result.effects], self._using)  # fmt: skip
        rows = []
        for eid, target in targets.items():
            record = branch.record.get(eid)
            rows.append((eid, target, record.db_id if record is not None else None))
        insert_values(Draft, ["entity", "version", "draft_log_record"], rows, self._using)

    # -- publishes -----------------------------------------------------------------------------------

    def _write_publishes(self) -> None:
        from openedx_content.models_api import Published, PublishLog, PublishLogRecord, PublishSideEffect

        state, branch = self._state, Branch(self._state.graph)
        self._users.resolve(e.published_by for e in self._events)
        logs: list[tuple[dict[str, Any], LogResult]] = []
        for event in self._events:
            originals, side = self._event_records(event)
            result = apply_log(branch, originals)
            present = {r.entity for r in result.records}
            result.records.extend(r for r in side if r.entity not in present)
            logs.append(({"learning_package": self._lp, "message": event.message, "published_at": event.published_at,
                          "published_by": self._users.id_of(event.published_by)}, result))
        targets, catch_up = {}, []
        for eid in state.order:
            p = state.pointers[eid]
            if p.published is None and not p.published_deleted:
                if eid in branch.version:
                    self.notes.append(f"{p.ref}: in the publish log but not published; no Published row")
                continue
            target = state.version_id(eid, p.published, "the published pointer")
            targets[eid] = target
            if eid not in branch.version or branch.version[eid] != target:
                catch_up.append(LogRecord(eid, branch.version.get(eid), target, direct=True))
        if catch_up:
            logs.append(({"learning_package": self._lp, "message": "", "published_at": self._now,
                          "published_by": self._restorer}, apply_log(branch, catch_up)))
        log_ids = insert_rows(PublishLog, [log for log, _ in logs], self._using)
        effects: list[tuple[int | None, int | None]] = []
        for log_id, (_, result) in zip(log_ids, logs, strict=True):
            save_records(PublishLogRecord, result, {"publish_log": log_id}, self._using, publish=True)
            effects.extend((c.db_id, e.db_id) for c, e in result.effects)
        insert_values(PublishSideEffect, ["cause", "effect"], effects, self._using)
        rows = [(eid, target, branch.record[eid].db_id) for eid, target in targets.items()]
        insert_values(Published, ["entity", "version", "publish_log_record"], rows, self._using)

    def _event_records(self, event: _Event) -> tuple[list[LogRecord], list[LogRecord]]:
        """An event's entries as records: the direct changes, and the pure side effects it lists."""
        state = self._state
        originals: list[LogRecord] = []
        side: list[LogRecord] = []
        for ref, old, new in event.entries:
            eid = state.ids.get(ref)
            if eid is None:
                raise StoreError(f"publish log entry {ref!r} is not an entity of this package")
            record = LogRecord(eid, state.version_id(eid, old, "the publish log"),
                               state.version_id(eid, new, "the publish log"), direct=old != new)
            (originals if old != new else side).append(record)
        return originals, side
