"""The SQL store's :class:`~lc_archive.stores.updates.PackageUpdater`: an import into an existing package.

Package-internal: :meth:`SqlStore.update <lc_archive.stores.sql.SqlStore.update>` is the way in. It
builds on the restore sink (:class:`~.sql_sink.SqlSink`), seeded with the package's entity ids, so new
entities, new versions and their children are written in bulk the same way; a ref that names an entity
added later in the same update is resolved by :meth:`finish`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from itertools import batched
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from ..domain import CollectionRecord, PayloadRecord, PublishLogRecord, VersionRecord
from ..errors import StoreError
from ..faults import fault_point
from .blobs import IN_LIMIT
from .bulk import insert_rows
from .schema import (
    collection,
    collection_member,
    draft,
    entity,
    package,
    payload,
    publish_log,
    publish_log_entry,
    published,
)
from .schema import version as version_table
from .sql_admin import package_id
from .sql_sink import SqlSink, insert_with_ids
from .sql_source import SqlSource
from .updates import NewVersion, PackageUpdater

__all__: list[str] = []

_BATCH = 500


def _entity_ids(conn: Connection, pid: int) -> dict[str, int]:
    return {ref: int(i) for ref, i in conn.execute(select(entity.c.ref, entity.c.id).where(entity.c.package_id == pid))}


class SqlUpdater(SqlSink, PackageUpdater):
    """Imports into one package inside the store's write transaction (see the module docstring)."""

    def __init__(self, conn: Connection, ref: str) -> None:
        pid = package_id(conn, ref)
        # The package row is locked for the whole import: two imports into one package wait for each other.
        conn.execute(select(package.c.id).where(package.c.id == pid).with_for_update())
        super().__init__(conn, pid, _entity_ids(conn, pid))
        self.source = SqlSource(conn, ref)

    def missing_blobs(self, shas: Collection[str]) -> set[str]:
        """The blobs among ``shas`` that the store holds neither stored nor queued."""
        return self._blobs.require(shas)

    def _ids_of(self, refs: Iterable[str]) -> list[int]:
        out = []
        for ref in refs:
            eid = self._ids.get(ref)
            if eid is None:
                raise StoreError(f"{ref!r} is not an entity of this package")
            out.append(eid)
        return out

    def _point(self, table: Any, pointers: list[tuple[int, int | None]]) -> None:
        """Set pointer rows (draft or published), creating the rows entities lack."""
        for part in batched(pointers, IN_LIMIT):
            self._conn.execute(delete(table).where(table.c.entity_id.in_([eid for eid, _ in part])))
            insert_rows(self._conn, table, [{"entity_id": eid, "version_number": n} for eid, n in part])

    def add_versions(self, versions: Iterable[NewVersion]) -> None:
        """Append versions (with media and children) to existing entities and move their drafts."""
        for batch in batched(versions, _BATCH):
            ids = self._ids_of(nv.ref for nv in batch)
            missing = self._blobs.require({m.sha256 for nv in batch for m in nv.version.media})
            if missing:
                raise StoreError(f"blob {sorted(missing)[0]} was never stored")
            self._blobs.flush()
            rows = [{"entity_id": eid, "number": nv.version.number, "title": nv.version.title,
                     "created": nv.version.created, "created_by": nv.version.created_by}
                    for nv, eid in zip(batch, ids, strict=True)]
            owners: list[VersionRecord] = [nv.version for nv in batch]
            self._add_contents(owners, insert_with_ids(self._conn, version_table, rows))
            self._point(draft, [(eid, nv.version.number) for nv, eid in zip(batch, ids, strict=True) if nv.draft])
            fault_point("update.versions")

    def soft_delete(self, refs: Iterable[str]) -> None:
        """Point these entities' drafts at no version."""
        for part in batched(refs, _BATCH):
            self._point(draft, [(eid, None) for eid in self._ids_of(part)])
            fault_point("update.soft_delete")

    def put_collections(self, collections: Iterable[CollectionRecord]) -> None:
        """Create the collections the package lacks, overwrite the others (creation time and author kept)."""
        col, cm = collection, collection_member
        existing = {code: int(cid) for code, cid in self._conn.execute(
            select(col.c.code, col.c.id).where(col.c.package_id == self._package_id))}
        new: list[CollectionRecord] = []
        for record in collections:
            cid = existing.get(record.code)
            if cid is None:
                new.append(record)
                continue
            self._conn.execute(update(col).where(col.c.id == cid).values(
                title=record.title, description=record.description, enabled=record.enabled,
                modified=record.modified))
            self._conn.execute(delete(cm).where(cm.c.collection_id == cid))
            self._members.extend((cid, ref) for ref in dict.fromkeys(record.members))
            fault_point("update.collection")
        self.add_collections(new)

    def put_payloads(self, payloads: Iterable[PayloadRecord]) -> None:
        """Replace (or add) each payload: its plugin's row for the same target goes first."""
        for batch in batched(payloads, _BATCH):
            self.finish()  # the versions named must be in place
            for p in batch:
                entity_id = None if p.entity is None else self._ids_of([p.entity])[0]
                c = payload.c
                self._conn.execute(delete(payload).where(
                    c.package_id == self._package_id, c.plugin == p.plugin,
                    c.entity_id.is_(None) if entity_id is None else c.entity_id == entity_id,
                    c.version_number.is_(None) if p.version is None else c.version_number == p.version))
            self.add_payloads(batch)

    def publish(self, refs: Iterable[str], event: PublishLogRecord) -> int:
        """Publish drafts that differ from their published versions; one log event for all of them."""
        self.finish()  # every pending row in place: the pointers read below are final
        d, p = draft, published
        changed: list[tuple[int, int | None, int | None]] = []
        for part in batched(self._ids_of(dict.fromkeys(refs)), IN_LIMIT):
            q = (select(entity.c.id, d.c.entity_id.label("d_row"), d.c.version_number.label("d_num"),
                        p.c.entity_id.label("p_row"), p.c.version_number.label("p_num"))
                 .select_from(entity.outerjoin(d, d.c.entity_id == entity.c.id)
                              .outerjoin(p, p.c.entity_id == entity.c.id))
                 .where(entity.c.id.in_(part)).order_by(entity.c.id))
            for r in self._conn.execute(q):
                if r.d_row is None:
                    continue
                if r.d_num is None and (r.p_row is None or r.p_num is None):
                    continue  # deleted and not published: nothing to publish
                if r.p_row is not None and r.p_num == r.d_num:
                    continue
                changed.append((int(r.id), r.p_num, r.d_num))
        if not changed:
            return 0
        log_id = self._conn.execute(insert(publish_log).returning(publish_log.c.id), {
            "package_id": self._package_id, "published_at": event.published_at, "published_by": event.published_by,
            "message": event.message}).scalar_one()
        insert_rows(self._conn, publish_log_entry, [
            {"log_id": log_id, "position": i, "entity_id": eid, "old_number": old, "new_number": new}
            for i, (eid, old, new) in enumerate(changed)])
        self._point(published, [(eid, new) for eid, _, new in changed])
        fault_point("update.published")
        return len(changed)

    def touch(self, updated: datetime) -> None:
        """Set the package's ``updated`` time."""
        self._conn.execute(update(package).where(package.c.id == self._package_id).values(updated=updated))
