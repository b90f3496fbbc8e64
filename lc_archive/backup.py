"""Back up one package from a store to an archive file.

The archive is written to a temporary file in the target directory, fsynced and renamed into place:
a crash or a full disk never leaves a partial archive under the target name. Entities stream from
the store a batch at a time and media stream from blobs, so memory stays bounded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from .archive.zip_writer import ArchiveWriter, atomic_output
from .progress import NULL_PROGRESS, Progress
from .serializers.v1.writer import write_v1
from .stores.base import Store

__all__ = ["BackupResult", "backup"]


@dataclass(frozen=True)
class BackupResult:
    """What a backup wrote."""

    ref: str
    path: Path
    format: str
    entities: int
    members: int
    archive_bytes: int
    wall_s: float
    losses: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The machine form used by ``--json``."""
        return {"ref": self.ref, "path": str(self.path), "format": self.format, "entities": self.entities,
                "members": self.members, "archive_bytes": self.archive_bytes,
                "wall_s": round(self.wall_s, 3), "losses": self.losses,
                "warnings": self.warnings}


def backup(
    store: Store,
    ref: str,
    output: str | Path,
    *,
    format: Literal["v1"] = "v1",
    created_at: datetime | None = None,
    created_by: str | None = None,
    created_by_email: str | None = None,
    origin_server: str | None = None,
    progress: Progress = NULL_PROGRESS,
) -> BackupResult:
    """Write package ``ref`` of ``store`` to ``output`` (replaced atomically).

    ``created_at`` pins the backup timestamp (default: now), making archives reproducible.
    """
    started = time.perf_counter()
    when = created_at.astimezone(UTC) if created_at is not None else datetime.now(UTC)
    path = Path(output)
    with store.read(ref) as source:
        progress.phase("backup", source.entity_count())
        with atomic_output(path) as fileobj:
            writer = ArchiveWriter(fileobj)
            stats = write_v1(source, writer, created_at=when, created_by=created_by,
                             created_by_email=created_by_email, origin_server=origin_server,
                             progress=progress.advance)
            writer.close()
    return BackupResult(ref, path, format, stats.entities, stats.members, path.stat().st_size,
                        time.perf_counter() - started, list(stats.losses), list(stats.warnings))
