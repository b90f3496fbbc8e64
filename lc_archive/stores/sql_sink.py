"""The SQL store's :class:`~lc_archive.stores.base.PackageSink`: one new package, written in bulk.

Writes run inside the store's write transaction. :func:`create_package` and :func:`next_id` are shared
with the authoring API; the sink itself is package-internal: :meth:`SqlStore.write
<lc_archive.stores.sql.SqlStore.write>` is the way in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import batched
from typing import Any

from sqlalchemy import Connection, Table, func, insert, select
from sqlalchemy.exc import IntegrityError

from ..domain import (
    CollectionRecord,
    EntityRecord,
    PackageRecord,
    PayloadRecord,
    PublishLogRecord,
    VersionRecord,
)
from ..domain.digests import IdsByText
from ..domain.spool import Spool
from ..errors import PackageExists, StoreError
from ..faults import fault_point
from .base import PackageSink
from .blobs import BlobWriter
from .bulk import insert_rows, reserve_ids
from .schema import (
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

__all__ = ["create_package", "insert_with_ids"]

_ENTITY_BATCH = 500


def create_package(conn: Connection, record: PackageRecord) -> int:
    """Insert a package row inside the caller's transaction; raise PackageExists if the ref is taken."""
    found = conn.execute(select(package.c.id).where(package.c.ref == record.ref)).first()
    if found is not None:
        raise PackageExists(f"learning package {record.ref!r} already exists in this store")
    row = {
        "ref": record.ref,
        "title": record.title,
        "description": record.description,
        "created": record.created,
        "updated": record.updated,
    }
    try:
        with conn.begin_nested():
            return int(conn.execute(insert(package).returning(package.c.id), row).scalar_one())
    except IntegrityError as exc:  # a concurrent writer created it first (PostgreSQL)
        raise PackageExists(f"learning package {record.ref!r} already exists in this store") from exc


def insert_with_ids(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows into a table with an integer ``id`` key; return the new ids in row order.

    The ids are reserved first (:func:`~.bulk.reserve_ids`: the table's sequence on PostgreSQL; on
    SQLite the ids after ``max(id)``, ours to assign since the write transaction holds the database's
    only write lock), then the rows go in bulk (:func:`~.bulk.insert_rows`: ``COPY`` on PostgreSQL).
    """
    ids = reserve_ids(conn, table, len(rows))
    for row, i in zip(rows, ids, strict=True):
        row["id"] = i
    insert_rows(conn, table, rows)
    return ids


def next_id(conn: Connection, table: Table) -> int:
    """``max(id) + 1`` of a table (1 when it is empty): the next id SQLite would assign."""
    return int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1


class SqlSink(PackageSink):
    """Writes one new package inside the store's write transaction, in bulk.

    Refs that name entities not added yet (container children, collection members, publish log
    entries) are kept in compact pending lists and resolved by :meth:`finish`.
    """

    def __init__(self, conn: Connection, package_id: int, known: dict[str, int] | None = None) -> None:
        """``known`` maps the refs of entities the package has already (an import) to their ids."""
        self._conn = conn
        self._package_id = package_id
        self._blobs = BlobWriter(conn)
        self._ids = IdsByText(known)  # ref -> entity id, ~56 bytes a ref
        # Children whose entity is not added yet (most of a package's, when containers come first): spooled
        # to disk until finish() resolves them.
        self._children: Spool[tuple[int, int, str, int | None]] = Spool()
        self._members: list[tuple[int, str]] = []
        self._entries: list[tuple[int, int, str, int | None, int | None]] = []

    def put_blob(self, chunks: Iterable[bytes]) -> tuple[str, int]:
        """Store a blob (deduplicated across the whole store)."""
        return self._blobs.put(chunks)

    def add_entities(self, entities: Iterable[EntityRecord]) -> None:
        """Insert entities with their versions, media, children and draft/published pointers."""
        for batch in batched(entities, _ENTITY_BATCH):
            self._add_batch(batch)

    def _add_batch(self, batch: tuple[EntityRecord, ...]) -> None:
        conn = self._conn
        self._check_batch(batch)
        rows = [
            {
                "package_id": self._package_id,
                "ref": e.ref,
                "kind": e.kind,
                "namespace": e.namespace,
                "type": e.type,
                "code": e.code,
                "can_stand_alone": e.can_stand_alone,
                "created": e.created,
                "created_by": e.created_by,
            }
            for e in batch
        ]
        ids = insert_with_ids(conn, entity, rows)
        fault_point("sink.entity_rows")
        owners: list[VersionRecord] = []
        vrows: list[dict[str, Any]] = []
        for e, eid in zip(batch, ids, strict=True):
            self._ids[e.ref] = eid
            for v in e.versions:
                owners.append(v)
                vrows.append(
                    {"entity_id": eid, "number": v.number, "title": v.title, "created": v.created,
                     "created_by": v.created_by}
                )  # fmt: skip
        if vrows:
            self._add_contents(owners, insert_with_ids(conn, version, vrows))
        fault_point("sink.version_rows")
        for table, attr, deleted in ((draft, "draft", "draft_deleted"), (published, "published", "published_deleted")):
            pointers = [
                {"entity_id": self._ids[e.ref], "version_number": getattr(e, attr)}
                for e in batch
                if getattr(e, attr) is not None or getattr(e, deleted)
            ]
            if pointers:
                insert_rows(conn, table, pointers)
        fault_point("sink.pointer_rows")

    def _check_batch(self, batch: tuple[EntityRecord, ...]) -> None:
        seen: set[str] = set()
        for e in batch:
            if e.ref in self._ids or e.ref in seen:
                raise StoreError(f"duplicate entity ref {e.ref!r}")
            seen.add(e.ref)
        shas = {m.sha256 for e in batch for v in e.versions for m in v.media}
        missing = self._blobs.require(shas)
        if missing:
            for e in batch:
                for v in e.versions:
                    for m in v.media:
                        if m.sha256 in missing:
                            raise StoreError(f"{e.ref} v{v.number} {m.path!r}: blob {m.sha256} was never stored")
        self._blobs.flush()

    def _add_contents(self, owners: list[VersionRecord], version_ids: Sequence[int]) -> None:
        mrows: list[dict[str, Any]] = []
        crows: list[dict[str, Any]] = []
        for v, vid in zip(owners, version_ids, strict=True):
            for pos, m in enumerate(v.media):
                mrows.append(
                    {"version_id": vid, "path": m.path, "position": pos, "sha256": m.sha256,
                     "media_type": m.media_type, "has_text": m.has_text, "has_file": m.has_file}
                )  # fmt: skip
            for pos, c in enumerate(v.children):
                cid = self._ids.get(c.ref)
                if cid is None:
                    self._children.append((vid, pos, c.ref, c.pinned))
                else:
                    crows.append(_child_row(vid, pos, cid, c.pinned))
        insert_rows(self._conn, media, mrows)
        insert_rows(self._conn, child, crows)

    def add_collections(self, collections: Iterable[CollectionRecord]) -> None:
        """Insert collections; members are resolved now or, if not added yet, by :meth:`finish`."""
        for batch in batched(collections, _ENTITY_BATCH):
            rows = [
                {"package_id": self._package_id, "code": c.code, "title": c.title,
                 "description": c.description, "enabled": c.enabled, "created": c.created,
                 "modified": c.modified, "created_by": c.created_by}
                for c in batch
            ]  # fmt: skip
            for c, cid in zip(batch, insert_with_ids(self._conn, collection, rows), strict=True):
                self._members.extend((cid, ref) for ref in dict.fromkeys(c.members))
            fault_point("sink.collection_rows")
        self._flush_resolved()

    def add_publish_log(self, records: Iterable[PublishLogRecord]) -> None:
        """Append publish events; entry refs are resolved now or by :meth:`finish`."""
        for batch in batched(records, 100):
            rows = [
                {"package_id": self._package_id, "published_at": r.published_at,
                 "published_by": r.published_by, "message": r.message}
                for r in batch
            ]  # fmt: skip
            for r, lid in zip(batch, insert_with_ids(self._conn, publish_log, rows), strict=True):
                self._entries.extend((lid, pos, e.ref, e.old, e.new) for pos, e in enumerate(r.entries))
            self._flush_resolved()

    def add_payloads(self, payloads: Iterable[PayloadRecord]) -> None:
        """Insert plugin payloads (bodies byte for byte); their entities must be known already."""
        for batch in batched(payloads, 500):
            rows = []
            for p in batch:
                entity_id = None
                if p.entity is not None:
                    entity_id = self._ids.get(p.entity)
                    if entity_id is None:
                        raise StoreError(f"plugin payload {p.plugin!r} names {p.entity!r}, not an entity here")
                rows.append({"package_id": self._package_id, "plugin": p.plugin, "entity_id": entity_id,
                             "version_number": p.version, "schema_version": p.schema_version, "body": p.body})
            insert_rows(self._conn, payload, rows)
            fault_point("sink.payloads")

    def _flush_resolved(self) -> None:
        """Insert the pending member and log-entry rows whose refs are known, keep the rest."""
        members = [m for m in self._members if m[1] in self._ids]
        if members:
            self._members = [m for m in self._members if m[1] not in self._ids]
            self._insert(collection_member, ({"collection_id": c, "entity_id": self._ids[r]} for c, r in members))
        entries = [x for x in self._entries if x[2] in self._ids]
        if entries:
            self._entries = [x for x in self._entries if x[2] not in self._ids]
            self._insert(publish_log_entry, (_entry_row(x, self._ids[x[2]]) for x in entries))

    def finish(self) -> None:
        """Resolve every pending ref (StoreError naming the first unknown one) and flush blobs."""
        self._blobs.flush()
        for what, refs in (
            ("container child", (x[2] for batch in self._children.batches() for x in batch)),
            ("collection member", (x[1] for x in self._members)),
            ("publish log entry", (x[2] for x in self._entries)),
        ):
            for ref in refs:
                if ref not in self._ids:
                    raise StoreError(f"{what} {ref!r} is not an entity of this package")
        ids = self._ids
        self._insert(child, (_child_row(v, pos, ids[ref], pin) for batch in self._children.batches()
                             for v, pos, ref, pin in batch))
        self._children.close()
        self._children = Spool()
        self._flush_resolved()
        fault_point("sink.finished")

    def _insert(self, table: Table, rows: Iterable[dict[str, Any]]) -> None:
        for part in batched(rows, 10_000):
            insert_rows(self._conn, table, part)


def _child_row(version_id: int, position: int, entity_id: int, pinned: int | None) -> dict[str, Any]:
    return {"version_id": version_id, "position": position, "child_entity_id": entity_id, "pinned_number": pinned}


def _entry_row(x: tuple[int, int, str, int | None, int | None], entity_id: int) -> dict[str, Any]:
    return {"log_id": x[0], "position": x[1], "entity_id": entity_id, "old_number": x[3], "new_number": x[4]}
