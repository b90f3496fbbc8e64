"""Archive formats: how a learning package becomes archive members and back.

* :mod:`.base`: the :class:`ArchiveFormat` interface (name, detect, read -> restore plan, write -> stats);
* :mod:`.table`: the table of formats (:data:`BUILTIN_FORMATS`), :func:`get_format`, :func:`detect`;
* :mod:`.plan`: the restore plan a reader produces and a restore consumes, and its summary;
* :mod:`.reading`: the reading kit both readers share; :mod:`.naming`: file-name stems both writers
  share; :mod:`.toml_text`: TOML scalars both renderers share;
* :mod:`.v1` (openedx-core's format) and :mod:`.v2` (lc-archive's own).
"""

from .base import ArchiveFormat, WriteStats
from .plan import ArchiveSummary, RestorePlan
from .table import BUILTIN_FORMATS, FORMAT_NAMES, detect, get_format, read_archive

__all__ = [
    "BUILTIN_FORMATS",
    "FORMAT_NAMES",
    "ArchiveFormat",
    "ArchiveSummary",
    "RestorePlan",
    "WriteStats",
    "detect",
    "get_format",
    "read_archive",
]
