"""The openedx-core store's :class:`~lc_archive.stores.base.PackageSource`: one learning package read
through openedx-core's own models, batch by batch, inside the store's read transaction.

A batch of entities costs a fixed number of queries whatever its content: the entities with their
draft and published pointers, their versions, the media of those versions (and the text of media not
seen before), the container versions' entity lists and their rows. Media are content-addressed by
SHA-256 here and by BLAKE2b in openedx-core: each distinct Media row is hashed once (its text, or its
file streamed from openedx-core's media storage), and :meth:`OpenedxSource.open_blob` finds the row
again by that hash.
"""

from __future__ import annotations

import hashlib
import io
from collections import defaultdict
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime
from itertools import batched
from typing import Any, BinaryIO

from django.db import connections
from django.db.models import F, Max
from django.db.models.functions import Collate
from openedx_content.models_api import (
    Collection,
    CollectionPublishableEntity,
    ComponentVersionMedia,
    ContainerVersion,
    DraftChangeLog,
    EntityListRow,
    LearningPackage,
    Media,
    PublishableEntity,
    PublishableEntityVersion,
    PublishLog,
    PublishLogRecord,
)

from ...domain import (
    COMPONENT,
    CONTAINER,
    ChildRecord,
    CollectionRecord,
    EntityRecord,
    MediaRecord,
    PackageRecord,
    PayloadRecord,
    PublishLogEntry,
    VersionRecord,
)
from ...domain import PublishLogRecord as LogRecord
from ...errors import PackageNotFound, StoreError
from ..base import History, PackageSource

__all__ = ["OpenedxSource", "begin_snapshot"]

_IN_LIMIT = 500
"""Ids per ``IN (...)`` list (and so versions per media query)."""
_PAGE = 500
"""Collections and publish logs per page."""
_TEXT_BUDGET = 16 * 1024 * 1024
"""At most this many bytes of the current batch's media text are kept for :meth:`open_blob`."""
_CHUNK = 1024 * 1024


def begin_snapshot(alias: str) -> None:
    """Make the transaction just opened on ``alias`` a consistent, read-only snapshot (PostgreSQL's
    default, READ COMMITTED, is not one; MySQL's REPEATABLE READ and SQLite's transactions are)."""
    connection = connections[alias]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")


def _media_type(row: dict[str, Any]) -> str:
    base = f"{row['media__media_type__type']}/{row['media__media_type__sub_type']}"
    suffix = row["media__media_type__suffix"]
    return f"{base}+{suffix}" if suffix else base


class OpenedxSource(PackageSource):
    """Reads one learning package of the Django database ``alias`` (see the module docstring)."""

    def __init__(self, alias: str, ref: str) -> None:
        """Look the package up by ref; raises PackageNotFound."""
        self._alias = alias
        self._vendor = connections[alias].vendor
        lp = LearningPackage.objects.using(alias).filter(package_ref=ref).first()
        if lp is None:
            raise PackageNotFound(ref)
        self._lp = lp
        self.package = PackageRecord(lp.package_ref, lp.title, lp.description, lp.created, lp.updated)
        self._sha_of: dict[int, str] = {}  # Media id -> SHA-256, each Media row hashed once
        self._by_sha: dict[str, tuple[int, str, bool]] = {}  # SHA-256 -> (Media id, hash_digest, has text)
        self._texts: dict[str, bytes] = {}  # the current batch's media text, within _TEXT_BUDGET

    def _q(self, model: Any) -> Any:
        return model.objects.using(self._alias)

    def entity_count(self) -> int:
        """Number of entities in the package."""
        return int(self._q(PublishableEntity).filter(learning_package_id=self._lp.id).count())

    def last_changed(self) -> datetime:
        """The latest of the package's own times, entity and version creation, draft changes (soft
        deletes and resets move draft pointers without a new version), publishes and collection edits."""
        lp_id = self._lp.id
        times = [
            self._lp.created,
            self._lp.updated,
            self._q(PublishableEntity).filter(learning_package_id=lp_id).aggregate(t=Max("created"))["t"],
            self._q(PublishableEntityVersion).filter(entity__learning_package_id=lp_id).aggregate(t=Max("created"))["t"],
            self._q(DraftChangeLog).filter(learning_package_id=lp_id).aggregate(t=Max("changed_at"))["t"],
            self._q(PublishLog).filter(learning_package_id=lp_id).aggregate(t=Max("published_at"))["t"],
            self._q(Collection).filter(learning_package_id=lp_id).aggregate(t=Max("modified"))["t"],
        ]
        latest: datetime = max(t for t in times if t is not None)
        return latest

    def _ordered_refs(self) -> Any:
        """The package's entities with ``ref_key``: the entity_ref compared in code-point order."""
        key = Collate(F("entity_ref"), "C") if self._vendor == "postgresql" else F("entity_ref")
        return self._q(PublishableEntity).filter(learning_package_id=self._lp.id).annotate(ref_key=key)

    def iter_entities(self, *, history: History = "current", batch_size: int = 500) -> Iterator[EntityRecord]:
        """Every entity in ref order, ``batch_size`` entities (with their versions) per round of queries."""
        if history not in ("current", "all"):
            raise ValueError(f"history must be 'current' or 'all', not {history!r}")
        fields = (
            "id", "entity_ref", "created", "created_by__username", "can_stand_alone",
            "component__component_type__namespace", "component__component_type__name", "component__component_code",
            "container__container_type__type_code", "container__container_code",
            "draft__entity_id", "draft__version_id", "draft__version__version_num",
            "published__entity_id", "published__version_id", "published__version__version_num",
        )  # fmt: skip
        query = self._ordered_refs().order_by("ref_key").values(*fields)
        after: str | None = None
        while True:
            page = query if after is None else query.filter(ref_key__gt=after)
            rows = list(page[:batch_size])
            if not rows:
                return
            yield from self._entities(rows, history)
            if len(rows) < batch_size:
                return
            after = rows[-1]["entity_ref"]

    def _entities(self, rows: list[dict[str, Any]], history: History) -> Iterator[EntityRecord]:
        if history == "all":
            versions = self._versions(entity_ids=[r["id"] for r in rows])
        else:
            current = {r[k] for r in rows for k in ("draft__version_id", "published__version_id")} - {None}
            versions = self._versions(version_ids=sorted(current))
        for r in rows:
            yield self._entity(r, tuple(versions.get(r["id"], ())))

    def _entity(self, r: dict[str, Any], versions: tuple[VersionRecord, ...]) -> EntityRecord:
        if r["component__component_type__namespace"] is not None:
            kind, namespace = COMPONENT, r["component__component_type__namespace"]
            type_, code = r["component__component_type__name"], r["component__component_code"]
        elif r["container__container_type__type_code"] is not None:
            kind, namespace = CONTAINER, ""
            type_, code = r["container__container_type__type_code"], r["container__container_code"]
        else:
            raise StoreError(f"entity {r['entity_ref']!r} is neither a component nor a container")
        return EntityRecord(
            ref=r["entity_ref"],
            kind=kind,
            namespace=namespace,
            type=type_,
            code=code,
            can_stand_alone=bool(r["can_stand_alone"]),
            created=r["created"],
            created_by=r["created_by__username"],
            versions=versions,
            draft=r["draft__version__version_num"],
            draft_deleted=r["draft__entity_id"] is not None and r["draft__version_id"] is None,
            published=r["published__version__version_num"],
            published_deleted=r["published__entity_id"] is not None and r["published__version_id"] is None,
        )

    def _versions(
        self, *, entity_ids: list[int] | None = None, version_ids: list[int] | None = None
    ) -> dict[int, list[VersionRecord]]:
        """The versions of those entities (or those versions), with media and children, by entity id."""
        fields = ("id", "entity_id", "version_num", "title", "created", "created_by__username")
        q = self._q(PublishableEntityVersion)
        vrows: list[dict[str, Any]] = []
        if entity_ids is not None:
            vrows = list(q.filter(entity_id__in=entity_ids).values(*fields))
        for part in batched(version_ids or (), _IN_LIMIT):
            vrows.extend(q.filter(id__in=part).values(*fields))
        vrows.sort(key=lambda v: (v["entity_id"], v["version_num"]))
        vids = [v["id"] for v in vrows]
        media_of = self._media(vids)
        children_of = self._children(vids)
        out: dict[int, list[VersionRecord]] = defaultdict(list)
        for v in vrows:
            out[v["entity_id"]].append(VersionRecord(
                v["version_num"], v["title"], v["created"], v["created_by__username"],
                tuple(media_of.get(v["id"], ())), tuple(children_of.get(v["id"], ())),
            ))  # fmt: skip
        return out

    def _media(self, version_ids: list[int]) -> dict[int, list[MediaRecord]]:
        """The media of those component versions, in the order they were attached."""
        fields = (
            "component_version_id", "path", "media_id", "media__size", "media__has_file", "media__hash_digest",
            "media__media_type__type", "media__media_type__sub_type", "media__media_type__suffix",
        )  # fmt: skip
        rows: list[dict[str, Any]] = []
        for part in batched(version_ids, _IN_LIMIT):
            rows.extend(self._q(ComponentVersionMedia).filter(component_version_id__in=part)
                        .order_by("component_version_id", "id").values(*fields))  # fmt: skip
        self._load_media({r["media_id"]: r["media__hash_digest"] for r in rows})
        out: dict[int, list[MediaRecord]] = defaultdict(list)
        for r in rows:
            sha = self._sha_of[r["media_id"]]
            has_text = self._by_sha[sha][2]
            out[r["component_version_id"]].append(
                MediaRecord(r["path"], sha, r["media__size"], _media_type(r), has_text, bool(r["media__has_file"]))
            )
        return out

    def _load_media(self, digests: dict[int, str]) -> None:
        """Hash each Media row not seen before (its text's UTF-8 bytes, or its file, streamed) and keep
        the batch's texts for :meth:`open_blob`, within :data:`_TEXT_BUDGET` bytes."""
        self._texts = {}
        budget = _TEXT_BUDGET
        for part in batched(digests, _IN_LIMIT):
            for mid, text, has_file in self._q(Media).filter(id__in=part).values_list("id", "text", "has_file"):
                data = None if text is None else text.encode("utf-8")
                sha = self._sha_of.get(mid)
                if sha is None:
                    sha = self._hash(digests[mid], data, has_file)
                    self._sha_of[mid] = sha
                    self._by_sha.setdefault(sha, (mid, digests[mid], data is not None))
                if data is not None and len(data) <= budget:
                    self._texts[sha] = data
                    budget -= len(data)

    def _hash(self, digest: str, data: bytes | None, has_file: bool) -> str:
        if data is not None:
            return hashlib.sha256(data).hexdigest()
        if not has_file:
            raise StoreError(f"media {digest} of package {self.package.ref!r} has neither text nor file")
        with self._open_file(digest) as stream:
            return _sha256_of(stream)

    def _children(self, version_ids: list[int]) -> dict[int, list[ChildRecord]]:
        """The ordered children (with pins) of those container versions."""
        list_of: dict[int, int] = {}
        for part in batched(version_ids, _IN_LIMIT):
            list_of.update(self._q(ContainerVersion).filter(pk__in=part).values_list("pk", "entity_list_id"))
        rows_of: dict[int, list[ChildRecord]] = defaultdict(list)
        for part in batched(sorted(set(list_of.values())), _IN_LIMIT):
            rows = (self._q(EntityListRow).filter(entity_list_id__in=part).order_by("entity_list_id", "order_num")
                    .values_list("entity_list_id", "entity__entity_ref", "entity_version__version_num"))  # fmt: skip
            for list_id, ref, pinned in rows:
                rows_of[list_id].append(ChildRecord(ref, pinned))
        return {vid: rows_of.get(list_id, []) for vid, list_id in list_of.items()}

    def iter_collections(self, *, include_disabled: bool = True) -> Iterator[CollectionRecord]:
        """Collections in creation order, members sorted by ref."""
        q = self._q(Collection).filter(learning_package_id=self._lp.id).order_by("id")
        if not include_disabled:
            q = q.filter(enabled=True)
        fields = ("id", "collection_code", "title", "description", "enabled", "created", "modified",
                  "created_by__username")  # fmt: skip
        after = 0
        while rows := list(q.filter(id__gt=after).values(*fields)[:_PAGE]):
            members: dict[int, list[str]] = defaultdict(list)
            links = self._q(CollectionPublishableEntity).filter(collection_id__in=[r["id"] for r in rows])
            for cid, ref in links.values_list("collection_id", "entity__entity_ref"):
                members[cid].append(ref)
            for r in rows:
                yield CollectionRecord(
                    code=r["collection_code"],
                    title=r["title"],
                    description=r["description"],
                    enabled=bool(r["enabled"]),
                    created=r["created"],
                    modified=r["modified"],
                    created_by=r["created_by__username"],
                    members=tuple(sorted(members.get(r["id"], ()))),
                )
            after = rows[-1]["id"]

    def iter_publish_log(self) -> Iterator[LogRecord]:
        """Publish events oldest first. Each carries the entities whose published version changed (a
        deletion included); openedx-core's side-effect records (a container whose unpinned child was
        published, its own version unchanged) are left out: a writer derives them again."""
        q = self._q(PublishLog).filter(learning_package_id=self._lp.id).order_by("id")
        after = 0
        fields = ("id", "published_at", "published_by__username", "message")
        while logs := list(q.filter(id__gt=after).values(*fields)[:_PAGE]):
            entries: dict[int, list[PublishLogEntry]] = defaultdict(list)
            records = (self._q(PublishLogRecord).filter(publish_log_id__in=[g["id"] for g in logs]).order_by("id")
                       .values_list("publish_log_id", "entity__entity_ref", "old_version_id", "new_version_id",
                                    "old_version__version_num", "new_version__version_num"))  # fmt: skip
            for log_id, ref, old_id, new_id, old, new in records:
                if old_id != new_id:
                    entries[log_id].append(PublishLogEntry(ref, old, new))
            for g in logs:
                yield LogRecord(g["published_at"], g["published_by__username"], g["message"], tuple(entries[g["id"]]))
            after = logs[-1]["id"]

    def iter_payloads(self) -> Iterator[PayloadRecord]:
        """openedx-core keeps no plugin payloads: none."""
        return iter(())

    def open_blob(self, sha256: str) -> AbstractContextManager[BinaryIO]:
        """A stream over one blob: the Media text (kept for the current batch, else fetched) or the
        Media file, streamed from openedx-core's media storage. StoreError if no Media has that hash."""
        cached = self._texts.get(sha256)
        if cached is not None:
            return nullcontext(io.BytesIO(cached))
        found = self._by_sha.get(sha256)
        if found is None:
            raise StoreError(f"no media with SHA-256 {sha256} in package {self.package.ref!r}")
        media_id, digest, has_text = found
        if has_text:
            text = self._q(Media).filter(id=media_id).values_list("text", flat=True).get()
            return nullcontext(io.BytesIO(text.encode("utf-8")))
        return self._open_file(digest)

    @contextmanager
    def _open_file(self, digest: str) -> Iterator[BinaryIO]:
        """The file of the package's Media with that BLAKE2b digest, at openedx-core's storage path."""
        media = Media(learning_package=self._lp, hash_digest=digest, has_file=True)
        try:
            stream = media.read_file()
        except OSError as exc:
            raise StoreError(f"media file {media.path} of package {self.package.ref!r} cannot be read: {exc}") from exc
        with stream:
            yield stream


def _sha256_of(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()
