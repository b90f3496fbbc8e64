"""A Celery app for lc-archive's tasks where the site has none: ``celery -A lc_archive.tasks.app worker``.

Inside Open edX (or any project with its own Celery app) do not use this module: the tasks of
:mod:`lc_archive.tasks` are shared tasks, so the site's app runs them once that module is imported
(list it in the app's ``imports`` or let autodiscovery find it).

Settings come from the environment, read when this module is imported (and by :func:`configure`):

``LC_ARCHIVE_BROKER_URL`` (else ``CELERY_BROKER_URL``)
    the broker: ``redis://127.0.0.1:6379/0``, ``amqp://guest:guest@127.0.0.1:5672//``...
``LC_ARCHIVE_RESULT_BACKEND`` (else ``CELERY_RESULT_BACKEND``)
    where results and progress go; by default the broker's Redis when the broker is Redis.
``LC_ARCHIVE_CELERY_QUEUE``
    the queue the tasks go to and the worker reads (default ``lc-archive``).
``LC_ARCHIVE_CELERY_PREFIX``
    a prefix for every Redis key of the broker and the result backend, to share one Redis safely.

Delivery: backup tasks are acknowledged late and requeued when their worker dies
(``acks_late``, ``reject_on_worker_lost``): a backup is safe to run twice. Each worker process takes
one task at a time (``worker_prefetch_multiplier = 1``), so large and small packages spread evenly.
"""

from __future__ import annotations

import os

from celery import Celery

from . import backup_all  # importing the package registers every task with this app too

__all__ = ["BROKER_ENV", "app", "backup_all", "broker_url", "configure"]

BROKER_ENV = ("LC_ARCHIVE_BROKER_URL", "CELERY_BROKER_URL")


def broker_url() -> str | None:
    """The broker the environment names, if any."""
    return next((url for name in BROKER_ENV if (url := os.environ.get(name))), None)


def configure(app: Celery) -> None:
    """Apply the environment's settings (module docstring) to ``app``."""
    broker = broker_url()
    backend = os.environ.get("LC_ARCHIVE_RESULT_BACKEND") or os.environ.get("CELERY_RESULT_BACKEND")
    if backend is None and broker is not None and broker.startswith(("redis://", "rediss://", "unix://")):
        backend = broker
    prefix = os.environ.get("LC_ARCHIVE_CELERY_PREFIX")
    transport = {"global_keyprefix": prefix} if prefix else {}
    app.conf.update(
        broker_url=broker,
        result_backend=backend,
        task_default_queue=os.environ.get("LC_ARCHIVE_CELERY_QUEUE", "lc-archive"),
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_track_started=True,
        broker_connection_retry_on_startup=True,
        broker_transport_options=transport,
        result_backend_transport_options=transport,
        worker_hijack_root_logger=False,
    )


app = Celery("lc_archive")
configure(app)
