"""The narrow, streaming store interface that backup and restore are written against.

A *store* holds learning packages. Backup reads one package through a :class:`PackageSource`;
restore writes one new package through a :class:`PackageSink`, inside one transaction that either
commits everything (rows and blobs) or leaves the store exactly as it was.

Two implementations are planned: the embedded SQL store (SQLite by default, PostgreSQL by URL) in
``lc_archive.stores.sql``, and an adapter over a real openedx-core (Django) instance.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Literal

from ..domain import CollectionRecord, EntityRecord, PackageRecord, PayloadRecord, PublishLogRecord
from ..errors import LcArchiveError

__all__ = ["History", "PackageSink", "PackageSource", "Store", "in_ref_order"]

History = Literal["current", "all"]
"""Which versions :meth:`PackageSource.iter_entities` includes: only draft+published, or all."""


class PackageSource(ABC):
    """Read access to one package, valid inside the ``Store.read`` context."""

    package: PackageRecord

    @abstractmethod
    def entity_count(self) -> int:
        """Number of entities in the package (for progress reporting)."""

    def last_changed(self) -> datetime:
        """When the package's content last changed: the latest of its ``updated`` time and every time a
        store records for a version, entity, publish or collection change.

        Backups stamp archives with it by default, so unchanged content gives identical archives. This
        default knows only the package record; stores override it with one cheap query.
        """
        return max(self.package.created, self.package.updated)

    @abstractmethod
    def iter_entities(self, *, history: History = "current", batch_size: int = 500) -> Iterator[EntityRecord]:
        """Every entity, ordered by ``ref`` in code-point order, fetched ``batch_size`` at a time."""

    @abstractmethod
    def iter_collections(self, *, include_disabled: bool = True) -> Iterator[CollectionRecord]:
        """Collections in creation order, members sorted by ref."""

    @abstractmethod
    def iter_publish_log(self) -> Iterator[PublishLogRecord]:
        """Publish events, oldest first."""

    @abstractmethod
    def iter_payloads(self) -> Iterator[PayloadRecord]:
        """Plugin payloads, ordered by :attr:`PayloadRecord.target` (plugin, entity ref, version)."""

    def iter_payload_targets(self) -> Iterator[tuple[str, str | None, int | None]]:
        """``(plugin, entity ref, version)`` of every payload, in :meth:`iter_payloads` order, without
        the bodies (stores override this with an index-only query)."""
        for p in self.iter_payloads():
            yield p.plugin, p.entity, p.version

    @abstractmethod
    def open_blob(self, sha256: str) -> AbstractContextManager[BinaryIO]:
        """A read-only binary stream over one blob's bytes (never loaded whole)."""

    def blob_in_memory(self, sha256: str) -> bytes | None:
        """The blob's bytes if this source holds them in memory already (a batch prefetch), else ``None``
        (then :meth:`open_blob` streams them). Lets a writer take a small blob whole, without a stream."""
        return None


class PackageSink(ABC):
    """Write access to one new package, valid inside the ``Store.write`` context (one transaction)."""

    @abstractmethod
    def put_blob(self, chunks: Iterable[bytes]) -> tuple[str, int]:
        """Store the concatenated chunks as a blob; return ``(sha256 hex, size)``. Stored once only."""

    @abstractmethod
    def add_entities(self, entities: Iterable[EntityRecord]) -> None:
        """Add entities with their versions. Child and member refs may name entities added later."""

    @abstractmethod
    def add_collections(self, collections: Iterable[CollectionRecord]) -> None:
        """Add collections with their members."""

    @abstractmethod
    def add_publish_log(self, records: Iterable[PublishLogRecord]) -> None:
        """Append publish events."""

    @abstractmethod
    def add_payloads(self, payloads: Iterable[PayloadRecord]) -> None:
        """Add plugin payloads (bodies kept byte for byte); their entities must have been added."""


class Store(ABC):
    """A place that holds learning packages."""

    url: str

    @abstractmethod
    def package_refs(self) -> list[str]:
        """Refs of every package in the store, sorted."""

    @abstractmethod
    def read(self, ref: str) -> AbstractContextManager[PackageSource]:
        """Open one package for reading; raises ``PackageNotFound``."""

    @abstractmethod
    def write(self, package: PackageRecord) -> AbstractContextManager[PackageSink]:
        """Create a package and fill it in one transaction; raises ``PackageExists`` if ``ref`` exists.

        Leaving the context normally commits; an exception rolls back everything, blobs included.
        """

    @abstractmethod
    def close(self) -> None:
        """Release connections."""

    @property
    def local_files(self) -> tuple[Path, ...]:
        """The local files that hold this store (a SQLite file), which no output may overwrite."""
        return ()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def in_ref_order(entities: Iterable[EntityRecord], source: str = "store") -> Iterator[EntityRecord]:
    """``entities`` as they come, checked against the interface's promise: strictly ascending refs.

    ``LcArchiveError`` naming ``source`` (``store``, ``store A``) and both refs otherwise: writers and
    merge joins depend on that order.
    """
    previous: str | None = None
    for entity in entities:
        if previous is not None and entity.ref <= previous:
            raise LcArchiveError(f"{source} yielded entity {entity.ref!r} after {previous!r}: not in ref order")
        previous = entity.ref
        yield entity
