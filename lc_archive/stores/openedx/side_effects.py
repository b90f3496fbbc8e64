"""openedx-core's side effects and dependency hashes of a change log, computed in memory.

When openedx-core closes a ``DraftChangeLog`` or writes a ``PublishLog`` it walks, for every record of
the log, the Draft (or Published) rows whose version depends on the record's entity, adds a pure
side-effect record (``old_version == new_version``) for each affected entity that has none in the log,
a ``DraftSideEffect``/``PublishSideEffect`` row (cause, effect), and then fills each record's
``dependencies_hash_digest`` from the live dependencies' versions and digests
(``publishing.api._create_side_effects_for_change_log`` and ``hash_for_log_record``). That costs a few
queries per record; the bulk writer runs the same walk here, over the dependency graph it already
holds, and writes the result in bulk. The walk keeps openedx-core's order (records by id, affected rows
by id, a last-in first-out stack) so that its pruning of revisited entities gives the same rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["Branch", "DependencyGraph", "LogRecord", "LogResult", "apply_log"]


@dataclass(slots=True, eq=False)
class LogRecord:
    """One ``DraftChangeLogRecord``/``PublishLogRecord`` being planned (version ids, not numbers)."""

    entity: int
    old: int | None
    new: int | None
    direct: bool = False
    digest: str = ""
    db_id: int | None = None
    """Set once the row is written."""


@dataclass(slots=True)
class DependencyGraph:
    """Which entities each version depends on (its unpinned children) and the reverse."""

    owner: dict[int, int] = field(default_factory=dict)
    """version id -> entity id."""
    deps: dict[int, tuple[int, ...]] = field(default_factory=dict)
    """version id -> the entities it depends on (no order, no repeats)."""
    dependents: dict[int, list[int]] = field(default_factory=dict)
    """entity id -> the versions that depend on it."""

    def add_version(self, version: int, entity: int) -> None:
        """Know that ``version`` belongs to ``entity``."""
        self.owner[version] = entity

    def set_deps(self, version: int, entities: Sequence[int]) -> None:
        """Record a version's dependencies (call once per version)."""
        unique = tuple(dict.fromkeys(entities))
        if not unique:
            return
        self.deps[version] = unique
        for e in unique:
            self.dependents.setdefault(e, []).append(version)


class Branch:
    """The Draft or the Published side: each entity's current version and its latest log record."""

    def __init__(self, graph: DependencyGraph) -> None:
        self.graph = graph
        self.version: dict[int, int | None] = {}
        self.record: dict[int, LogRecord] = {}

    def affected(self, entity: int) -> list[int]:
        """Entities whose current version (not deleted) depends on ``entity``, by ascending id."""
        versions = self.graph.dependents.get(entity)
        if not versions:
            return []
        owner = self.graph.owner
        found = {owner[v] for v in versions if self.version.get(owner[v]) == v}
        return sorted(found)

    def live_deps(self, version: int | None) -> list[int]:
        """The dependencies of ``version`` whose current version on this branch is not None."""
        if version is None:
            return []
        return [e for e in self.graph.deps.get(version, ()) if self.version.get(e) is not None]


@dataclass(slots=True)
class LogResult:
    """A log's records (the given ones first, then pure side effects in creation order) and its
    (cause, effect) pairs."""

    records: list[LogRecord]
    effects: list[tuple[LogRecord, LogRecord]]


def apply_log(branch: Branch, originals: Sequence[LogRecord]) -> LogResult:
    """Apply ``originals`` (in row-id order) to ``branch`` as openedx-core does, with side effects and
    dependency hashes; the branch ends up pointing at the log's records."""
    for r in originals:
        branch.version[r.entity] = r.new
        branch.record[r.entity] = r
    in_log: dict[int, LogRecord] = {r.entity: r for r in originals}
    records = list(originals)
    effects: dict[tuple[int, int], tuple[LogRecord, LogRecord]] = {}
    processed: set[int] = set()
    for original in originals:
        stack = [(original, p) for p in branch.affected(original.entity)]
        while stack:
            change, parent = stack.pop()
            effect = in_log.get(parent)
            if effect is None:
                v = branch.version[parent]
                effect = LogRecord(parent, v, v)
                in_log[parent] = effect
                records.append(effect)
            branch.record[parent] = effect
            effects.setdefault((id(change), id(effect)), (change, effect))
            processed.add(change.entity)
            stack.extend((effect, q) for q in branch.affected(parent) if q not in processed)
    _hash_log(branch, records)
    return LogResult(records, list(effects.values()))


def _hash_log(branch: Branch, records: Sequence[LogRecord]) -> None:
    """Fill ``digest`` of this log's records (``update_dependencies_hash_digests_for_log``)."""
    known: dict[int, str] = {}
    live: dict[int, list[int]] = {}
    for r in records:
        deps = branch.live_deps(r.new)
        if deps:
            live[id(r)] = deps
        else:
            r.digest = ""
            known[id(r)] = ""
    for r in records:
        if id(r) in live:
            r.digest = _digest(branch, r, known, live)


def _digest(branch: Branch, record: LogRecord, known: dict[int, str], live: Mapping[int, list[int]]) -> str:
    cached = known.get(id(record))
    if cached is not None:
        return cached
    if id(record) not in live:  # a record of an earlier log: its stored digest is trusted
        return record.digest
    deps = sorted(live[id(record)], key=lambda e: branch.record[e].new or 0)
    lines = []
    for e in deps:
        dep_record = branch.record[e]
        lines.append(f"{dep_record.new}:{_digest(branch, dep_record, known, live)}")
    digest = hashlib.blake2b("\n".join(lines).encode(), digest_size=4).hexdigest()
    known[id(record)] = digest
    return digest
