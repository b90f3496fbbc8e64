"""The archive reader's index of entry names, held compactly: :class:`NameIndex`.

The reader maps every entry name (380,000 at 100,000 components in v2) to a number: its cell in the
arrays of sizes and offsets. A dict costs about 85 bytes an entry besides the name (its slot, and an int
object for every number above 256); this index keeps the names in a list (the strings the reader keeps
anyway), the numbers in an array, and an open-addressing table of rows keyed by the names' own cached
hashes, at most half full: 20-28 bytes an entry. Answers, order and errors are a dict's.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator

__all__ = ["NameIndex"]

_EMPTY = -1


class NameIndex:
    """``name -> int`` in insertion order (see the module docstring); a name given twice keeps its first
    place and its last number, as ``dict(zip(names, numbers))`` would."""

    __slots__ = ("_mask", "_names", "_slots", "_values")

    def __init__(self, names: Iterable[str], values: Iterable[int]) -> None:
        self._names: list[str] = []
        self._values = array("q")
        self._slots = array("i", [_EMPTY]) * 8
        self._mask = 7
        for name, value in zip(names, values, strict=True):
            at = self._probe(name)
            row = self._slots[at]
            if row >= 0:
                self._values[row] = value
                continue
            self._slots[at] = len(self._names)
            self._names.append(name)
            self._values.append(value)
            if 2 * len(self._names) > self._mask:
                self._grow()

    def _probe(self, name: object) -> int:
        """The table slot holding ``name``'s row, or the empty slot where it would go."""
        slots, mask, names = self._slots, self._mask, self._names
        at = hash(name) & mask
        while (row := slots[at]) >= 0 and names[row] != name:
            at = (at + 1) & mask
        return at

    def _grow(self) -> None:
        size = 2 * (self._mask + 1)
        self._slots = slots = array("i", [_EMPTY]) * size
        self._mask = mask = size - 1
        for row, name in enumerate(self._names):
            at = hash(name) & mask
            while slots[at] >= 0:
                at = (at + 1) & mask
            slots[at] = row

    def __getitem__(self, name: str) -> int:
        row = self._slots[self._probe(name)]
        if row < 0:
            raise KeyError(name)
        return self._values[row]

    def __contains__(self, name: object) -> bool:
        return self._slots[self._probe(name)] >= 0

    def __len__(self) -> int:
        return len(self._names)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def items(self) -> Iterator[tuple[str, int]]:
        """``(name, number)`` in insertion order."""
        return zip(self._names, self._values, strict=True)
