"""``manifest.json``: the size and SHA-256 of every member, written last and read first.

Reading (:func:`read_manifest`): the manifest must be the last member and list every other member
exactly once, in archive order; its index (name -> size, SHA-256) is what every later member is
checked against while it streams (:meth:`~.read_state.V2State.verify`). It is read under the JSON rule
of every JSON member (:func:`~lc_archive.parsing.safe_json.stream_json_object`: strict UTF-8, nesting
depth, no NaN, no duplicate keys), its ``members`` array one element at a time.

Writing:

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
from array import array
from collections.abc import Iterable, Iterator
from datetime import datetime

from pydantic import ValidationError

from ...archive.zip_reader import ArchiveReader
from ...archive.zip_writer import ArchiveWriter
from ...errors import ArchiveInvalid
from ...parsing.documents import problems_from
from ...parsing.safe_json import stream_json_chunks
from ..writing import CHUNK_SIZE
from .docs import FORMAT, FORMAT_VERSION, ManifestDoc, ManifestMember
from .layout import MANIFEST
from .read_state import Listing, V2State

__all__ = ["KNOWN_FORMAT_VERSIONS", "ManifestedWriter", "manifest_line", "read_manifest"]

KNOWN_FORMAT_VERSIONS = frozenset({FORMAT_VERSION})
"""The format versions this reader knows."""

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


def _chunks(reader: ArchiveReader) -> Iterator[bytes]:
    """The data of ``manifest.json``, a chunk at a time (checked as it streams: see ``ArchiveReader.open``)."""
    with reader.open(MANIFEST) as stream:
        while chunk := stream.read(CHUNK_SIZE):
            yield chunk


def read_manifest(state: V2State, names: list[str]) -> None:
    """Check ``manifest.json`` (last, listing every other member once, in archive order); index it."""
    reader = state.reader
    if MANIFEST not in reader:
        state.problem(MANIFEST, "$", "missing: a v2 archive ends with manifest.json, which lists every other member")
        return
    if names[-1] != MANIFEST:
        after = names[names.index(MANIFEST) + 1 :]
        state.problem(MANIFEST, "$", f"must be the last member, but {len(after)} member(s) follow it "
                                     f"(the first is {after[0]!r})")
    declared = reader.member(MANIFEST).size
    if declared > state.limits.max_member_size:
        try:
            reader.read_bytes(MANIFEST, max_size=state.limits.max_member_size)  # refused: raises ArchiveInvalid
        except ArchiveInvalid as exc:
            state.problems.extend(exc.problems)
            state.tick()
            return
    listed = Listing(reader)
    order = array("q")  # slots of the listed members, in the manifest's order (-1: no slot)

    def index(i: int, value: object) -> None:
        try:
            m = ManifestMember.model_validate(value)
        except ValidationError as exc:
            state.problems.extend(problems_from(MANIFEST, exc, ("members", i)))
            return
        if m.name in listed:
            state.problem(MANIFEST, f"$.members[{i}].name", f"lists {m.name!r} more than once")
        elif m.name == MANIFEST:
            state.problem(MANIFEST, f"$.members[{i}].name", "lists itself; the manifest lists every other member")
        elif m.name not in reader:
            state.problem(MANIFEST, f"$.members[{i}].name", f"lists {m.name!r}, which is not in the archive")
        else:
            order.append(listed.add(m.name, m.size, m.sha256))

    # The JSON rule (parsing.safe_json), element by element, the text read through a window: neither the
    # members array nor the manifest's text (66 MB at 100,000 components) is ever held whole. The first
    # of its two passes reads the data to the end (corrupt data raises ArchiveInvalid before any element).
    try:
        head = stream_json_chunks(MANIFEST, lambda: _chunks(reader), max_depth=state.limits.max_toml_depth,
                                  array="members", on_element=index, problems=state.problems, what="manifest.json")
    except ArchiveInvalid as exc:
        state.problems.extend(exc.problems)
        return
    finally:
        state.tick()
    state.verified_members += 1
    state.verified_bytes += declared  # what the stream delivered: it checks the size
    if head is None:
        return
    try:
        doc = ManifestDoc.model_validate(head)
    except ValidationError as exc:
        state.problems.extend(problems_from(MANIFEST, exc))
        return
    if doc.format_version not in KNOWN_FORMAT_VERSIONS:
        state.problem(MANIFEST, "$.format_version", f"unsupported format version {doc.format_version}; "
                                                    f"this reader knows {FORMAT_VERSION}")
    archive_order = []
    for name in names:
        if name == MANIFEST or name.endswith("/"):
            continue
        if name in listed:
            archive_order.append(name)
        else:
            state.problem(name, "$", "not listed in manifest.json")
    if len(order) != len(archive_order) or any(reader.slot(a) != b for a, b in zip(archive_order, order, strict=True)):
        at = next((i for i, (a, b) in enumerate(zip(archive_order, order, strict=False)) if reader.slot(a) != b),
                  min(len(order), len(archive_order)))
        found = repr(archive_order[at]) if at < len(archive_order) else "the end of the list"
        state.problem(MANIFEST, "$.members", "lists the members in another order than the archive holds them "
                                             f"(at position {at} the archive has {found})")
    state.listed = listed
