"""Where archives live: a local path, or a URL that fsspec opens (``s3://``, ``memory://``, ``gs://``...).

Every command and function that takes an archive location accepts

* a plain path (``lib.zip``, ``/backups/lib.zip``) or a ``file://`` URL: the local file system, read
  with ``open`` and written with the atomic temporary file + fsync + rename of
  :func:`~lc_archive.archive.zip_writer.atomic_output`;
* any other URL whose protocol fsspec knows and has installed: ``s3://bucket/key.zip`` (s3fs,
  ``pip install 'lc-archive[s3]'``), ``memory://``, ``gs://``, chained ones such as
  ``simplecache::s3://...``. Writing one is :mod:`lc_archive.archive.remote_output`.

A URL is never taken for a path: ``s3://bucket/x.zip`` cannot become the local file ``s3:/bucket/x.zip``,
and a protocol fsspec does not know is an error that says which protocols it does know.

**Reading** a URL is random access with bounded memory: :func:`open_archive_file` returns a seekable
file over fsspec's block cache, which fetches :data:`READ_BLOCK` bytes per ranged request and keeps at
most :data:`READ_BLOCKS` of them (least recently used first out). The archive is never downloaded whole,
neither into memory nor onto disk (``docs/decisions/0009-archive-locations-and-site-backups.md``).

**Credentials** come from where fsspec and the protocol's library look for them (for S3: the
``AWS_*`` environment variables, ``~/.aws``, instance roles, fsspec's configuration such as
``FSSPEC_S3_ENDPOINT_URL``), never from lc-archive's own settings, and are never logged. Messages show
a location through :func:`display` (no password, no query string, which is where signed URLs keep
their signature), and any text from a storage library goes through :func:`redact` first.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast
from urllib.parse import unquote, urlsplit

from ..errors import LcArchiveError

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = [
    "READ_BLOCK",
    "READ_BLOCKS",
    "Location",
    "LocationError",
    "ObjectInfo",
    "archive_location",
    "display",
    "filesystem",
    "is_url",
    "object_info",
    "open_archive_file",
    "redact",
    "translated_errors",
]

READ_BLOCK = 4 * 1024 * 1024
"""Bytes fetched by one ranged read of a remote archive (see ADR 0009 for the measurements)."""
READ_BLOCKS = 2
"""Blocks of a remote archive kept in memory at once: the read cache never holds more than 8 MiB (reads
are sequential passes, so a second block only serves the seeks between the end records and the data)."""

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*(?:://|::)")
_SECRET_NAMES = re.compile(r"secret|token|password|passwd|credential|key|signature|sas", re.IGNORECASE)
_SECRET_ENV = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ACCESS_KEY_ID",
               "GOOGLE_APPLICATION_CREDENTIALS", "AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN",
               "AZURE_STORAGE_CONNECTION_STRING", "AZURE_CLIENT_SECRET")

Location = Path | str
"""A local archive (a :class:`~pathlib.Path`) or a remote one (its URL, a ``str``)."""


class LocationError(LcArchiveError, OSError):
    """A remote archive location could not be used (unknown protocol, missing library, refused access...)."""


def is_url(location: str | os.PathLike[str]) -> bool:
    """Whether ``location`` is a URL (``scheme://...`` or a chained ``a::b://...``), not a plain path."""
    return isinstance(location, str) and _URL.match(location) is not None


def archive_location(location: str | os.PathLike[str]) -> Location:
    """``location`` as a :class:`Path` when it is local (a path or a ``file://`` URL), else the URL itself."""
    if not is_url(location):
        return Path(location)
    text = str(location)
    if text.startswith("file://"):
        parts = urlsplit(text)
        if parts.netloc not in ("", "localhost"):
            raise LocationError(f"file URL {display(text)} names a host; only local files can be read that way")
        return Path(unquote(parts.path))
    return text


def display(location: str | os.PathLike[str]) -> str:
    """A location as it may be shown or logged: a URL loses its password and query string."""
    if not is_url(location):
        return os.fspath(location)
    out = []
    for link in str(location).split("::"):
        parts = urlsplit(link)
        netloc = parts.netloc
        if "@" in netloc:
            user, _, host = netloc.rpartition("@")
            netloc = f"{user.partition(':')[0]}:***@{host}" if ":" in user else f"{user}@{host}"
        query = "?..." if parts.query else ""
        out.append(f"{parts.scheme}://{netloc}{parts.path}{query}" if parts.scheme else link)
    return "::".join(out)


def _secret_values(fs: Any = None) -> list[str]:
    values = [v for name in _SECRET_ENV if len(v := os.environ.get(name, "")) >= 4]
    options = getattr(fs, "storage_options", None) or {}
    stack: list[tuple[str, Any]] = list(options.items())
    while stack:
        name, value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.items())
        elif isinstance(value, str) and len(value) >= 4 and _SECRET_NAMES.search(name):
            values.append(value)
    return sorted(set(values), key=len, reverse=True)


def redact(text: str, fs: Any = None) -> str:
    """``text`` with every credential value lc-archive can see (environment, ``fs``'s options) masked."""
    for secret in _secret_values(fs):
        text = text.replace(secret, "***")
    return text


@contextmanager
def translated_errors(what: str, location: str, fs: Any = None) -> Iterator[None]:
    """Turn any exception of a storage library into a :class:`LocationError` with a redacted message.

    ``FileNotFoundError`` stays one (with the displayed location), so callers can tell "absent" apart.
    ``KeyboardInterrupt`` and other ``BaseException`` pass unchanged, and so do lc-archive's own errors.
    """
    try:
        yield
    except (LcArchiveError, FileNotFoundError):
        raise
    except Exception as exc:
        reason = " ".join(redact(f"{type(exc).__name__}: {exc}", fs).split())  # one line, whatever botocore says
        raise LocationError(f"cannot {what} {display(location)} ({reason})") from None


def filesystem(url: str) -> tuple[AbstractFileSystem, str]:
    """The fsspec file system and path for ``url``; a :class:`LocationError` says what is missing."""
    try:
        import fsspec.core
    except ImportError as exc:  # pragma: no cover (fsspec is a dependency)
        raise LocationError(f"cannot open {display(url)}: fsspec is not installed ({exc})") from None
    protocol = url.split("://", 1)[0].rsplit("::", maxsplit=1)[-1] if "://" in url else url.split("::", 1)[0]
    try:
        fs, path = fsspec.core.url_to_fs(url)
    except ImportError as exc:
        hint = " (pip install 'lc-archive[s3]')" if protocol in ("s3", "s3a") else ""
        raise LocationError(f"cannot open {display(url)}: {redact(str(exc))}{hint}") from None
    except ValueError as exc:
        known = ", ".join(sorted(_known_protocols()))
        raise LocationError(f"cannot open {display(url)}: {redact(str(exc))} (fsspec knows: {known})") from None
    return fs, path


def _known_protocols() -> list[str]:
    from fsspec.registry import known_implementations

    return list(known_implementations)


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What a store tells of an archive without reading it."""

    size: int
    version: str | None
    """An ETag, generation or modification time: changes whenever the object is rewritten."""


def object_info(location: Location) -> ObjectInfo | None:
    """Size and version of the archive at ``location``, or None if there is none."""
    if isinstance(location, Path):
        try:
            st = location.stat()
        except FileNotFoundError:
            return None
        return ObjectInfo(st.st_size, f"mtime:{st.st_mtime_ns}")
    fs, path = filesystem(location)
    with translated_errors("look up", location, fs):
        fs.invalidate_cache(path)  # a long-lived worker must see what other processes wrote since
        try:
            info = fs.info(path)
        except FileNotFoundError:
            return None
    version = next((str(info[k]) for k in ("ETag", "etag", "generation", "mtime", "LastModified", "created")
                    if info.get(k) is not None), None)
    return ObjectInfo(int(info.get("size") or 0), version)


class _RemoteFile(io.RawIOBase):
    """A seekable, read-only view of an fsspec file whose errors carry no secret (internal)."""

    def __init__(self, file: Any, url: str, fs: Any) -> None:
        super().__init__()
        self._file = file
        self._url = url
        self._fs = fs

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        with translated_errors("read", self._url, self._fs):
            return int(self._file.seek(offset, whence))

    def tell(self) -> int:
        return int(self._file.tell())

    def read(self, size: int | None = -1) -> bytes:
        with translated_errors("read", self._url, self._fs):
            return bytes(self._file.read(-1 if size is None else size))

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            try:
                self._file.close()
            finally:
                super().close()


def open_archive_file(location: str | os.PathLike[str]) -> BinaryIO:
    """A readable, seekable binary file over the archive at ``location`` (closed by the caller).

    Local archives are opened with ``open``; remote ones through fsspec with a bounded block cache.
    A missing archive raises ``FileNotFoundError``; other failures :class:`LocationError`.
    """
    where = archive_location(location)
    if isinstance(where, Path):
        return where.open("rb")
    fs, path = filesystem(where)
    with translated_errors("open", where, fs):
        try:
            handle = fs.open(path, "rb", block_size=READ_BLOCK, cache_type="blockcache",
                             cache_options={"maxblocks": READ_BLOCKS})
        except TypeError:  # a file system whose open() takes no cache settings
            handle = fs.open(path, "rb")
        except FileNotFoundError:
            raise FileNotFoundError(2, "no archive at this location", display(where)) from None
    if not (handle.readable() and handle.seekable()):
        handle.close()
        raise LocationError(f"cannot read {display(where)}: its file system gives no random access")
    return cast(BinaryIO, _RemoteFile(handle, where, fs))
