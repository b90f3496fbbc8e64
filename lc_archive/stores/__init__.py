"""Stores: where learning packages live. ``open_store(url)`` opens the embedded SQL store.

See :mod:`lc_archive.stores.base` for the streaming interface backup and restore use,
:mod:`lc_archive.domain.records` for the records crossing it, and :mod:`lc_archive.stores.authoring` for
the small authoring API (``store.author(...)``).
"""

from __future__ import annotations

from ..domain import (
    COMPONENT,
    CONTAINER,
    ChildRecord,
    CollectionRecord,
    ComponentFacts,
    EntityKind,
    EntityRecord,
    MediaRecord,
    PackageRecord,
    PayloadRecord,
    PublishLogEntry,
    PublishLogRecord,
    VersionRecord,
)
from .authoring import Author, AuthoringError
from .base import History, PackageSink, PackageSource, Store
from .sql import SqlStore, open_store

__all__ = [
    "COMPONENT",
    "CONTAINER",
    "Author",
    "AuthoringError",
    "ChildRecord",
    "CollectionRecord",
    "ComponentFacts",
    "EntityKind",
    "EntityRecord",
    "History",
    "MediaRecord",
    "PackageRecord",
    "PackageSink",
    "PackageSource",
    "PayloadRecord",
    "PublishLogEntry",
    "PublishLogRecord",
    "SqlStore",
    "Store",
    "VersionRecord",
    "open_store",
]
