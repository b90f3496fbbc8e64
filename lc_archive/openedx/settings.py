"""The Django settings lc-archive reads on an openedx-core site, with their defaults."""

from __future__ import annotations

from ..errors import LcArchiveError

__all__ = ["FORMATS", "archive_format"]

FORMATS = ("v1", "v2")
"""The archive formats a site may choose: ``v2`` (lc-archive's, full history) or ``v1`` (openedx-core's)."""


def archive_format() -> str:
    """``settings.LC_ARCHIVE_FORMAT``: the format backups are written in (``v2`` unless set)."""
    from django.conf import settings

    chosen = getattr(settings, "LC_ARCHIVE_FORMAT", "v2")
    if chosen not in FORMATS:
        raise LcArchiveError(f"settings.LC_ARCHIVE_FORMAT is {chosen!r}: use one of {', '.join(FORMATS)}")
    return str(chosen)
