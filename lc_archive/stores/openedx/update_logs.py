"""The change logs of an import into an existing openedx-core package: one ``DraftChangeLog`` for the
import's draft moves, and a ``PublishLog`` for ``--publish``, as openedx-core's API writes them.

The package's current Draft (or Published) pointers and the log records they point at are read back
into a :class:`~.side_effects.Branch` (records of earlier logs keep their stored dependency hashes,
as openedx-core trusts them), the import's records are applied with openedx-core's side-effect walk
and hashing (:func:`~.side_effects.apply_log`), and the rows are written in bulk:

* :func:`write_draft_log` is what ``bulk_draft_changes_for`` leaves after the import's calls: one record
  per entity whose draft moved (``old -> new``; a new entity ``None -> draft``; a soft delete
  ``old -> None``), pure side-effect records on the containers above them, ``DraftSideEffect`` rows,
  hashes, and the ``Draft`` rows of every entity involved;
* :func:`write_publish` is ``publish_from_drafts`` for the drafts of the given entities that differ from
  their published versions: direct records, then (openedx-core publishes dependencies too) the unpinned
  children, layer by layer, whose drafts are unpublished (not direct), the side-effect walk on the
  Published branch, ``PublishSideEffect`` rows, hashes, and the ``Published`` upsert.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from itertools import batched
from typing import Any

from .bulk_rows import insert_rows, insert_values
from .logs import save_records
from .side_effects import Branch, DependencyGraph, LogRecord, apply_log

__all__ = ["load_graph", "write_draft_log", "write_publish"]

_IN_LIMIT = 500


def load_graph(using: str, package_id: int, graph: DependencyGraph) -> dict[tuple[int, int], int]:
    """Fill ``graph`` with every version of the package and its dependencies; return
    ``(entity id, version number) -> version id``."""
    from openedx_content.models_api import PublishableEntityVersion, PublishableEntityVersionDependency

    versions: dict[tuple[int, int], int] = {}
    for vid, eid, number in PublishableEntityVersion.objects.using(using).filter(
            entity__learning_package_id=package_id).values_list("id", "entity_id", "version_num"):
        versions[(eid, number)] = vid
        graph.add_version(vid, eid)
    deps: dict[int, list[int]] = {}
    for vid, eid in PublishableEntityVersionDependency.objects.using(using).filter(
            referring_version__entity__learning_package_id=package_id).order_by("id").values_list(
            "referring_version_id", "referenced_entity_id"):
        deps.setdefault(vid, []).append(eid)
    for vid, entities in deps.items():
        graph.set_deps(vid, entities)
    return versions


def _branch(using: str, package_id: int, graph: DependencyGraph, *, published: bool) -> tuple[Branch, set[int]]:
    """The package's Draft (or Published) branch as stored, and the entities that have a pointer row."""
    from openedx_content.models_api import Draft, Published

    model, rel = (Published, "publish_log_record") if published else (Draft, "draft_log_record")
    branch = Branch(graph)
    rows = model.objects.using(using).filter(entity__learning_package_id=package_id).values_list(
        "entity_id", "version_id", f"{rel}_id", f"{rel}__old_version_id", f"{rel}__new_version_id",
        f"{rel}__dependencies_hash_digest")
    present = set()
    for eid, vid, rid, old, new, digest in rows:
        present.add(eid)
        branch.version[eid] = vid
        if rid is not None:
            branch.record[eid] = LogRecord(eid, old, new, digest=digest, db_id=rid)
        elif vid is not None:  # no record to trust: an empty hash, as for a version without dependencies
            branch.record[eid] = LogRecord(eid, vid, vid, db_id=None)
    return branch, present


def _set_pointers(model: Any, using: str, branch: Branch, entities: Sequence[int], record_field: str) -> None:
    """Rewrite the pointer rows (Draft or Published) of ``entities`` from ``branch``."""
    for part in batched(entities, _IN_LIMIT):
        model.objects.using(using).filter(entity_id__in=part).delete()
    rows = []
    for eid in entities:
        record = branch.record.get(eid)
        rows.append((eid, branch.version.get(eid), record.db_id if record is not None else None))
    insert_values(model, ["entity", "version", record_field], rows, using)


def write_draft_log(using: str, package_id: int, graph: DependencyGraph, moves: Mapping[int, int | None],
                    created: set[int], *, changed_at: datetime, changed_by: int | None) -> int:
    """Write the import's draft change log for ``moves`` (entity id -> new draft version id, in the order
    the import made them; ``created``: entities the import added). Returns the number of records."""
    from openedx_content.models_api import Draft, DraftChangeLog, DraftChangeLogRecord, DraftSideEffect

    if not moves:
        return 0
    branch, _present = _branch(using, package_id, graph, published=False)
    originals = []
    for eid, target in moves.items():
        old = None if eid in created else branch.version.get(eid)
        if old != target:
            originals.append(LogRecord(eid, old, target))
        elif eid in created:
            branch.record.pop(eid, None)  # created and deleted in one go: no record (openedx-core drops it)
        branch.version[eid] = target
    result = apply_log(branch, originals)
    if result.records:
        log_id = insert_rows(DraftChangeLog, [{"learning_package": package_id, "changed_at": changed_at,
                                               "changed_by": changed_by}], using)[0]
        save_records(DraftChangeLogRecord, result, {"draft_change_log": log_id}, using)
        insert_values(DraftSideEffect, ["cause", "effect"], [(c.db_id, e.db_id) for c, e in result.effects], using)
    touched = list(dict.fromkeys([*moves, *(r.entity for r in result.records)]))
    _set_pointers(Draft, using, branch, touched, "draft_log_record")
    return len(result.records)


def _unpublished(eid: int, draft: Branch, present: set[int], published: Branch) -> bool:
    """openedx-core's ``Draft.with_unpublished_changes`` for one entity with a Draft row."""
    d = draft.version.get(eid)
    p = published.version.get(eid) if eid in present else None
    if eid in present and p == d and p is not None:
        return False
    return not (d is None and p is None)


def write_publish(using: str, package_id: int, graph: DependencyGraph, entities: Sequence[int], *,
                  message: str, published_at: datetime, published_by: int | None) -> int:
    """Publish the drafts of ``entities`` (and their unpublished dependencies) as ``publish_from_drafts``
    does; returns how many entities were published (no ``PublishLog`` when none)."""
    from openedx_content.models_api import Published, PublishLog, PublishLogRecord, PublishSideEffect

    draft, has_draft = _branch(using, package_id, graph, published=False)
    published, has_published = _branch(using, package_id, graph, published=True)
    direct = [e for e in sorted(set(entities)) if e in has_draft
              and _unpublished(e, draft, has_published, published)]
    order = list(direct)
    seen_layers: set[int] = set()
    layer = [v for e in direct if (v := draft.version.get(e)) is not None]
    while layer:  # every layer of dependencies, whether changed or not; only the unpublished are published
        deps = sorted({e for v in layer for e in graph.deps.get(v, ()) if e in has_draft} - seen_layers)
        seen_layers.update(deps)
        order.extend(e for e in deps if _unpublished(e, draft, has_published, published))
        layer = [v for e in deps if (v := draft.version.get(e)) is not None]
    direct_set = set(direct)
    records = []
    for eid in dict.fromkeys(order):
        records.append(LogRecord(eid, published.version.get(eid), draft.version.get(eid), direct=eid in direct_set))
    if not records:
        return 0
    result = apply_log(published, records)
    log_id = insert_rows(PublishLog, [{"learning_package": package_id, "message": message,
                                       "published_at": published_at, "published_by": published_by}], using)[0]
    save_records(PublishLogRecord, result, {"publish_log": log_id}, using, publish=True)
    insert_values(PublishSideEffect, ["cause", "effect"], [(c.db_id, e.db_id) for c, e in result.effects], using)
    touched = [r.entity for r in result.records]  # side effects only ever touch published entities
    _set_pointers(Published, using, published, touched, "publish_log_record")
    return len(records)
