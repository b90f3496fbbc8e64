"""Stores: where learning packages live. ``open_store(url)`` opens the embedded SQL store, or with an
``openedx:`` URL a live openedx-core instance (:mod:`.openedx`, the ``openedx`` extra).

See :mod:`lc_archive.stores.base` for the streaming interface backup and restore use,
:mod:`lc_archive.domain.records` for the records crossing it, and :mod:`lc_archive.stores.authoring` for
the small authoring API (``store.author(...)``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
from .base import History, PackageSink, PackageSource, Store

if TYPE_CHECKING:
    from .authoring import Author, AuthoringError
    from .sql import SqlStore
    from .urls import open_store

_LAZY = {"Author": "authoring", "AuthoringError": "authoring", "SqlStore": "sql", "open_store": "urls"}
"""Names imported on first use: the SQL store needs SQLAlchemy, the authoring API more still, and a
command that only reads an archive (``validate``, ``inspect``) or restores one needs neither or only
the store."""


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value

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
