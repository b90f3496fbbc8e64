"""lc-archive: backup, restore and serialization of Open edX Learning Core content.

The public API, imported lazily (``import lc_archive`` stays cheap)::

    from lc_archive import open_store, restore, backup, validate

    with open_store("sqlite:///lib.db") as store:
        result = restore("library.zip", store, ref="lib:Org:LIB1")      # RestoreResult
        backup(store, "lib:Org:LIB1", "copy.zip")                        # BackupResult (v2)
        backup(store, "lib:Org:LIB1", "s3://bucket/lib1.zip")            # any fsspec URL
        chunks = stream_backup(store, "lib:Org:LIB1")                    # bytes for a StreamingHttpResponse
    summary = validate("copy.zip")                                       # ArchiveSummary

Every error these functions raise derives from :class:`LcArchiveError` (an ``OSError`` arrives as a
:class:`FileError`, with the original chained as its ``__cause__``); an archive that cannot be restored
raises :class:`ArchiveInvalid` listing every :class:`Problem`. ``DEFAULT_LIMITS`` and ``Limits`` come from
here too: ``restore(..., limits=DEFAULT_LIMITS.replace(max_members=50_000))``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    ArchiveInvalid,
    AuthoringError,
    FileError,
    InternalError,
    InvalidArgument,
    InvalidRef,
    LcArchiveError,
    PackageExists,
    PackageNotFound,
    Problem,
    StoreError,
    StoreMissing,
    only_lc_errors,
)

if TYPE_CHECKING:
    from .archive.limits import DEFAULT_LIMITS, Limits
    from .archive.targets import TargetRefused
    from .formats.plan import ArchiveSummary
    from .stores import open_store
    from .usecases.backup import BackupFailed, BackupResult, backup
    from .usecases.convert import ConvertResult, convert
    from .usecases.diff import DiffResult, diff_archives
    from .usecases.restore import RestoreResult, restore
    from .usecases.selection import SelectionError
    from .usecases.site_backup import SiteBackupResult, backup_site
    from .usecases.streaming import stream_backup
    from .usecases.validate import InspectResult, inspect, validate, verify

__all__ = [
    "DEFAULT_LIMITS",
    "ArchiveInvalid",
    "ArchiveSummary",
    "AuthoringError",
    "BackupFailed",
    "BackupResult",
    "ConvertResult",
    "DiffResult",
    "FileError",
    "InspectResult",
    "InternalError",
    "InvalidArgument",
    "InvalidRef",
    "LcArchiveError",
    "Limits",
    "PackageExists",
    "PackageNotFound",
    "Problem",
    "RestoreResult",
    "SelectionError",
    "SiteBackupResult",
    "StoreError",
    "StoreMissing",
    "TargetRefused",
    "backup",
    "backup_site",
    "convert",
    "diff_archives",
    "inspect",
    "open_store",
    "restore",
    "stream_backup",
    "validate",
    "verify",
]

_LAZY: dict[str, str] = {
    "DEFAULT_LIMITS": ".archive.limits",
    "Limits": ".archive.limits",
    "TargetRefused": ".archive.targets",
    "ArchiveSummary": ".formats.plan",
    "open_store": ".stores",
    "BackupFailed": ".usecases.backup",
    "BackupResult": ".usecases.backup",
    "backup": ".usecases.backup",
    "ConvertResult": ".usecases.convert",
    "convert": ".usecases.convert",
    "DiffResult": ".usecases.diff",
    "diff_archives": ".usecases.diff",
    "RestoreResult": ".usecases.restore",
    "restore": ".usecases.restore",
    "SelectionError": ".usecases.selection",
    "SiteBackupResult": ".usecases.site_backup",
    "backup_site": ".usecases.site_backup",
    "stream_backup": ".usecases.streaming",
    "InspectResult": ".usecases.validate",
    "inspect": ".usecases.validate",
    "validate": ".usecases.validate",
    "verify": ".usecases.validate",
}


_GUARDED = frozenset({"backup", "backup_site", "convert", "diff_archives", "inspect", "open_store", "restore",
                      "validate", "verify"})
"""The facade's functions, wrapped so that they raise only LcArchiveError subclasses (:func:`only_lc_errors`)."""


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    if name in _GUARDED:
        from .faults import FaultInjected

        value = only_lc_errors(value, passthrough=(FaultInjected,))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
