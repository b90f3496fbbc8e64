"""The authoring API's working state: what it keeps of a package in memory, and its buffered writes.

:class:`Session` loads the package's entity pointers once, hands out ids, buffers entity, version,
media, child and draft rows and flushes them in bulk; :class:`~.author.Author` adds the verbs.
"""


from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import batched
from typing import Any

from sqlalchemy import Connection, Table, delete, func, insert, select

from ...errors import AuthoringError
from ..blobs import IN_LIMIT, BlobWriter
from ..schema import (
    child,
    collection,
    draft,
    entity,
    media,
    published,
    version,
)
from ..sql_sink import next_id

__all__ = ["Buffers", "Child", "Clock", "CollectionState", "EntityState", "MediaRow", "Session", "utcnow"]

Clock = Callable[[], datetime]
"""Returns "now" as an aware datetime."""

Child = str | tuple[str, int]
"""A container child: an entity ref (unpinned) or ``(ref, version number)`` (pinned)."""

_FLUSH_ROWS = 5000


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class MediaRow:
    sha256: str
    media_type: str
    has_text: bool
    has_file: bool


@dataclass(slots=True)
class EntityState:
    """In-memory state of one entity: pointers and a cache of its latest version's contents."""

    id: int
    ref: str
    kind: str
    type: str
    latest: int = 0
    has_draft: bool = False
    draft: int | None = None
    has_published: bool = False
    published: int | None = None
    media: dict[str, MediaRow] | None = None  # of version `cached`
    children: list[tuple[str, int | None]] | None = None  # of version `cached`
    cached: int = 0


@dataclass(slots=True)
class CollectionState:
    id: int
    enabled: bool
    members: set[int] | None = None  # entity ids, loaded lazily


@dataclass(slots=True)
class Buffers:
    entities: list[dict[str, Any]] = field(default_factory=list)
    versions: list[dict[str, Any]] = field(default_factory=list)
    media: list[dict[str, Any]] = field(default_factory=list)
    children: list[dict[str, Any]] = field(default_factory=list)
    drafts: set[str] = field(default_factory=set)




class Session:
    """One package being edited inside a write transaction: its loaded state and buffered rows."""

    def __init__(
        self,
        conn: Connection,
        package_id: int,
        package_ref: str,
        *,
        user: str | None = None,
        clock: Clock | None = None,
        new: bool = False,
    ) -> None:
        self.package_ref = package_ref
        self.user = user
        self._conn = conn
        self._package_id = package_id
        self._clock = clock or utcnow
        self._blobs = BlobWriter(conn)
        self._buf = Buffers()
        # SQLite: the write transaction holds the only write lock, so new ids can be assigned here and the
        # rows buffered; PostgreSQL: rows are inserted at once with RETURNING.
        self._next_ids: dict[str, int] | None = {} if conn.dialect.name == "sqlite" else None
        self._entities: dict[str, EntityState] = {}
        self._collections: dict[str, CollectionState] = {}
        if not new:
            self._load()

    # -- loading and flushing --------------------------------------------------------------------

    def _load(self) -> None:
        e, d, p, v = entity, draft, published, version
        latest = (
            select(v.c.entity_id, func.max(v.c.number).label("latest"))
            .join(e, e.c.id == v.c.entity_id)
            .where(e.c.package_id == self._package_id)
            .group_by(v.c.entity_id)
            .subquery()
        )
        q = (
            select(e.c.id, e.c.ref, e.c.kind, e.c.type, latest.c.latest, d.c.entity_id.label("d_row"),
                   d.c.version_number.label("d_num"), p.c.entity_id.label("p_row"),
                   p.c.version_number.label("p_num"))
            .select_from(
                e.outerjoin(latest, latest.c.entity_id == e.c.id)
                .outerjoin(d, d.c.entity_id == e.c.id)
                .outerjoin(p, p.c.entity_id == e.c.id)
            )
            .where(e.c.package_id == self._package_id)
        )  # fmt: skip
        for r in self._conn.execute(q):
            self._entities[r.ref] = EntityState(
                r.id, r.ref, r.kind, r.type, r.latest or 0,
                r.d_row is not None, r.d_num, r.p_row is not None, r.p_num,
            )  # fmt: skip
        cq = select(collection.c.code, collection.c.id, collection.c.enabled).where(
            collection.c.package_id == self._package_id
        )
        for cr in self._conn.execute(cq):
            self._collections[cr.code] = CollectionState(cr.id, bool(cr.enabled))

    def flush(self) -> None:
        """Write buffered blobs, media, children and draft pointers (done automatically at the end)."""
        self._blobs.flush()
        buf = self._buf
        for table, rows in ((entity, buf.entities), (version, buf.versions)):
            if rows:
                self._conn.execute(insert(table), rows)
                rows.clear()
        if buf.media:
            self._conn.execute(insert(media), buf.media)
            buf.media = []
        if buf.children:
            self._conn.execute(insert(child), buf.children)
            buf.children = []
        if buf.drafts:
            ents = [self._entities[ref] for ref in sorted(buf.drafts)]
            for part in batched((x.id for x in ents), IN_LIMIT):
                self._conn.execute(delete(draft).where(draft.c.entity_id.in_(part)))
            rows = [{"entity_id": x.id, "version_number": x.draft} for x in ents if x.has_draft]
            if rows:
                self._conn.execute(insert(draft), rows)
            buf.drafts = set()

    def _maybe_flush(self) -> None:
        buf = self._buf
        if len(buf.entities) + len(buf.versions) + len(buf.media) + len(buf.children) >= _FLUSH_ROWS:
            self.flush()

    # -- helpers ---------------------------------------------------------------------------------

    def _now(self, when: datetime | None = None) -> datetime:
        value = self._clock() if when is None else when
        if value.tzinfo is None or value.utcoffset() is None:
            raise AuthoringError(f"timestamp {value.isoformat()} must be timezone-aware")
        return value.astimezone(UTC)

    def _get(self, ref: str, kind: str | None = None) -> EntityState:
        ent = self._entities.get(ref)
        if ent is None:
            raise AuthoringError(f"no entity {ref!r} in {self.package_ref}")
        if kind is not None and ent.kind != kind:
            raise AuthoringError(f"{ref!r} is a {ent.kind}, not a {kind}")
        return ent

    def _has_version(self, ent: EntityState, number: int) -> bool:
        if number < 1 or number > ent.latest:
            return False
        if number == ent.latest:
            return True
        self.flush()
        where = (version.c.entity_id == ent.id) & (version.c.number == number)
        return self._conn.execute(select(version.c.id).where(where)).first() is not None

    def _next_number(self, ent: EntityState, force: int | None) -> int:
        if force is None:
            return ent.latest + 1
        if not isinstance(force, int) or force < 1:
            raise AuthoringError(f"version number must be >= 1, not {force!r}")
        if self._has_version(ent, force):
            raise AuthoringError(f"{ent.ref!r} already has version {force}")
        return force

    def _insert_entity(self, ref: str, *, kind: str, ns: str, type_: str, code: str, alone: bool, at: datetime) -> None:
        row = {
            "package_id": self._package_id, "ref": ref, "kind": kind, "namespace": ns, "type": type_,
            "code": code, "can_stand_alone": alone, "created": at, "created_by": self.user,
        }  # fmt: skip
        self._entities[ref] = EntityState(self._insert_row(entity, row, self._buf.entities), ref, kind, type_)

    def _insert_row(self, table: Table, row: dict[str, Any], pending: list[dict[str, Any]]) -> int:
        if self._next_ids is None:
            return int(self._conn.execute(insert(table).returning(table.c.id), row).scalar_one())
        new_id = self._next_ids.get(table.name)
        if new_id is None:
            new_id = next_id(self._conn, table)
        self._next_ids[table.name] = new_id + 1
        row["id"] = new_id
        pending.append(row)
        self._maybe_flush()
        return new_id

    def _insert_version(self, ent: EntityState, number: int, title: str, at: datetime) -> int:
        row = {"entity_id": ent.id, "number": number, "title": title, "created": at, "created_by": self.user}
        vid = self._insert_row(version, row, self._buf.versions)
        ent.has_draft, ent.draft = True, number
        self._buf.drafts.add(ent.ref)
        return vid

    def _media_of(self, ent: EntityState, number: int) -> dict[str, MediaRow]:
        if ent.cached == number and ent.media is not None:
            return ent.media
        self.flush()
        m, v = media, version
        q = (
            select(m.c.path, m.c.sha256, m.c.media_type, m.c.has_text, m.c.has_file)
            .join(v, v.c.id == m.c.version_id)
            .where(v.c.entity_id == ent.id, v.c.number == number)
            .order_by(m.c.position)
        )
        return {
            r.path: MediaRow(r.sha256, r.media_type, bool(r.has_text), bool(r.has_file)) for r in self._conn.execute(q)
        }

    def _children_of(self, ent: EntityState, number: int) -> list[tuple[str, int | None]]:
        if ent.cached == number and ent.children is not None:
            return ent.children
        self.flush()
        c, v = child, version
        q = (
            select(entity.c.ref, c.c.pinned_number)
            .join(v, v.c.id == c.c.version_id)
            .join(entity, entity.c.id == c.c.child_entity_id)
            .where(v.c.entity_id == ent.id, v.c.number == number)
            .order_by(c.c.position)
        )
        return [(r.ref, r.pinned_number) for r in self._conn.execute(q)]

