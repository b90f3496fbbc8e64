"""Write a learning package as a v1 archive, in openedx-core 1.15.2's exact layout and entry order.

Entry order (format spec §5.1): ``package.toml``; then every entity in ref order: a container as
``entities/<name>.toml``; a component as ``entities/<ns>/<type>/<name>.toml``, then for the draft and
then the published version (if different) the version's media files in media order under
``<name>/component_versions/v<N>/``; then ``collections/<name>.toml`` for every enabled collection in
creation order; finally the plugin payloads (``plugins/<plugin>/...json``, byte for byte, see
:mod:`..plugin_members`; openedx-core's reader ignores them). File names come from one
:class:`~.names.NameAllocator` (entities by ref, then collections).

Directory entries (spec §5.2) are left out by default: openedx-core 1.15.2 restores an archive without
them to exactly the same state (``tests/test_peer_compat.py`` proves it on every archive it wrote), and
they were a third of a v1 archive's members. ``directory_entries=True`` writes them as openedx-core
does, for its exact layout: ``entities/`` and ``collections/`` after ``package.toml``, a component's
missing ancestor directories before its TOML, ``<name>/``, ``<name>/component_versions/``,
``v<N>/`` and ``v<N>/static/`` (always) before a version's media, and each file's missing directories
before it.

Entry timestamps (spec §2.4): ``package.toml`` and the two top directories get the package's
``updated``; an entity TOML (and the directories first created for it) gets the latest of
``updated`` and its written versions' ``created``; version directories get the version's
``created``; media files (and directories made for them) get the version's ``created`` too
(openedx-core uses ``Media.created``, which the store does not keep); a collection TOML gets the
collection's ``modified``.

Unlike openedx-core, TOML and text-like media are DEFLATE-compressed, an empty ``block.xml`` is
written, a media file whose path ends in ``.toml`` is left out and reported as a loss (openedx-core's
reader takes it for a component TOML and crashes, spec §5.2 #3), blank ``created_by``,
``created_by_email`` and ``origin_server`` values are left out, and media paths or component types
that would make a hostile or unreadable archive raise
:class:`~lc_archive.errors.LcArchiveError`. Media bytes are streamed from the store 64 KiB at a time
and checked against their size and SHA-256; entities are streamed from the store, never loaded at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from ...archive.zip_writer import ArchiveWriter, EntryConflict, is_compressible
from ...domain import (
    CONTAINER,
    CONTAINER_TYPES,
    CollectionRecord,
    EntityRecord,
    MediaRecord,
    VersionRecord,
    media_path_problem,
)
from ...errors import LcArchiveError
from ...faults import fault_point
from ...plugins.payload_members import PayloadNames
from ...stores.base import History, PackageSource, in_ref_order
from ..naming import NameAllocator
from ..writing import blob_chunks, check_blob
from .losses import WARNINGS, V1Losses
from .toml_render import render_collection, render_entity, render_package, written_versions

__all__ = ["V1WriteStats", "write_v1"]


@dataclass
class V1WriteStats:
    """What :func:`write_v1` wrote, and what v1 could not carry.

    ``loss_counts`` and ``warning_counts`` map a kind to a count (only non-zero kinds appear);
    ``losses`` and ``warnings`` are the same as sentences for the CLI.
    """

    entities: int = 0
    components: int = 0
    containers: int = 0
    collections: int = 0
    versions: int = 0
    media_files: int = 0
    media_bytes: int = 0
    payloads: int = 0
    members: int = 0
    loss_counts: dict[str, int] = field(default_factory=dict)
    warning_counts: dict[str, int] = field(default_factory=dict)
    complete_history: bool = False
    """Whether ``loss_counts["history"]`` is exact (the source gave every version) or a lower bound."""

    @property
    def losses(self) -> list[str]:
        """One sentence per kind of data the archive does not carry."""
        return [V1Losses.sentence(k, n, complete_history=self.complete_history) for k, n in self.loss_counts.items()]

    @property
    def warnings(self) -> list[str]:
        """One sentence per kind of content openedx-core 1.15.2 will not restore faithfully."""
        return [WARNINGS[k].format(n=n) for k, n in self.warning_counts.items()]


def _directory_clash(paths: Iterable[str]) -> str | None:
    """The first media path (in sorted order) that is also a directory of another path of the same
    version; ``static`` always is one (openedx-core's layout has ``v<N>/static/``). Checked here because
    without directory entries the archive writer cannot see such a clash."""
    files = set(paths)
    directories = {"static"}
    for path in files:
        cut = path.find("/")
        while cut != -1:
            directories.add(path[:cut])
            cut = path.find("/", cut + 1)
    clashes = files & directories
    return min(clashes) if clashes else None


def _dir_problem(segment: str) -> bool:
    return not segment or segment in (".", "..") or any(c in segment for c in "/\\\x00")


def _has_edge_space(text: str) -> bool:
    return text != text.strip()


class _Emitter:
    """The state of one archive being written (names, counters)."""

    def __init__(self, source: PackageSource, out: ArchiveWriter, losses: V1Losses, *, directories: bool) -> None:
        self.source = source
        self.out = out
        self.directories = directories
        self.names = NameAllocator()
        self.stats = V1WriteStats()
        self.losses = losses
        self.warnings = losses.warnings
        self._last_parent = ""

    def dirs_for(self, name: str, when: datetime) -> None:
        """Emit every missing ancestor directory of ``name`` (and ``name`` itself if it ends in /), when
        directory entries are written at all."""
        if not self.directories:
            return
        parent = name[: name.rfind("/") + 1]
        if parent == self._last_parent:  # its ancestors were all emitted for the previous member
            return
        self._last_parent = parent
        end = name.find("/")
        while end != -1:
            directory = name[: end + 1]
            if not self.out.has(directory):
                self.out.add_dir(directory, when)
            end = name.find("/", end + 1)

    def text(self, name: str, text: str, when: datetime) -> None:
        self.dirs_for(name, when)
        self.out.add_bytes(name, text.encode("utf-8"), when, compress=True)
        fault_point("backup.toml")

    def entity(self, entity: EntityRecord) -> list[VersionRecord]:
        """Write one entity; return the versions written."""
        try:
            versions = written_versions(entity)
        except ValueError as exc:
            raise LcArchiveError(str(exc)) from exc
        self.stats.entities += 1
        self.stats.versions += len(versions)
        self.losses.entity(entity, versions)
        self.warnings["whitespace"] += sum(_has_edge_space(v.title) for v in versions)
        document = render_entity(entity, versions)
        latest = max([self.source.package.updated, *(v.created for v in versions)])
        if entity.kind == CONTAINER:
            if entity.type not in CONTAINER_TYPES:
                raise LcArchiveError(
                    f"entity {entity.ref!r}: container type {entity.type!r} cannot be written to v1 "
                    f"(openedx-core 1.15.2 only reads {', '.join(sorted(CONTAINER_TYPES))})"
                )
            name = self.names.allocate(entity.ref, "entities")
            self.text(f"entities/{name}.toml", document, latest)
            self.stats.containers += 1
            return versions
        if _dir_problem(entity.namespace) or _dir_problem(entity.type):
            raise LcArchiveError(
                f"entity {entity.ref!r}: component type {entity.namespace!r}/{entity.type!r} "
                "cannot be a v1 directory name"
            )
        scope = f"entities/{entity.namespace}/{entity.type}"
        name = self.names.allocate(entity.code, scope)
        self.text(f"{scope}/{name}.toml", document, latest)
        for version in versions:
            self.component_version(entity, f"{scope}/{name}/component_versions/v{version.number}/", version)
        self.stats.components += 1
        return versions

    def payloads(self, written: set[tuple[str, int]]) -> None:
        """Every plugin payload, byte for byte, except those of versions this archive does not carry."""
        names = PayloadNames()
        when = self.source.package.updated
        for record in self.source.iter_payloads():
            if record.version is not None and (record.entity or "", record.version) not in written:
                self.losses.counts["version_payloads"] += 1
                continue
            name = names.name(record)
            self.dirs_for(name, when)
            self.out.add_bytes(name, record.body, when, compress=True)
            self.stats.payloads += 1
            fault_point("backup.payload")

    def component_version(self, entity: EntityRecord, root: str, version: VersionRecord) -> None:
        self.dirs_for(root, version.created)
        self.dirs_for(root + "static/", version.created)
        clash = _directory_clash(m.path for m in version.media if not m.path.endswith(".toml"))
        for media in version.media:
            problem = media_path_problem(media.path)
            if problem is None and media.path == clash:
                problem = (f"media path {media.path!r} is also a directory of the version (a file and a "
                           "directory would share a name)")
            if problem:
                raise LcArchiveError(
                    f"entity {entity.ref!r} v{version.number}: {problem}; refusing to write it into an archive"
                )
            if media.path.endswith(".toml"):
                continue  # counted as a loss: openedx-core would read it as a component TOML and crash
            member = root + media.path
            self.dirs_for(member, version.created)
            try:
                self.media(member, media, version.created)
            except EntryConflict as exc:
                raise LcArchiveError(f"entity {entity.ref!r} v{version.number}: {exc}") from exc

    def media(self, member: str, media: MediaRecord, when: datetime) -> None:
        if media.size == 0:
            self.out.add_bytes(member, b"", when, compress=False)
        elif (data := self.source.blob_in_memory(media.sha256)) is not None:  # whole: no stream, no copy
            check_blob(member, media, len(data), hashlib.sha256(data).hexdigest())
            self.out.add_bytes(member, data, when, compress=is_compressible(media.path, media.media_type))
        else:
            digest = hashlib.sha256()
            with self.source.open_blob(media.sha256) as blob:
                written = self.out.add_stream(
                    member,
                    blob_chunks(blob, digest.update),
                    when,
                    compress=is_compressible(media.path, media.media_type),
                    size=media.size,
                )
            check_blob(member, media, written, digest.hexdigest())
        self.stats.media_files += 1
        self.stats.media_bytes += media.size
        fault_point("backup.media")

    def collection(self, collection: CollectionRecord) -> None:
        if not self.losses.collection(collection):
            return
        self.warnings["whitespace"] += _has_edge_space(collection.title) + _has_edge_space(collection.description)
        self.warnings["blank_titles"] += not collection.title.strip()
        members = tuple(sorted(collection.members))
        if members != collection.members:
            collection = replace(collection, members=members)
        name = self.names.allocate(collection.code, "collections")
        self.text(f"collections/{name}.toml", render_collection(collection), collection.modified)
        self.stats.collections += 1

    def finish(self) -> V1WriteStats:
        self.losses.counts["publish_log"] += sum(1 for _ in self.source.iter_publish_log())
        self.stats.loss_counts = self.losses.loss_counts()
        self.stats.warning_counts = self.losses.warning_counts()
        self.stats.complete_history = self.losses.history_exact
        return self.stats


def write_v1(
    source: PackageSource,
    out: ArchiveWriter,
    *,
    created_at: datetime,
    created_by: str | None = None,
    created_by_email: str | None = None,
    origin_server: str | None = None,
    progress: Callable[[int], None] | None = None,
    history: History = "current",
    directory_entries: bool = False,
) -> V1WriteStats:
    """Write ``source``'s package to ``out`` as a v1 archive and return what was written and lost.

    ``history="all"`` reads every version (v1 still writes only the draft and published ones) so that
    the loss report counts the versions left out exactly; the default reads only what is written.
    ``directory_entries`` writes openedx-core's directory entries too (its exact layout; see above).

    ``created_at`` is the backup time (``[meta].created_at``). ``progress`` is called with ``1`` after
    each entity (an increment, as ``Progress.advance`` takes). ``out`` is left open for the caller to close.
    """
    emitter = _Emitter(source, out, V1Losses(created_at, complete_history=history == "all"),
                       directories=directory_entries)
    package = source.package
    start = out.entries
    emitter.warnings["whitespace"] += _has_edge_space(package.title) + _has_edge_space(package.description)
    emitter.warnings["blank_titles"] += not package.title.strip()
    document = render_package(
        package,
        created_at=created_at,
        created_by=created_by,
        created_by_email=created_by_email,
        origin_server=origin_server,
    )
    emitter.text("package.toml", document, package.updated)
    emitter.dirs_for("entities/", package.updated)
    emitter.dirs_for("collections/", package.updated)
    # Version-scoped payloads travel only with the versions v1 carries: note which of their targets are written.
    wanted = {(entity or "", version) for _, entity, version in source.iter_payload_targets() if version is not None}
    written: set[tuple[str, int]] = set()
    for entity in in_ref_order(source.iter_entities(history=history)):
        versions = emitter.entity(entity)
        if wanted:
            written.update(t for v in versions if (t := (entity.ref, v.number)) in wanted)
        fault_point("backup.entity")
        if progress is not None:
            progress(1)
    for collection in source.iter_collections(include_disabled=True):
        emitter.collection(collection)
    emitter.payloads(written)
    stats = emitter.finish()
    stats.members = out.entries - start
    return stats
