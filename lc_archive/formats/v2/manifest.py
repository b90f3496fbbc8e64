"""``manifest.json``: the size and SHA-256 of every member, written last.

:class:`ManifestedWriter` wraps an :class:`~lc_archive.archive.zip_writer.ArchiveWriter`: every
member goes through it, is hashed while it is handed to the writer (streams chunk by chunk, never
whole), and is recorded; :meth:`ManifestedWriter.finish` appends ``manifest.json``. The records are
spooled to a temporary file (in memory up to 4 MiB), so memory does not grow with the member count.

The text is fixed: two-space indentation, one member per line, keys in the order ``name``, ``size``,
``sha256``, non-ASCII characters written as themselves (UTF-8), a final newline::

    {
      "format": "lc-archive",
      "format_version": 2,
      "members": [
        {"name": "package.toml", "size": 444, "sha256": "…"},
        {"name": "entities/unit-1.toml", "size": 613, "sha256": "…"}
      ]
    }
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime

from ...archive.zip_writer import ArchiveWriter
from .docs import FORMAT, FORMAT_VERSION
from .layout import MANIFEST

__all__ = ["CHUNK_SIZE", "ManifestedWriter", "manifest_line"]

CHUNK_SIZE = 64 * 1024
_SPOOL_IN_MEMORY = 4 << 20


def manifest_line(name: str, size: int, sha256: str) -> str:
    """One member's line (without indentation or separator)."""
    return f'{{"name": {json.dumps(name, ensure_ascii=False)}, "size": {size}, "sha256": "{sha256}"}}'


class ManifestedWriter:
    """Adds members to an archive and records their size and SHA-256 for ``manifest.json``."""

    def __init__(self, out: ArchiveWriter) -> None:
        self.out = out
        self.members = 0
        self.bytes = 0
        self._spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY, prefix="lc-archive-manifest-")  # noqa: SIM115 (closed by finish/close)

    def _record(self, name: str, size: int, sha256: str) -> None:
        sep = b",\n    " if self.members else b"    "
        self._spool.write(sep + manifest_line(name, size, sha256).encode("utf-8"))
        self.members += 1
        self.bytes += size

    def add_bytes(self, name: str, data: bytes, when: datetime, *, compress: bool) -> str:
        """A member from bytes in memory; returns its SHA-256."""
        sha = hashlib.sha256(data).hexdigest()
        self.out.add_bytes(name, data, when, compress=compress)
        self._record(name, len(data), sha)
        return sha

    def add_stream(
        self, name: str, chunks: Iterable[bytes], when: datetime, *, compress: bool, size: int | None = None
    ) -> tuple[int, str]:
        """A member streamed chunk by chunk, hashed on the way; returns ``(size, sha256)``."""
        digest = hashlib.sha256()

        def hashed() -> Iterator[bytes]:
            for chunk in chunks:
                digest.update(chunk)
                yield chunk

        written = self.out.add_stream(name, hashed(), when, compress=compress, size=size)
        sha = digest.hexdigest()
        self._record(name, written, sha)
        return written, sha

    def finish(self, when: datetime) -> None:
        """Append ``manifest.json`` (the last member); the manifest itself is not listed."""
        spool = self._spool
        head = f'{{\n  "format": "{FORMAT}",\n  "format_version": {FORMAT_VERSION},\n  "members": ['
        try:
            spool.seek(0)

            def chunks() -> Iterator[bytes]:
                yield (head + ("\n" if self.members else "")).encode("utf-8")
                while chunk := spool.read(CHUNK_SIZE):
                    yield chunk
                yield b"\n  ]\n}\n" if self.members else b"]\n}\n"

            self.out.add_stream(MANIFEST, chunks(), when, compress=True)
        finally:
            spool.close()

    def close(self) -> None:
        """Drop the spool (after an error; :meth:`finish` closes it too)."""
        self._spool.close()
