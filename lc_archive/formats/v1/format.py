"""The v1 format in the format table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from ...archive.limits import DEFAULT_LIMITS, Limits
from ...archive.zip_reader import ArchiveReader
from ...archive.zip_writer import ArchiveWriter
from ...plugins.registry import Registry
from ...stores.base import PackageSource
from ..base import ArchiveFormat
from ..plan import ArchiveSummary, RestorePlan

if TYPE_CHECKING:  # the reader and the writer are imported when used: a restore never needs the writer
    from .writer import V1WriteStats

__all__ = ["V1Format"]


class V1Format(ArchiveFormat):
    """openedx-core 1.x's archive: draft and published versions, no checksums (``docs/formats/v1.md``)."""

    name: ClassVar[str] = "v1"
    description: ClassVar[str] = "the archive openedx-core 1.x writes and restores"

    def detect(self, reader: ArchiveReader, *, limits: Limits = DEFAULT_LIMITS) -> bool:
        """Anything that is no other format is read as v1 (its problems then say what is missing)."""
        return True

    def read(self, reader: ArchiveReader, *, limits: Limits = DEFAULT_LIMITS,
             progress: Callable[[int], None] | None = None, registry: Registry | None = None) -> RestorePlan:
        from .reader import read_v1

        return read_v1(reader, limits=limits, progress=progress, registry=registry)

    def verify(self, reader: ArchiveReader, *, limits: Limits = DEFAULT_LIMITS,
               progress: Callable[[int], None] | None = None, registry: Registry | None = None) -> ArchiveSummary:
        """v1 archives carry no checksums: the full validation, with only the ZIP CRCs to go on."""
        summary = super().verify(reader, limits=limits, progress=progress, registry=registry)
        return replace(summary, checksums="none in v1 (ZIP CRC-32 only)")

    def write(self, source: PackageSource, out: ArchiveWriter, *, created_at: datetime, created_by: str | None = None,
              created_by_email: str | None = None, origin_server: str | None = None,
              progress: Callable[[int], None] | None = None, exact_losses: bool = False,
              directory_entries: bool = False) -> V1WriteStats:
        from .writer import write_v1

        return write_v1(source, out, created_at=created_at, created_by=created_by, created_by_email=created_by_email,
                        origin_server=origin_server, progress=progress, history="all" if exact_losses else "current",
                        directory_entries=directory_entries)
