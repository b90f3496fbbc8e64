"""Pack small ZIP entries (CRC-32 and DEFLATE) on a second core while the caller produces the next ones.

zlib releases the GIL while it deflates, so a worker *thread* runs in parallel with the thread that
reads the store and renders documents. :class:`Packer` gathers small entries into batches of about
512 KiB, hands each batch to one worker thread, and passes the results back to the archive writer in
the order the entries were added: the archive is byte for byte the one a single thread writes (the
same compressor, fed the same bytes, in the same order). Entry names are checked and claimed by the
writer before an entry reaches the packer, so errors are raised at the same call as without it.

At most two batches are in flight (about 1.5 MiB of input held). Used by
:class:`~lc_archive.archive.zip_writer.ArchiveWriter` when the process may run on more than one CPU.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from zlib import Z_DEFAULT_COMPRESSION, compress, crc32

__all__ = ["MAX_ENTRY", "Packer", "cores_available"]

MAX_ENTRY = 256 << 10
"""Entries up to this size go through the packer; larger ones are written by the caller's thread."""
_BATCH_BYTES = 512 << 10
_BATCH_ENTRIES = 256
_IN_FLIGHT = 2

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

Packed = tuple[int, tuple[bytes, ...], int, int]
"""(CRC-32, compressed body parts, compressed size, size) of one entry."""


def cores_available() -> int:
    """How many CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover (not Linux)
        return os.cpu_count() or 1


def _pack(items: list[tuple[bytes, bool]]) -> list[Packed]:
    """The worker's job: CRC-32 and, when asked, a raw DEFLATE stream (zipfile's settings) per entry.

    ``zlib.compress(data, level, -15)`` is the stream ``compressobj(level, DEFLATED, -15)`` gives for
    ``compress(data) + flush()`` (same parameters, all input then ``Z_FINISH``), in one call: one GIL
    release per entry instead of two, which matters because the caller's thread holds the GIL between
    them and each wait to get it back stalls this thread.
    """
    out: list[Packed] = []
    for data, deflate in items:
        size = len(data)
        if deflate and size:
            body = compress(data, Z_DEFAULT_COMPRESSION, -15)
            out.append((crc32(data), (body,), len(body), size))
        else:
            out.append((crc32(data), (data,) if size else (), size, size))
    return out


class Packer:
    """Batches of small entries packed on one worker thread; ``write`` receives them in order.

    ``write(entry, crc, body, compressed_size, size)`` is called from the caller's thread only, during
    :meth:`add`, :meth:`drain` or :meth:`close`.
    """

    def __init__(self, write: Callable[[Any, int, tuple[bytes, ...], int, int], None]) -> None:
        self._write = write
        self._executor: ThreadPoolExecutor | None = None
        self._entries: list[Any] = []
        self._items: list[tuple[bytes, bool]] = []
        self._bytes = 0
        self._in_flight: deque[tuple[list[Any], Future[list[Packed]]]] = deque()

    def add(self, entry: Any, data: bytes, deflate: bool) -> None:
        """Queue one entry (its data at most :data:`MAX_ENTRY` bytes)."""
        self._entries.append(entry)
        self._items.append((data, deflate))
        self._bytes += len(data)
        if self._bytes >= _BATCH_BYTES or len(self._items) >= _BATCH_ENTRIES:
            self._submit()

    def drain(self) -> None:
        """Write every queued entry (call before writing anything else to the archive)."""
        if self._items:
            self._submit()
        while self._in_flight:
            self._complete()

    def close(self) -> None:
        """Stop the worker thread; entries still queued are dropped (call :meth:`drain` first)."""
        self._entries, self._items, self._bytes = [], [], 0
        self._in_flight.clear()
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def _submit(self) -> None:
        if self._executor is None:
            from concurrent.futures import ThreadPoolExecutor  # imported on use: restores never need it

            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lc-archive-deflate")
        self._in_flight.append((self._entries, self._executor.submit(_pack, self._items)))
        self._entries, self._items, self._bytes = [], [], 0
        while len(self._in_flight) > _IN_FLIGHT:
            self._complete()

    def _complete(self) -> None:
        entries, future = self._in_flight.popleft()
        for entry, (crc, body, csize, size) in zip(entries, future.result(), strict=True):
            self._write(entry, crc, body, csize, size)
