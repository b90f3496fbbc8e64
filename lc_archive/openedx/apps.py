"""The Django app configuration of :mod:`lc_archive.openedx`."""

from __future__ import annotations

from django.apps import AppConfig

__all__ = ["LcArchiveConfig"]


class LcArchiveConfig(AppConfig):  # type: ignore[misc]
    """lc-archive inside an openedx-core site: management commands and the backup/restore API."""

    name = "lc_archive.openedx"
    label = "lc_archive"
    verbose_name = "lc-archive (backup and restore of learning packages)"
