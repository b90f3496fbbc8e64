"""What the v2 reader tracks while it reads one archive, beyond the shared :mod:`..reading` kit."""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from ...archive.zip_reader import ArchiveReader
from ...domain import EntityRecord
from ..plan import ArchiveSummary, RestorePlan, Spool
from ..reading import ReadState
from .blob_index import Blob, StoredBlobs, Use, Uses

__all__ = ["Blob", "Listing", "Pending", "Use", "V2RestorePlan", "V2State"]


@dataclass
class V2RestorePlan(RestorePlan):
    """A :class:`RestorePlan` that also says what was verified against the manifest."""

    verified_members: int = 0
    """Members read and checked against the manifest (``manifest.json`` included)."""
    verified_bytes: int = 0
    """Uncompressed bytes of those members."""

    def summary(self) -> ArchiveSummary:
        """The base summary, plus ``verified_members`` and ``verified_bytes``."""
        return replace(super().summary(), verified_members=self.verified_members, verified_bytes=self.verified_bytes)


class Listing:
    """What ``manifest.json`` says of each member (size, SHA-256), held compactly: by the reader's
    slot of the member (:meth:`~lc_archive.archive.zip_reader.ArchiveReader.slot`), sizes in an array
    and digests as 32 bytes each, so no string is kept per member (about 40 bytes a member, against
    some 350 for a dict of names to tuples of an int and a hex string). A listed name with no slot
    (a directory entry, already a problem) goes to a small side table."""

    __slots__ = ("_other", "_reader", "_shas", "_sizes")

    def __init__(self, reader: ArchiveReader) -> None:
        self._reader = reader
        self._sizes = array("q", [-1]) * reader.slots  # -1: not listed
        self._shas = bytearray(32 * reader.slots)
        self._other: dict[str, tuple[int, str]] = {}

    def add(self, name: str, size: int, sha256: str) -> int:
        """List member ``name`` (in the archive, not listed yet); return its slot (-1: a directory entry)."""
        slot = self._reader.slot(name)
        if slot < 0:
            self._other[name] = (size, sha256)
            return slot
        self._sizes[slot] = size
        self._shas[32 * slot : 32 * slot + 32] = bytes.fromhex(sha256)
        return slot

    def get(self, name: str) -> tuple[int, str] | None:
        """``(size, sha256)`` of member ``name`` as listed, or None if it is not listed."""
        slot = self._reader.slot(name) if name in self._reader else -1
        if slot < 0:
            return self._other.get(name)
        size = self._sizes[slot]
        return None if size < 0 else (size, self._shas[32 * slot : 32 * slot + 32].hex())

    def __contains__(self, name: str) -> bool:
        return self.get(name) is not None


@dataclass
class Pending:
    """A component whose type-specific checks wait until the blobs that follow its TOML are streamed."""

    record: EntityRecord
    member: str
    olx_shas: set[str]
    olx: dict[str, tuple[bytes, Any]] = field(default_factory=dict)
    """sha256 -> bytes and parsed tree of this component's block.xml blobs, caught while they streamed."""


@dataclass
class V2State(ReadState):
    """A :class:`~..reading.ReadState` with what the v2 reader also tracks (see :mod:`.reader`)."""

    checksums: ClassVar[bool] = True
    plan: V2RestorePlan | None = None
    listed: Listing | None = None
    """What manifest.json lists (name -> size, sha256), or None when it is missing or unreadable."""
    members: list[tuple[str, int, str]] = field(default_factory=list)
    """(member, index, ref) of collection members, checked at the end."""
    changes: Spool[tuple[int, int, str, int | None, int | None]] = field(default_factory=Spool)
    """(publish index, change index, ref, old, new) of the publish log, checked at the end (spooled: a
    log of a few MB compressed may hold millions)."""
    uses: Uses = field(default_factory=Uses)
    """sha256 -> the first media record that uses it."""
    blobs: StoredBlobs = field(default_factory=StoredBlobs)
    """sha256 -> the blob member holding it, and what streaming it found."""
    verified_members: int = 0
    verified_bytes: int = 0
    extensions: list[str] = field(default_factory=list)
    payloads: list[str] = field(default_factory=list)
    pending: Pending | None = None
    olx_trees: dict[str, tuple[bytes, Any] | None] = field(default_factory=dict)
    """sha256 -> bytes and tree of a block.xml read again for a later component (a few, most recent last)."""
    late: Spool[tuple[EntityRecord, str]] = field(default_factory=Spool)
    """Components with a blob stored after a later entity (not in a writer's order), spooled to disk
    (a hostile order could make them all late): checked at the end."""

    def verify(self, member: str, size: int, sha256: str) -> None:
        """Compare what a member holds with what the manifest says about it."""
        self.verified_members += 1
        self.verified_bytes += size
        expected = self.listed.get(member) if self.listed is not None else None
        if expected is None:  # not listed (already a problem), or no usable manifest
            return
        want_size, want_sha = expected
        if size != want_size:
            self.problem(member, "$", f"the member is {size} bytes, manifest.json says {want_size}")
        elif sha256 != want_sha:
            self.problem(member, "$", f"SHA-256 mismatch: the member hashes to {sha256}, manifest.json says {want_sha}")
