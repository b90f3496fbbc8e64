"""Import into an existing openedx-core package: the openedx store's
:class:`~lc_archive.stores.updates.PackageUpdater`.

:func:`open_updater` locks the ``LearningPackage`` row and yields an :class:`OpenedxUpdater` inside one
``transaction.atomic`` (:func:`~.sink.journaled_atomic`: media files written go through a
:class:`~.media_journal.MediaJournal`, so a failed or killed import leaves database and media storage
as they were). The updater *is* the restore's bulk writer (:class:`~.sink.OpenedxSink`), seeded with
the package's entities, versions and dependency graph: new entities, new versions (numbers after the
entity's own), their media, entity lists and children are written by the same row code. What a
restore writes once for a whole package, the updater writes for the import's changes only
(:mod:`.update_logs`): one ``DraftChangeLog`` for every draft it moved (new versions, new entities,
soft deletes) with openedx-core's side effects and hashes, and for ``publish`` one ``PublishLog``
as ``publish_from_drafts`` writes it. Collections are created, or overwritten with their members
diffed (``remove_from_collection`` / ``add_to_collection``: members kept keep their rows).
See docs/decisions/0014-import-into-existing-package.md.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import batched
from typing import Any

from ...domain import COMPONENT, CONTAINER, CollectionRecord, EntityRecord, PayloadRecord, PublishLogRecord
from ...errors import PackageNotFound, StoreError
from ...faults import fault_point
from ..updates import NewVersion, PackageUpdater
from .media_journal import MediaJournal
from .sink import OpenedxSink, Owner, journaled_atomic
from .update_logs import load_graph, write_draft_log, write_publish
from .users import UserResolver

__all__ = ["OpenedxUpdater", "open_updater"]

_BATCH = 500


@dataclass(frozen=True, slots=True)
class _Existing:
    """An entity the package had before the import (what writing a version of it needs)."""

    ref: str
    kind: str
    type: str


@contextmanager
def open_updater(
    ref: str,
    *,
    using: str,
    user: str | None = None,
    emails: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> Iterator[OpenedxUpdater]:
    """Open the package ``ref`` of the Django database ``using`` for an import, in one transaction.

    ``user`` is the username of who imports (the draft change log's author and the adder of collection
    members). Leaving the block normally writes the change log and commits; an exception rolls back
    every row and deletes every media file written. ``PackageNotFound`` for an unknown ref.
    """
    from openedx_content.models_api import LearningPackage

    with journaled_atomic(using, "import") as run:
        lp = LearningPackage.objects.using(using).select_for_update().filter(package_ref=ref).first()
        if lp is None:
            raise PackageNotFound(ref)
        run.journal = MediaJournal(str(lp.uuid), using, existing=True)
        users = UserResolver(using, emails)
        updater = OpenedxUpdater(using, lp, run.journal, users, restorer=users.id_of(user),
                                 now=now or datetime.now(UTC))
        fault_point("openedx.update_begin")
        yield updater
        updater.finish()
        fault_point("openedx.update_before_commit")


class OpenedxUpdater(OpenedxSink, PackageUpdater):
    """Writes an import into one existing learning package (see the module docstring)."""

    def __init__(self, using: str, lp: Any, journal: MediaJournal, users: UserResolver, *,
                 restorer: int | None, now: datetime) -> None:
        from openedx_content.models_api import PublishableEntity

        from .source import OpenedxSource

        super().__init__(using, lp.id, journal, users, restorer=restorer, now=now)
        self.source = OpenedxSource(using, lp.package_ref)
        self._owners: dict[str, Owner] = {}
        for eid, ref, ctype, kind in PublishableEntity.objects.using(using).filter(learning_package_id=lp.id) \
                .values_list("id", "entity_ref", "component__component_type__name",
                             "container__container_type__type_code"):
            self.state.ids[ref] = eid
            self._owners[ref] = _Existing(ref, COMPONENT if ctype is not None else CONTAINER, ctype or kind or "")
        self.state.versions.update(load_graph(using, lp.id, self.state.graph))
        self._moves: dict[int, int | None] = {}
        """Entity id -> its new draft version id (None: soft-deleted), in the order the import moved them."""
        self._created: set[int] = set()
        self._wrote = False
        """Whether the import wrote anything openedx-core keeps (plugin payloads it does not)."""

    def _id(self, ref: str) -> int:
        eid = self.state.ids.get(ref)
        if eid is None:
            raise StoreError(f"{ref!r} is not an entity of this package")
        return eid

    def missing_blobs(self, shas: Collection[str]) -> set[str]:
        """The blobs not spooled yet: every blob a written version names passes through the spool
        (Media rows the package has are found again by their digest and reused)."""
        return {sha for sha in shas if not self._journal.has(sha)}

    def _known_media(self, keys: set[tuple[int, str]]) -> None:
        """Reuse the package's Media rows among ``keys`` (media type id, digest), as
        ``get_or_create_*_media`` does."""
        from openedx_content.models_api import Media

        digests = sorted({digest for _, digest in keys})
        for part in batched(digests, _BATCH):
            for mid, type_id, digest in Media.objects.using(self._using).filter(
                    learning_package_id=self._lp, hash_digest__in=part).values_list("id", "media_type_id",
                                                                                    "hash_digest"):
                if (type_id, digest) in keys:
                    self._media[(type_id, digest)] = mid

    def add_entities(self, entities: Iterable[EntityRecord]) -> None:
        """Create entities with every version (the bulk writer's rows); their drafts move in the import's
        change log."""
        for batch in batched(entities, _BATCH):
            before = len(self.state.order)
            super().add_entities(batch)
            self._wrote = True
            for e, eid in zip(batch, self.state.order[before:], strict=True):
                self._owners[e.ref] = e
                if e.versions:
                    self._created.add(eid)
                    self._moves[eid] = self.state.version_id(eid, e.draft, "the draft pointer")

    def add_versions(self, versions: Iterable[NewVersion]) -> None:
        """Append versions (media, children) to entities of the package and move their drafts."""
        for batch in batched(versions, _BATCH):
            owners = []
            for nv in batch:
                owner = self._owners.get(nv.ref)
                if owner is None:
                    raise StoreError(f"{nv.ref!r} is not an entity of this package")
                owners.append((owner, nv.version))
            self._users.resolve(nv.version.created_by for nv in batch)
            vids = self._add_versions(owners)
            self._wrote = True
            for nv, vid in zip(batch, vids, strict=True):
                if nv.draft:
                    self._moves[self._id(nv.ref)] = vid
            fault_point("openedx.update_versions")

    def soft_delete(self, refs: Iterable[str]) -> None:
        """Soft-delete these entities' drafts (their versions stay), as ``soft_delete_draft``."""
        for ref in refs:
            self._moves[self._id(ref)] = None
            self._wrote = True
        fault_point("openedx.update_soft_delete")

    def put_collections(self, collections: Iterable[CollectionRecord]) -> None:
        """Create the collections the package lacks; overwrite title, description, enabled and modified
        of the others and diff their members (removed ones deleted, new ones added by the importer)."""
        from openedx_content.models_api import Collection as CollectionModel
        from openedx_content.models_api import CollectionPublishableEntity

        existing = dict(CollectionModel.objects.using(self._using).filter(learning_package_id=self._lp)
                        .values_list("collection_code", "id"))
        new: list[CollectionRecord] = []
        for record in collections:
            self._wrote = True
            cid = existing.get(record.code)
            if cid is None:
                new.append(record)
                continue
            CollectionModel.objects.using(self._using).filter(id=cid).update(
                title=record.title, description=record.description, enabled=record.enabled, modified=record.modified)
            links = CollectionPublishableEntity.objects.using(self._using).filter(collection_id=cid)
            have = dict(links.values_list("entity__entity_ref", "entity_id"))
            wanted = dict.fromkeys(record.members)
            gone = [eid for ref, eid in have.items() if ref not in wanted]
            for part in batched(gone, _BATCH):
                links.filter(entity_id__in=part).delete()
            self._collections.extend((cid, ref, self._restorer) for ref in wanted if ref not in have)
            fault_point("openedx.update_collection")
        self.add_collections(new)

    def put_payloads(self, payloads: Iterable[PayloadRecord]) -> None:
        """openedx-core has no place for plugin payloads: counted and reported, as a restore does."""
        self.add_payloads(payloads)

    def finish(self) -> None:
        """Link pending children and collection members, then write the draft change log of every draft
        moved so far (called before a publish and when the import ends; each move is logged once)."""
        self.state.write_children(self._using)
        fault_point("openedx.children")
        write_draft_log(self._using, self._lp, self.state.graph, self._moves, self._created,
                        changed_at=self._now, changed_by=self._restorer)
        self._moves, self._created = {}, set()
        fault_point("openedx.logs")
        self._link_members()

    def publish(self, refs: Iterable[str], event: PublishLogRecord) -> int:
        """Publish these entities' drafts as ``publish_from_drafts`` does (their unpublished dependencies
        too); one ``PublishLog`` with ``event``'s time, author and message, none when nothing changes."""
        self.finish()
        ids = [self._id(ref) for ref in dict.fromkeys(refs)]
        self._users.resolve([event.published_by])
        count = write_publish(self._using, self._lp, self.state.graph, ids, message=event.message,
                              published_at=event.published_at, published_by=self._users.id_of(event.published_by))
        fault_point("openedx.update_published")
        return count

    def touch(self, updated: datetime) -> None:
        """Set the package's ``updated`` time, unless the import wrote nothing openedx-core keeps."""
        from openedx_content.models_api import LearningPackage

        if self._wrote:
            LearningPackage.objects.using(self._using).filter(id=self._lp).update(updated=updated)
