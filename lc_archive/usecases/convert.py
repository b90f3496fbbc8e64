"""Convert an archive to another format (v1 <-> v2), reporting exactly what the target format loses.

The input is validated completely and restored into a scratch SQLite store
(:func:`~lc_archive.usecases.scratch.open_archive_store`), which is then backed up with
:func:`~lc_archive.usecases.backup.backup`. Memory stays bounded: entities stream from the scratch store a
batch at a time and blobs are streamed, never held.

The output keeps the input's package ref and the input's own ``created_at``, ``created_by`` and
``origin_server`` (unless ``created_at`` is given), so converting is deterministic: the same input
always gives the same bytes.

**Loss report.** v2 carries everything a store holds; a conversion to v2 loses nothing. For v1 the
report is the writer's own (for v1, :mod:`lc_archive.formats.v1.losses`), made exact by writing from
every version of the scratch store (``backup(..., exact_losses=True)``): each kind of data that an
lc-archive restore of the output would not give back, and, as warnings, what openedx-core restores
differently.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from ..archive.limits import DEFAULT_LIMITS, Limits
from ..archive.locations import Location, archive_location, display
from ..archive.targets import check_target
from ..domain import iso, to_utc
from ..progress import NULL_PROGRESS, Progress
from .backup import backup
from .scratch import open_archive_store

__all__ = ["ConvertResult", "Loss", "convert"]

Format = Literal["v1", "v2"]

@dataclass(frozen=True)
class Loss:
    """One kind of data the output does not carry: ``count`` items of ``kind``."""

    kind: str
    count: int
    message: str

    def as_dict(self) -> dict[str, Any]:
        """The machine form used by ``--json``."""
        return {"kind": self.kind, "count": self.count, "message": self.message}


@dataclass(frozen=True)
class ConvertResult:
    """What a conversion wrote and lost."""

    source: Location
    output: Location
    input_format: str
    format: str
    ref: str
    created_at: datetime
    entities: int
    members: int
    archive_bytes: int
    wall_s: float
    losses: list[Loss] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    warning_counts: dict[str, int] = field(default_factory=dict)
    """Kind -> count of :attr:`warnings` (one sentence per kind, in the same order)."""

    @property
    def loss_counts(self) -> dict[str, int]:
        """``kind -> count`` of every loss."""
        return {loss.kind: loss.count for loss in self.losses}

    def as_dict(self) -> dict[str, Any]:
        """The machine form used by ``--json``."""
        return {"source": display(self.source), "output": display(self.output), "input_format": self.input_format,
                "format": self.format, "ref": self.ref, "created_at": iso(self.created_at),
                "entities": self.entities, "members": self.members, "archive_bytes": self.archive_bytes,
                "wall_s": round(self.wall_s, 3), "lossless": not self.losses,
                "losses": [loss.as_dict() for loss in self.losses], "loss_counts": self.loss_counts,
                "warnings": self.warnings}


def convert(
    src: str | Path,
    dst: str | Path,
    *,
    format: Format,
    created_at: datetime | None = None,
    limits: Limits = DEFAULT_LIMITS,
    progress: Progress = NULL_PROGRESS,
    workdir: Path | None = None,
    directory_entries: bool = False,
    overwrite: bool = False,
) -> ConvertResult:
    """Write archive ``src`` (v1 or v2) to ``dst`` in ``format``; return what was written and lost.

    ``src`` is validated completely first (``ArchiveInvalid`` lists every problem; nothing is
    written). ``created_at`` defaults to ``src``'s own, so the output is reproducible. ``dst`` is
    replaced atomically. The scratch store lives under ``workdir`` (default: the system temp dir).
    ``directory_entries`` (v1) writes openedx-core's directory entries too
    (see :func:`~lc_archive.usecases.backup.backup`). An existing ``dst`` is replaced only with
    ``overwrite`` (never ``src`` itself, a SQLite database or anything but a regular file).
    """
    started = time.perf_counter()
    source_path, output = archive_location(src), archive_location(dst)
    check_target(output, force=overwrite, kind="archive", reading=[source_path] if isinstance(source_path, Path)
                 else [])
    with open_archive_store(source_path, limits=limits, workdir=workdir, progress=progress) as (store, ref):
        archive = store.restored.archive
        when = to_utc(created_at) if created_at is not None else archive.created_at
        result = backup(store, ref, output, format=format, created_at=when, exact_losses=True,
                        created_by=archive.created_by, origin_server=archive.origin_server, progress=progress,
                        directory_entries=directory_entries, overwrite=overwrite)
    # Written from every version (exact_losses), the writer's sentences are exact, one per kind, in order.
    losses = [Loss(kind, n, message) for (kind, n), message in zip(result.loss_counts.items(), result.losses,
                                                                   strict=True)]
    return ConvertResult(source_path, output, archive.format, format, ref, when, result.entities,
                         result.members, result.archive_bytes, time.perf_counter() - started, losses,
                         list(result.warnings), dict(result.warning_counts))
