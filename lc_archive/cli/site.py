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
from ..errors import LcArchiveError
from ..usecases.site_backup import backup_site
from .output import emit, err, out, progress

__all__ = ["BROKER_ENV", "cmd_backup_all"]

BROKER_ENV = ("LC_ARCHIVE_BROKER_URL", "CELERY_BROKER_URL")


def _broker_configured() -> bool:
    return any(os.environ.get(name) for name in BROKER_ENV)


def _on_celery(args: argparse.Namespace) -> dict[str, Any]:
    if not _broker_configured():
        raise LcArchiveError("--celery needs a broker: set LC_ARCHIVE_BROKER_URL (e.g. redis://127.0.0.1:6379/0)")
    try:
        from ..tasks import backup_all
        from ..tasks.app import app
    except ImportError as exc:
        raise LcArchiveError(f"--celery needs Celery: pip install 'lc-archive[celery]' ({exc})") from None
    result = backup_all.apply_async((args.store, args.target_prefix, args.format, args.package or None))
    try:
        summary: dict[str, Any] = result.get(timeout=args.timeout, propagate=True)
    except BaseException:
        app.control.revoke(result.id)
        raise
    return summary


def cmd_backup_all(args: argparse.Namespace) -> int:
    """``lc-archive backup-all STORE TARGET_PREFIX``."""
    celery = args.celery or (_broker_configured() and not args.local)
    if celery:
        data = _on_celery(args)
    else:
        with progress(args) as bars:
            result = backup_site(args.store, args.target_prefix, format=args.format, jobs=args.jobs,
                                 refs=args.package or None, progress=bars)
        data = result.as_dict()

    def human() -> None:
        index = "index written" if data["index_written"] else "index unchanged"
        out().print(f"backed up {data['packages']} packages to {display(args.target_prefix)}: {data['written']} "
                    f"written, {data['unchanged']} unchanged, {len(data['failed'])} failed ({index}) "
                    f"in {data['wall_s']:.2f} s" + (" on Celery workers" if celery else ""))
        for failure in data["failed"]:
            err().print(f"  {failure['ref']}: {failure['error']}")
    emit(args, data, human)
    return 1 if data["failed"] else 0
