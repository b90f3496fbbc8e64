"""The restore plan: what validating an archive produces and what writing it into a store consumes.

Phase A of a restore (any format) reads and checks the whole archive and yields a
:class:`RestorePlan`; phase B replays it into a store inside one transaction. The plan keeps only an
index in memory (blob hashes -> archive members, counts); entity records are spooled to a private
temporary file in batches, so a 100,000-component library never sits in memory at once.
"""

from __future__ import annotations

import pickle
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from ..stores.records import CollectionRecord, EntityRecord, PackageRecord, PublishLogRecord

__all__ = ["BackupMeta", "RestorePlan"]


@dataclass(frozen=True)
class BackupMeta:
    """What the archive says about its own making."""

    format: str
    format_version: int
    created_at: datetime
    created_by: str | None = None
    created_by_email: str | None = None
    origin_server: str | None = None


@dataclass
class RestorePlan:
    """A validated archive, ready to be written into a store."""

    meta: BackupMeta
    package: PackageRecord
    blobs: dict[str, str] = field(default_factory=dict)
    """sha256 -> the archive member to read that blob from (each distinct blob once)."""
    blob_sizes: dict[str, int] = field(default_factory=dict)
    collections: list[CollectionRecord] = field(default_factory=list)
    publish_log: list[PublishLogRecord] = field(default_factory=list)
    """Publish events, oldest first (v1 carries none)."""
    counts: Counter[str] = field(default_factory=Counter)
    """Entity counts per type (``xblock.v1:html``, ``unit``...), plus ``versions`` and ``media``."""
    notes: list[str] = field(default_factory=list)
    """Things the reader accepted but a user may want to know (ignored members, ...)."""
    _spool: IO[bytes] = field(default_factory=lambda: tempfile.TemporaryFile(prefix="lc-archive-plan-"))  # noqa: SIM115  (closed by close())
    _batches: int = 0
    _pending: list[EntityRecord] = field(default_factory=list)

    BATCH = 500

    def add_entity(self, entity: EntityRecord) -> None:
        """Append an entity record to the spool."""
        self._pending.append(entity)
        if len(self._pending) >= self.BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            pickle.dump(self._pending, self._spool, protocol=pickle.HIGHEST_PROTOCOL)
            self._batches += 1
            self._pending = []

    def entity_batches(self) -> Iterator[list[EntityRecord]]:
        """The spooled entities, in the order they were added, a batch at a time."""
        self._flush()
        self._spool.seek(0)
        for _ in range(self._batches):
            batch: list[EntityRecord] = pickle.load(self._spool)  # our own private spool file
            yield batch

    @property
    def entity_count(self) -> int:
        """Number of entities in the plan."""
        return sum(v for k, v in self.counts.items() if k not in ("versions", "media"))

    def summary(self) -> dict[str, Any]:
        """Counts and sizes for ``inspect``/``validate``/``restore --dry-run`` output."""
        return {
            "format": self.meta.format,
            "format_version": self.meta.format_version,
            "package": {"ref": self.package.ref, "title": self.package.title},
            "created_at": self.meta.created_at.isoformat().replace("+00:00", "Z"),
            "created_by": self.meta.created_by,
            "origin_server": self.meta.origin_server,
            "entities": self.entity_count,
            "types": dict(sorted((k, v) for k, v in self.counts.items() if k not in ("versions", "media"))),
            "versions": self.counts["versions"],
            "media_files": self.counts["media"],
            "collections": len(self.collections),
            "publish_events": len(self.publish_log),
            "distinct_blobs": len(self.blobs),
            "blob_bytes": sum(self.blob_sizes.values()),
            "notes": self.notes,
        }

    def close(self) -> None:
        """Delete the spool."""
        self._spool.close()

    def __enter__(self) -> RestorePlan:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
