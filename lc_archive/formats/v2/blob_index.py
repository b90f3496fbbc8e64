"""The v2 reader's two blob indexes, held compactly: what media records say of each blob (:class:`Uses`)
and what streaming each blob member found (:class:`StoredBlobs`).

Both are keyed by SHA-256 in a :class:`~lc_archive.domain.digests.DigestTable` (32 bytes a digest) with
what is known of each digest in parallel arrays; the member names are the reader's own strings and a
media record's place (``$.version[i].media[j]``) is kept as its two numbers. About 100 bytes a use and
60 a stored blob, against some 400 for dicts of hex strings to small objects (260,000 distinct blobs at
100,000 components). :class:`Use` and :class:`Blob` are views made when a caller asks for one.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass

from ...domain.digests import DigestTable
from ..plan import BlobMembers

__all__ = ["Blob", "StoredBlobs", "Use", "Uses", "media_at"]

_NONE = -1


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

    __slots__ = ("_at", "_members", "_olx_members", "_sizes", "_table", "_text_members")

    def __init__(self) -> None:
        self._table = DigestTable()
        self._members: list[str] = []
        self._text_members: list[str | None] = []
        self._olx_members: list[str | None] = []
        self._sizes = array("q")
        self._at = array("i")  # six numbers a row: (version, media) of the use, of the text use, of the OLX use

    def __len__(self) -> int:
        return len(self._table)

    def __contains__(self, sha: object) -> bool:
        return sha in self._table

    def note(self, sha: str, member: str, version: int, media: int, size: int, *, text: bool, olx: bool
             ) -> int:
        """Record media record ``$.version[version].media[media]`` of ``member`` using blob ``sha``: its
        first use is kept, the first text and OLX uses are added to it. The row of the blob's earlier
        first use (:meth:`use`), or -1 if this is its first."""
        table = self._table
        row = table.add(sha)
        if row == len(self._members):
            self._members.append(member)
            self._text_members.append(member if text else None)
            self._olx_members.append(member if olx else None)
            self._sizes.append(size)
            self._at.extend((version, media, version if text else _NONE, media, version if olx else _NONE, media))
            return -1
        if text and self._text_members[row] is None:
            self._text_members[row] = member
            self._at[6 * row + 2 : 6 * row + 4] = array("i", (version, media))
        if olx and self._olx_members[row] is None:
            self._olx_members[row] = member
            self._at[6 * row + 4 : 6 * row + 6] = array("i", (version, media))
        return row

    def olx_used(self, sha: str) -> bool:
        """Whether a media record uses blob ``sha`` as ``block.xml``."""
        row = self._table.find(sha)
        return row >= 0 and self._olx_members[row] is not None

    def use(self, row: int) -> Use:
        """The use in ``row`` (a view)."""
        at = self._at[6 * row : 6 * row + 6]
        text, olx = self._text_members[row], self._olx_members[row]
        return Use(self._members[row], media_at(at[0], at[1]), self._sizes[row],
                   None if text is None else (text, media_at(at[2], at[3])),
                   None if olx is None else (olx, media_at(at[4], at[5])))

    def rows(self) -> Iterator[tuple[int, str]]:
        """``(row, sha256)`` in the order first used."""
        yield from enumerate(self._table)

    def size(self, row: int) -> int:
        """The size the first use records."""
        return self._sizes[row]

    def wants_text(self, row: int) -> bool:
        """Whether a media record stores the blob as text."""
        return self._text_members[row] is not None

    def wants_olx(self, row: int) -> bool:
        """Whether a media record uses the blob as ``block.xml``."""
        return self._olx_members[row] is not None


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
