"""The names an archive writer has taken, by folded form, without a Python string per name.

The writer refuses a second entry whose name folds (:func:`~.names.fold`) to one already written, and so
needs ``fold(name) -> name`` for every entry: 380,000 names at 100,000 components in v2, about 190 bytes
each as a dict of strings. :class:`TakenNames` keeps the names' UTF-8 in a buffer that goes to a
temporary file past 4 MiB, with each name's offset and the (per-process keyed) hash of its folded form in
arrays, and an open-addressing index of rows: about 24 bytes a name in memory. A hash match is confirmed
against the name itself, read back from the buffer or the file, so the answers are exactly a dict's.
"""

from __future__ import annotations

import os
import tempfile
from array import array
from typing import IO

from .names import fold

__all__ = ["TakenNames"]

_IN_MEMORY = 4 << 20
_EMPTY = -1


class TakenNames:
    """``fold(name) -> name`` of the entries written (see the module docstring)."""

    __slots__ = ("_buffer", "_hashes", "_mask", "_offsets", "_slots", "_spill", "_spilled")

    def __init__(self) -> None:
        self._buffer = bytearray()  # the UTF-8 of the names not spilled yet
        self._spill: IO[bytes] | None = None
        self._spilled = 0  # bytes in the file
        self._offsets = array("Q", [0])  # row i is bytes offsets[i]:offsets[i + 1] of all the names
        self._hashes = array("q")
        self._slots = array("i", [_EMPTY]) * 8
        self._mask = 7

    def __len__(self) -> int:
        return len(self._hashes)

    def get(self, folded: str) -> str | None:
        """The name taken whose folded form is ``folded``, or None."""
        key = hash(folded)
        slots, mask, hashes = self._slots, self._mask, self._hashes
        at = key & mask
        while (row := slots[at]) >= 0:
            if hashes[row] == key:
                name = self._name(row)
                if fold(name) == folded:
                    return name
            at = (at + 1) & mask
        return None

    def add(self, folded: str, name: str) -> None:
        """Take ``name`` (folding to ``folded``, which :meth:`get` does not know yet)."""
        data = name.encode("utf-8", "surrogatepass")
        self._buffer += data
        self._offsets.append(self._offsets[-1] + len(data))
        self._hashes.append(hash(folded))
        self._place(len(self._hashes) - 1)
        if 2 * len(self._hashes) > self._mask:
            self._grow()
        if len(self._buffer) >= _IN_MEMORY:
            if self._spill is None:
                self._spill = tempfile.TemporaryFile(prefix="lc-archive-names-")  # noqa: SIM115 (closed by close())
            self._spill.seek(0, os.SEEK_END)
            self._spill.write(self._buffer)
            self._spill.flush()
            self._spilled += len(self._buffer)
            self._buffer.clear()

    def _place(self, row: int) -> None:
        slots, mask = self._slots, self._mask
        at = self._hashes[row] & mask
        while slots[at] >= 0:
            at = (at + 1) & mask
        slots[at] = row

    def _grow(self) -> None:
        size = 2 * (self._mask + 1)
        self._slots = array("i", [_EMPTY]) * size
        self._mask = size - 1
        for row in range(len(self._hashes)):
            self._place(row)

    def _name(self, row: int) -> str:
        start, end = self._offsets[row], self._offsets[row + 1]
        spilled = self._spilled
        if start >= spilled:
            data = bytes(self._buffer[start - spilled : end - spilled])
        else:
            assert self._spill is not None
            data = os.pread(self._spill.fileno(), min(end, spilled) - start, start)
            if end > spilled:
                data += self._buffer[: end - spilled]
        return data.decode("utf-8", "surrogatepass")

    def close(self) -> None:
        """Delete the temporary file (the table is not used after this)."""
        if self._spill is not None:
            self._spill.close()
            self._spill = None
