"""The index document of a site backup: one entry per package, at ``<target prefix>/index.json``.

::

    {
     "format": "lc-archive-site-index/1",
     "archive_format": "v2",
     "packages": [
      {"ref": "lib:Org:LIB1", "url": "s3://backups/site/lib_Org_LIB1-3c0f9e1a52.zip", "format": "v2",
       "bytes": 123456, "sha256": "9f86d0...", "created_at": "2025-03-03T09:31:01Z",
       "written_at": "2025-03-04T02:00:13.512Z", "version": "\\"5d41402abc4b2a76b9719d911017c592\\"",
       "error": null},
      {"ref": "lib:Org:BAD", "url": "...", "error": "archive entry name '../x' ...", "bytes": null, ...}
     ]
    }

Entries are sorted by ref; ``created_at`` is the archive's own (the package's last change),
``written_at`` when the object at ``url`` was written (kept from the previous index when this run found
the archive unchanged), ``version`` what the storage reports for that object (an S3 ETag, a file's
modification time): the next run rewrites a package whose object no longer has it. ``error`` says why
this run could not back a package up; the other fields then describe the archive still at ``url`` from
an earlier run, if any. Nothing in the document depends on when a run happened, so a run that changes
nothing leaves the index byte for byte as it was, and does not rewrite it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from ..archive.locations import archive_location, open_archive_file
from ..archive.remote_output import write_atomically

__all__ = ["INDEX_FORMAT", "INDEX_NAME", "MAX_INDEX_BYTES", "read_index", "render_index", "write_index"]

INDEX_NAME = "index.json"
INDEX_FORMAT = "lc-archive-site-index/1"
MAX_INDEX_BYTES = 256 * 1024 * 1024
"""An index larger than this is not read back (about a million packages)."""
ENTRY_FIELDS = ("ref", "url", "format", "bytes", "sha256", "created_at", "written_at", "version", "error")


def render_index(entries: Iterable[Mapping[str, Any]], *, archive_format: str) -> bytes:
    """The index document's bytes: entries sorted by ref, keys in a fixed order, UTF-8, one trailing newline."""
    packages = [{name: entry.get(name) for name in ENTRY_FIELDS}
                for entry in sorted(entries, key=lambda e: str(e["ref"]))]
    document = {"format": INDEX_FORMAT, "archive_format": archive_format, "packages": packages}
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def read_index(url: str) -> tuple[dict[str, dict[str, Any]], bytes | None]:
    """``(ref -> entry, raw bytes)`` of the index at ``url``; empty and None when there is none.

    An index that is not one lc-archive wrote (not JSON, another format, too large) counts as absent:
    every package is then backed up again and the index replaced.
    """
    try:
        with open_archive_file(archive_location(url)) as handle:
            raw = handle.read(MAX_INDEX_BYTES + 1)
    except FileNotFoundError:
        return {}, None
    if len(raw) > MAX_INDEX_BYTES:
        return {}, raw[:0]
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        return {}, raw
    if not isinstance(document, dict) or document.get("format") != INDEX_FORMAT:
        return {}, raw
    entries = {}
    for entry in document.get("packages") or ():
        if isinstance(entry, dict) and isinstance(entry.get("ref"), str):
            entries[entry["ref"]] = {name: entry.get(name) for name in ENTRY_FIELDS}
    return entries, raw


def write_index(url: str, data: bytes, previous: bytes | None) -> bool:
    """Write the index unless it already holds exactly ``data``; return whether it was written."""
    if previous == data:
        return False
    write_atomically(url, data)
    return True
