"""Which outputs may be written: never what is not ours.

Every command that writes a file (``backup -o``, ``convert``, ``state -o``, ``backup-all``'s archives
and index) asks :func:`check_target` first. Only a regular file or a new path is written:

* refused even with ``force``: a directory, a device, a socket or a FIFO; the store being read (or its
  journal); any SQLite database (an output never replaces a store);
* refused unless ``force``: any existing file or remote object (an archive is replaced only on purpose;
  a file that is not an archive is named as such in the message).

The check is made before anything is written, so a refusal changes nothing.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from ..errors import LcArchiveError
from ..text import escape
from .locations import Location, archive_location, display, object_info

__all__ = ["SQLITE_MAGIC", "TargetRefused", "check_target"]

SQLITE_MAGIC = b"SQLite format 3\x00"
"""The first 16 bytes of every SQLite database file."""
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")

TargetKind = Literal["archive", "json", "index"]


class TargetRefused(LcArchiveError):
    """An output location must not be written (it is not ours, or it exists and ``force`` was not given)."""


def _file_type(mode: int) -> str | None:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISFIFO, "a FIFO")):
        if test(mode):
            return name
    return None if stat.S_ISREG(mode) else "not a regular file"


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(16)
    except OSError:
        return b""


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


def _looks_like(kind: TargetKind, head: bytes) -> bool:
    if kind == "archive":
        return head.startswith(_ZIP_MAGICS)
    return head.lstrip()[:1] in (b"{", b"[")


def check_target(location: str | os.PathLike[str] | Location, *, force: bool = False, kind: TargetKind = "archive",
                 reading: Iterable[Path] = ()) -> None:
    """Raise :class:`TargetRefused` unless ``location`` may be written (see the module docstring).

    ``reading``: the local files the command reads (the store's file), which are never overwritten.
    """
    where = archive_location(location)
    shown = escape(display(where))
    if not isinstance(where, Path):
        if not force and object_info(where) is not None:
            raise TargetRefused(f"{shown} already exists; give --force (overwrite=True) to replace it")
        return
    try:
        st = where.stat()
    except FileNotFoundError:
        if not where.parent.is_dir():
            raise TargetRefused(f"cannot write {shown}: the directory {escape(where.parent)} does not exist") from None
        return
    except OSError as exc:
        raise TargetRefused(f"cannot write {shown}: {escape(exc.strerror or exc)}") from None
    what = _file_type(st.st_mode)
    if what is not None:
        raise TargetRefused(f"refusing to write {shown}: it is {what}; only regular files are written")
    if any(_same_file(where, file) for file in reading):
        raise TargetRefused(f"refusing to write {shown}: it is the store being read")
    head = _head(where)
    if head.startswith(SQLITE_MAGIC):
        raise TargetRefused(f"refusing to write {shown}: it is a SQLite database (perhaps a store)")
    if not force:
        sort = {"archive": "an archive", "json": "a JSON file", "index": "a JSON file"}[kind]
        if _looks_like(kind, head):
            raise TargetRefused(f"{shown} already exists; give --force to replace it")
        raise TargetRefused(f"{shown} exists and is not {sort}; refusing to overwrite it (--force replaces it)")
