"""Stream a backup as bytes: an archive download without a temporary file.

:func:`stream_backup` returns an iterator of ``bytes`` that a Django view can hand straight to a
``StreamingHttpResponse``::

    from django.http import StreamingHttpResponse
    from lc_archive.usecases.streaming import stream_backup

    def export_library(request, ref):
        chunks = stream_backup(store, ref)            # nothing runs until the response is iterated
        response = StreamingHttpResponse(chunks, content_type="application/zip")
        response["Content-Disposition"] = 'attachment; filename="library.zip"'
        return response

The bytes are exactly those :func:`~lc_archive.usecases.backup.backup` writes to a file for the same content
and arguments (the archive carries its sizes in every local header, large entries wait in a temporary
file), so a downloaded archive and one on disk or in S3 have the same SHA-256.

The archive is produced by a helper thread, in chunks of about :data:`CHUNK` bytes, while the caller
consumes them; at most :data:`DEPTH` chunks wait between the two, so memory stays bounded whatever the
library's size and however slow the client. The store is read from that helper thread (the SQL store
allows this; a store over Django closes its thread's connection itself). Closing the iterator early (a
client that disconnects) stops the thread and ends the store's read transaction; an error while
producing the archive is raised from the iterator.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, BinaryIO, cast

from ..domain import to_utc
from ..stores.base import Store
from .backup import write_archive
from .selection import select_source

__all__ = ["CHUNK", "DEPTH", "stream_backup"]

CHUNK = 256 * 1024
"""A chunk is handed on once this many bytes are ready (the writer produces ~1 MiB blocks)."""
DEPTH = 8
"""Chunks that may wait for the consumer; with the writer's blocks, a few MiB at most."""
_POLL_S = 0.2
_END = object()


class _Cancelled(Exception):
    """The consumer went away: the producer stops here (never seen by a caller)."""


class _Failed:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


class _ChunkSink:
    """The unseekable file the archive is written to: its bytes leave through a bounded queue."""

    def __init__(self, out: queue.Queue[object], stop: threading.Event) -> None:
        self._out = out
        self._stop = stop
        self._buffer = bytearray()
        self._position = 0

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = 0) -> int:
        raise OSError("a streamed archive cannot seek")

    def write(self, data: bytes | bytearray | memoryview) -> int:
        self._buffer += data
        size = len(data) if not isinstance(data, memoryview) else data.nbytes
        self._position += size
        if len(self._buffer) >= CHUNK:
            self._hand_on()
        return size

    def flush(self) -> None:
        """Nothing to do: chunks leave as they fill up, the rest at the end."""

    def finish(self) -> None:
        if self._buffer:
            self._hand_on()
        self._put(_END)

    def _hand_on(self) -> None:
        chunk = bytes(self._buffer)
        self._buffer.clear()
        self._put(chunk)

    def _put(self, item: object) -> None:
        while True:
            if self._stop.is_set():
                raise _Cancelled
            try:
                self._out.put(item, timeout=_POLL_S)
                return
            except queue.Full:
                continue


def stream_backup(
    store: Store,
    ref: str,
    *,
    format: str = "v2",
    created_at: datetime | None = None,
    created_by: str | None = None,
    created_by_email: str | None = None,
    origin_server: str | None = None,
    collections: Sequence[str] = (),
    entities: Sequence[str] = (),
) -> Iterator[bytes]:
    """The archive of package ``ref`` as an iterator of byte chunks, the same bytes as :func:`backup`.

    Arguments as for :func:`~lc_archive.usecases.backup.backup` (``created_at`` defaults to the package's last
    change). Nothing is read until the first chunk is asked for. Raises what a backup raises
    (``PackageNotFound``, ``LcArchiveError``...) from the iteration.
    """
    chunks: queue.Queue[object] = queue.Queue(maxsize=DEPTH)
    stop = threading.Event()
    sink = _ChunkSink(chunks, stop)

    def produce() -> None:
        try:
            with store.read(ref) as whole:
                when = to_utc(created_at) if created_at is not None else whole.last_changed()
                source = (select_source(whole, collections=collections, entities=entities)
                          if collections or entities else whole)
                write_archive(source, cast(BinaryIO, sink), format=format, created_at=when,
                              created_by=created_by, created_by_email=created_by_email,
                              origin_server=origin_server)
            sink.finish()
        except _Cancelled:
            return
        except BaseException as exc:  # handed to the consumer, raised there
            try:
                sink._put(_Failed(exc))
            except _Cancelled:
                return

    return _consume(chunks, stop, produce)


def _consume(chunks: queue.Queue[object], stop: threading.Event, produce: Any) -> Iterator[bytes]:
    thread = threading.Thread(target=produce, name="lc-archive-stream", daemon=True)
    thread.start()
    try:
        while True:
            item = chunks.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield cast(bytes, item)
    finally:
        stop.set()
        while thread.is_alive():  # let a producer blocked on a full queue see the stop
            try:
                chunks.get_nowait()
            except queue.Empty:
                thread.join(_POLL_S)
