"""Restore into openedx-core: the :class:`~lc_archive.stores.base.PackageSink` of the openedx store.

:func:`open_sink` creates the ``LearningPackage`` and fills it inside one ``transaction.atomic``; the
rows are those openedx-core's own authoring API writes for the same history (see
docs/decisions/0008-openedx-bulk-writer-and-media.md for the history a package stands for), written
in bulk: a fixed number of queries per batch of entities. Version numbers, times and authors are
kept; users are matched by :mod:`.users`; media go through :mod:`.media_journal`; change logs, side
effects and Draft/Published pointers are written by :mod:`.logs` when the package is complete.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import batched
from typing import Any, Protocol

from ...domain import (
    COMPONENT,
    CollectionRecord,
    EntityRecord,
    PackageRecord,
    PayloadRecord,
    PublishLogRecord,
    VersionRecord,
)
from ...errors import PackageExists, StoreError
from ...faults import fault_point
from ..base import PackageSink
from .bulk_rows import insert_rows, insert_values
from .logs import EntityState, LogWriter
from .media_journal import MediaJournal, recover
from .users import UserResolver

__all__ = ["JournaledRun", "OpenedxSink", "Owner", "journaled_atomic", "open_sink"]

_BATCH = 500


class Owner(Protocol):
    """What writing a version needs to know of its entity (an :class:`EntityRecord` has it)."""

    @property
    def ref(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def type(self) -> str: ...


class JournaledRun:
    """One write transaction's media journal, once the run has made it (see :func:`journaled_atomic`)."""

    journal: MediaJournal | None = None


@contextmanager
def journaled_atomic(using: str, what: str, *, exists: str | None = None) -> Iterator[JournaledRun]:
    """One ``transaction.atomic`` on ``using`` whose media journal (set on the yielded run) commits with
    it or rolls back with it; orphan journals are recovered first. Database errors become
    :class:`StoreError` naming ``what``; with ``exists``, an integrity error on the package ref becomes
    ``PackageExists(exists)``."""
    from django.db import DatabaseError, IntegrityError, transaction

    recover()
    run = JournaledRun()
    try:
        with transaction.atomic(using=using):
            yield run
    except IntegrityError as exc:
        if run.journal is not None:
            run.journal.rollback()
        if exists is not None and ("package_ref" in str(exc) or "oel_publishing_lp_uniq_key" in str(exc)):
            raise PackageExists(exists) from exc
        raise StoreError(f"openedx-core refused the {what}: {exc}") from exc
    except DatabaseError as exc:
        if run.journal is not None:
            run.journal.rollback()
        raise StoreError(f"openedx-core database error; nothing was written: {exc}") from exc
    except BaseException:
        if run.journal is not None:
            run.journal.rollback()
        raise
    if run.journal is not None:
        run.journal.commit()


@contextmanager
def open_sink(
    package: PackageRecord,
    *,
    using: str,
    user: str | None = None,
    emails: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> Iterator[OpenedxSink]:
    """Create ``package`` in the Django database ``using`` and yield its sink, in one transaction.

    ``user`` is the username of who restores (the draft change log's and any restore publish's
    author); ``emails`` gives e-mail addresses for archive user names (matching fallback). Leaving the
    block normally writes the change logs and commits; an exception rolls back every row and deletes
    every media file written. ``PackageExists`` if the ref is taken.
    """
    from openedx_content.models_api import LearningPackage

    with journaled_atomic(using, "restore", exists=f"a learning package {package.ref!r} already exists") as run:
        if LearningPackage.objects.using(using).filter(package_ref=package.ref).exists():
            raise PackageExists(f"a learning package {package.ref!r} already exists; restores never overwrite")
        lp = LearningPackage(package_ref=package.ref, title=package.title, description=package.description,
                             created=package.created, updated=package.updated)
        _full_clean(lp, "learning package")
        lp.save(using=using, force_insert=True)
        run.journal = MediaJournal(str(lp.uuid), using)
        users = UserResolver(using, emails)
        sink = OpenedxSink(using, lp.id, run.journal, users, restorer=users.id_of(user), now=now or datetime.now(UTC))
        fault_point("openedx.begin")
        yield sink
        sink.finish()
        fault_point("openedx.before_commit")
    fault_point("openedx.committed")


def _full_clean(obj: Any, what: str) -> None:
    from django.core.exceptions import ValidationError

    try:
        obj.full_clean()
    except ValidationError as exc:
        raise StoreError(f"openedx-core refuses the {what}: {'; '.join(exc.messages)}") from exc


class _Types:
    """Component, container and media types, looked up or created inside the transaction."""

    def __init__(self, using: str) -> None:
        self._using = using
        self._components: dict[tuple[str, str], int] = {}
        self._containers: dict[str, tuple[int, Any, Any]] = {}
        self._media: dict[str, int] = {}

    def component(self, namespace: str, name: str) -> int:
        key = (namespace, name)
        if key not in self._components:
            from openedx_content.models_api import ComponentType

            row, _ = ComponentType.objects.using(self._using).get_or_create(namespace=namespace, name=name)
            self._components[key] = row.id
        return self._components[key]

    def container(self, type_code: str, ref: str) -> tuple[int, Any, Any]:
        """``(ContainerType id, subclass model, subclass version model)``."""
        if type_code not in self._containers:
            from openedx_content.applets.containers.models import Container, ContainerType
            from openedx_content.applets.publishing.models import PublishableContentModelRegistry

            try:
                cls = Container.subclass_for_type_code(type_code)
            except Exception as exc:
                raise StoreError(f"{ref}: openedx-core has no {type_code!r} container type installed") from exc
            row, _ = ContainerType.objects.using(self._using).get_or_create(type_code=type_code)
            self._containers[type_code] = (row.id, cls, PublishableContentModelRegistry.get_versioned_model_cls(cls))
        return self._containers[type_code]

    def media(self, mime: str) -> int:
        if mime not in self._media:
            from openedx_content.models_api import MediaType

            base, _, suffix = mime.partition("+")
            main, _, sub = base.partition("/")
            row, _ = MediaType.objects.using(self._using).get_or_create(type=main, sub_type=sub, suffix=suffix)
            self._media[mime] = row.id
        return self._media[mime]


class OpenedxSink(PackageSink):
    """Writes one new package into openedx-core's tables inside :func:`open_sink`'s transaction."""

    def __init__(self, using: str, package_id: int, journal: MediaJournal, users: UserResolver, *,
                 restorer: int | None, now: datetime) -> None:
        self._using = using
        self._lp = package_id
        self._journal = journal
        self._users = users
        self._types = _Types(using)
        self._media: dict[tuple[int, str], int] = {}
        self._collections: list[tuple[int, str, int | None]] = []
        self._payloads = 0
        self.state = EntityState()
        self._logs = LogWriter(using, package_id, self.state, users, restorer=restorer, now=now)
        self._now = now
        self._restorer = restorer
        self._notes: list[str] = []

    @property
    def warnings(self) -> list[str]:
        """What the restore could not keep exactly (unknown users, plugin payloads)."""
        payloads = [f"{self._payloads} plugin payload(s) not kept: openedx-core has no place for them"]
        return [*self._users.warnings, *self._notes, *(payloads if self._payloads else [])]

    def put_blob(self, chunks: Iterable[bytes]) -> tuple[str, int]:
        """Spool a blob; it reaches the media storage when a file-backed media uses it."""
        return self._journal.spool(chunks)

    def add_entities(self, entities: Iterable[EntityRecord]) -> None:
        """Write entities, versions, media, entity lists and components/containers in bulk."""
        for batch in batched(entities, _BATCH):
            self._add_batch(batch)
            fault_point("openedx.entities")

    def _add_batch(self, batch: tuple[EntityRecord, ...]) -> None:
        from openedx_content.models_api import Component, Container, PublishableEntity

        state = self.state
        self._users.resolve([e.created_by for e in batch] + [v.created_by for e in batch for v in e.versions])
        for e in batch:
            if e.ref in state.ids:
                raise StoreError(f"duplicate entity ref {e.ref!r}")
        ids = insert_rows(PublishableEntity, [
            {"learning_package": self._lp, "entity_ref": e.ref, "created": e.created,
             "created_by": self._users.id_of(e.created_by), "can_stand_alone": e.can_stand_alone}
            for e in batch
        ], self._using)  # fmt: skip
        components: list[dict[str, Any]] = []
        containers: list[dict[str, Any]] = []
        subclass_rows: dict[Any, list[tuple[int]]] = {}
        for e, eid in zip(batch, ids, strict=True):
            state.add_entity(e, eid)
            if e.kind == COMPONENT:
                components.append({"publishable_entity": eid, "learning_package": self._lp,
                                   "component_type": self._types.component(e.namespace, e.type),
                                   "component_code": e.code})  # fmt: skip
            else:
                type_id, cls, _ = self._types.container(e.type, e.ref)
                containers.append({"publishable_entity": eid, "learning_package": self._lp,
                                   "container_type": type_id, "container_code": e.code})  # fmt: skip
                subclass_rows.setdefault(cls, []).append((eid,))
        insert_rows(Component, components, self._using)
        insert_rows(Container, containers, self._using)
        for cls, rows in subclass_rows.items():
            insert_values(cls, ["container"], rows, self._using)
        fault_point("openedx.entity_rows")
        self._add_versions([(e, v) for e in batch for v in e.versions])

    def _add_versions(self, owners: Sequence[tuple[Owner, VersionRecord]]) -> list[int]:
        """Write versions of entities whose ids :attr:`state` knows (with media, entity lists and the
        component/container version rows); return their ids in order."""
        from openedx_content.models_api import (
            ComponentVersion,
            ContainerVersion,
            EntityList,
            PublishableEntityVersion,
        )

        vids = insert_rows(PublishableEntityVersion, [
            {"entity": self.state.ids[e.ref], "version_num": v.number, "title": v.title, "created": v.created,
             "created_by": self._users.id_of(v.created_by)}
            for e, v in owners
        ], self._using)  # fmt: skip
        cvs: list[dict[str, Any]] = []
        cvm_pending: list[tuple[int, datetime, Any]] = []
        cont_owners: list[tuple[Owner, Any, int]] = []
        for (e, v), vid in zip(owners, vids, strict=True):
            self.state.add_version(e.ref, v.number, vid)
            if e.kind == COMPONENT:
                cvs.append({"publishable_entity_version": vid, "component": self.state.ids[e.ref]})
                cvm_pending.extend((vid, v.created, m) for m in v.media)
            else:
                cont_owners.append((e, v, vid))
        insert_rows(ComponentVersion, cvs, self._using)
        self._add_media(cvm_pending)
        elists = insert_rows(EntityList, [{} for _ in cont_owners], self._using)
        cont_versions = []
        subclass_rows: dict[Any, list[tuple[int]]] = {}
        for (e, v, vid), elid in zip(cont_owners, elists, strict=True):
            cont_versions.append({"publishable_entity_version": vid, "container": self.state.ids[e.ref],
                                  "entity_list": elid})
            subclass_rows.setdefault(self._types.container(e.type, e.ref)[2], []).append((vid,))
            self.state.add_children(e.ref, vid, elid, v.children)
        insert_rows(ContainerVersion, cont_versions, self._using)
        for cls, rows in subclass_rows.items():
            insert_values(cls, ["container_version"], rows, self._using)
        fault_point("openedx.version_rows")
        return vids

    def _add_media(self, pending: list[tuple[int, datetime, Any]]) -> None:
        from openedx_content.models_api import ComponentVersionMedia, Media

        journal = self._journal
        self._known_media({(self._types.media(m.media_type), journal.digest(m.sha256))
                           for _, _, m in pending if journal.has(m.sha256)} - self._media.keys())
        new: list[tuple[tuple[int, str], dict[str, Any]]] = []
        files: list[str] = []
        for _vid, created, m in pending:
            if not journal.has(m.sha256):
                raise StoreError(f"media {m.path!r}: blob {m.sha256} was never stored")
            key = (self._types.media(m.media_type), journal.digest(m.sha256))
            if key in self._media:
                continue
            self._media[key] = -1
            if m.has_file:
                files.append(m.sha256)
            new.append((key, {"learning_package": self._lp, "media_type": key[0], "hash_digest": key[1],
                              "created": created, "size": journal.size(m.sha256),
                              "text": journal.text(m.sha256) if m.has_text else None, "has_file": m.has_file}))
        journal.store_files(files)
        for (key, _), mid in zip(new, insert_rows(Media, [row for _, row in new], self._using), strict=True):
            self._media[key] = mid
        rows = [(vid, self._media[(self._types.media(m.media_type), journal.digest(m.sha256))], m.path)
                for vid, _, m in pending]
        insert_values(ComponentVersionMedia, ["component_version", "media", "path"], rows, self._using)

    def _known_media(self, keys: set[tuple[int, str]]) -> None:
        """Learn the ids of Media rows the package already has among ``keys`` (a new package has none)."""

    def add_collections(self, collections: Iterable[CollectionRecord]) -> None:
        """Write collections (enabled or not) with their times; members are linked by :meth:`finish`."""
        from openedx_content.models_api import Collection

        for batch in batched(collections, _BATCH):
            self._users.resolve(c.created_by for c in batch)
            rows = [{"learning_package": self._lp, "collection_code": c.code, "title": c.title,
                     "description": c.description, "enabled": c.enabled, "created_by": self._users.id_of(c.created_by),
                     "created": c.created, "modified": c.modified}  # auto_now fields, given the archive's times
                    for c in batch]  # fmt: skip
            ids = insert_rows(Collection, rows, self._using)
            for c, cid in zip(batch, ids, strict=True):
                creator = self._users.id_of(c.created_by)
                self._collections.extend((cid, ref, creator) for ref in dict.fromkeys(c.members))
            fault_point("openedx.collections")

    def add_publish_log(self, records: Iterable[PublishLogRecord]) -> None:
        """Keep publish events for :meth:`finish` (their entries may name entities not added yet)."""
        self._logs.add_publish_events(records)

    def add_payloads(self, payloads: Iterable[PayloadRecord]) -> None:
        """openedx-core has no place for plugin payloads: they are counted and reported, not kept."""
        for _ in payloads:
            self._payloads += 1

    def finish(self) -> None:
        """Link children, dependencies and collection members, then write change logs and pointers."""
        self.state.write_children(self._using)
        fault_point("openedx.children")
        self._logs.write()
        fault_point("openedx.logs")
        self._link_members()
        self._notes.extend(self._logs.notes)

    def _link_members(self) -> None:
        """Insert the collection members queued so far."""
        from openedx_content.models_api import CollectionPublishableEntity

        rows = []
        for cid, ref, creator in self._collections:
            eid = self.state.ids.get(ref)
            if eid is None:
                raise StoreError(f"collection member {ref!r} is not an entity of this package")
            rows.append({"collection": cid, "entity": eid, "created_by": creator, "created": self._now})
        self._collections = []
        insert_rows(CollectionPublishableEntity, rows, self._using)

