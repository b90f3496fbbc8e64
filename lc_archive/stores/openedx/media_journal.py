"""Media files of a restore into openedx-core: spooled, written to its storage, removed on failure.

A restore streams each blob once from the archive into one local spool file (hashing it with SHA-256,
lc-archive's key, and BLAKE2b-160, openedx-core's ``Media.hash_digest``). Blobs that become file-backed
``Media`` are then written to openedx-core's media storage (``OPENEDX_LEARNING["MEDIA"]``) at the path
openedx-core uses, ``content/{learning package uuid}/{hash_digest}``, before the database commits.

Every storage path is appended (and fsynced) to a *journal* file before the file is written. When the
transaction rolls back, :meth:`MediaJournal.rollback` deletes those files; when it commits,
:meth:`MediaJournal.commit` deletes only the journal. An import into an existing package writes only
files its storage does not hold yet (another Media row of the package may have the same digest). A
package deletion journals the files to remove (:meth:`MediaJournal.remove_after_commit`) and removes
them only once the deletion committed.

A crash leaves the journal behind, locked by no one: :func:`recover` (run before every restore, import
and deletion, and by hand) settles each orphan journal by the database's final word: a journaled file
stays if and only if a committed file-backed ``Media`` row of that package has its digest (a restore or
import that never committed has none; a deletion that committed has none either). A live run holds an
exclusive ``flock`` on its journal, so recovery never touches it. See
docs/decisions/0008-openedx-bulk-writer-and-media.md.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import secrets
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import StoreError

__all__ = ["MediaJournal", "journal_dir", "recover"]

_CHUNK = 256 * 1024


def journal_dir() -> Path:
    """Where journals live: ``settings.LC_ARCHIVE_MEDIA_JOURNAL_DIR`` if set; for a file-system media
    storage, a folder beside it (``<location>.lc-archive-journal``: persistent, same file system, one per
    storage); else a folder in the temp dir."""
    from django.conf import settings
    from openedx_content.applets.media.models import get_storage

    configured = getattr(settings, "LC_ARCHIVE_MEDIA_JOURNAL_DIR", None)
    if configured:
        return Path(configured)
    location = getattr(get_storage(), "location", None)
    if location:
        return Path(str(location).rstrip("/") + ".lc-archive-journal")
    return Path(tempfile.gettempdir()) / "lc-archive-openedx-journal"


@dataclass(frozen=True, slots=True)
class _Spooled:
    offset: int
    size: int
    digest: str
    """openedx-core's ``hash_digest`` (BLAKE2b, 20 bytes, hex)."""


class _Range(io.RawIOBase):
    """A read-only window of the spool file (what storage.save streams from)."""

    def __init__(self, fh: Any, offset: int, size: int) -> None:
        self._fh, self._offset, self.size, self._pos = fh, offset, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, pos: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self.size}[whence]
        self._pos = max(0, min(self.size, base + pos))
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self.size - self._pos)
        if n <= 0:
            return 0
        data = os.pread(self._fh.fileno(), n, self._offset + self._pos)
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)


class MediaJournal:
    """The media side of one restore (see the module docstring)."""

    def __init__(self, package_uuid: str, using: str, directory: Path | None = None, *,
                 existing: bool = False) -> None:
        """Create the journal (locked) and the spool for the learning package ``package_uuid``;
        ``existing``: the package exists already (its storage may hold some of the files)."""
        self._uuid = package_uuid
        self._existing = existing
        self._dir = directory or journal_dir()
        self._dir.mkdir(parents=True, exist_ok=True)
        stem = f"{package_uuid}.{secrets.token_hex(4)}" if existing else package_uuid
        self.path = self._dir / f"{stem}.journal"
        self._journal = self.path.open("x", encoding="utf-8")
        fcntl.flock(self._journal.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._append({"package_uuid": package_uuid, "using": using})
        self._spool_path = self._dir / f"{stem}.spool"
        self._spool = self._spool_path.open("w+b")
        self._blobs: dict[str, _Spooled] = {}
        self._written: list[str] = []
        self._removals: list[str] = []
        self._stored: set[str] = set()

    # -- spooling ------------------------------------------------------------------------------------

    def spool(self, chunks: Iterable[bytes]) -> tuple[str, int]:
        """Append a blob to the spool; return ``(sha256 hex, size)``. A blob seen before is dropped."""
        sha, blake = hashlib.sha256(), hashlib.blake2b(digest_size=20)
        offset = self._spool.seek(0, os.SEEK_END)
        size = 0
        for chunk in chunks:
            sha.update(chunk)
            blake.update(chunk)
            self._spool.write(chunk)
            size += len(chunk)
        key = sha.hexdigest()
        if key in self._blobs:
            self._spool.truncate(offset)
        else:
            self._blobs[key] = _Spooled(offset, size, blake.hexdigest())
        return key, size

    def has(self, sha256: str) -> bool:
        """Whether that blob was spooled."""
        return sha256 in self._blobs

    def digest(self, sha256: str) -> str:
        """openedx-core's ``hash_digest`` of a spooled blob."""
        return self._blobs[sha256].digest

    def size(self, sha256: str) -> int:
        """Size in bytes of a spooled blob."""
        return self._blobs[sha256].size

    def text(self, sha256: str) -> str:
        """A spooled blob as UTF-8 text (text media are small: openedx-core caps them at 50,000 chars)."""
        blob = self._blobs[sha256]
        self._spool.flush()
        data = os.pread(self._spool.fileno(), blob.size, blob.offset)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StoreError(f"blob {sha256} is stored as text but is not UTF-8") from exc

    # -- storage -------------------------------------------------------------------------------------

    def store_files(self, shas: Iterable[str]) -> None:
        """Write spooled blobs to openedx-core's media storage (each once): their paths go into the
        journal first (one fsync for the lot), then the files into the storage."""
        from django.core.files import File
        from openedx_content.applets.media.models import get_storage

        todo: dict[str, _Spooled] = {}
        for sha in shas:
            blob = self._blobs[sha]
            path = f"content/{self._uuid}/{blob.digest}"
            if path not in self._stored and path not in todo:
                todo[path] = blob
        storage = get_storage()
        if self._existing:
            for path in [p for p in todo if storage.exists(p)]:
                self._stored.add(path)
                del todo[path]
        if not todo:
            return
        for path in todo:
            self._journal.write(json.dumps({"path": path}) + "\n")
        self._sync()
        self._written.extend(todo)
        self._spool.flush()
        for path, blob in todo.items():
            saved = storage.save(path, File(_Range(self._spool, blob.offset, blob.size), name=path))
            if saved != path:  # the storage renamed it: the path was taken (never for a new package uuid)
                self._written.append(saved)
                raise StoreError(f"media storage already holds {path!r}")
            self._stored.add(path)

    def remove_after_commit(self, paths: Iterable[str]) -> None:
        """Journal storage paths to delete once the transaction commits (a package deletion)."""
        todo = [p for p in paths if p not in self._removals]
        for path in todo:
            self._journal.write(json.dumps({"path": path}) + "\n")
        self._sync()
        self._removals.extend(todo)

    # -- the end -------------------------------------------------------------------------------------

    def commit(self) -> None:
        """The transaction committed: the files written stay, those to remove go; drop the spool and
        the journal."""
        self._close(delete=self._removals)

    def rollback(self) -> None:
        """The transaction rolled back: delete every file written, then the spool and the journal."""
        self._close(delete=self._written)

    def _close(self, *, delete: list[str]) -> None:
        if self._journal.closed:
            return
        if delete:
            _delete_paths(delete, self._uuid)
        self._spool.close()
        self._spool_path.unlink(missing_ok=True)
        self.path.unlink()
        self._journal.close()

    def _append(self, entry: dict[str, str]) -> None:
        self._journal.write(json.dumps(entry) + "\n")
        self._sync()

    def _sync(self) -> None:
        self._journal.flush()
        os.fsync(self._journal.fileno())


def _delete_paths(paths: Iterable[str], package_uuid: str) -> None:
    from openedx_content.applets.media.models import get_storage

    storage = get_storage()
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            storage.delete(path)
    # FileSystemStorage leaves the package's (now empty) folder behind: remove it too.
    try:
        folder = Path(storage.path(f"content/{package_uuid}"))
    except NotImplementedError:
        return
    for empty in (folder, folder.parent):
        with contextlib.suppress(OSError):
            empty.rmdir()


def recover(directory: Path | None = None) -> int:
    """Clean up after crashed runs: for each journal no live run holds, delete each journaled file that
    no committed file-backed Media row of its package has (see the module docstring), then the journal
    and spool. Returns how many journals it settled."""
    folder = directory or journal_dir()
    if not folder.is_dir():
        return 0
    settled = 0
    for journal in sorted(folder.glob("*.journal")):
        with journal.open(encoding="utf-8") as fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a run in progress
            entries = [json.loads(line) for line in fh if line.strip().endswith("}")]
            if not entries or "package_uuid" not in entries[0]:
                continue
            head = entries[0]
            paths = [e["path"] for e in entries[1:] if "path" in e]
            kept = _committed_digests(head["package_uuid"], head.get("using", "default"), paths)
            _delete_paths([p for p in paths if p.rsplit("/", 1)[-1] not in kept], head["package_uuid"])
            journal.with_suffix(".spool").unlink(missing_ok=True)
            journal.unlink()
            settled += 1
    return settled


def _committed_digests(package_uuid: str, using: str, paths: list[str]) -> set[str]:
    """The digests among ``paths``' names that a committed file-backed Media row of the package has."""
    from itertools import batched

    from openedx_content.models_api import Media

    found: set[str] = set()
    for part in batched(sorted({p.rsplit("/", 1)[-1] for p in paths}), 500):
        found.update(Media.objects.using(using).filter(
            learning_package__uuid=package_uuid, has_file=True, hash_digest__in=part
        ).values_list("hash_digest", flat=True))
    return found
