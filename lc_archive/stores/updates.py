"""The store interface for changing packages that exist: import into a package, list, delete, rename.

:class:`~lc_archive.stores.base.Store` only creates packages (``write``) and reads them (``read``).
A store that also implements :class:`ManagedStore` lets lc-archive manage its packages and import an
archive into one of them. The interface is deliberately small, so that other stores (the openedx-core
adapter) can implement it with their own API; ``/docs/decisions/0014-import-into-existing-package.md``
explains each choice, and what a store must guarantee is said on each method:

* :meth:`ManagedStore.update` opens one package for an import: one transaction, the package's current
  content readable through :attr:`PackageUpdater.source` *inside* that transaction, and a handful of
  writes that only ever add versions, move draft pointers, publish, and create or overwrite
  collections. History is never rewritten: no version is changed or removed.
* :meth:`ManagedStore.package_infos`, :meth:`ManagedStore.delete_package` and
  :meth:`ManagedStore.rename_package` are what ``packages``, ``delete`` and ``rename`` need. Listing
  alone is :class:`ListedStore`. Both the SQL store and the openedx-core store are managed stores.

Every method raises :class:`~lc_archive.errors.PackageNotFound` for an unknown ref; every write is
all-or-nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..domain import CollectionRecord, EntityRecord, PayloadRecord, PublishLogRecord, VersionRecord, iso
from ..errors import StoreError
from .base import PackageSource, Store

__all__ = [
    "DeleteResult", "ListedStore", "ManagedStore", "NewVersion", "PackageInfo", "PackageUpdater", "listed", "managed",
]


@dataclass(frozen=True, slots=True)
class PackageInfo:
    """What ``lc-archive packages`` shows of one package."""

    ref: str
    title: str
    components: int
    containers: int
    collections: int
    """Enabled collections."""
    versions: int
    last_changed: datetime
    """The latest of the package's own time and every version, publish and collection time."""
    size: int
    """Bytes of the distinct blobs the package's versions use (shared blobs count in every package)."""

    def as_dict(self) -> dict[str, Any]:
        """The machine form used by ``--json``."""
        return {"ref": self.ref, "title": self.title, "components": self.components,
                "containers": self.containers, "collections": self.collections, "versions": self.versions,
                "last_changed": iso(self.last_changed), "size": self.size}


@dataclass(frozen=True, slots=True)
class DeleteResult:
    """What deleting a package removed."""

    ref: str
    entities: int
    versions: int
    blobs_freed: int
    """Blobs no other package used, removed with the package."""
    bytes_freed: int

    def as_dict(self) -> dict[str, Any]:
        """The machine form used by ``--json``."""
        return {"ref": self.ref, "entities": self.entities, "versions": self.versions,
                "blobs_freed": self.blobs_freed, "bytes_freed": self.bytes_freed}


@dataclass(frozen=True, slots=True)
class NewVersion:
    """One version to append to an entity that exists; ``draft`` True also points the draft at it.

    The number is chosen by the caller (after every number the entity has); children name entities of
    the package (existing or added in the same update) with pins in the package's own numbering.
    """

    ref: str
    version: VersionRecord
    draft: bool = True


class PackageUpdater(ABC):
    """Write access to one existing package, valid inside the ``ManagedStore.update`` context.

    Everything happens in one transaction: leaving the context normally commits, an exception rolls
    back every change, blobs included.
    """

    source: PackageSource
    """The package as it is inside this transaction (reads see the updater's own writes only after
    the context ends: read first, then write)."""

    @abstractmethod
    def missing_blobs(self, shas: Collection[str]) -> set[str]:
        """The subset of ``shas`` (SHA-256 hex) that the store does not hold yet."""

    @abstractmethod
    def put_blob(self, chunks: Iterable[bytes]) -> tuple[str, int]:
        """Store the concatenated chunks as a blob; return ``(sha256 hex, size)``. Stored once only."""

    @abstractmethod
    def add_entities(self, entities: Iterable[EntityRecord]) -> None:
        """Create entities the package does not have, with their versions and pointers (as
        :meth:`PackageSink.add_entities <lc_archive.stores.base.PackageSink.add_entities>`); children may
        name entities the package had before."""

    @abstractmethod
    def put_payloads(self, payloads: Iterable[PayloadRecord]) -> None:
        """Add plugin payloads, each replacing the package's payload of the same plugin and target (bodies
        byte for byte; entities and versions named must exist, created ones included)."""

    @abstractmethod
    def add_versions(self, versions: Iterable[NewVersion]) -> None:
        """Append versions to existing entities (numbers after the entity's own) and move their drafts."""

    @abstractmethod
    def soft_delete(self, refs: Iterable[str]) -> None:
        """Soft-delete the drafts of these entities (their versions stay)."""

    @abstractmethod
    def put_collections(self, collections: Iterable[CollectionRecord]) -> None:
        """Create each collection the package lacks; overwrite title, description, enabled, modified and
        members of each one it has (``created`` and ``created_by`` of an existing one are kept)."""

    @abstractmethod
    def publish(self, refs: Iterable[str], event: PublishLogRecord) -> int:
        """Publish these entities' drafts (a soft-deleted draft: a published deletion) and append one
        publish event with ``event``'s time, author and message and one entry per entity that changed;
        ``event.entries`` is ignored. Returns how many entities changed (no event when none)."""

    @abstractmethod
    def touch(self, updated: datetime) -> None:
        """Set the package's ``updated`` time."""


class ListedStore(Store):
    """A store that can list its packages with their counts, last change and size (``packages``)."""

    @abstractmethod
    def package_infos(self) -> list[PackageInfo]:
        """Every package with its counts, last change and size, sorted by ref."""


class ManagedStore(ListedStore):
    """A store whose packages can be listed with their sizes, deleted, renamed and imported into."""

    @abstractmethod
    def delete_package(self, ref: str) -> DeleteResult:
        """Remove a package with everything it holds, and every blob no other package uses, in one
        transaction."""

    @abstractmethod
    def rename_package(self, ref: str, new_ref: str) -> None:
        """Give a package another ref; ``PackageExists`` if ``new_ref`` is taken."""

    @abstractmethod
    def update(self, ref: str) -> AbstractContextManager[PackageUpdater]:
        """Open one existing package for an import, in one transaction (see :class:`PackageUpdater`)."""


def listed(store: Store) -> ListedStore:
    """``store`` as a :class:`ListedStore`, or ``StoreError`` saying it cannot list its packages."""
    if isinstance(store, ListedStore):
        return store
    raise StoreError(f"{type(store).__name__} cannot list its packages with their sizes")


def managed(store: Store) -> ManagedStore:
    """``store`` as a :class:`ManagedStore`, or ``StoreError`` saying it cannot be managed."""
    if isinstance(store, ManagedStore):
        return store
    raise StoreError(f"{type(store).__name__} cannot list, delete, rename or import into packages")
