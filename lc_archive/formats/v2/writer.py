"""Write a learning package as a v2 archive: full history, each distinct blob once, a manifest last.

Member order (``docs/formats/v2.md`` §6): ``package.toml``; then every entity in ref order (code-point),
each as its TOML followed, for a component, by the blobs it is the first to use, in version-number
order and then media order; then ``collections/<stem>.toml`` for every collection (disabled ones
too) in the store's creation order; ``publish_log.toml``; ``manifest.json``.

Entry timestamps come from the content, never from the clock: ``package.toml``,
``publish_log.toml`` and ``manifest.json`` get the package's ``updated``; an entity TOML the latest
of the entity's ``created`` and its versions' ``created``; a blob the ``created`` of the version
that first uses it; a collection TOML its ``modified``. The only value that is not content is
``[meta].created_at``, which the caller passes. Same content, same ``created_at``: same bytes.

Compression per entry: DEFLATE for TOML, JSON and text-like media, STORED for already-compressed
media (:func:`~lc_archive.archive.zip_writer.is_compressible` on the media path and type).

Entities stream from the store a batch at a time (``history="all"``), blobs stream from
``open_blob`` 64 KiB at a time and are checked against their recorded size and SHA-256; memory holds
only the set of blob hashes written so far and the archive's name index.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import chain

from ...archive.zip_writer import ArchiveWriter, EntryConflict, is_compressible
from ...domain import CONTAINER, CONTAINER_TYPES, EntityRecord, MediaRecord, VersionRecord, media_path_problem
from ...domain.digests import DigestTable
from ...errors import LcArchiveError
from ...faults import fault_point
from ...plugins.payload_members import PayloadNames
from ...stores.base import PackageSource, in_ref_order
from ..writing import blob_chunks, check_blob
from .layout import PACKAGE, PUBLISH_LOG, MemberNames
from .manifest import ManifestedWriter
from .render import render_collection, render_entity, render_package, render_publish_log

__all__ = ["V2WriteStats", "write_v2"]


@dataclass
class V2WriteStats:
    """What :func:`write_v2` wrote. v2 carries everything, so ``losses`` and ``warnings`` are empty."""

    entities: int = 0
    components: int = 0
    containers: int = 0
    versions: int = 0
    media_files: int = 0
    """Media records of all versions (each a reference to a blob)."""
    media_bytes: int = 0
    """Sum of the sizes of all media records (what v1 would store, were it to keep every version)."""
    blobs: int = 0
    """Distinct blobs stored (each once)."""
    blob_bytes: int = 0
    collections: int = 0
    publish_events: int = 0
    payloads: int = 0
    """Plugin payloads written (byte for byte)."""
    members: int = 0
    """Members written, ``manifest.json`` included."""

    @property
    def losses(self) -> list[str]:
        """Nothing is lost in v2."""
        return []

    @property
    def loss_counts(self) -> dict[str, int]:
        """Nothing is lost in v2."""
        return {}

    @property
    def warning_counts(self) -> dict[str, int]:
        """No warnings in v2."""
        return {}

    @property
    def warnings(self) -> list[str]:
        """No warnings in v2."""
        return []


class _Emitter:
    def __init__(self, source: PackageSource, out: ArchiveWriter) -> None:
        self.source = source
        self.out = ManifestedWriter(out)
        self.names = MemberNames()
        self.stats = V2WriteStats()
        self.stored = DigestTable()  # sha256 of every blob written (32 bytes each)

    def toml(self, name: str, text: str, when: datetime) -> None:
        self.out.add_bytes(name, text.encode("utf-8"), when, compress=True)
        fault_point("backup.toml")

    def entity(self, entity: EntityRecord) -> None:
        self.check(entity)
        try:
            document = render_entity(entity)
        except ValueError as exc:  # naive datetimes
            raise LcArchiveError(f"entity {entity.ref!r}: {exc}") from exc
        when = max([entity.created, *(v.created for v in entity.versions)])
        stats = self.stats
        stats.entities += 1
        stats.versions += len(entity.versions)
        if entity.kind == CONTAINER:
            self.toml(self.names.container(entity.ref), document, when)
            stats.containers += 1
            return
        base = self.names.component(entity.namespace, entity.type, entity.code)
        self.toml(base + ".toml", document, when)
        stats.components += 1
        for version in entity.versions:
            for media in version.media:
                stats.media_files += 1
                stats.media_bytes += media.size
                if media.sha256 not in self.stored:
                    self.blob(entity, base, version, media)

    def check(self, entity: EntityRecord) -> None:
        """Refuse what a v2 reader would refuse, before anything of the entity is written."""
        numbers = [v.number for v in entity.versions]
        if numbers != sorted(set(numbers)):
            raise LcArchiveError(f"entity {entity.ref!r}: versions are not in ascending number order: {numbers}")
        for name, number, deleted in (("draft", entity.draft, entity.draft_deleted),
                                      ("published", entity.published, entity.published_deleted)):
            if number is not None and number not in numbers:
                raise LcArchiveError(f"entity {entity.ref!r}: the {name} version {number} is not among its versions")
            if number is not None and deleted:
                raise LcArchiveError(f"entity {entity.ref!r}: the {name} both names version {number} and is deleted")
        if entity.kind == CONTAINER:
            if entity.type not in CONTAINER_TYPES:
                raise LcArchiveError(f"entity {entity.ref!r}: unknown container type {entity.type!r} "
                                     f"(v2 knows {', '.join(CONTAINER_TYPES)})")
            if entity.namespace:
                raise LcArchiveError(f"entity {entity.ref!r}: a container has no namespace, "
                                     f"but the store gives {entity.namespace!r}")
            if any(v.media for v in entity.versions):
                raise LcArchiveError(f"entity {entity.ref!r}: a container version cannot have media")
            return
        if not entity.namespace or not entity.type:
            raise LcArchiveError(f"entity {entity.ref!r}: a component needs a namespace and a type")
        for v in entity.versions:
            if v.children:
                raise LcArchiveError(f"entity {entity.ref!r} v{v.number}: a component version cannot have children")
            paths = set()
            for m in v.media:
                problem = media_path_problem(m.path)
                if problem is not None or m.path in paths:
                    raise LcArchiveError(f"entity {entity.ref!r} v{v.number}: "
                                         f"{problem or f'media path {m.path!r} appears twice'}; refusing to write it")
                paths.add(m.path)

    def blob(self, entity: EntityRecord, base: str, version: VersionRecord, media: MediaRecord) -> None:
        member = self.names.blob(base, version.number, media.path, media.sha256)
        try:
            with self.source.open_blob(media.sha256) as blob:
                size, sha = self.out.add_stream(
                    member, blob_chunks(blob), version.created,
                    compress=is_compressible(media.path, media.media_type), size=media.size,
                )  # fmt: skip
        except EntryConflict as exc:  # pragma: no cover (MemberNames hands out free names only)
            raise LcArchiveError(f"entity {entity.ref!r} v{version.number}: {exc}") from exc
        check_blob(member, media, size, sha)
        self.stored.add(sha)
        self.stats.blobs += 1
        self.stats.blob_bytes += size
        fault_point("backup.media")


def write_v2(
    source: PackageSource,
    out: ArchiveWriter,
    *,
    created_at: datetime,
    created_by: str | None = None,
    origin_server: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> V2WriteStats:
    """Write ``source``'s package to ``out`` as a v2 archive; return what was written.

    ``created_at`` is the backup time (``[meta].created_at``, the only value not taken from the
    content). ``progress`` is called with ``1`` after each entity. Raises
    :class:`~lc_archive.errors.LcArchiveError` for content no v2 reader would accept (see
    ``docs/formats/v2.md`` §7) or a corrupt blob. ``out`` is left open for the caller to close; write it
    through :func:`~lc_archive.archive.zip_writer.atomic_output` so a failure leaves no file behind.
    """
    emitter = _Emitter(source, out)
    package = source.package
    start = out.entries
    try:
        try:
            document = render_package(package, created_at=created_at, created_by=created_by,
                                      origin_server=origin_server)
        except ValueError as exc:
            raise LcArchiveError(f"package {package.ref!r}: {exc}") from exc
        emitter.toml(PACKAGE, document, package.updated)
        for entity in in_ref_order(source.iter_entities(history="all")):
            emitter.entity(entity)
            fault_point("backup.entity")
            if progress is not None:
                progress(1)
        for collection in source.iter_collections(include_disabled=True):
            name = emitter.names.collection(collection.code)
            members = tuple(sorted(set(collection.members)))
            try:
                text = render_collection(replace(collection, members=members))
            except ValueError as exc:
                raise LcArchiveError(f"collection {collection.code!r}: {exc}") from exc
            emitter.toml(name, text, collection.modified)
            emitter.stats.collections += 1
        events = 0

        def log_chunks() -> Iterator[bytes]:
            nonlocal events
            for text in render_publish_log(source.iter_publish_log()):
                events += 1
                yield text.encode("utf-8")

        try:
            chunks = log_chunks()
            first = next(chunks, None)
            if first is None:  # nothing was ever published: an empty (STORED) member
                emitter.out.add_bytes(PUBLISH_LOG, b"", package.updated, compress=True)
            else:
                emitter.out.add_stream(PUBLISH_LOG, chain((first,), chunks), package.updated, compress=True)
        except ValueError as exc:
            raise LcArchiveError(f"publish log: {exc}") from exc
        emitter.stats.publish_events = events
        names = PayloadNames()
        for record in source.iter_payloads():
            emitter.out.add_bytes(names.name(record), record.body, package.updated, compress=True)
            emitter.stats.payloads += 1
            fault_point("backup.payload")
        emitter.out.finish(package.updated)
    finally:
        emitter.out.close()
    emitter.stats.members = out.entries - start
    return emitter.stats

