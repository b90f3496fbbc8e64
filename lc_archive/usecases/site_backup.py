"""Back up every package of a store, one job per package, then write an index of what is where.

A site backup has three steps, shared by the local runner here (:func:`backup_site`, worker
processes) and the Celery tasks (:mod:`lc_archive.tasks`, a chord across workers):

1. :func:`plan_site_backup` lists the store's packages and reads the previous run's index
   (:mod:`lc_archive.usecases.site_index`); each package becomes a :class:`SiteJob` (plain JSON, so it can
   travel through a broker) naming its archive, ``<prefix>/<archive_name(ref)>``.
2. :func:`back_up_package` runs one job and returns its index entry. It never raises for the
   package's own problems: a package that cannot be backed up is an entry with an ``error``, and the
   others go on. An archive already at the target with the same bytes is not written again: when the
   previous entry still describes the object there (same size and storage version) and the package's
   last change is the archive's ``created_at``, the archive is produced into a hash only, and written
   only if its SHA-256 differs (``docs/decisions/0009-archive-locations-and-site-backups.md``).
3. :func:`finish_site_backup` writes the index, unless it is byte for byte the one already there.

Every write goes through :func:`~lc_archive.usecases.backup.backup`, so a job that is retried, duplicated or
killed never leaves a partial object or a second one: each package has exactly one key, written
whole or not at all, and the next write to it clears what a killed one left.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import re
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..archive.locations import LocationError, archive_location, display, is_url, object_info, redact
from ..archive.remote_output import abort_stale_uploads
from ..domain import iso
from ..progress import NULL_PROGRESS, Progress
from ..stores import open_store
from .backup import archive_sha256, backup, sweep_stale
from .site_index import INDEX_NAME, read_index, render_index, write_index

__all__ = ["SiteBackupResult", "SiteJob", "archive_name", "back_up_package", "backup_site", "finish_site_backup",
           "plan_site_backup"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def archive_name(ref: str) -> str:
    """The archive file name of package ``ref``: readable, safe everywhere, and unique per ref.

    Refs are opaque and case-sensitive, so the readable part (``lib:Org:LIB1`` -> ``lib_Org_LIB1``) is
    followed by the start of the ref's SHA-256: two refs never share a name, not even on a file system
    that ignores case.
    """
    readable = _UNSAFE.sub("_", ref).strip("._-")[:80] or "package"
    return f"{readable}-{hashlib.sha256(ref.encode('utf-8')).hexdigest()[:10]}.zip"


def _join(prefix: str, name: str) -> str:
    if is_url(prefix):
        return prefix.rstrip("/") + "/" + name
    return str(Path(prefix) / name)


@dataclass(frozen=True)
class SiteJob:
    """One package to back up (JSON-friendly: it crosses a broker as :meth:`as_dict`)."""

    store_url: str
    ref: str
    target: str
    format: str = "v2"
    previous: dict[str, Any] | None = None
    """This package's entry in the previous index, if any."""

    def as_dict(self) -> dict[str, Any]:
        """The job as plain JSON data."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SiteJob:
        """The job :meth:`as_dict` made."""
        return cls(**data)


def plan_site_backup(
    store_url: str, target_prefix: str, *, format: str = "v2", refs: Sequence[str] | None = None
) -> list[SiteJob]:
    """One job per package of the store (or per ref of ``refs``), each with its previous index entry."""
    with open_store(store_url, create=False) as store:  # first: a missing store creates no directory
        wanted = list(refs) if refs is not None else store.package_refs()
    if not is_url(target_prefix):
        try:
            Path(target_prefix).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LocationError(f"cannot make the directory {target_prefix}: {exc.strerror or exc}") from exc
    previous, _ = read_index(_join(target_prefix, INDEX_NAME))
    return [SiteJob(store_url, ref, _join(target_prefix, archive_name(ref)), format, previous.get(ref))
            for ref in wanted]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _unchanged(job: SiteJob) -> dict[str, Any] | None:
    """The previous entry, if the archive at the target still is exactly what this run would write."""
    before = job.previous
    if not before or before.get("error") or before.get("format") != job.format or not before.get("sha256"):
        return None
    info = object_info(archive_location(job.target))
    if info is None or info.size != before.get("bytes") or info.version != before.get("version"):
        return None
    with open_store(job.store_url, create=False) as store, store.read(job.ref) as source:
        when = source.last_changed()
        if iso(when) != before.get("created_at"):
            return None  # the content changed: the archive's created_at (in its bytes) moves too
        sha256 = archive_sha256(source, format=job.format, created_at=when)
    return before if sha256 == before["sha256"] else None


def _clear_leftovers(target: str) -> None:
    where = archive_location(target)
    if isinstance(where, Path):
        sweep_stale(where)
    else:
        abort_stale_uploads(where)


def back_up_package(job: SiteJob) -> dict[str, Any]:
    """Back up one package as its job says; return its index entry (``error`` set if it failed).

    The entry also carries ``"written": True`` when this run wrote the archive (not kept in the index).
    """
    entry: dict[str, Any] = {"ref": job.ref, "url": display(job.target), "format": job.format}
    try:
        _clear_leftovers(job.target)  # also when nothing is written: no upload a killed run left stays open
        kept = _unchanged(job)
        if kept is not None:
            return {**kept, **entry, "error": None, "written": False}
        with open_store(job.store_url, create=False) as store:
            # Rewrites the archive on purpose: _unchanged found that its bytes would change.
            result = backup(store, job.ref, job.target, format=job.format, checksum=True, overwrite=True)
        info = object_info(archive_location(job.target))
        assert result.created_at is not None
        return {**entry, "bytes": result.archive_bytes, "sha256": result.sha256, "created_at": iso(result.created_at),
                "written_at": _now(), "version": None if info is None else info.version, "error": None,
                "written": True}
    except Exception as exc:  # the package's failure is reported in the index; the others go on
        return failed_entry(job, exc)


def failed_entry(job: SiteJob, error: BaseException | str) -> dict[str, Any]:
    """The entry of a package that could not be backed up: the error, and the archive still there, if any."""
    message = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    kept = {k: v for k, v in (job.previous or {}).items() if k in ("bytes", "sha256", "created_at", "written_at",
                                                                  "version")}
    return {"ref": job.ref, "url": display(job.target), "format": job.format, **kept,
            "error": redact(message)[:2000], "written": False}


@dataclass(frozen=True)
class SiteBackupResult:
    """What a site backup did."""

    index: str
    index_written: bool
    packages: int
    written: int
    unchanged: int
    failed: list[dict[str, str]]
    wall_s: float

    def as_dict(self) -> dict[str, Any]:
        """The machine form (``--json``, and a Celery task's result)."""
        return {"index": self.index, "index_written": self.index_written, "packages": self.packages,
                "written": self.written, "unchanged": self.unchanged, "failed": self.failed,
                "wall_s": round(self.wall_s, 3)}


def finish_site_backup(target_prefix: str, entries: Sequence[dict[str, Any]], *, format: str,
                       started: float | None = None, partial: bool = False) -> SiteBackupResult:
    """Write the index of ``entries`` (unless unchanged) and sum the run up.

    ``partial`` (a run over some packages only) keeps the previous index's entries of the others.
    """
    url = _join(target_prefix, INDEX_NAME)
    kept, previous = read_index(url)
    done = {e["ref"] for e in entries}
    listed = [*entries, *(e for ref, e in kept.items() if ref not in done)] if partial else entries
    written = write_index(url, render_index(listed, archive_format=format), previous)
    failed = [{"ref": e["ref"], "error": e["error"]} for e in entries if e.get("error")]
    return SiteBackupResult(display(url), written, len(entries), sum(1 for e in entries if e.get("written")),
                            sum(1 for e in entries if not e.get("written") and not e.get("error")),
                            sorted(failed, key=lambda f: f["ref"]),
                            time.time() - started if started is not None else 0.0)


def backup_site(
    store_url: str,
    target_prefix: str,
    *,
    format: str = "v2",
    jobs: int = 1,
    refs: Sequence[str] | None = None,
    progress: Progress = NULL_PROGRESS,
) -> SiteBackupResult:
    """Back up every package of ``store_url`` under ``target_prefix`` with ``jobs`` worker processes.

    ``jobs=1`` works in this process. ``progress`` advances by one as each package completes.
    """
    started = time.time()
    planned = plan_site_backup(store_url, target_prefix, format=format, refs=refs)
    progress.phase("backup-all", len(planned))
    entries: list[dict[str, Any]] = []

    def done(entry: dict[str, Any]) -> None:
        entries.append(entry)
        progress.advance()

    if jobs <= 1 or len(planned) <= 1:
        for job in planned:
            done(back_up_package(job))
    else:
        context = multiprocessing.get_context("spawn")  # no store connection or S3 client crosses a fork
        with ProcessPoolExecutor(max_workers=min(jobs, len(planned)), mp_context=context) as pool:
            futures = {pool.submit(back_up_package, job): job for job in planned}
            try:
                for future in as_completed(futures):
                    try:
                        done(future.result())
                    except BrokenProcessPool as exc:
                        done(failed_entry(futures[future], f"the worker process died ({exc})"))
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    return finish_site_backup(target_prefix, entries, format=format, started=started, partial=refs is not None)
