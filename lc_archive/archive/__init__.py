"""Archive I/O: ZIP files only, nothing about what the members mean.

* :mod:`.limits`: the one settings object of caps on size, shape and content;
* :mod:`.names`: the member-name policy (what a name may be, when two clash);
* :mod:`.zip_format`: the ZIP record layouts, shared by reader and writer;
* reading a hostile archive: :mod:`.zip_reader` (:class:`ArchiveReader`, bounded member streams) over
  the pre-flight in :mod:`.zip_end`, :mod:`.zip_directory` and :mod:`.zip_layout`;
* writing: :mod:`.zip_writer` (:class:`ArchiveWriter`), :mod:`.zip_entry` (headers and records),
  :mod:`.compression` (what to DEFLATE), :mod:`.atomic` (the output file);
* :mod:`.nested_zip`: a zip inside the archive (a code library's ``python_lib.zip``).
"""

from .atomic import atomic_output
from .compression import is_compressible
from .limits import DEFAULT_LIMITS, Limits
from .zip_reader import ARCHIVE, ArchiveReader, Member
from .zip_writer import ArchiveWriter, EntryConflict

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
