"""Restore an archive into a store: validate everything (phase A), then write it all in one transaction.

Phase A reads every member of the archive once: TOML is parsed and validated, media are streamed and
hashed, cross-references are checked, and all problems are raised together as ``ArchiveInvalid`` before
the store is touched. Phase B opens one store transaction, streams each distinct blob once (its hash
must equal phase A's), adds the spooled entities and collections, and commits. Any failure rolls back
the whole transaction, blobs included: the store is left exactly as it was. A crash (``kill -9``,
power loss) leaves SQLite's journal, which the next connection uses to roll the store back.

Both phases call :func:`~lc_archive.faults.fault_point` at every step, so tests can kill or fail a
restore at each of them (``LC_ARCHIVE_FAULT=restore.blob:3:kill``).
"""

from __future__ import annotations

import getpass
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ..archive.limits import DEFAULT_LIMITS, Limits
from ..archive.zip_reader import ArchiveReader
from ..domain import PackageRecord
from ..errors import ArchiveInvalid, PackageExists, Problem, StoreError
from ..faults import fault_point
from ..formats.plan import ArchiveSummary, RestorePlan
from ..plugins.registry import Registry
from ..progress import NULL_PROGRESS, Progress
from ..stores.base import Store
from .validate import read_plan, refuse_warnings

__all__ = ["RestoreResult", "default_user", "restore", "staged_ref", "write_plan"]

_CHUNK = 256 * 1024


@dataclass(frozen=True)
class RestoreResult:
    """What a restore did (or, with ``dry_run``, would do)."""

    ref: str
    """The ref of the new package."""
    archive_ref: str
    """The package ref the archive carries."""
    dry_run: bool
    archive: ArchiveSummary
    """What the archive holds (format, counts, notes, warnings)."""
    wall_s: float

    def as_dict(self) -> dict[str, Any]:
        """The machine form used by ``--json``."""
        return {"ref": self.ref, "archive_ref": self.archive_ref, "dry_run": self.dry_run,
                "wall_s": round(self.wall_s, 3), **self.archive.as_dict()}


def staged_ref(archive_ref: str, user: str, now_ms: int | None = None) -> str:
    """A fresh ref like openedx-core's: ``lp-restore:{user}:{org}:{code}:{ms}``."""
    ms = now_ms if now_ms is not None else int(time.time() * 1000)
    parts = archive_ref.split(":")
    middle = f"{parts[1]}:{parts[2]}" if len(parts) >= 3 else archive_ref
    return f"lp-restore:{user}:{middle}:{ms}"


def default_user() -> str:
    """The user name of this process (for staged refs and publish logs)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "lc-archive")


def write_plan(reader: ArchiveReader, plan: RestorePlan, store: Store, package: PackageRecord,
               progress: Progress = NULL_PROGRESS) -> None:
    """Phase B: write a validated plan into ``store`` as ``package``, in one transaction.

    Each distinct blob is streamed once from the archive (its hash must be phase A's), then the
    spooled entities, the collections, the publish log and the plugin payloads are added.
    """
    progress.phase("write", len(plan.blobs) + plan.entity_count)
    with store.write(package) as sink:
        fault_point("restore.begin")
        for sha, member in plan.blobs.items():
            with reader.open(member) as stream:
                got, _ = sink.put_blob(iter(lambda s=stream: s.read(_CHUNK), b""))  # type: ignore[misc]
            if got != sha:
                raise ArchiveInvalid([Problem(member, "$", "the member changed while it was being restored")])
            fault_point("restore.blob")
            progress.advance()
        for batch in plan.entity_batches():
            sink.add_entities(batch)
            fault_point("restore.entities")
            progress.advance(len(batch))
        sink.add_collections(plan.collections)
        fault_point("restore.collections")
        sink.add_publish_log(plan.publish_log)
        for payloads in plan.payload_batches():
            sink.add_payloads(payloads)
            fault_point("restore.payloads")
    fault_point("restore.committed")


def restore(
    archive: str | Path | BinaryIO,
    store: Store,
    *,
    ref: str | None = None,
    user: str | None = None,
    dry_run: bool = False,
    limits: Limits = DEFAULT_LIMITS,
    progress: Progress = NULL_PROGRESS,
    registry: Registry | None = None,
    strict: bool = False,
) -> RestoreResult:
    """Restore ``archive`` as a new package in ``store``, under ``ref`` or a staged ref.

    Never overwrites: ``PackageExists`` if the ref is taken. ``dry_run`` validates and reports only.
    Warnings (content openedx-core accepts, such as OLX references to missing static assets) are
    reported in the summary; ``strict`` refuses them like errors.
    """
    started = time.perf_counter()
    with ArchiveReader(archive, limits=limits) as reader, read_plan(reader, limits, progress, registry) as plan:
        refuse_warnings(plan, strict)
        fault_point("restore.validated")
        target = ref or staged_ref(plan.package.ref, user or default_user())
        if target in store.package_refs():
            raise PackageExists(f"a learning package {target!r} already exists; restores never overwrite")
        if not dry_run:
            p = plan.package
            try:
                write_plan(reader, plan, store, PackageRecord(target, p.title, p.description, p.created, p.updated),
                       progress)
            except PackageExists:
                raise
            except (StoreError, OSError) as exc:  # disk full, I/O error, lost connection...
                raise StoreError(f"restoring {target!r} failed and was rolled back; nothing was written "
                                 f"({exc})") from exc
        return RestoreResult(target, plan.package.ref, dry_run, plan.summary(), time.perf_counter() - started)
