"""Write an archive to a URL so that the target ends up complete or absent, never partial.

The crash rule of local backups (a failed or killed run leaves nothing under the target name) holds
for remote targets too, with one mechanism per kind of storage
(``docs/decisions/0009-archive-locations-and-site-backups.md`` has the measurements):

* **S3** (``s3://``, ``s3a://``, through s3fs): the archive streams straight to the target key as a
  multipart upload of :data:`PART_SIZE` parts (or one ``PUT`` when it is smaller than a part). S3 makes
  the object visible only when the upload is completed, which happens only after the last byte; a
  failure or an interrupt aborts the upload. A ``kill -9`` cannot abort anything, so every write to a
  key first aborts the uploads of that exact key left open by earlier runs (:func:`abort_stale_uploads`):
  after the next run to the same target nothing is left open. The price: two runs writing the same
  key at the same moment do not both succeed (the later one aborts the earlier one's upload).
* **Any other fsspec protocol** (``memory://``, ``gs://``, ``sftp://``...): the archive is written to a
  temporary sibling ``.<name>.<random>.tmp`` and moved onto the target when complete; on failure the
  temporary object is deleted, and temporaries left by a kill are deleted by the next write to the same
  target once they are a minute old (or at once where the file system keeps no times).

Fault points for crash tests: ``upload.stale_aborted`` (after the stale uploads are gone) and
``upload.part`` (after each part reaches S3), besides the backup's own ``backup.*`` points.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..faults import fault_point
from .atomic import atomic_output
from .locations import LocationError, archive_location, filesystem, translated_errors

__all__ = ["PART_SIZE", "RemoteSink", "abort_stale_uploads", "remote_output", "write_atomically"]

PART_SIZE = 8 * 1024 * 1024
"""Bytes per uploaded part: S3 allows at most 10,000 parts, so archives up to 80 GB; memory holds one."""
STALE_AFTER_S = 60.0
"""Age after which a temporary object of an interrupted write counts as abandoned."""
_MULTIPART_PROTOCOLS = frozenset({"s3", "s3a"})


class RemoteSink:
    """The write-only, unseekable binary file a remote archive is written to (internal to the upload)."""

    def __init__(self, handle: Any, url: str, fs: Any) -> None:
        self._handle = handle
        self._url = url
        self._fs = fs
        self._parts = 0
        self.bytes_written = 0

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self.bytes_written

    def seek(self, offset: int, whence: int = 0) -> int:
        raise OSError("a remote archive is written as a stream and cannot seek")

    def write(self, data: bytes | bytearray | memoryview) -> int:
        with translated_errors("write", self._url, self._fs):
            self._handle.write(data)
        size = len(data) if not isinstance(data, memoryview) else data.nbytes
        self.bytes_written += size
        parts = getattr(self._handle, "parts", None)
        while parts is not None and self._parts < len(parts):
            self._parts += 1
            fault_point("upload.part")
        return size

    def flush(self) -> None:
        """Nothing to do: parts are sent as they fill up, the rest when the upload completes."""


def abort_stale_uploads(url: str) -> int:
    """Abort every multipart upload of exactly the key of ``url`` left open; return how many.

    Only S3 URLs have such uploads; for others this does nothing and returns 0.
    """
    fs, path = filesystem(url)
    if _protocol(fs) not in _MULTIPART_PROTOCOLS:
        return 0
    bucket, key, _ = fs.split_path(path)
    aborted = 0
    request: dict[str, Any] = {"Bucket": bucket, "Prefix": key}
    with translated_errors("list the open uploads of", url, fs):
        while True:
            listing = fs.call_s3("list_multipart_uploads", **request)
            for upload in listing.get("Uploads", ()):
                if upload.get("Key") == key:
                    fs.call_s3("abort_multipart_upload", Bucket=bucket, Key=key, UploadId=upload["UploadId"])
                    aborted += 1
            if not listing.get("IsTruncated"):
                return aborted
            request.update(KeyMarker=listing.get("NextKeyMarker", ""),
                           UploadIdMarker=listing.get("NextUploadIdMarker", ""))


def _protocol(fs: Any) -> str:
    protocol = fs.protocol
    return str(protocol[0] if isinstance(protocol, (tuple, list)) else protocol)


@contextlib.contextmanager
def remote_output(url: str) -> Iterator[RemoteSink]:
    """Yield a sink for the archive at ``url``; the archive appears there only if the block succeeds."""
    fs, path = filesystem(url)
    if _protocol(fs) in _MULTIPART_PROTOCOLS:
        abort_stale_uploads(url)
        fault_point("upload.stale_aborted")
        with _multipart(fs, path, url) as sink:
            yield sink
    else:
        with _temporary_then_move(fs, path, url) as sink:
            yield sink


@contextlib.contextmanager
def _multipart(fs: Any, path: str, url: str) -> Iterator[RemoteSink]:
    with translated_errors("write", url, fs):
        handle = fs.open(path, "wb", block_size=PART_SIZE)
    try:
        sink = RemoteSink(handle, url, fs)
        yield sink
        with translated_errors("complete the upload of", url, fs):
            handle.close()  # completes the multipart upload, or PUTs an archive smaller than a part
    except BaseException:
        with contextlib.suppress(Exception):
            handle.discard()  # aborts the multipart upload: no object appears
        handle.closed = True  # never completed later, not even when garbage-collected
        raise


@contextlib.contextmanager
def _temporary_then_move(fs: Any, path: str, url: str) -> Iterator[RemoteSink]:
    parent = fs._parent(path)
    name = path.rstrip("/").rsplit("/", 1)[-1]
    _sweep_temporaries(fs, parent, name, url)
    temp = f"{parent}/.{name}.{secrets.token_hex(8)}.tmp" if parent else f".{name}.{secrets.token_hex(8)}.tmp"
    try:
        with translated_errors("write", url, fs):
            handle = fs.open(temp, "wb")
        try:
            sink = RemoteSink(handle, url, fs)
            yield sink
        finally:
            with translated_errors("write", url, fs):
                handle.close()
        with translated_errors("move into place", url, fs):
            fs.mv(temp, path)
    except BaseException:
        with contextlib.suppress(Exception):
            fs.rm(temp)
        raise


def _sweep_temporaries(fs: Any, parent: str, name: str, url: str) -> None:
    pattern = f"{parent}/.{name}.*.tmp" if parent else f".{name}.*.tmp"
    now = time.time()
    try:
        found = fs.glob(pattern)
    except (OSError, NotImplementedError, ValueError):
        return
    for temp in found:
        try:
            modified = fs.modified(temp).timestamp()
        except (OSError, NotImplementedError, ValueError, AttributeError):
            modified = None
        if modified is None or now - modified >= STALE_AFTER_S:
            with contextlib.suppress(OSError, LocationError):
                fs.rm(temp)


def write_atomically(location: str | Path, data: bytes) -> None:
    """Replace the small file at ``location`` (a path or a URL) with ``data``, whole or not at all."""
    where = archive_location(location)
    if isinstance(where, Path):
        where.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(where) as handle:
            handle.write(data)
    else:
        with remote_output(where) as sink:
            sink.write(data)
