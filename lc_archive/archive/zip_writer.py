"""A streaming ZIP writer with per-entry control, and an atomic output file.

:class:`ArchiveWriter` wraps the standard library's ``zipfile``: ``ZipFile.open(zinfo, "w")`` writes
one member in chunks, so no member and no archive is ever held in memory. Every entry is written the
way openedx-core 1.15.2 writes them, except that compression is chosen per entry:

* ``external_attr = 0o600 << 16`` for files *and* directories (no DOS directory bit), ``create_system
  = 3`` (Unix), no extra fields, no comments; the UTF-8 flag (0x800) only for non-ASCII names;
* ``date_time`` is the given datetime in UTC (naive ones are taken as UTC), clamped to the DOS range
  1980-01-01 .. 2107-12-31 (DOS time has 2-second resolution, seconds are floored);
* DEFLATE at zlib's default level (6) or STORED, per call. Directory entries and empty files are
  always STORED.

Names are checked before anything is written: no duplicates, no file that is also a directory, no
NUL, no backslash, no absolute or ``..`` paths. After an exception the archive is incomplete; write
it through :func:`atomic_output` so a failed run never leaves a partial file behind.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from ..errors import LcArchiveError

__all__ = ["ArchiveWriter", "EntryConflict", "atomic_output", "is_compressible"]

_MIN_DATE = (1980, 1, 1, 0, 0, 0)
_MAX_DATE = (2107, 12, 31, 23, 59, 58)
_UNIX = 3
_MODE = 0o600 << 16

# Formats that are already compressed: DEFLATE would only cost time (and add a few bytes).
_COMPRESSED_EXTENSIONS = """
    png jpg jpeg gif webp avif heic heif jxl jp2 mp4 m4v m4a mov mkv webm avi mpg mpeg ogg ogv oga
    opus mp3 aac flac wma wmv flv 3gp zip gz tgz bz2 xz lzma zst br 7z rar jar war apk epub docx xlsx
    pptx odt ods odp pdf woff woff2 swf cab dmg iso"""
_COMPRESSED = frozenset(_COMPRESSED_EXTENSIONS.split())
# Text and other formats that DEFLATE shrinks well.
_TEXT_EXTENSIONS = """
    toml xml html htm xhtml txt text json js mjs cjs css scss less svg srt vtt sjson csv tsv md
    markdown rst py yaml yml ini cfg conf tex latex bib sql log rtf ics olx xsd xsl xslt dtd
    sh ps1 bat rb java c h cpp hpp go rs ts tsx jsx vue php pl r m ipynb ttf otf eot bmp tif tiff
    ico wav psd"""
_TEXT = frozenset(_TEXT_EXTENSIONS.split())
_TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/xml", "image/svg")
_PACKED_TYPES = (
    "image/",
    "video/",
    "audio/",
    "font/woff",
    "application/zip",
    "application/gzip",
    "application/pdf",
    "application/x-7z",
    "application/x-rar",
    "application/x-bzip2",
    "application/x-xz",
    "application/zstd",
    "application/epub",
)


def is_compressible(path: str, media_type: str | None = None) -> bool:
    """Whether DEFLATE is worth it for a file, judged by its extension, then by its media type.

    Known text-like extensions are compressible; known already-compressed formats (images, audio,
    video, archives, PDF, web fonts) are not. Otherwise the media type decides (``text/*``, JSON,
    XML, ``+xml``/``+json`` suffixes yes; images, audio, video, archives no). Anything still unknown
    is compressed: DEFLATE costs little and never grows data by more than a few bytes per 16 KiB.
    """
    name = path.rsplit("/", 1)[-1].lower()
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    if ext in _TEXT:
        return True
    if ext in _COMPRESSED:
        return False
    if media_type:
        kind = media_type.lower()
        if kind.startswith(_TEXT_TYPES) or kind.endswith(("+xml", "+json")):
            return True
        if kind.startswith(_PACKED_TYPES):
            return False
    return True


class EntryConflict(LcArchiveError, ValueError):
    """An entry name that cannot be written: a duplicate, a file/directory clash, or unsafe."""


def _date_time(when: datetime) -> tuple[int, int, int, int, int, int]:
    utc = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    stamp = (utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second)
    return min(max(stamp, _MIN_DATE), _MAX_DATE)


def _check_name(name: str) -> None:
    path = name.removesuffix("/")
    if not path or "\x00" in name or "\\" in name or path.startswith("/"):
        raise EntryConflict(f"unsafe archive entry name {name!r}")
    if any(part in ("", ".", "..") for part in path.split("/")):
        raise EntryConflict(f"unsafe archive entry name {name!r}")


class ArchiveWriter:
    """Writes ZIP entries one at a time, in call order, to a path or a binary file object."""

    def __init__(self, target: str | os.PathLike[str] | BinaryIO) -> None:
        self._zip = zipfile.ZipFile(target, "w", allowZip64=True)
        self._names: set[str] = set()
        self.entries = 0
        """Number of entries written so far."""
        self.bytes_in = 0
        """Uncompressed bytes written so far."""

    def __enter__(self) -> ArchiveWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _info(self, name: str, when: datetime, compress: bool) -> zipfile.ZipInfo:
        _check_name(name)
        if name in self._names:
            raise EntryConflict(f"duplicate archive entry {name!r}")
        other = name.removesuffix("/") if name.endswith("/") else name + "/"
        if other in self._names:
            raise EntryConflict(f"archive entry {name!r} clashes with {other!r}")
        self._names.add(name)
        info = zipfile.ZipInfo(name, _date_time(when))
        info.create_system = _UNIX
        info.external_attr = _MODE
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        return info

    def has(self, name: str) -> bool:
        """Whether an entry with exactly this name was written."""
        return name in self._names

    def add_dir(self, name: str, when: datetime) -> None:
        """A directory entry; ``name`` must end in ``/``."""
        if not name.endswith("/"):
            raise EntryConflict(f"directory entry {name!r} must end with '/'")
        self._write(self._info(name, when, False), ())

    def add_bytes(self, name: str, data: bytes, when: datetime, *, compress: bool) -> None:
        """A file entry from bytes already in memory (small members such as TOML)."""
        self.add_stream(name, (data,), when, compress=compress, size=len(data))

    def add_stream(
        self,
        name: str,
        chunks: Iterable[bytes],
        when: datetime,
        *,
        compress: bool,
        size: int | None = None,
    ) -> int:
        """A file entry written chunk by chunk; returns its size. ``size`` (if known) selects ZIP64."""
        if name.endswith("/"):
            raise EntryConflict(f"file entry {name!r} must not end with '/'")
        info = self._info(name, when, compress and size != 0)
        if size is not None:
            info.file_size = size
        return self._write(info, chunks)

    def _write(self, info: zipfile.ZipInfo, chunks: Iterable[bytes]) -> int:
        written = 0
        with self._zip.open(info, "w") as member:
            for chunk in chunks:
                member.write(chunk)
                written += len(chunk)
        self.entries += 1
        self.bytes_in += written
        return written

    def close(self) -> None:
        """Write the central directory (the underlying file object, if one was given, stays open)."""
        self._zip.close()


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Yield a binary file that replaces ``path`` only if the block finishes without an exception.

    The data goes to a temporary file in the target's directory, which is flushed, fsynced and then
    renamed over the target with ``os.replace``; the directory is fsynced too. On any exception the
    temporary file is removed and an existing target is left untouched. The new file keeps the mode
    of the file it replaces, or gets ``0o600`` (the temporary file's mode) when there was none:
    backups may hold private content.
    """
    target = Path(path)
    directory = target.parent
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "w+b") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileNotFoundError):
            temp.chmod(stat.S_IMODE(target.stat().st_mode))
        temp.replace(target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(directory)
