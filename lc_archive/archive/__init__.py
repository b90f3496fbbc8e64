"""ZIP container handling: limits, a strict reader for hostile archives, and a streaming writer.

This module only re-exports; see :mod:`.limits`, :mod:`.zip_reader` and :mod:`.zip_writer`.
"""

from .limits import DEFAULT_LIMITS, Limits
from .zip_reader import ARCHIVE, ArchiveReader, Member
from .zip_writer import ArchiveWriter, EntryConflict, atomic_output, is_compressible

__all__ = [
    "ARCHIVE",
    "DEFAULT_LIMITS",
    "ArchiveReader",
    "ArchiveWriter",
    "EntryConflict",
    "Limits",
    "Member",
    "atomic_output",
    "is_compressible",
]
