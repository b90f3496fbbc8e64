"""What an archive format is: a name, a way to recognise it, a reader and a writer.

Every use case goes through :class:`ArchiveFormat` (found in the table of :mod:`.table`): ``restore``,
``validate``, ``verify`` and ``inspect`` detect the format of an archive and read it into a
:class:`~.plan.RestorePlan`; ``backup`` (and ``convert``) write a store's package with the format
asked for and get :class:`WriteStats` back.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from typing import ClassVar, Protocol

from ..archive.limits import DEFAULT_LIMITS, Limits
from ..archive.zip_reader import ArchiveReader
from ..archive.zip_writer import ArchiveWriter
from ..plugins.registry import Registry
from ..stores.base import PackageSource
from .plan import ArchiveSummary, RestorePlan

__all__ = ["ArchiveFormat", "WriteStats"]


class WriteStats(Protocol):
    """What a writer reports: counts, and what the format could not carry."""

    @property
    def entities(self) -> int: ...
    @property
    def members(self) -> int: ...
    @property
    def payloads(self) -> int: ...
    @property
    def losses(self) -> list[str]: ...
    @property
    def warnings(self) -> list[str]: ...
    @property
    def loss_counts(self) -> dict[str, int]: ...
    @property
    def warning_counts(self) -> dict[str, int]: ...


class ArchiveFormat(ABC):
    """One archive format (``v1``, ``v2``): detection, reading (phase A) and writing."""

    name: ClassVar[str]
    """The format's name, as ``--format`` takes it."""
    description: ClassVar[str]

    @abstractmethod
    def detect(self, reader: ArchiveReader, *, limits: Limits = DEFAULT_LIMITS) -> bool:
        """Whether the archive claims to be of this format (by its contents, never its file name)."""

    @abstractmethod
    def read(self, reader: ArchiveReader, *, limits: Limits = DEFAULT_LIMITS,
             progress: Callable[[int], None] | None = None, registry: Registry | None = None) -> RestorePlan:
        """Validate the whole archive; its restore plan, or ``ArchiveInvalid`` listing every problem.

        ``progress`` is called with the number of members processed; ``registry`` supplies the
        type-specific checks and the plugins (default: everything installed).
        """

    def verify(self, reader: ArchiveReader, *, limits: Limits = DEFAULT_LIMITS,
               progress: Callable[[int], None] | None = None, registry: Registry | None = None) -> ArchiveSummary:
        """Re-read every member against the format's checksums and validate everything (:meth:`read`)."""
        with self.read(reader, limits=limits, progress=progress, registry=registry) as plan:
            return plan.summary()

    @abstractmethod
    def write(self, source: PackageSource, out: ArchiveWriter, *, created_at: datetime, created_by: str | None = None,
              created_by_email: str | None = None, origin_server: str | None = None,
              progress: Callable[[int], None] | None = None, exact_losses: bool = False,
              directory_entries: bool = False) -> WriteStats:
        """Write ``source``'s package to ``out`` (left open for the caller to close).

        ``created_at`` is the backup time; ``exact_losses`` asks a format that cannot carry everything
        to read every version so that its loss report is exact; ``directory_entries`` asks a format
        whose reference layout has directory entries (v1) to write them too.
        """
