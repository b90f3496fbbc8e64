"""Celery tasks: back up and restore packages between any store URL and any archive URL, and back up
every package of a site across workers (installed with ``pip install 'lc-archive[celery]'``).

They are shared tasks: a site's own Celery app runs them once this module is imported; without one,
``celery -A lc_archive.tasks.app worker`` (:mod:`lc_archive.tasks.app`). Arguments and results are
plain JSON. Long tasks report progress through the result backend: their state is ``PROGRESS`` with
``{"phase": ..., "done": n, "total": m}`` as meta, at most twice a second::

    from lc_archive.tasks import backup_all, backup_package
    result = backup_package.delay("postgresql+psycopg://...", "lib:Org:LIB1", "s3://backups/lib1.zip")
    result.state, result.info        # "PROGRESS", {"phase": "backup", "done": 1200, "total": 11857}
    backup_all.delay("postgresql+psycopg://...", "s3://backups/site/").get()   # the run's summary

``backup_all`` plans the run, then replaces itself with a chord: one ``lc_archive.site_package`` task
per package (spread over every worker process), then ``lc_archive.site_index``, which writes the index
(:mod:`lc_archive.usecases.site_backup`). Its result is the run's summary. Backups are acknowledged late and
requeued when a worker dies: running one twice writes the same key with the same bytes, never a second
or a partial object. Restores are acknowledged on receipt (at most once): a restore without ``ref``
run twice would make two packages.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any

from celery import Task, chord, shared_task

from ..archive.locations import display
from ..stores import open_store
from ..text import escape
from ..usecases.backup import backup
from ..usecases.restore import restore
from ..usecases.site_backup import SiteJob, back_up_package, finish_site_backup, plan_site_backup

__all__ = ["TaskProgress", "backup_all", "backup_package", "restore_archive", "site_index", "site_package"]

_log = logging.getLogger(__name__)
"""Log lines name refs and locations escaped (:func:`lc_archive.text.escape`): they may come from an archive."""


class TaskProgress:
    """A :class:`~lc_archive.progress.Progress` that reports to the task's result backend (throttled)."""

    def __init__(self, task: Task, every_s: float = 0.5) -> None:  # type: ignore[type-arg]
        self._task = task
        self._every = every_s
        self._last = 0.0
        self._phase = ""
        self._total: int | None = None
        self._done = 0

    def phase(self, name: str, total: int | None) -> None:
        """A new phase: reported at once."""
        self._phase, self._total, self._done = name, total, 0
        self._send(force=True)

    def advance(self, n: int = 1) -> None:
        """Progress within the phase: reported when the last report is old enough."""
        self._done += n
        self._send()

    def _send(self, *, force: bool = False) -> None:
        now = time.monotonic()
        request = self._task.request
        if (not force and now - self._last < self._every) or request.id is None or request.called_directly:
            return
        self._last = now
        self._task.update_state(state="PROGRESS", meta={"phase": self._phase, "done": self._done,
                                                          "total": self._total})


@shared_task(bind=True, name="lc_archive.backup_package", acks_late=True, reject_on_worker_lost=True)
def backup_package(self: Task, store_url: str, ref: str, target_url: str, format: str = "v2",  # type: ignore[type-arg]
                   *, created_at: str | None = None, overwrite: bool = False) -> dict[str, Any]:
    """Back up package ``ref`` of the store at ``store_url`` to ``target_url``; return the backup's summary.

    ``created_at`` (ISO 8601) pins the archive's time; by default it is the package's last change.
    An existing archive at ``target_url`` is replaced only with ``overwrite``.
    """
    when = datetime.fromisoformat(created_at) if created_at else None
    _log.info("backing up %s to %s", escape(ref), escape(display(target_url)))
    with open_store(store_url, create=False) as store:
        result = backup(store, ref, target_url, format=format, created_at=when,
                        progress=TaskProgress(self), checksum=True, overwrite=overwrite)
    return result.as_dict()


@shared_task(bind=True, name="lc_archive.restore_archive")
def restore_archive(self: Task, source_url: str, store_url: str, ref: str | None = None,  # type: ignore[type-arg]
                    *, user: str | None = None, dry_run: bool = False, strict: bool = False) -> dict[str, Any]:
    """Restore the archive at ``source_url`` into the store at ``store_url``; return the restore's summary."""
    _log.info("restoring %s into %s", escape(display(source_url)), escape(display(store_url)))
    result = restore(source_url, store_url, ref=ref, user=user, dry_run=dry_run, strict=strict,
                     progress=TaskProgress(self))
    _log.info("restored %s as %s", escape(display(source_url)), escape(result.ref))
    return result.as_dict()


@shared_task(bind=True, name="lc_archive.backup_all")
def backup_all(self: Task, store_url: str, target_prefix: str, format: str = "v2",  # type: ignore[type-arg]
               refs: list[str] | None = None) -> Any:
    """Back up every package (or ``refs``) of ``store_url`` under ``target_prefix``, one task each, then
    write the index; the result is the run's summary (:class:`~lc_archive.usecases.site_backup.SiteBackupResult`)."""
    started = time.time()
    jobs = plan_site_backup(store_url, target_prefix, format=format, refs=refs)
    TaskProgress(self).phase("fan-out", len(jobs))
    if not jobs:
        return finish_site_backup(target_prefix, [], format=format, started=started,
                                  partial=refs is not None).as_dict()
    work = chord([site_package.s(job.as_dict()) for job in jobs],
                 site_index.s(target_prefix, format, started, refs is not None))
    return self.replace(work)


@shared_task(name="lc_archive.site_package", acks_late=True, reject_on_worker_lost=True)
def site_package(job: dict[str, Any]) -> dict[str, Any]:
    """One package of :func:`backup_all`: its index entry (never raises for the package's own problems)."""
    return back_up_package(SiteJob.from_dict(job))


@shared_task(name="lc_archive.site_index", acks_late=True, reject_on_worker_lost=True)
def site_index(entries: list[dict[str, Any]], target_prefix: str, format: str, started: float,
               partial: bool = False) -> dict[str, Any]:
    """The last step of :func:`backup_all`: write the index; return the run's summary."""
    return finish_site_backup(target_prefix, entries, format=format, started=started,
                              partial=partial).as_dict()
