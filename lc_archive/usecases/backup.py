"""Back up one package from a store to an archive: a local file or any URL fsspec opens.

A local archive is written to a temporary file in the target directory (``.<name>.<random>.tmp``),
fsynced and renamed into place: a crash or a full disk never leaves a partial archive under the
target name. A crash can leave the temporary file behind; the next backup to the same target
removes such leftovers once nobody holds them open and they are a minute old (:func:`sweep_stale`).
A remote archive (``s3://...``) is uploaded so that it appears whole or not at all
(:mod:`lc_archive.archive.remote_output`). Both get the same bytes: the archive is written with its
sizes in every local header, also to outputs that cannot seek.

The archive's ``created_at`` defaults to the package's last change
(:meth:`~lc_archive.stores.base.PackageSource.last_changed`), so unchanged content gives byte-identical
archives. Entities stream from the store a batch at a time and media stream from blobs, so memory
stays bounded.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, BinaryIO

from ..archive.atomic import atomic_output
from ..archive.locations import Location, archive_location, display
from ..archive.remote_output import remote_output
from ..archive.targets import check_target
from ..archive.zip_writer import ArchiveWriter
from ..domain import to_utc
from ..errors import LcArchiveError
from ..faults import fault_point
from ..formats.base import WriteStats
from ..formats.table import get_format
from ..progress import NULL_PROGRESS, Progress
from ..stores.base import PackageSource, Store
from .selection import select_source

__all__ = ["BackupFailed", "BackupResult", "archive_sha256", "backup", "sweep_stale", "write_archive"]

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
    path: Location
    """The archive written: a :class:`~pathlib.Path`, or the URL of a remote archive."""
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
    sha256: str | None = None
    """SHA-256 of the archive's bytes, when the backup was asked to compute it (``checksum=True``)."""
    created_at: datetime | None = None
    """The archive's ``created_at``: the package's last change unless the caller pinned it."""

    def as_dict(self) -> dict[str, Any]:
        """The machine form used by ``--json``."""
        return {"ref": self.ref, "path": display(self.path), "format": self.format, "entities": self.entities,
                "members": self.members, "archive_bytes": self.archive_bytes, "payloads": self.payloads,
                "sha256": self.sha256, "created_at": None if self.created_at is None else self.created_at.isoformat(),
                "wall_s": round(self.wall_s, 3), "losses": self.losses, "loss_counts": self.loss_counts,
                "warnings": self.warnings}


class _Digest:
    """A write-only tee that hashes and counts what goes through it (to ``None``: only hashes)."""

    def __init__(self, inner: IO[bytes] | Any | None) -> None:
        self._inner = inner
        self._sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self._inner is not None:
            self._inner.write(data)
        self._sha.update(data)
        size = data.nbytes if isinstance(data, memoryview) else len(data)
        self.size += size
        return size

    def tell(self) -> int:
        return self.size

    def seek(self, offset: int, whence: int = 0) -> int:
        raise OSError("a hashed archive is written as a stream")

    def flush(self) -> None:
        if self._inner is not None:
            self._inner.flush()

    def hexdigest(self) -> str:
        return self._sha.hexdigest()


class _Output:
    """Where :func:`backup` writes, and what it learnt once the archive is in place."""

    def __init__(self, file: Any, checksum: bool) -> None:
        self.digest = _Digest(file) if checksum else None
        self.file: BinaryIO = self.digest if self.digest is not None else file  # type: ignore[assignment]
        self.size = 0


@contextlib.contextmanager
def _open_output(target: Location, checksum: bool) -> Iterator[_Output]:
    """Local: sweep, temporary file, lock, fsync and rename; remote: an upload that appears whole or not."""
    if isinstance(target, Path):
        sweep_stale(target)
        existed = target.exists()
        try:
            with atomic_output(target) as handle:
                _lock(handle)
                out = _Output(handle, checksum)
                yield out
        except OSError as exc:
            raise _write_error(target, existed, exc) from exc
        out.size = target.stat().st_size
    else:
        with remote_output(target) as sink:
            out = _Output(sink, checksum)
            yield out
        out.size = sink.bytes_written


def write_archive(
    source: PackageSource,
    fileobj: BinaryIO,
    *,
    format: str = "v2",
    created_at: datetime,
    created_by: str | None = None,
    created_by_email: str | None = None,
    origin_server: str | None = None,
    progress: Progress = NULL_PROGRESS,
    exact_losses: bool = False,
    directory_entries: bool = False,
) -> WriteStats:
    """Write ``source`` to ``fileobj`` as one complete archive in ``format``; return what was written.

    ``fileobj`` need not seek: the bytes are the same either way (sizes in every local header, large
    entries spooled to a temporary file). It is left open. Backups, streamed exports and site backups
    all write through here.
    """
    writer = ArchiveWriter(fileobj, sizes_in_headers=True)
    stats = get_format(format).write(source, writer, created_at=created_at, created_by=created_by,
                                     created_by_email=created_by_email, origin_server=origin_server,
                                     progress=progress.advance, exact_losses=exact_losses,
                                     directory_entries=directory_entries)
    writer.close()
    return stats


def archive_sha256(source: PackageSource, *, format: str, created_at: datetime) -> str:
    """The SHA-256 of the archive :func:`write_archive` would write, computed without writing it anywhere."""
    digest = _Digest(None)
    write_archive(source, digest, format=format, created_at=created_at)  # type: ignore[arg-type]
    return digest.hexdigest()


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
    checksum: bool = False,
    overwrite: bool = False,
) -> BackupResult:
    """Write package ``ref`` of ``store`` to ``output``, a path or a URL (replaced atomically).

    ``created_at`` pins the archive's timestamp; by default it is the package's last change, so the
    same content always gives the same bytes.
    ``collections`` (codes) and ``entities`` (refs) make a selective backup: only those, their
    descendants and the code libraries they depend on (:mod:`lc_archive.usecases.selection`).
    ``exact_losses`` (v1 only) reads every version, not just the written ones, so that the loss report
    counts the versions v1 leaves out exactly instead of as a lower bound.
    ``directory_entries`` (v1 only) writes openedx-core's directory entries too, for its exact layout;
    by default they are left out (openedx-core restores such archives to the same state). ``checksum``
    computes the archive's SHA-256 as it is written (:attr:`BackupResult.sha256`).
    ``overwrite`` lets an existing file or object be replaced; the store's own file, any SQLite database
    and anything but a regular file are refused whatever it says
    (:func:`~lc_archive.archive.targets.check_target`, ``TargetRefused``).
    """
    started = time.perf_counter()
    get_format(format)  # LcArchiveError for an unknown name, before anything is touched
    target = archive_location(output)
    check_target(target, force=overwrite, kind="archive", reading=store.local_files)
    with store.read(ref) as whole:
        when = to_utc(created_at) if created_at is not None else whole.last_changed()  # naive means UTC
        source = (select_source(whole, collections=collections, entities=entities)
                  if collections or entities else whole)
        progress.phase("backup", source.entity_count())
        with _open_output(target, checksum) as out:
            fault_point("backup.begin")
            stats = write_archive(source, out.file, format=format, created_at=when, created_by=created_by,
                                  created_by_email=created_by_email, origin_server=origin_server,
                                  progress=progress, exact_losses=exact_losses,
                                  directory_entries=directory_entries)
            fault_point("backup.entries_written")
            fault_point("backup.before_rename")
    fault_point("backup.renamed")
    return BackupResult(ref, target, format, stats.entities, stats.members, out.size,
                        time.perf_counter() - started, list(stats.losses), list(stats.warnings),
                        dict(stats.loss_counts), dict(stats.warning_counts), stats.payloads,
                        out.digest.hexdigest() if out.digest is not None else None, when)
