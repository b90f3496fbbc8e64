"""The v2 format in the format table."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from ...archive.limits import DEFAULT_LIMITS, Limits
from ...archive.zip_reader import ArchiveReader
from ...archive.zip_writer import ArchiveWriter
from ...plugins.registry import Registry
from ...stores.base import PackageSource
from ..base import ArchiveFormat
from .detect import is_v2

if TYPE_CHECKING:  # the reader and the writer are imported when used (detection alone needs neither)
    from .read_state import V2RestorePlan
    from .writer import V2WriteStats

__all__ = ["V2Format"]


class V2Format(ArchiveFormat):
    """lc-archive's own format: every version, a SHA-256 manifest, deterministic bytes (``docs/formats/v2.md``)."""

    name: ClassVar[str] = "v2"
    description: ClassVar[str] = "lc-archive's own: full history, each blob once, a checksummed manifest"

    def detect(self, reader: ArchiveReader, *, limits: Limits = DEFAULT_LIMITS) -> bool:
        return is_v2(reader, limits=limits)

    def read(self, reader: ArchiveReader, *, limits: Limits = DEFAULT_LIMITS,
             progress: Callable[[int], None] | None = None, registry: Registry | None = None) -> V2RestorePlan:
        """Every member is read once and checked against the manifest (the summary says how many)."""
        from .reader import read_v2

        return read_v2(reader, limits=limits, progress=progress, registry=registry)

    def write(self, source: PackageSource, out: ArchiveWriter, *, created_at: datetime, created_by: str | None = None,
              created_by_email: str | None = None, origin_server: str | None = None,
              progress: Callable[[int], None] | None = None, exact_losses: bool = False,
              directory_entries: bool = False) -> V2WriteStats:
        """v2 keeps no site identities (no e-mail), loses nothing (``exact_losses`` is moot) and has no
        directory entries (``directory_entries`` is moot)."""
        from .writer import write_v2

        return write_v2(source, out, created_at=created_at, created_by=created_by, origin_server=origin_server,
                        progress=progress)
