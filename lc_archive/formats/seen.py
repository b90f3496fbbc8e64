"""The readers' index of the entities accepted so far (for cross-references), held compactly.

Every child, collection member and publish-log change is checked against it at the end of a read, so it
holds one entry per entity (118,000 at 100,000 components). A dict of refs to small objects costs about
200 bytes an entity (the ref string, the object, the slot); :class:`SeenIndex` keys the SHA-256 of each
ref in an :class:`~lc_archive.domain.digests.IdsByText` and keeps the rest in parallel arrays: kind and
type as numbers into a small table of the distinct ones, the member name (the archive reader's own
string) and the version count, about 70 bytes an entity. :class:`SeenEntity` is the view handed out.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass

from ..domain.digests import IdsByText

__all__ = ["SeenEntity", "SeenIndex", "compact_numbers"]


def compact_numbers(numbers: Iterable[int]) -> int | frozenset[int]:
    """``n`` when ``numbers`` are exactly 1..n (the usual case), else the set of them."""
    listed = list(numbers)
    return len(listed) if listed == list(range(1, len(listed) + 1)) else frozenset(listed)


@dataclass(slots=True)
class SeenEntity:
    """One accepted entity, for cross-reference checks: kind, type, where, and its version numbers."""

    kind: str
    type: str
    """``namespace:type`` of a component, the container type of a container."""
    member: str
    versions: int | frozenset[int]
    """``n`` when the versions are exactly 1..n, else the set of numbers (:func:`compact_numbers`)."""

    def has(self, number: int) -> bool:
        """Whether the entity has version ``number``."""
        v = self.versions
        return 1 <= number <= v if isinstance(v, int) else number in v


class SeenIndex:
    """ref -> :class:`SeenEntity` (a view), for the entities a reader accepted, in compact form."""

    __slots__ = ("_kinds", "_members", "_other_versions", "_rows", "_sort_rows", "_sorts", "_versions")

    def __init__(self) -> None:
        self._rows = IdsByText()
        self._sorts: list[tuple[str, str]] = []  # distinct (kind, type) pairs: a few
        self._sort_rows: dict[tuple[str, str], int] = {}
        self._kinds = array("I")  # row -> index into _sorts
        self._members: list[str] = []
        self._versions = array("q")  # n for versions 1..n, -1: in _other_versions
        self._other_versions: dict[int, frozenset[int]] = {}

    def __len__(self) -> int:
        return len(self._members)

    def __contains__(self, ref: object) -> bool:
        return ref in self._rows

    def get(self, ref: str) -> SeenEntity | None:
        """The entity ``ref``, or None."""
        row = self._rows.get(ref)
        if row is None:
            return None
        kind, type_ = self._sorts[self._kinds[row]]
        count = self._versions[row]
        return SeenEntity(kind, type_, self._members[row], count if count >= 0 else self._other_versions[row])

    def add(self, ref: str, kind: str, type: str, member: str, versions: int | frozenset[int]) -> None:
        """Index entity ``ref`` (not indexed yet)."""
        row = len(self._members)
        self._rows[ref] = row
        sort = (kind, type)
        at = self._sort_rows.get(sort)
        if at is None:
            at = self._sort_rows[sort] = len(self._sorts)
            self._sorts.append(sort)
        self._kinds.append(at)
        self._members.append(member)
        if isinstance(versions, int):
            self._versions.append(versions)
        else:
            self._versions.append(-1)
            self._other_versions[row] = versions
