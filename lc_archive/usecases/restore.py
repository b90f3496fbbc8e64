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
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ..archive.limits import DEFAULT_LIMITS, Limits
from ..archive.read_ahead import read_ahead
from ..archive.zip_reader import ArchiveReader
from ..domain import PackageRecord
from ..domain.syntax import check_ref, fit_ref
from ..errors import ArchiveInvalid, PackageExists, Problem, StoreError, StoreMissing
from ..faults import fault_point
from ..formats.plan import ArchiveSummary, RestorePlan
from ..plugins.registry import Registry
from ..progress import NULL_PROGRESS, Progress
from ..stores.base import Store
from ..text import escape
from .validate import read_plan, refuse_warnings

__all__ = ["RestoreResult", "default_user", "restore", "staged_ref", "write_plan"]

_CHUNK = 256 * 1024
_UNSAFE_IN_REF = re.compile("[\\s\x00-\x1f\x7f-\x9f\u2028\u2029]")


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

    @property
    def entities(self) -> int:
        """Entities restored (or that a dry run would restore)."""
        return self.archive.entities

    @property
    def versions(self) -> int:
        """Versions restored."""
        return self.archive.versions

    @property
    def media_files(self) -> int:
        """Media files restored."""
        return self.archive.media_files

    @property
    def collections(self) -> int:
        """Collections restored."""
        return self.archive.collections

    @property
    def warnings(self) -> list[Problem]:
        """The warnings kept (see :attr:`warning_count`)."""
        return list(self.archive.warnings)

    @property
    def warning_count(self) -> int:
        """Warnings found in all."""
        return self.archive.warning_count

    def as_dict(self) -> dict[str, Any]:
        """The machine form used by ``--json``."""
        return {"ref": self.ref, "archive_ref": self.archive_ref, "dry_run": self.dry_run,
                "wall_s": round(self.wall_s, 3), **self.archive.as_dict()}


def staged_ref(archive_ref: str, user: str, now_ms: int | None = None) -> str:
    """A fresh ref like openedx-core's: ``lp-restore:{user}:{org}:{code}:{ms}``, under the ref rule.

    White space and control characters of the user name become ``_``, and a ref longer than
    :data:`~lc_archive.domain.syntax.MAX_REF_LENGTH` is shortened deterministically
    (:func:`~lc_archive.domain.syntax.fit_ref`, which keeps the ``:{ms}`` end).
    """
    ms = now_ms if now_ms is not None else int(time.time() * 1000)
    parts = archive_ref.split(":")
    middle = f"{parts[1]}:{parts[2]}" if len(parts) >= 3 else archive_ref
    user = _UNSAFE_IN_REF.sub("_", user) or "_"
    return fit_ref(_UNSAFE_IN_REF.sub("_", f"lp-restore:{user}:{middle}:{ms}"))


def default_user() -> str:
    """The user name of this process (for staged refs and publish logs)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "lc-archive")


_AHEAD_MAX = 1 << 20
"""Blobs up to this size are inflated by a second process during phase B (larger ones stream here)."""


def _inflate(reader: ArchiveReader, member: str) -> bytes | None:
    """A blob's bytes, read (and checked) by the second process of phase B; None for a large one."""
    return reader.read_bytes(member) if reader.member(member).size <= _AHEAD_MAX else None


def write_plan(reader: ArchiveReader, plan: RestorePlan, store: Store, package: PackageRecord,
               progress: Progress = NULL_PROGRESS) -> None:
    """Phase B: write a validated plan into ``store`` as ``package``, in one transaction.

    Each distinct blob is streamed once from the archive (its hash must be phase A's), then the
    spooled entities, the collections, the publish log and the plugin payloads are added.
    """
    progress.phase("write", len(plan.blobs) + plan.entity_count)
    with read_ahead(reader, plan.blobs.members(), _inflate) as ahead, store.write(package) as sink:
        fault_point("restore.begin")
        for sha, member in plan.blobs.items():
            data = ahead.take(member)  # inflated by the other core, when there is one
            if data is not None:
                got, _ = sink.put_blob((data,))
            else:
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


def _refuse_taken(store: Store, target: str) -> None:
    if target in store.package_refs():
        raise PackageExists(escape(f"a learning package {target!r} already exists; restores never overwrite"))


def _write(reader: ArchiveReader, plan: RestorePlan, store: Store, target: str, progress: Progress) -> None:
    p = plan.package
    try:
        write_plan(reader, plan, store, PackageRecord(target, p.title, p.description, p.created, p.updated), progress)
    except PackageExists:
        raise
    except (StoreError, OSError) as exc:  # disk full, I/O error, lost connection...
        raise StoreError(escape(f"restoring {target!r} failed and was rolled back; nothing was written ({exc})")) \
            from exc


def _sqlite_file(url: str | os.PathLike[str]) -> Path | None:
    text = os.fspath(url)
    if "://" not in text:
        return Path(text)
    if text.startswith("sqlite:///") and text not in ("sqlite:///", "sqlite:///:memory:"):
        return Path(text.removeprefix("sqlite:///").partition("?")[0])
    return None


def _into_url(url: str | os.PathLike[str], reader: ArchiveReader, plan: RestorePlan, target: str, *,
              dry_run: bool, progress: Progress) -> None:
    """Restore into the store at ``url``, opened only now that the archive is valid.

    The store is first opened only to look (never created, never migrated): a refused or dry-run
    restore leaves no new file and no upgraded schema. A store file this restore created is removed
    again if the write fails.
    """
    from ..stores.sql import open_store
    from ..stores.urls import OPENEDX_SCHEME

    if isinstance(url, str) and url.startswith(OPENEDX_SCHEME):  # a live openedx-core database: it exists
        from ..stores.urls import open_store as open_any

        with open_any(url) as live:
            _refuse_taken(live, target)
            if not dry_run:
                _write(reader, plan, live, target, progress)
        return
    try:
        with open_store(url, create=False, upgrade=False) as existing:
            _refuse_taken(existing, target)
    except StoreMissing:
        pass
    if dry_run:
        return
    file = _sqlite_file(url)
    new_file = file is not None and not file.exists()
    try:
        with open_store(url) as store:
            _write(reader, plan, store, target, progress)
    except BaseException:
        if new_file and file is not None:
            for leftover in (file, file.with_name(file.name + "-journal")):
                leftover.unlink(missing_ok=True)
        raise


def restore(
    archive: str | Path | BinaryIO,
    store: Store | str | os.PathLike[str],
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

    ``store`` is an open :class:`~lc_archive.stores.base.Store` or a store URL; a URL is opened only
    once the archive is valid, and a refused, failed or dry-run restore then creates no store file and
    migrates no schema. Never overwrites: ``PackageExists`` if the ref is taken. ``ref`` must keep the
    ref rule (:func:`~lc_archive.domain.syntax.check_ref`, ``InvalidRef``). ``dry_run`` validates and
    reports only. Warnings (content openedx-core accepts, such as OLX references to missing static
    assets) are reported in the summary; ``strict`` refuses them like errors.
    """
    if ref is not None:
        check_ref(ref)
    started = time.perf_counter()
    with ArchiveReader(archive, limits=limits) as reader, read_plan(reader, limits, progress, registry) as plan:
        refuse_warnings(plan, strict)
        fault_point("restore.validated")
        target = ref or staged_ref(plan.package.ref, user or default_user())
        if isinstance(store, Store):
            _refuse_taken(store, target)
            if not dry_run:
                _write(reader, plan, store, target, progress)
        else:
            _into_url(store, reader, plan, target, dry_run=dry_run, progress=progress)
        return RestoreResult(target, plan.package.ref, dry_run, plan.summary(), time.perf_counter() - started)
