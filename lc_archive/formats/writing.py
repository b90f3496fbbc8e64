"""What both archive writers do with the store's blobs: stream them in chunks and check them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import BinaryIO

from ..domain import MediaRecord
from ..errors import LcArchiveError

__all__ = ["CHUNK_SIZE", "blob_chunks", "check_blob"]

CHUNK_SIZE = 64 * 1024
"""Bytes read from the store per chunk when streaming a blob."""


def blob_chunks(blob: BinaryIO, update: Callable[[bytes], object] | None = None) -> Iterator[bytes]:
    """The blob's bytes, :data:`CHUNK_SIZE` at a time (each also handed to ``update``, e.g. a hash)."""
    while chunk := blob.read(CHUNK_SIZE):
        if update is not None:
            update(chunk)
        yield chunk


def check_blob(member: str, media: MediaRecord, size: int, sha256: str) -> None:
    """Refuse a blob that did not stream as the store's media record says (``LcArchiveError``)."""
    if size != media.size or sha256 != media.sha256:
        raise LcArchiveError(
            f"blob {media.sha256} for {member!r} is corrupt in the store "
            f"({size} bytes, sha256 {sha256}; expected {media.size} bytes)"
        )
