"""Drop-in replacements for openedx-core's backup/restore API (``openedx_content.api``), with its
signatures and results, so Studio's library backup and restore tasks can call lc-archive instead.

Backups are written in the format ``settings.LC_ARCHIVE_FORMAT`` names (``v2`` by default: every
version, pins, the publish log; ``v1`` for sites exchanging archives with plain openedx-core).
Restores (:func:`load_learning_package`, from :mod:`.restore_api`) accept both. See docs/openedx.md.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ObjectDoesNotExist

from ..errors import PackageNotFound
from ..stores.openedx import OpenedxStore
from ..usecases.backup import backup
from .restore_api import load_learning_package
from .settings import archive_format

__all__ = ["LearningPackageNotFound", "create_zip_file", "load_learning_package"]


class LearningPackageNotFound(PackageNotFound, ObjectDoesNotExist):  # type: ignore[misc]
    """No learning package with that ref: lc-archive's error, and also the ``ObjectDoesNotExist``
    openedx-core's ``create_zip_file`` raises (``LearningPackage.DoesNotExist``), for callers that
    catch that."""


def create_zip_file(
    package_ref: str, path: str, user: Any | None = None, origin_server: str | None = None, *, format: str | None = None
) -> None:
    """Back package ``package_ref`` up to the ZIP file ``path`` (as openedx-core's ``create_zip_file``).

    ``user`` (a Django user or None) is recorded as the archive's creator with their e-mail, and
    ``origin_server`` as its origin. The archive's time is the time of the backup, as openedx-core's.
    ``format`` overrides ``settings.LC_ARCHIVE_FORMAT``.
    Raises :class:`LearningPackageNotFound` for an unknown ref, another ``LcArchiveError`` otherwise;
    nothing is left at ``path`` when it fails.
    """
    fmt = format or archive_format()
    with OpenedxStore() as store:
        try:
            backup(
                store,
                package_ref,
                path,
                format=fmt,
                created_at=datetime.now(tz=UTC),
                created_by=getattr(user, "username", None) or None,
                created_by_email=getattr(user, "email", None) or None,
                origin_server=origin_server,
            )
        except PackageNotFound as exc:
            raise LearningPackageNotFound(package_ref) from exc
