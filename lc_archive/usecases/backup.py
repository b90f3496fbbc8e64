"""Back up one package from a store to an archive file.

The archive is written to a temporary file in the target directory (``.<name>.<random>.tmp``),
fsynced and renamed into place: a crash or a full disk never leaves a partial archive under the
target name. A crash can leave the temporary file behind; the next backup to the same target
removes such leftovers once nobody holds them open and they are a minute old (:func:`sweep_stale`).
Entities stream from the store a batch at a time and media stream from blobs, so memory stays bounded.
"""

from __future__ import annotations

import contextlib
import errno
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from ..archive.zip_writer import ArchiveWriter, atomic_output
from ..domain import to_utc
from ..errors import LcArchiveError
from ..faults import fault_point
from ..formats.table import get_format
from ..progress import NULL_PROGRESS, Progress
from ..stores.base import Store
from .selection import select_source

__all__ = ["BackupFailed", "BackupResult", "backup", "sweep_stale"]

STALE_AFTER_S = 60.0
"""Age (since the last write) after which an unlocked temporary file of a backup counts as abandoned."""

try:
    import fcntl
except ImportError:  # pragma: no cover (Windows: an open file cannot be deleted there anyway)
    fcntl = None  # type: ignore[assignment]


class BackupFailed(LcArchiveError):
    """The archive file could not be written (disk full, file too large, no permission...)."""


def _lock(handle: IO[bytes]) -> None:
    """Mark a temporary archive as in use, so that :func:`sweep_stale` never takes it (released on close)."""
    if fcntl is not None:
        with contextlib.suppress(OSError):
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def sweep_stale(target: str | Path, *, older_than: float = STALE_AFTER_S) -> list[Path]:
    """Remove temporary files that interrupted backups to ``target`` left behind; return their paths.

    Only files named like :func:`~lc_archive.archive.zip_writer.atomic_output`'s temporaries for this
    target (``.<name>.*.tmp`` beside it) are looked at, and only those that no running backup holds
    (each one keeps an exclusive lock on its file) and that nobody wrote to for ``older_than`` seconds.
    """
    path = Path(target)
    removed: list[Path] = []
    now = time.time()
    for temp in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            if now - temp.lstat().st_mtime < older_than or not temp.is_file() or temp.is_symlink():
                continue
            with temp.open("rb") as handle:
                if fcntl is not None:
                    try:
                        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except OSError:
                        continue  # a live backup is writing it
                temp.unlink()
            removed.append(temp)
        except OSError:
            continue
    return removed


def _write_error(path: Path, existed: bool, exc: OSError) -> BackupFailed:
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        reason = f"{reason}: not enough space for the archive"
    kept = f"; {path} is unchanged" if existed else ""
    return BackupFailed(f"cannot write the backup {path} ({reason}); nothing was written{kept}")


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
    loss_counts: dict[str, int] = field(default_factory=dict)
    """Kind -> count of what the format does not carry (for v1, ``lc_archive.formats.v1.losses``); empty for v2."""
    warning_counts: dict[str, int] = field(default_factory=dict)
    payloads: int = 0
    """Plugin payloads written."""

    def as_dict(self) -> dict[str, Any]:
        """The machine form used by ``--json``."""
        return {"ref": self.ref, "path": str(self.path), "format": self.format, "entities": self.entities,
                "members": self.members, "archive_bytes": self.archive_bytes, "payloads": self.payloads,
                "wall_s": round(self.wall_s, 3), "losses": self.losses, "loss_counts": self.loss_counts,
                "warnings": self.warnings}


def backup(
    store: Store,
    ref: str,
    output: str | Path,
    *,
    format: str = "v2",
    created_at: datetime | None = None,
    created_by: str | None = None,
    created_by_email: str | None = None,
    origin_server: str | None = None,
    progress: Progress = NULL_PROGRESS,
    collections: Sequence[str] = (),
    entities: Sequence[str] = (),
    exact_losses: bool = False,
    directory_entries: bool = False,
) -> BackupResult:
    """Write package ``ref`` of ``store`` to ``output`` (replaced atomically).

    ``created_at`` pins the backup timestamp (default: now), making archives reproducible.
    ``collections`` (codes) and ``entities`` (refs) make a selective backup: only those, their
    descendants and the code libraries they depend on (:mod:`lc_archive.usecases.selection`).
    ``exact_losses`` (v1 only) reads every version, not just the written ones, so that the loss report
    counts the versions v1 leaves out exactly instead of as a lower bound.
    ``directory_entries`` (v1 only) writes openedx-core's directory entries too, for its exact layout;
    by default they are left out (openedx-core restores such archives to the same state).
    """
    started = time.perf_counter()
    archive_format = get_format(format)  # LcArchiveError for an unknown name, before anything is touched
    when = to_utc(created_at) if created_at is not None else datetime.now(UTC)  # naive means UTC, as everywhere
    path = Path(output)
    sweep_stale(path)
    existed = path.exists()
    with store.read(ref) as whole:
        source = (select_source(whole, collections=collections, entities=entities)
                  if collections or entities else whole)
        progress.phase("backup", source.entity_count())
        try:
            with atomic_output(path) as fileobj:
                _lock(fileobj)
                fault_point("backup.begin")
                writer = ArchiveWriter(fileobj)
                stats = archive_format.write(source, writer, created_at=when, created_by=created_by,
                                             created_by_email=created_by_email, origin_server=origin_server,
                                             progress=progress.advance, exact_losses=exact_losses,
                                             directory_entries=directory_entries)
                fault_point("backup.entries_written")
                writer.close()
                fault_point("backup.before_rename")
        except OSError as exc:
            raise _write_error(path, existed, exc) from exc
    fault_point("backup.renamed")
    return BackupResult(ref, path, format, stats.entities, stats.members, path.stat().st_size,
                        time.perf_counter() - started, list(stats.losses), list(stats.warnings),
                        dict(stats.loss_counts), dict(stats.warning_counts), stats.payloads)
