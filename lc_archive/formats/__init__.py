"""Archive formats: how a learning package becomes archive members and back.

One subpackage per format version (today :mod:`.v1`). This module only re-exports.
"""

from .v1 import V1WriteStats, write_v1

__all__ = ["V1WriteStats", "write_v1"]
