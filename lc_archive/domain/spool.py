"""Records spooled to a private temporary file in pickled batches and read back in order: :class:`Spool`.

Phase A of a restore spools the plan's entities, the publish log and the references it checks at the
end; the SQL sink spools the container children it resolves at the end. Memory holds one batch.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator
from typing import IO

__all__ = ["Spool"]


class Spool[T]:
    """Records appended to a private temporary file in pickled batches, read back in order."""

    def __init__(self, batch: int = 500) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile(prefix="lc-archive-plan-")  # noqa: SIM115  (closed by close())
        self._batch = batch
        self._batches = 0
        self._pending: list[T] = []
        self.count = 0

    def append(self, item: T) -> None:
        """Add one record."""
        self._pending.append(item)
        self.count += 1
        if len(self._pending) >= self._batch:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            pickle.dump(self._pending, self._file, protocol=pickle.HIGHEST_PROTOCOL)
            self._batches += 1
            self._pending = []

    def batches(self) -> Iterator[list[T]]:
        """Every record in the order added, a batch at a time (may be called more than once)."""
        self._flush()
        self._file.seek(0)
        for _ in range(self._batches):
            batch: list[T] = pickle.load(self._file)  # our own private spool file
            yield batch

    def close(self) -> None:
        """Delete the file."""
        self._file.close()
