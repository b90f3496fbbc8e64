"""The v2 archive format: lc-archive's own (``docs/formats/v2.md``).

Full history, pins, soft deletes, the publish log and disabled collections; each distinct blob stored
once; a checksummed manifest as the last member; deterministic bytes.

* writing: :func:`write_v2` (order, timestamps, names), :mod:`.render` (TOML text),
  :mod:`.layout` (member names), :mod:`.manifest` (hashing and ``manifest.json``);
* reading: :func:`read_v2` (phase A: manifest, documents, cross-references -> :class:`V2RestorePlan`),
  :func:`verify_v2` (``lc-archive verify``), :func:`is_v2` (format detection);
* :mod:`.docs`: the pydantic document models; :mod:`.schema`: their JSON Schemas
  (``python -m lc_archive.formats.v2.schema`` writes ``docs/formats/v2/schema/``).
"""

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

if TYPE_CHECKING:
    from .docs import FORMAT, FORMAT_VERSION
    from .layout import MANIFEST, PACKAGE, PUBLISH_LOG
    from .reader import KNOWN_FORMAT_VERSIONS, V2RestorePlan, is_v2, read_v2, verify_v2
    from .writer import V2WriteStats, write_v2

_LAZY = {
    "FORMAT": ".docs", "FORMAT_VERSION": ".docs", "MANIFEST": ".layout", "PACKAGE": ".layout",
    "PUBLISH_LOG": ".layout", "KNOWN_FORMAT_VERSIONS": ".reader", "V2RestorePlan": ".reader", "is_v2": ".reader",
    "read_v2": ".reader", "verify_v2": ".reader", "V2WriteStats": ".writer", "write_v2": ".writer",
}
"""The re-exports, imported on first use: importing the format table (and detecting a format) must not
load the reader, the writer and the document models of every format."""

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "KNOWN_FORMAT_VERSIONS",
    "MANIFEST",
    "PACKAGE",
    "PUBLISH_LOG",
    "V2RestorePlan",
    "V2WriteStats",
    "is_v2",
    "read_v2",
    "verify_v2",
    "write_v2",
]


__getattr__ = lazy_exports(globals(), _LAZY)
