"""The restore plan: what validating an archive produces and what writing it into a store consumes.

Phase A of a restore (any format) reads and checks the whole archive and yields a
:class:`RestorePlan`; phase B replays it into a store inside one transaction. The plan keeps only an
index in memory (blob hashes -> archive members, counts); entity records are spooled to a private
temporary file in batches, so a 100,000-component library never sits in memory at once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..domain import CollectionRecord, EntityRecord, PackageRecord, PayloadRecord, PublishLogRecord
from ..domain.digests import DigestTable
from ..domain.spool import Spool
from ..domain.timestamps import iso
from ..errors import Problem

__all__ = ["ArchiveSummary", "BackupMeta", "BlobMembers", "RestorePlan", "Spool"]

MAX_KEPT_WARNINGS = 10_000
"""Warnings kept in a plan (the count goes on beyond this)."""


class BlobMembers:
    """sha256 -> the archive member to read that blob from, each distinct blob once, in the order added.

    A :class:`~lc_archive.domain.digests.DigestTable` and a list of the member names (the archive
    reader's own strings): about 50 bytes a blob, against some 150 for a dict of hex strings.
    """

    __slots__ = ("_members", "_table")

    def __init__(self, table: DigestTable | None = None, members: list[str] | None = None) -> None:
        """An empty mapping, or the rows of ``table`` with their ``members`` (taken over, not copied)."""
        self._table = DigestTable() if table is None else table
        self._members: list[str] = [] if members is None else members
        if len(self._members) != len(self._table):
            raise ValueError("one member per digest")

    def __len__(self) -> int:
        return len(self._members)

    def __contains__(self, sha: object) -> bool:
        return sha in self._table

    def __getitem__(self, sha: str) -> str:
        row = self._table.find(sha)
        if row < 0:
            raise KeyError(sha)
        return self._members[row]

    def __setitem__(self, sha: str, member: str) -> None:
        row = self._table.add(sha)
        if row == len(self._members):
            self._members.append(member)
        else:
            self._members[row] = member

    def get(self, sha: str) -> str | None:
        """The member of blob ``sha``, or None."""
        row = self._table.find(sha)
        return None if row < 0 else self._members[row]

    def items(self) -> Iterator[tuple[str, str]]:
        """``(sha256, member)`` in the order added."""
        return zip(self._table, self._members, strict=True)

    def members(self) -> Sequence[str]:
        """The members in the order added (the list itself, not a copy: do not change it)."""
        return self._members


@dataclass(frozen=True)
class BackupMeta:
    """What the archive says about its own making."""

    format: str
    format_version: int
    created_at: datetime
    created_by: str | None = None
    created_by_email: str | None = None
    origin_server: str | None = None


@dataclass(frozen=True)
class ArchiveSummary:
    """What an archive holds, as validating it found (``validate``, ``verify``, ``inspect``, ``restore``)."""

    format: str
    format_version: int
    package_ref: str
    package_title: str
    created_at: datetime
    created_by: str | None
    origin_server: str | None
    entities: int
    types: dict[str, int]
    """Entity count per type (``xblock.v1:html``, ``unit``...)."""
    versions: int
    media_files: int
    collections: int
    publish_events: int
    plugin_payloads: int
    distinct_blobs: int
    blob_bytes: int
    notes: list[str] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    """The warnings kept (at most :data:`MAX_KEPT_WARNINGS`); :attr:`warning_count` counts them all."""
    warning_count: int = 0
    verified_members: int | None = None
    """Members read and checked against the format's checksums (None: the format has none)."""
    verified_bytes: int | None = None
    checksums: str | None = None
    """What ``verify`` could check the members against, when the format has no checksums."""

    def as_dict(self) -> dict[str, Any]:
        """The machine form used by ``--json`` (times as ISO 8601 strings)."""
        out: dict[str, Any] = {
            "format": self.format,
            "format_version": self.format_version,
            "package": {"ref": self.package_ref, "title": self.package_title},
            "created_at": iso(self.created_at),
            "created_by": self.created_by,
            "origin_server": self.origin_server,
            "entities": self.entities,
            "types": dict(self.types),
            "versions": self.versions,
            "media_files": self.media_files,
            "collections": self.collections,
            "publish_events": self.publish_events,
            "plugin_payloads": self.plugin_payloads,
            "distinct_blobs": self.distinct_blobs,
            "blob_bytes": self.blob_bytes,
            "notes": list(self.notes),
            "warnings": [w.as_dict() for w in self.warnings],
            "warning_count": self.warning_count,
        }
        if self.verified_members is not None:
            out.update(verified_members=self.verified_members, verified_bytes=self.verified_bytes)
        if self.checksums is not None:
            out["checksums"] = self.checksums
        return out


@dataclass
class RestorePlan:
    """A validated archive, ready to be written into a store."""

    meta: BackupMeta
    package: PackageRecord
    blobs: BlobMembers = field(default_factory=BlobMembers)
    """sha256 -> the archive member to read that blob from (each distinct blob once)."""
    blob_bytes: int = 0
    """Total size of the distinct blobs."""
    collections: list[CollectionRecord] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    """Entity counts per type (``xblock.v1:html``, ``unit``...), plus ``versions`` and ``media``."""
    notes: list[str] = field(default_factory=list)
    """Things the reader accepted but a user may want to know (ignored members, ...)."""
    warnings: list[Problem] = field(default_factory=list)
    """Problems of severity ``warning`` (the first :data:`MAX_KEPT_WARNINGS`); see :attr:`warning_count`."""
    warning_count: int = 0
    _entities: Spool[EntityRecord] = field(default_factory=Spool)
    _payloads: Spool[PayloadRecord] = field(default_factory=Spool)
    _publish_log: Spool[PublishLogRecord] = field(default_factory=Spool)

    def add_publish(self, event: PublishLogRecord) -> None:
        """Append a publish event (oldest first) to its spool: a log may hold hundreds of thousands."""
        self._publish_log.append(event)

    @property
    def publish_log(self) -> Iterator[PublishLogRecord]:
        """The publish events, oldest first (v1 carries none), read back from the spool."""
        for batch in self._publish_log.batches():
            yield from batch

    @property
    def publish_count(self) -> int:
        """Number of publish events in the plan."""
        return self._publish_log.count

    def add_entity(self, entity: EntityRecord) -> None:
        """Append an entity record to the spool."""
        self._entities.append(entity)

    def entity_batches(self) -> Iterator[list[EntityRecord]]:
        """The spooled entities, in the order they were added, a batch at a time."""
        return self._entities.batches()

    def add_payload(self, payload: PayloadRecord) -> None:
        """Append a plugin payload (checked) to its spool."""
        self._payloads.append(payload)

    def payload_batches(self) -> Iterator[list[PayloadRecord]]:
        """The spooled plugin payloads, in the order they were added."""
        return self._payloads.batches()

    @property
    def payload_count(self) -> int:
        """Number of plugin payloads in the plan."""
        return self._payloads.count

    def add_warnings(self, problems: list[Problem], count: int | None = None) -> None:
        """Keep warnings (up to :data:`MAX_KEPT_WARNINGS`) and count them all (``count``: more than the
        list holds, when it was capped)."""
        self.warning_count += len(problems) if count is None else count
        room = MAX_KEPT_WARNINGS - len(self.warnings)
        if room > 0:
            self.warnings.extend(problems[:room])

    @property
    def entity_count(self) -> int:
        """Number of entities in the plan."""
        return sum(v for k, v in self.counts.items() if k not in ("versions", "media"))

    def summary(self) -> ArchiveSummary:
        """Counts and sizes for ``inspect``/``validate``/``verify``/``restore`` output."""
        return ArchiveSummary(
            format=self.meta.format, format_version=self.meta.format_version, package_ref=self.package.ref,
            package_title=self.package.title, created_at=self.meta.created_at, created_by=self.meta.created_by,
            origin_server=self.meta.origin_server, entities=self.entity_count,
            types=dict(sorted((k, v) for k, v in self.counts.items() if k not in ("versions", "media"))),
            versions=self.counts["versions"], media_files=self.counts["media"], collections=len(self.collections),
            publish_events=self.publish_count, plugin_payloads=self.payload_count,
            distinct_blobs=len(self.blobs), blob_bytes=self.blob_bytes, notes=list(self.notes),
            warnings=list(self.warnings), warning_count=self.warning_count,
        )  # fmt: skip

    def close(self) -> None:
        """Delete the spools."""
        self._entities.close()
        self._payloads.close()
        self._publish_log.close()

    def __enter__(self) -> RestorePlan:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
