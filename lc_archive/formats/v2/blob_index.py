"""The v2 reader's two blob indexes, held compactly: what media records say of each blob (:class:`Uses`)
and what streaming each blob member found (:class:`StoredBlobs`).

Both are keyed by SHA-256 in a :class:`~lc_archive.domain.digests.DigestTable` (32 bytes a digest) with
what is known of each digest in parallel arrays; the member names are the reader's own strings and a
media record's place (``$.version[i].media[j]``) is kept as its two numbers. About 70 bytes a use (more
for a blob whose first text or OLX use is not its first use) and 60 a stored blob, against some 400 for
dicts of hex strings to small objects (260,000 distinct blobs at 100,000 components). :class:`Use` and
:class:`Blob` are views made when a caller asks for one.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass

from ...domain.digests import DigestTable
from ..plan import BlobMembers

__all__ = ["Blob", "StoredBlobs", "Use", "Uses", "media_at"]

_TEXT = 1
_OLX = 2


def media_at(version: int, media: int) -> str:
    """The TOML path of a media record in a component document."""
    return f"$.version[{version}].media[{media}]"


@dataclass(slots=True)
class Use:
    """The first media record that uses a blob (and the first that stores it as text, or as OLX)."""

    member: str
    at: str
    size: int
    text_at: tuple[str, str] | None
    olx_at: tuple[str, str] | None


@dataclass(slots=True)
class Blob:
    """What streaming a blob member found."""

    member: str
    size: int
    utf8: bool
    olx_checked: bool


class Uses:
    """sha256 -> its first use (:class:`Use`), in the order first used."""

    __slots__ = ("_at", "_firsts", "_later", "_members", "_sizes", "_table")

    def __init__(self) -> None:
        self._table = DigestTable()
        self._members: list[str] = []
        self._sizes = array("q")
        self._at = array("i")  # (version, media) of each first use
        self._firsts = bytearray()  # _TEXT / _OLX: the first use is also the first text / OLX use
        self._later: dict[tuple[int, int], tuple[str, int, int]] = {}  # (row, _TEXT or _OLX) -> a later use

    def __len__(self) -> int:
        return len(self._table)

    def __contains__(self, sha: object) -> bool:
        return sha in self._table

    def note(self, sha: str, member: str, version: int, media: int, size: int, *, text: bool, olx: bool
             ) -> int:
        """Record media record ``$.version[version].media[media]`` of ``member`` using blob ``sha``: its
        first use is kept, the first text and OLX uses are added to it. The row of the blob's earlier
        first use (:meth:`use`), or -1 if this is its first."""
        row = self._table.add(sha)
        if row == len(self._members):
            self._members.append(member)
            self._sizes.append(size)
            self._at.extend((version, media))
            self._firsts.append((_TEXT if text else 0) | (_OLX if olx else 0))
            return -1
        for wanted, kind in ((text, _TEXT), (olx, _OLX)):
            if wanted and not self._has(row, kind):
                self._later[row, kind] = (member, version, media)
        return row

    def _has(self, row: int, kind: int) -> bool:
        return bool(self._firsts[row] & kind) or (row, kind) in self._later

    def _where(self, row: int, kind: int) -> tuple[str, str] | None:
        if self._firsts[row] & kind:
            return self._members[row], media_at(self._at[2 * row], self._at[2 * row + 1])
        later = self._later.get((row, kind))
        return None if later is None else (later[0], media_at(later[1], later[2]))

    def olx_used(self, sha: str) -> bool:
        """Whether a media record uses blob ``sha`` as ``block.xml``."""
        row = self._table.find(sha)
        return row >= 0 and self._has(row, _OLX)

    def use(self, row: int) -> Use:
        """The use in ``row`` (a view)."""
        return Use(self._members[row], media_at(self._at[2 * row], self._at[2 * row + 1]), self._sizes[row],
                   self._where(row, _TEXT), self._where(row, _OLX))

    def rows(self) -> Iterator[tuple[int, str]]:
        """``(row, sha256)`` in the order first used."""
        yield from enumerate(self._table)

    def size(self, row: int) -> int:
        """The size the first use records."""
        return self._sizes[row]

    def wants_text(self, row: int) -> bool:
        """Whether a media record stores the blob as text."""
        return self._has(row, _TEXT)

    def wants_olx(self, row: int) -> bool:
        """Whether a media record uses the blob as ``block.xml``."""
        return self._has(row, _OLX)


_UTF8 = 1
_OLX_CHECKED = 2


class StoredBlobs:
    """sha256 -> the blob member holding it and what streaming it found (:class:`Blob`), in archive order."""

    __slots__ = ("_flags", "_members", "_sizes", "_table")

    def __init__(self) -> None:
        self._table = DigestTable()
        self._members: list[str] = []
        self._sizes = array("q")
        self._flags = bytearray()

    def __len__(self) -> int:
        return len(self._table)

    def __contains__(self, sha: object) -> bool:
        return sha in self._table

    def add(self, sha: str, blob: Blob) -> None:
        """Record blob ``sha`` (not recorded yet)."""
        row = self._table.add(sha)
        if row != len(self._members):
            raise ValueError(f"blob {sha} is recorded already")
        self._members.append(blob.member)
        self._sizes.append(blob.size)
        self._flags.append((_UTF8 if blob.utf8 else 0) | (_OLX_CHECKED if blob.olx_checked else 0))

    def find(self, sha: str) -> int:
        """The row of blob ``sha``, or -1."""
        return self._table.find(sha)

    def get(self, sha: str) -> Blob | None:
        """Blob ``sha`` (a view), or None."""
        row = self._table.find(sha)
        return None if row < 0 else self.blob(row)

    def member(self, row: int) -> str:
        """The member holding the blob in ``row``."""
        return self._members[row]

    def blob(self, row: int) -> Blob:
        """The blob in ``row`` (a view)."""
        flags = self._flags[row]
        return Blob(self._members[row], self._sizes[row], bool(flags & _UTF8), bool(flags & _OLX_CHECKED))

    def rows(self) -> Iterator[tuple[int, str]]:
        """``(row, sha256)`` in the order the blobs were read."""
        yield from enumerate(self._table)

    def total_size(self) -> int:
        """Bytes of every blob."""
        return sum(self._sizes)

    def members(self) -> BlobMembers:
        """sha256 -> member of every blob, for the plan (shares this index's table: drop this one after)."""
        return BlobMembers(self._table, self._members)
