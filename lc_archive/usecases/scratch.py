"""A scratch store: an archive restored into a private, temporary SQLite file.

``convert`` and ``diff`` work on stores, not on archives: restoring an archive (any format; phase A
validates it completely first) into a throw-away SQLite store turns it into an index that can be
streamed in ref order, a batch at a time, with every blob read on demand. Memory stays bounded by
the batch size whatever the archive's size; the disk holds one copy of the content.

The package is restored under an internal ref and shown under the archive's own package ref
(``[learning_package].key`` in v1, ``package.ref`` in v2), so that a backup of the scratch store
writes the same ref the archive had. The scratch store is read-only.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from ..archive.limits import DEFAULT_LIMITS, Limits
from ..domain import CollectionRecord, EntityRecord, PackageRecord, PayloadRecord, PublishLogRecord
from ..errors import PackageNotFound, StoreError
from ..progress import NULL_PROGRESS, Progress
from ..stores.base import History, PackageSink, PackageSource, Store
from ..stores.sql import open_store
from .restore import RestoreResult, restore

__all__ = ["ScratchStore", "open_archive_store"]

_INNER_REF = "lc-archive:scratch"


class _RenamedSource(PackageSource):
    """A package source shown under another package ref."""

    def __init__(self, inner: PackageSource, ref: str) -> None:
        self._inner = inner
        self.package = replace(inner.package, ref=ref)

    def entity_count(self) -> int:
        return self._inner.entity_count()

    def iter_entities(self, *, history: History = "current", batch_size: int = 500) -> Iterator[EntityRecord]:
        return self._inner.iter_entities(history=history, batch_size=batch_size)

    def iter_collections(self, *, include_disabled: bool = True) -> Iterator[CollectionRecord]:
        return self._inner.iter_collections(include_disabled=include_disabled)

    def iter_publish_log(self) -> Iterator[PublishLogRecord]:
        return self._inner.iter_publish_log()

    def iter_payloads(self) -> Iterator[PayloadRecord]:
        return self._inner.iter_payloads()

    def iter_payload_targets(self) -> Iterator[tuple[str, str | None, int | None]]:
        return self._inner.iter_payload_targets()

    def open_blob(self, sha256: str) -> AbstractContextManager[BinaryIO]:
        return self._inner.open_blob(sha256)

    def blob_in_memory(self, sha256: str) -> bytes | None:
        return self._inner.blob_in_memory(sha256)


class ScratchStore(Store):
    """A read-only store holding one restored archive under the archive's own ref.

    ``restored`` is what the restore reported (format, ``created_at``, counts...); ``path`` is the
    SQLite file, deleted when :func:`open_archive_store`'s context ends.
    """

    def __init__(self, inner: Store, ref: str, restored: RestoreResult, path: Path) -> None:
        self._inner = inner
        self.ref = ref
        self.restored = restored
        self.path = path
        self.url = inner.url

    def package_refs(self) -> list[str]:
        return [self.ref]

    @contextmanager
    def read(self, ref: str) -> Iterator[PackageSource]:
        if ref != self.ref:
            raise PackageNotFound(f"no learning package {ref!r} in the scratch store (it holds {self.ref!r})")
        with self._inner.read(_INNER_REF) as source:
            yield _RenamedSource(source, self.ref)

    def write(self, package: PackageRecord) -> AbstractContextManager[PackageSink]:
        raise StoreError("a scratch store is read-only")

    def close(self) -> None:
        self._inner.close()


@contextmanager
def open_archive_store(
    archive: str | Path,
    *,
    limits: Limits = DEFAULT_LIMITS,
    workdir: Path | None = None,
    progress: Progress = NULL_PROGRESS,
) -> Iterator[tuple[ScratchStore, str]]:
    """Restore ``archive`` (v1 or v2) into a temporary SQLite store; yield ``(store, archive ref)``.

    The archive is validated completely before anything is written (``ArchiveInvalid`` lists every
    problem). The store lives in a temporary directory under ``workdir`` (default: the system's
    temporary directory) that is removed when the context ends, also on errors.
    """
    with tempfile.TemporaryDirectory(prefix="lc-archive-scratch-", dir=workdir) as tmp:
        path = Path(tmp) / "scratch.db"
        inner = open_store(path)
        try:
            restored = restore(archive, inner, ref=_INNER_REF, limits=limits, progress=progress)
            store = ScratchStore(inner, restored.archive_ref, restored, path)
            yield store, store.ref
        finally:
            inner.close()
