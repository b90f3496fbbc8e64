"""Import an archive into an existing package (``restore --into``), and restore a selection of one.

:func:`import_archive` validates the archive completely and restores it into a scratch store
(:mod:`.scratch`), narrows it to a selection if asked (:mod:`.selection`: the same closure as a
selective backup), then opens the target package for an update (one transaction,
:class:`~lc_archive.stores.updates.PackageUpdater`), plans the import against the package as that
transaction sees it (:mod:`.import_plan`) and applies exactly that plan:

1. entities the package lacks are created (every version the archive has, its draft pointer, pins
   mapped), streamed a batch at a time with the blobs the store does not hold yet;
2. each changed entity gets one new draft version (the archive's content, time and author; number after
   the package's own), each deleted one a soft-deleted draft;
3. collections are created or overwritten as planned;
4. with ``publish``, every entity the import wrote is published, under one publish-log event whose
   message names the archive;
5. the package's ``updated`` time is set, and the transaction commits.

A preview runs the same plan on a read transaction and writes nothing. Unresolved conflicts refuse the
import (:class:`~.import_plan.ImportConflict`); so does ``expect`` when the plan is not the one a preview
showed. Any failure rolls the whole transaction back: the store is left as it was.

:func:`restore_selection` is the same selection restored as a new package.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..archive.limits import DEFAULT_LIMITS, Limits
from ..archive.locations import display
from ..domain import ChildRecord, EntityRecord, PackageRecord, PublishLogRecord, VersionRecord
from ..domain.text import MAX_MESSAGE, MAX_USER, text_problem
from ..errors import ArchiveInvalid, LcArchiveError, PackageExists, PackageNotFound, Problem, StoreError
from ..faults import fault_point
from ..plugins.registry import Registry
from ..progress import NULL_PROGRESS, Progress
from ..stores.base import PackageSink, PackageSource, Store
from ..stores.updates import NewVersion, PackageUpdater, managed
from .import_payloads import apply_target, plan_payloads
from .import_plan import ImportConflict, ImportPlan, Resolve, plan_import
from .restore import default_user, staged_ref
from .scratch import ScratchStore, open_archive_store
from .selection import select_source

__all__ = ["ImportResult", "PlanMismatch", "import_archive", "restore_selection"]

_CHUNK = 256 * 1024
_BATCH = 500


class PlanMismatch(LcArchiveError):
    """The plan to apply is not the one the preview showed (``expect``): the package or archive changed."""


@dataclass
class ImportResult:
    """What an import did or, with ``preview``, would do."""

    plan: ImportPlan
    archive: dict[str, Any]
    """``path``, ``format`` and ``ref`` of the archive."""
    preview: bool
    written: dict[str, int] = field(default_factory=dict)
    """What was written: ``entities_added``, ``versions``, ``soft_deleted``, ``collections``,
    ``published``, ``blobs``, ``blob_bytes`` (empty for a preview)."""
    wall_s: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
    """Seconds spent reading the archive (validated and restored into the scratch store), planning, and
    (not in a preview) applying and committing."""

    def as_dict(self) -> dict[str, Any]:
        """The machine form used by ``--json``."""
        return {"archive": self.archive, "preview": self.preview, **self.plan.as_dict(), "written": self.written,
                "wall_s": round(self.wall_s, 3), "phases": {k: round(v, 3) for k, v in self.phases.items()}}


@contextmanager
def _archive_source(archive: str | Path, *, entities: Sequence[str], collections: Sequence[str], limits: Limits,
                    workdir: Path | None, progress: Progress, registry: Registry | None
                    ) -> Iterator[tuple[ScratchStore, PackageSource]]:
    """The archive as a package source (validated completely, restored into a scratch store), narrowed to
    the closure of ``entities`` and ``collections`` when either is given."""
    with open_archive_store(archive, limits=limits, workdir=workdir, progress=progress) as (scratch, ref), \
            scratch.read(ref) as source:
        if entities or collections:
            yield scratch, select_source(source, collections=collections, entities=entities, registry=registry,
                                         limits=limits)
        else:
            yield scratch, source


def _copy_blobs(theirs: PackageSource, sink: PackageSink | PackageUpdater, shas: set[str],
                written: dict[str, int]) -> None:
    for sha in sorted(shas):
        with theirs.open_blob(sha) as stream:
            got, size = sink.put_blob(iter(lambda s=stream: s.read(_CHUNK), b""))  # type: ignore[misc]
        if got != sha:
            raise ArchiveInvalid([Problem("*", "$", f"blob {sha} changed while it was being imported")])
        written["blobs"] = written.get("blobs", 0) + 1
        written["blob_bytes"] = written.get("blob_bytes", 0) + size
        fault_point("import.blob")


def _added(record: EntityRecord, plan: ImportPlan) -> EntityRecord:
    """An entity the package lacks, as it will be created: pins mapped, never published by the import."""
    versions = tuple(v if not any(c.pinned is not None for c in v.children) else replace(
        v, children=tuple(c if c.pinned is None else ChildRecord(c.ref, plan.map_pin(c.ref, c.pinned))
                          for c in v.children)) for v in record.versions)
    return replace(record, versions=versions, published=None, published_deleted=False)


def _plan(theirs: PackageSource, ours: PackageSource, options: dict[str, Any]) -> ImportPlan:
    """The entity and collection changes (:func:`.import_plan.plan_import`), then the payload changes."""
    plan = plan_import(theirs, ours, **options)
    plan.payloads = plan_payloads(theirs, ours, plan.entities)
    return plan


def _apply(plan: ImportPlan, theirs: PackageSource, updater: PackageUpdater, *, publish: bool, message: str,
           user: str, now: datetime, progress: Progress) -> dict[str, int]:
    written = {"entities_added": 0, "versions": 0, "soft_deleted": 0, "collections": 0, "payloads": 0,
               "published": 0, "blobs": 0, "blob_bytes": 0}
    changes = {c.ref: c for c in plan.entities if c.writes}
    progress.phase("import", len(changes))
    fault_point("import.begin")
    batch: list[EntityRecord] = []

    def flush() -> None:
        added = [_added(e, plan) for e in batch if changes[e.ref].action == "added"]
        new = []
        for e in batch:
            c = changes[e.ref]
            v = e.version(c.source_number) if c.action != "added" and c.number is not None else None
            if v is not None and c.number is not None:
                new.append(NewVersion(e.ref, VersionRecord(c.number, v.title, v.created, v.created_by, v.media,
                                                           c.children)))
        shas = {m.sha256 for e in added for v in e.versions for m in v.media}
        shas |= {m.sha256 for nv in new for m in nv.version.media}
        _copy_blobs(theirs, updater, updater.missing_blobs(shas), written)
        updater.add_entities(added)
        updater.add_versions(new)
        written["entities_added"] += len(added)
        written["versions"] += len(new) + sum(len(e.versions) for e in added)
        fault_point("import.entities")
        progress.advance(len(batch))
        batch.clear()

    wanted = {ref for ref, c in changes.items() if c.action == "added" or c.number is not None}
    for record in theirs.iter_entities(history="all"):
        if record.ref in wanted:
            batch.append(record)
            if len(batch) >= _BATCH:
                flush()
    flush()
    created = {ref for ref, c in changes.items() if c.action == "added"}
    retarget = {c.source: c for c in plan.payloads}
    if created or retarget:
        updater.put_payloads(p if p.entity in created else apply_target(p, retarget[(p.plugin, p.entity, p.version)])
                             for p in theirs.iter_payloads()
                             if p.entity in created or (p.plugin, p.entity, p.version) in retarget)
        written["payloads"] = len(retarget)
        fault_point("import.payloads")
    deleted = [c.ref for c in changes.values() if c.action != "added" and c.number is None]
    updater.soft_delete(deleted)
    written["soft_deleted"] = len(deleted)
    progress.advance(len(deleted))
    updater.put_collections(c.record for c in plan.collections)
    written["collections"] = len(plan.collections)
    fault_point("import.collections")
    if publish and changes:
        written["published"] = updater.publish(sorted(changes), PublishLogRecord(now, user, message))
    if plan.changes:
        updater.touch(now)
    return written


def import_archive(
    archive: str | Path,
    store: Store,
    into: str,
    *,
    preview: bool = False,
    delete_missing: bool = False,
    resolve: Resolve | None = None,
    publish: bool = False,
    entities: Sequence[str] = (),
    collections: Sequence[str] = (),
    expect: str | None = None,
    user: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    workdir: Path | None = None,
    progress: Progress = NULL_PROGRESS,
    registry: Registry | None = None,
    clock: Any = None,
) -> ImportResult:
    """Import ``archive`` into the existing package ``into`` of ``store`` (see the module docstring).

    ``preview`` plans only. ``resolve`` resolves conflicts (``theirs``/``ours``); without it they refuse
    the import (:class:`ImportConflict`). ``entities``/``collections`` import only their closure.
    ``expect`` is a preview's ``plan_id``: anything else refuses (:class:`PlanMismatch`).
    """
    started = time.perf_counter()
    target = managed(store)
    if delete_missing and (entities or collections):
        raise LcArchiveError("--delete-missing cannot be combined with --entity or --collection "
                             "(a selection does not say what is missing)")
    by = user or default_user()
    if publish and (len(by) > MAX_USER or text_problem(by)):
        raise LcArchiveError(f"user name {by!r} cannot be stored (at most {MAX_USER} characters, Unicode text)")
    if into not in target.package_refs():
        raise PackageNotFound(into)  # before the archive is read: that can take a while
    now: datetime = clock() if clock is not None else datetime.now(UTC)
    selective = bool(entities or collections)
    with _archive_source(archive, entities=entities, collections=collections, limits=limits, workdir=workdir,
                         progress=progress, registry=registry) as (scratch, theirs):
        phases = {"archive_s": time.perf_counter() - started}
        info = {"path": display(archive), "format": scratch.restored.archive.format, "ref": scratch.ref}
        options: dict[str, Any] = {"delete_missing": delete_missing, "resolve": resolve, "selective": selective,
                                   "now": now, "progress": progress}
        if preview:
            with target.read(into) as ours:
                plan = _plan(theirs, ours, options)
            phases["plan_s"] = time.perf_counter() - started - phases["archive_s"]
            return ImportResult(plan, info, True, wall_s=time.perf_counter() - started, phases=phases)
        try:
            with target.update(into) as updater:
                plan = _plan(theirs, updater.source, options)
                phases["plan_s"] = time.perf_counter() - started - phases["archive_s"]
                if plan.unresolved:
                    raise ImportConflict(plan)
                if expect is not None and expect != plan.plan_id:
                    raise PlanMismatch(f"the import into {into} would now be plan {plan.plan_id}, not the previewed "
                                       f"{expect}: the package or the archive changed since; nothing was written")
                message = f"import of {Path(info['path']).name} ({info['ref']})"[:MAX_MESSAGE]
                written = _apply(plan, theirs, updater, publish=publish, user=by, now=now, message=message,
                                 progress=progress)
        except PackageNotFound:
            raise
        except (StoreError, OSError) as exc:
            raise StoreError(f"importing into {into!r} failed and was rolled back; nothing was written "
                             f"({exc})") from exc
        fault_point("import.committed")
        wall = time.perf_counter() - started
        phases["apply_s"] = wall - phases["archive_s"] - phases["plan_s"]
        return ImportResult(plan, info, False, written, wall, phases)


def restore_selection(
    archive: str | Path,
    store: Store,
    ref: str | None,
    *,
    user: str | None = None,
    entities: Sequence[str] = (),
    collections: Sequence[str] = (),
    limits: Limits = DEFAULT_LIMITS,
    workdir: Path | None = None,
    progress: Progress = NULL_PROGRESS,
    registry: Registry | None = None,
) -> dict[str, Any]:
    """Restore the closure of ``entities`` and ``collections`` of ``archive`` as a new package ``ref``.

    The archive is validated completely first; the selected entities keep every version, their pointers
    and payloads; the named collections, and the publish log's entries of the selected entities, come
    along. One transaction: ``PackageExists`` if ``ref`` is taken; without ``ref``, a staged ref made
    with ``user``, as :func:`~.restore.restore` makes one.
    """
    started = time.perf_counter()
    if ref is not None and ref in store.package_refs():
        raise PackageExists(f"a learning package {ref!r} already exists; restores never overwrite")
    with _archive_source(archive, entities=entities, collections=collections, limits=limits, workdir=workdir,
                         progress=progress, registry=registry) as (scratch, theirs):
        p = theirs.package
        ref = ref or staged_ref(p.ref, (user or default_user()))
        written = {"entities_added": 0, "versions": 0, "blobs": 0, "blob_bytes": 0}
        try:
            with store.write(PackageRecord(ref, p.title, p.description, p.created, p.updated)) as sink:
                batch: list[EntityRecord] = []
                copied: set[str] = set()
                for record in theirs.iter_entities(history="all"):
                    batch.append(record)
                    if len(batch) >= _BATCH:
                        _copy_batch(theirs, sink, batch, copied, written)
                _copy_batch(theirs, sink, batch, copied, written)
                sink.add_collections(theirs.iter_collections())
                sink.add_publish_log(theirs.iter_publish_log())
                sink.add_payloads(theirs.iter_payloads())
        except PackageExists:
            raise
        except (StoreError, OSError) as exc:
            raise StoreError(f"restoring {ref!r} failed and was rolled back; nothing was written ({exc})") from exc
        info = {"path": display(archive), "format": scratch.restored.archive.format, "ref": scratch.ref}
        return {"ref": ref, "archive": info, **written, "wall_s": round(time.perf_counter() - started, 3)}


def _copy_batch(theirs: PackageSource, sink: PackageSink, batch: list[EntityRecord], copied: set[str],
                written: dict[str, int]) -> None:
    shas = {m.sha256 for e in batch for v in e.versions for m in v.media} - copied
    _copy_blobs(theirs, sink, shas, written)
    copied |= shas
    sink.add_entities(batch)
    written["entities_added"] += len(batch)
    written["versions"] += sum(len(e.versions) for e in batch)
    batch.clear()
