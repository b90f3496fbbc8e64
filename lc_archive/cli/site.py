"""``lc-archive backup-all STORE TARGET_PREFIX``: back up every package of a store, then write an index.

With a Celery broker configured (``LC_ARCHIVE_BROKER_URL`` or ``CELERY_BROKER_URL``, see
:mod:`lc_archive.tasks.app`) the packages are spread over the Celery workers; otherwise (or with
``--local``) over ``-j N`` local worker processes. Either way: one archive per package at
``TARGET_PREFIX/<name>.zip``, an archive that would not change is not rewritten, a package that fails is
listed in ``TARGET_PREFIX/index.json`` with its error and does not stop the others, and the exit status
is 1 when any package failed.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from ..archive.locations import display
from ..errors import InvalidArgument, LcArchiveError, Problem
from .args import store_url
from .output import progress
from .report import Report

__all__ = ["BROKER_ENV", "cmd_backup_all"]

BROKER_ENV = ("LC_ARCHIVE_BROKER_URL", "CELERY_BROKER_URL")


def _broker_configured() -> bool:
    return any(os.environ.get(name) for name in BROKER_ENV)


def _on_celery(args: argparse.Namespace, url: str) -> dict[str, Any]:
    if not _broker_configured():
        raise LcArchiveError("--celery needs a broker: set LC_ARCHIVE_BROKER_URL (e.g. redis://127.0.0.1:6379/0)")
    try:
        from ..tasks import backup_all
        from ..tasks.app import app
    except ImportError as exc:
        raise LcArchiveError(f"--celery needs Celery: pip install 'lc-archive[celery]' ({exc})") from None
    result = backup_all.apply_async((url, args.target_prefix, args.format, args.package or None))
    try:
        summary: dict[str, Any] = result.get(timeout=args.timeout, propagate=True)
    except BaseException:
        app.control.revoke(result.id)
        raise
    return summary


def cmd_backup_all(args: argparse.Namespace) -> Report:
    """``lc-archive backup-all STORE TARGET_PREFIX``: the envelope's ``result`` is the run's summary, and
    each failed package is a problem (member: its ref)."""
    from ..usecases.site_backup import backup_site

    url = store_url(args)
    if args.jobs < 1:
        raise InvalidArgument("-j/--jobs must be at least 1")
    celery = args.celery or (_broker_configured() and not args.local)
    if celery:
        data = _on_celery(args, url)
    else:
        with progress(args) as bars:
            result = backup_site(url, args.target_prefix, format=args.format, jobs=args.jobs,
                                 refs=args.package or None, progress=bars)
        data = result.as_dict()
    failures = [Problem(failure["ref"], "$", str(failure["error"]), "error", "package-failed")
                for failure in data["failed"]]
    index = "index written" if data["index_written"] else "index unchanged"
    return Report(result=data, problems=failures, exit=1 if failures else 0,
                  summary=f"backed up {data['packages']} packages to {display(args.target_prefix)}: "
                  f"{data['written']} written, {data['unchanged']} unchanged, {len(failures)} failed ({index}) "
                  f"in {data['wall_s']:.2f} s" + (" on Celery workers" if celery else ""))
