"""The SQL store's :class:`~lc_archive.stores.base.PackageSource`: one package, read batch by batch.

Package-internal: :meth:`SqlStore.read <lc_archive.stores.sql.SqlStore.read>` is the way in. Every read
runs inside the store's read transaction, so a source sees one consistent snapshot.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from itertools import batched
from typing import Any, BinaryIO

from sqlalchemy import Column, Connection, Row, Select, func, or_, select

from ..domain import (
    ChildRecord,
    CollectionRecord,
    EntityRecord,
    MediaRecord,
    PackageRecord,
    PayloadRecord,
    PublishLogEntry,
    PublishLogRecord,
    VersionRecord,
)
from ..errors import PackageNotFound
from .base import History, PackageSource
from .blobs import IN_LIMIT, open_blob
from .schema import (
    blob,
    blob_chunk,
    child,
    collection,
    collection_member,
    draft,
    entity,
    media,
    package,
    payload,
    publish_log,
    publish_log_entry,
    published,
    version,
)

__all__: list[str] = []

_COLLECTION_PAGE = 500
_LOG_PAGE = 20
_PAYLOAD_PAGE = 500
_PREFETCH_MAX_BLOB = 256 * 1024
"""Blobs up to this size are fetched together for a whole batch of entities (one query, not one each)."""
_PREFETCH_BUDGET = 16 * 1024 * 1024
"""At most this many bytes of prefetched blobs are held at once (the current batch's)."""


def _pages(
    conn: Connection, query: Select[*tuple[Any, ...]], key: Column[Any], size: int
) -> Iterator[Sequence[Row[*tuple[Any, ...]]]]:
    """Keyset pagination: the rows of ``query`` in ``key`` order, at most ``size`` per page."""
    query = query.order_by(key).limit(size)
    after: Any = None
    while True:
        rows = conn.execute(query if after is None else query.where(key > after)).all()
        if not rows:
            return
        yield rows
        if len(rows) < size:
            return
        after = getattr(rows[-1], key.name)


class SqlSource(PackageSource):
    """Reads one package inside a read transaction, batch by batch."""

    def __init__(self, conn: Connection, ref: str) -> None:
        """Look the package up by ref; raises PackageNotFound."""
        row = conn.execute(select(package).where(package.c.ref == ref)).first()
        if row is None:
            raise PackageNotFound(ref)
        self.package = PackageRecord(row.ref, row.title, row.description, row.created, row.updated)
        self._conn = conn
        self._id = int(row.id)
        self._blob_cache: dict[str, bytes] = {}
        self._wants_blobs = False  # set by the first open_blob: only backups pay for the prefetch
        self._batch_media: list[MediaRecord] = []  # the current batch's media, until the first open_blob

    def entity_count(self) -> int:
        """Number of entities in the package."""
        q = select(func.count()).select_from(entity).where(entity.c.package_id == self._id)
        return int(self._conn.execute(q).scalar_one())

    def last_changed(self) -> datetime:
        """The latest of the package's ``updated``, entity and version creation, publish and collection
        times, in one query (draft pointer moves carry no time of their own in this store)."""
        pid = self._id
        e, v, log, col = entity, version, publish_log, collection
        in_package = e.c.package_id == pid
        q = select(
            package.c.created,
            package.c.updated,
            select(func.max(e.c.created)).where(in_package).scalar_subquery(),
            select(func.max(v.c.created)).join(e, e.c.id == v.c.entity_id).where(in_package).scalar_subquery(),
            select(func.max(log.c.published_at)).where(log.c.package_id == pid).scalar_subquery(),
            select(func.max(col.c.modified)).where(col.c.package_id == pid).scalar_subquery(),
        ).where(package.c.id == pid)
        times: list[datetime] = [when for when in self._conn.execute(q).one() if when is not None]
        return max(times)

    def iter_entities(self, *, history: History = "current", batch_size: int = 500) -> Iterator[EntityRecord]:
        """Every entity in ref order, ``batch_size`` entities (with their versions) per round of queries."""
        if history not in ("current", "all"):
            raise ValueError(f"history must be 'current' or 'all', not {history!r}")
        e, d, p = entity, draft, published
        base = (
            select(
                e.c.id, e.c.ref, e.c.kind, e.c.namespace, e.c.type, e.c.code, e.c.can_stand_alone,
                e.c.created, e.c.created_by,
                d.c.entity_id.label("d_row"), d.c.version_number.label("d_num"),
                p.c.entity_id.label("p_row"), p.c.version_number.label("p_num"),
            )
            .select_from(e.outerjoin(d, d.c.entity_id == e.c.id).outerjoin(p, p.c.entity_id == e.c.id))
            .where(e.c.package_id == self._id)
        )  # fmt: skip
        for rows in _pages(self._conn, base, e.c.ref, batch_size):
            yield from self._entities(rows, history)

    def _entities(self, rows: Sequence[Any], history: History) -> Iterator[EntityRecord]:
        versions = self._versions([r.id for r in rows], history)
        counts = self._version_counts([r.id for r in rows]) if history == "current" else {}
        batch_media = [m for vs in versions.values() for v in vs for m in v.media]
        if self._wants_blobs:
            self._prefetch(batch_media)
        else:
            self._batch_media = batch_media
        for r in rows:
            yield EntityRecord(
                ref=r.ref,
                kind=r.kind,
                namespace=r.namespace,
                type=r.type,
                code=r.code,
                can_stand_alone=bool(r.can_stand_alone),
                created=r.created,
                created_by=r.created_by,
                versions=tuple(versions.get(r.id, ())),
                draft=r.d_num,
                draft_deleted=r.d_row is not None and r.d_num is None,
                published=r.p_num,
                published_deleted=r.p_row is not None and r.p_num is None,
                version_count=counts.get(r.id, 0) if history == "current" else None,
            )

    def _version_counts(self, entity_ids: Sequence[int]) -> dict[int, int]:
        """Entity id -> how many versions it has (one grouped count per batch: exact v1 loss reports)."""
        q = (select(version.c.entity_id, func.count()).where(version.c.entity_id.in_(entity_ids))
             .group_by(version.c.entity_id))
        return {eid: int(n) for eid, n in self._conn.execute(q).all()}

    def _versions(self, entity_ids: Sequence[int], history: History) -> dict[int, list[VersionRecord]]:
        v = version
        cols = (v.c.id, v.c.entity_id, v.c.number, v.c.title, v.c.created, v.c.created_by)
        q = select(*cols).where(v.c.entity_id.in_(entity_ids)).order_by(v.c.entity_id, v.c.number)
        if history == "current":
            joined = v.outerjoin(draft, draft.c.entity_id == v.c.entity_id).outerjoin(
                published, published.c.entity_id == v.c.entity_id
            )
            q = q.select_from(joined).where(
                or_(draft.c.version_number == v.c.number, published.c.version_number == v.c.number)
            )
        vrows = self._conn.execute(q).all()
        media_of, children_of = self._contents([r[0] for r in vrows])
        out: dict[int, list[VersionRecord]] = defaultdict(list)
        no_media: list[MediaRecord] = []
        no_children: list[ChildRecord] = []
        for vid, eid, number, title, created, created_by in vrows:
            media_list = media_of.get(vid, no_media)
            child_list = children_of.get(vid, no_children)
            out[eid].append(VersionRecord(number, title, created, created_by, tuple(media_list), tuple(child_list)))
        return out

    def _contents(
        self, version_ids: Sequence[int]
    ) -> tuple[dict[int, list[MediaRecord]], dict[int, list[ChildRecord]]]:
        m, c = media, child
        media_of: dict[int, list[MediaRecord]] = defaultdict(list)
        children_of: dict[int, list[ChildRecord]] = defaultdict(list)
        for part in batched(version_ids, IN_LIMIT):
            mq = (
                select(m.c.version_id, m.c.path, m.c.sha256, blob.c.size, m.c.media_type, m.c.has_text,
                       m.c.has_file)
                .join(blob, blob.c.sha256 == m.c.sha256)
                .where(m.c.version_id.in_(part))
                .order_by(m.c.version_id, m.c.position)
            )  # fmt: skip
            for vid, path, sha, size, media_type, has_text, has_file in self._conn.execute(mq).all():
                media_of[vid].append(MediaRecord(path, sha, size, media_type, has_text, has_file))
            cq = (
                select(c.c.version_id, entity.c.ref, c.c.pinned_number)
                .join(entity, entity.c.id == c.c.child_entity_id)
                .where(c.c.version_id.in_(part))
                .order_by(c.c.version_id, c.c.position)
            )
            for vid, ref, pinned in self._conn.execute(cq).all():
                children_of[vid].append(ChildRecord(ref, pinned))
        return media_of, children_of

    def iter_collections(self, *, include_disabled: bool = True) -> Iterator[CollectionRecord]:
        """Collections in creation order, members sorted by ref."""
        col, cm = collection, collection_member
        base = select(col).where(col.c.package_id == self._id)
        if not include_disabled:
            base = base.where(col.c.enabled.is_(True))
        for rows in _pages(self._conn, base, col.c.id, _COLLECTION_PAGE):
            members: dict[int, list[str]] = defaultdict(list)
            for part in batched([r.id for r in rows], IN_LIMIT):
                q = (
                    select(cm.c.collection_id, entity.c.ref)
                    .join(entity, entity.c.id == cm.c.entity_id)
                    .where(cm.c.collection_id.in_(part))
                    .order_by(cm.c.collection_id, entity.c.ref)
                )
                for r in self._conn.execute(q).all():
                    members[r.collection_id].append(r.ref)
            for r in rows:
                yield CollectionRecord(
                    code=r.code,
                    title=r.title,
                    description=r.description,
                    enabled=bool(r.enabled),
                    created=r.created,
                    modified=r.modified,
                    created_by=r.created_by,
                    members=tuple(members.get(r.id, ())),
                )

    def iter_publish_log(self) -> Iterator[PublishLogRecord]:
        """Publish events oldest first, each with its entries in recorded order."""
        log, ent = publish_log, publish_log_entry
        for rows in _pages(self._conn, select(log).where(log.c.package_id == self._id), log.c.id, _LOG_PAGE):
            entries: dict[int, list[PublishLogEntry]] = defaultdict(list)
            q = (
                select(ent.c.log_id, entity.c.ref, ent.c.old_number, ent.c.new_number)
                .join(entity, entity.c.id == ent.c.entity_id)
                .where(ent.c.log_id.in_([r.id for r in rows]))
                .order_by(ent.c.log_id, ent.c.position)
            )
            for r in self._conn.execute(q):
                entries[r.log_id].append(PublishLogEntry(r.ref, r.old_number, r.new_number))
            for r in rows:
                yield PublishLogRecord(r.published_at, r.published_by, r.message, tuple(entries.get(r.id, ())))

    def _payload_index(self) -> list[tuple[int, str, str | None, int | None, int]]:
        """``(id, plugin, ref, version, schema_version)`` of every payload, sorted in code-point order
        (whatever the database's collation)."""
        q = (
            select(payload.c.id, payload.c.plugin, entity.c.ref, payload.c.version_number, payload.c.schema_version)
            .select_from(payload.outerjoin(entity, entity.c.id == payload.c.entity_id))
            .where(payload.c.package_id == self._id)
        )
        rows = [(r.id, r.plugin, r.ref, r.version_number, r.schema_version) for r in self._conn.execute(q)]
        return sorted(rows, key=lambda r: (r[1], r[2] or "", r[3] or 0))

    def iter_payloads(self) -> Iterator[PayloadRecord]:
        """Plugin payloads by plugin, entity ref (package scope first) and version (entity scope first).

        The index is read first; bodies are then fetched a page at a time.
        """
        for part in batched(self._payload_index(), _PAYLOAD_PAGE):
            bodies = {r[0]: r[1] for r in self._conn.execute(
                select(payload.c.id, payload.c.body).where(payload.c.id.in_([r[0] for r in part])))}
            for pid, plugin, ref, number, schema in part:
                yield PayloadRecord(plugin, schema, bytes(bodies[pid]), ref, number)

    def iter_payload_targets(self) -> Iterator[tuple[str, str | None, int | None]]:
        """The payloads' targets from the index alone, no body read."""
        for _, plugin, ref, number, _ in self._payload_index():
            yield plugin, ref, number

    def _prefetch(self, media_records: Iterable[MediaRecord]) -> None:
        """Load this batch's small blobs in a few queries, within :data:`_PREFETCH_BUDGET` bytes."""
        self._blob_cache = {}
        wanted: dict[str, None] = {}
        budget = _PREFETCH_BUDGET
        for m in media_records:
            if m.size <= _PREFETCH_MAX_BLOB and m.sha256 not in wanted and m.size <= budget:
                wanted[m.sha256] = None
                budget -= m.size
        for shas in batched(wanted, IN_LIMIT):
            q = select(blob_chunk.c.sha256, blob_chunk.c.data).where(
                blob_chunk.c.seq == 0, blob_chunk.c.sha256.in_(shas)
            )
            self._blob_cache.update((sha, bytes(data)) for sha, data in self._conn.execute(q))

    def open_blob(self, sha256: str) -> AbstractContextManager[BinaryIO]:
        """A buffered stream over one blob, fetched chunk by chunk; StoreError if there is none.

        Small blobs of the current entity batch come from a bounded prefetch made for the batch.
        """
        cached = self.blob_in_memory(sha256)
        if cached is not None:
            return nullcontext(io.BytesIO(cached))
        return open_blob(self._conn, sha256)

    def blob_in_memory(self, sha256: str) -> bytes | None:
        """The blob's bytes if this batch's prefetch holds them (the first call starts the prefetch)."""
        if not self._wants_blobs:  # the first blob a backup asks for: prefetch the rest of this batch too
            self._wants_blobs = True
            self._prefetch(self._batch_media)
            self._batch_media = []
        return self._blob_cache.get(sha256)
