"""Content-addressed blobs in the SQL store: :class:`BlobWriter` writes them, :func:`open_blob` reads one.

A blob is one ``lc_blob`` row (sha256, size) and its ``lc_blob_chunk`` rows of at most
:data:`~lc_archive.stores.schema.CHUNK_SIZE` bytes each; every blob is stored once per store.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Buffer, Iterable, Iterator
from contextlib import contextmanager
from itertools import batched
from tempfile import SpooledTemporaryFile
from typing import IO, Any, BinaryIO

from sqlalchemy import Connection, Insert, bindparam, select

from ..domain.digests import DigestTable
from ..errors import StoreError
from ..faults import fault_point
from .bulk import insert_rows_ignoring_duplicates
from .schema import CHUNK_SIZE, blob, blob_chunk

__all__ = ["BlobWriter"]

IN_LIMIT = 5000
"""Bound parameters per ``IN (...)`` list (package-internal: shared by the SQL store modules)."""


def _insert_ignore(conn: Connection, table: Any) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING for the connection's dialect."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql  # each dialect's module on use: a SQLite store never loads psycopg's

        return postgresql.insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table).on_conflict_do_nothing()


class BlobWriter:
    """Writes content-addressed blobs inside the caller's transaction, each stored once per store.

    Input is hashed while it is read. Blobs up to one chunk are queued and written in batches (at most
    ``max_pending`` bytes queued; :meth:`flush` before inserting rows that reference them); larger ones
    are spooled to a temporary file past :data:`CHUNK_SIZE` and written chunk by chunk right away.
    """

    def __init__(self, conn: Connection, *, max_pending: int = 8 * CHUNK_SIZE) -> None:
        self._conn = conn
        self._known = DigestTable()  # stored or queued: 40-48 bytes a blob, not a set of hex strings
        self._pending: dict[str, bytes] = {}
        self._pending_size = 0
        self._max_pending = max_pending
        self._insert_blob = _insert_ignore(conn, blob)
        self._insert_chunk = _insert_ignore(conn, blob_chunk)

    def put(self, chunks: Iterable[bytes]) -> tuple[str, int]:
        """Store the concatenated chunks; return ``(sha256 hex, size)``."""
        if isinstance(chunks, bytes | bytearray | memoryview):
            return self.put_bytes(bytes(chunks))
        if isinstance(chunks, list | tuple) and sum(len(part) for part in chunks) <= CHUNK_SIZE:
            return self.put_bytes(b"".join(chunks))  # already in memory: no need to spool
        parts = iter(chunks)
        head: list[bytes] = []  # up to one chunk is gathered in memory; only a larger blob is spooled
        size = 0
        for part in parts:
            head.append(bytes(part))
            size += len(part)
            if size > CHUNK_SIZE:
                break
        else:
            return self.put_bytes(head[0] if len(head) == 1 else b"".join(head))
        digest = hashlib.sha256()
        with SpooledTemporaryFile(max_size=CHUNK_SIZE) as spool:
            for part in head:
                digest.update(part)
                spool.write(part)
            del head
            for part in parts:
                digest.update(part)
                spool.write(part)
                size += len(part)
            sha = digest.hexdigest()
            if sha not in self._known:
                spool.seek(0)
                if size <= CHUNK_SIZE:
                    self._queue(sha, spool.read())
                else:
                    self._write_large(sha, size, spool)
        return sha, size

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        """Store one bytes object; return ``(sha256 hex, size)``."""
        sha = hashlib.sha256(data).hexdigest()
        if sha not in self._known:
            if len(data) <= CHUNK_SIZE:
                self._queue(sha, data)
            else:
                self._write_large(sha, len(data), io.BytesIO(data))
        return sha, len(data)

    def require(self, shas: Iterable[str]) -> set[str]:
        """The subset of ``shas`` that is neither stored nor queued."""
        missing = {sha for sha in set(shas) if sha not in self._known}
        found = self._stored(sorted(missing))
        for sha in found:
            self._known.add(sha)
        return missing - found

    def _stored(self, shas: Iterable[str]) -> set[str]:
        """The subset of ``shas`` the store holds already (queued blobs are not looked at)."""
        found: set[str] = set()
        for part in batched(shas, IN_LIMIT):
            found.update(self._conn.execute(select(blob.c.sha256).where(blob.c.sha256.in_(part))).scalars())
        return found

    def _queue(self, sha: str, data: bytes) -> None:
        self._known.add(sha)
        self._pending[sha] = data
        self._pending_size += len(data)
        if self._pending_size >= self._max_pending:
            self.flush()

    def _write_large(self, sha: str, size: int, stream: IO[bytes]) -> None:
        self._known.add(sha)
        if self._conn.execute(select(blob.c.sha256).where(blob.c.sha256 == sha)).first() is not None:
            return
        self._conn.execute(self._insert_blob, {"sha256": sha, "size": size})
        seq = 0
        while data := stream.read(CHUNK_SIZE):
            self._conn.execute(self._insert_chunk, {"sha256": sha, "seq": seq, "data": data})
            fault_point("sink.blob_chunk")
            seq += 1

    def flush(self) -> None:
        """Write every queued blob that the store does not hold yet."""
        if not self._pending:
            return
        pending, self._pending, self._pending_size = self._pending, {}, 0
        existing = self._stored(pending)
        new = [(sha, data) for sha, data in pending.items() if sha not in existing]
        if new:
            insert_rows_ignoring_duplicates(self._conn, blob, [{"sha256": s, "size": len(d)} for s, d in new])
            insert_rows_ignoring_duplicates(self._conn, blob_chunk, [{"sha256": s, "seq": 0, "data": d}
                                                                     for s, d in new if d])
            fault_point("sink.blob_rows")


_CHUNK = select(blob_chunk.c.data).where(blob_chunk.c.sha256 == bindparam("sha"), blob_chunk.c.seq == bindparam("seq"))
_BLOB_HEAD = (
    select(blob.c.size, blob_chunk.c.data)
    .select_from(blob.outerjoin(blob_chunk, (blob_chunk.c.sha256 == blob.c.sha256) & (blob_chunk.c.seq == 0)))
    .where(blob.c.sha256 == bindparam("sha"))
)


class _ChunkReader(io.RawIOBase):
    """A raw stream over one blob that fetches one chunk row at a time."""

    def __init__(self, conn: Connection, sha256: str, size: int, first: bytes | None = None) -> None:
        super().__init__()
        self._conn = conn
        self._sha = sha256
        self._count = -(-size // CHUNK_SIZE)
        self._seq = 0 if first is None else 1
        self._buf = memoryview(first or b"")
        self._off = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Buffer, /) -> int:
        if self._off >= len(self._buf):
            if self._seq >= self._count:
                return 0
            data = self._conn.execute(_CHUNK, {"sha": self._sha, "seq": self._seq}).scalar_one_or_none()
            if data is None:
                raise StoreError(f"blob {self._sha} is missing chunk {self._seq}")
            self._buf, self._off, self._seq = memoryview(data), 0, self._seq + 1
        target = memoryview(buffer).cast("B")
        n = min(len(target), len(self._buf) - self._off)
        target[:n] = self._buf[self._off : self._off + n]
        self._off += n
        return n


@contextmanager
def open_blob(conn: Connection, sha256: str) -> Iterator[BinaryIO]:
    """A buffered stream over one blob, fetched chunk by chunk; StoreError if there is none.

    Package-internal: the SQL source's ``open_blob`` is the way in.
    """
    head = conn.execute(_BLOB_HEAD, {"sha": sha256}).first()
    if head is None:
        raise StoreError(f"no blob {sha256} in this store")
    raw = _ChunkReader(conn, sha256, int(head.size), head.data)
    with io.BufferedReader(raw, buffer_size=64 * 1024) as f:
        yield f
