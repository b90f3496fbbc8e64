"""Whether an archive is v2, decided cheaply: format detection runs for every archive read, v1 included.

Only the member list and, when needed, ``package.toml`` are looked at; the document models and the
reader are not imported (restoring a v1 archive never loads them).
"""

from __future__ import annotations

from ...archive.limits import DEFAULT_LIMITS, Limits
from ...archive.zip_reader import ArchiveReader
from ...errors import ArchiveInvalid
from ...parsing.safe_toml import TomlInvalid, parse_toml

__all__ = ["FORMAT", "MANIFEST", "PACKAGE", "is_v2"]

FORMAT = "lc-archive"
"""`[meta].format` and the manifest's `format`: the name of lc-archive's own format."""
PACKAGE = "package.toml"
MANIFEST = "manifest.json"


def is_v2(reader: ArchiveReader, *, limits: Limits = DEFAULT_LIMITS) -> bool:
    """Whether the archive claims to be v2: its last member is ``manifest.json``, or its
    ``package.toml`` has ``[meta] format = "lc-archive"``. (A v1 archive has neither.)"""
    names = reader.names()
    if names and names[-1] == MANIFEST:
        return True
    if PACKAGE not in reader:
        return False
    try:
        data = parse_toml(reader.read_bytes(PACKAGE, max_size=limits.max_toml_size), max_depth=limits.max_toml_depth)
    except (ArchiveInvalid, TomlInvalid):
        return False
    meta = data.get("meta")
    return isinstance(meta, dict) and meta.get("format") == FORMAT
