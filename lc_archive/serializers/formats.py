"""Find an archive's format and read it into a :class:`RestorePlan`.

Today one format is known: v1, the layout openedx-core writes (``package.toml`` with
``[meta] format_version = 1``). The format is decided by the reader that claims the archive, never by
the file name.
"""

from __future__ import annotations

from collections.abc import Callable

from ..archive.limits import DEFAULT_LIMITS, Limits
from ..archive.zip_reader import ArchiveReader
from .plan import RestorePlan
from .v1.reader import read_v1

__all__ = ["read_archive"]


def read_archive(
    reader: ArchiveReader,
    *,
    limits: Limits = DEFAULT_LIMITS,
    progress: Callable[[int], None] | None = None,
) -> RestorePlan:
    """Validate the whole archive and return its restore plan (raises ``ArchiveInvalid``)."""
    return read_v1(reader, limits=limits, progress=progress)
