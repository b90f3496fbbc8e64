"""SHA-256 digests held compactly: :class:`DigestTable` numbers them in the order they are added.

Blobs are named by their SHA-256, and restores index every distinct blob of an archive (some 260,000
at 100,000 components). A set or dict of 64-character hex strings costs about 150 bytes a digest (a
113-byte string and a table slot); this table keeps 32 bytes of digest per row in one ``bytearray``
and an open-addressing index of 4-byte row numbers (at most half full): 40-48 bytes a digest, and no
Python object per digest. Callers keep what they know of each digest in parallel arrays indexed by row.

The index is keyed by Python's own (randomised, per process) hash of the digest bytes, so hostile
input cannot line digests up in one probe chain. A string that is not a canonical digest (64 lower-case
hex digits) is still accepted and kept in a small side table, exactly as a dict would keep it.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterator, Mapping

__all__ = ["DigestTable", "IdsByText", "TextSet"]

_EMPTY = -1
_MIN_SLOTS = 8


def _packed(sha: str) -> bytes | None:
    """The 32 bytes of a canonical hex digest, or None for any other string."""
    if len(sha) != 64:
        return None
    try:
        raw = bytes.fromhex(sha)
    except ValueError:
        return None
    return raw if raw.hex() == sha else None  # not upper case, nor white space (fromhex skips it)


class DigestTable:
    """Hex SHA-256 digests, each once, numbered 0, 1, 2... in the order added (see the module docstring)."""

    __slots__ = ("_digests", "_mask", "_other", "_other_rows", "_rows", "_slots")

    def __init__(self) -> None:
        self._digests = bytearray()  # 32 bytes per row (zeros for a row kept in the side table)
        self._rows = 0
        self._slots = array("i", [_EMPTY]) * _MIN_SLOTS
        self._mask = _MIN_SLOTS - 1
        self._other: dict[str, int] = {}  # non-canonical strings -> row
        self._other_rows: dict[int, str] = {}

    def __len__(self) -> int:
        return self._rows

    def __contains__(self, sha: object) -> bool:
        return isinstance(sha, str) and self.find(sha) >= 0

    def __iter__(self) -> Iterator[str]:
        """The digests as hex strings, in row order."""
        for row in range(self._rows):
            yield self.digest(row)

    def find(self, sha: str) -> int:
        """The row of ``sha``, or -1 if it was never added."""
        key = _packed(sha)
        if key is None:
            return self._other.get(sha, -1)
        return self._slots[self._probe(key)]

    def add(self, sha: str) -> int:
        """The row of ``sha``, added as the next row if it is new (``len()`` tells which)."""
        key = _packed(sha)
        if key is None:
            row = self._other.get(sha, -1)
            if row < 0:
                row = self._other[sha] = self._append(bytes(32))
                self._other_rows[row] = sha
            return row
        return self.add_raw(key)

    def find_raw(self, key: bytes) -> int:
        """The row of the 32-byte digest ``key``, or -1."""
        return self._slots[self._probe(key)]

    def add_raw(self, key: bytes) -> int:
        """The row of the 32-byte digest ``key``, added as the next row if it is new."""
        at = self._probe(key)
        row = self._slots[at]
        if row < 0:
            row = self._slots[at] = self._append(key)
            if 2 * self._rows > self._mask:
                self._grow()
        return row

    def digest(self, row: int) -> str:
        """The hex digest of ``row``."""
        other = self._other_rows.get(row) if self._other_rows else None
        if other is not None:
            return other
        if not 0 <= row < self._rows:
            raise IndexError(row)
        return self._digests[32 * row : 32 * row + 32].hex()

    def _append(self, key: bytes) -> int:
        self._digests += key
        self._rows += 1
        return self._rows - 1

    def _probe(self, key: bytes) -> int:
        """The index slot holding ``key``'s row, or the empty slot where it would go (linear probing)."""
        slots, mask, digests = self._slots, self._mask, self._digests
        at = hash(key) & mask
        while True:
            row = slots[at]
            if row < 0 or digests[32 * row : 32 * row + 32] == key:
                return at
            at = (at + 1) & mask

    def _grow(self) -> None:
        size = 2 * (self._mask + 1)
        self._slots = array("i", [_EMPTY]) * size
        self._mask = size - 1
        slots, mask, digests = self._slots, self._mask, self._digests
        for row in range(self._rows):
            if row in self._other_rows:
                continue
            at = hash(bytes(digests[32 * row : 32 * row + 32])) & mask
            while slots[at] >= 0:
                at = (at + 1) & mask
            slots[at] = row


class IdsByText:
    """``str -> int`` for maps of hundreds of thousands of refs (a restore's entity ids), held as the
    SHA-256 of each key's UTF-8 in a :class:`DigestTable` and the values in an array: about 56 bytes an
    entry and no object per key (a dict of ref strings to ints costs some 150). As for blobs, two keys
    with one SHA-256 are taken as impossible."""

    __slots__ = ("_table", "_values")

    def __init__(self, items: Mapping[str, int] | None = None) -> None:
        self._table = DigestTable()
        self._values = array("q")
        for key, value in (items or {}).items():
            self[key] = value

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._table.find_raw(_text_key(key)) >= 0

    def get(self, key: str) -> int | None:
        """The value of ``key``, or None."""
        row = self._table.find_raw(_text_key(key))
        return None if row < 0 else self._values[row]

    def __getitem__(self, key: str) -> int:
        row = self._table.find_raw(_text_key(key))
        if row < 0:
            raise KeyError(key)
        return self._values[row]

    def __setitem__(self, key: str, value: int) -> None:
        row = self._table.add_raw(_text_key(key))
        if row == len(self._values):
            self._values.append(value)
        else:
            self._values[row] = value


class TextSet:
    """A set of strings held as the SHA-256 of each one's UTF-8 in a :class:`DigestTable` (about 45 bytes
    a string, no object): for the name and stem tables of an archive being written. As for blobs, two
    strings with one SHA-256 are taken as impossible."""

    __slots__ = ("_table",)

    def __init__(self) -> None:
        self._table = DigestTable()

    def __len__(self) -> int:
        return len(self._table)

    def __contains__(self, text: object) -> bool:
        return isinstance(text, str) and self._table.find_raw(_text_key(text)) >= 0

    def add(self, text: str) -> None:
        """Add ``text``."""
        self._table.add_raw(_text_key(text))


def _text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
