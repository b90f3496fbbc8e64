"""Find an archive's format and read it into a :class:`RestorePlan`.

Two formats are known: v2, lc-archive's own (``manifest.json`` last, ``[meta] format = "lc-archive"``),
and v1, the layout openedx-core writes (``package.toml`` with ``[meta] format_version = 1``). The format
is decided by the archive's contents, never by the file name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..archive.limits import DEFAULT_LIMITS, Limits
from ..archive.zip_reader import ArchiveReader
from ..plugins.registry import Registry
from .plan import RestorePlan
from .v1.reader import read_v1
from .v2.reader import is_v2, read_v2, verify_v2

__all__ = ["read_archive", "verify_archive"]


def read_archive(
    reader: ArchiveReader,
    *,
    limits: Limits = DEFAULT_LIMITS,
    progress: Callable[[int], None] | None = None,
    registry: Registry | None = None,
) -> RestorePlan:
    """Validate the whole archive and return its restore plan (raises ``ArchiveInvalid``).

    ``registry`` supplies the type-specific checks and plugins (default: everything installed).
    """
    if is_v2(reader, limits=limits):
        return read_v2(reader, limits=limits, progress=progress, registry=registry)
    return read_v1(reader, limits=limits, progress=progress, registry=registry)


def verify_archive(
    reader: ArchiveReader,
    *,
    limits: Limits = DEFAULT_LIMITS,
    progress: Callable[[int], None] | None = None,
    registry: Registry | None = None,
) -> dict[str, Any]:
    """Re-read and check every member (v2: against the manifest's sizes and SHA-256) and validate all.

    v1 archives carry no checksums: they get the full validation, with only the ZIP CRCs to go on.
    """
    if is_v2(reader, limits=limits):
        return verify_v2(reader, limits=limits, progress=progress, registry=registry)
    with read_v1(reader, limits=limits, progress=progress, registry=registry) as plan:
        summary = plan.summary()
    summary["checksums"] = "none in v1 (ZIP CRC-32 only)"
    return summary
