"""lc-archive: backup, restore and serialization of Open edX Learning Core content."""

from .errors import ArchiveInvalid, LcArchiveError, PackageExists, PackageNotFound, Problem, StoreError

__all__ = [
    "ArchiveInvalid",
    "LcArchiveError",
    "PackageExists",
    "PackageNotFound",
    "Problem",
    "StoreError",
]
