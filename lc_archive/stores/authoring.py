"""A small authoring API over :class:`~lc_archive.stores.sql.SqlStore`, with openedx-core semantics.

Used by tests and the demo/benchmark generators::

    with store.author("lib:Org:LIB1", user="alice", create=dict(title="T", description="D")) as a:
        ref = a.create_component("xblock.v1", "html", "intro")          # "xblock.v1:html:intro"
        a.add_component_version(ref, {"block.xml": "<html/>", "static/a.png": b"..."}, title="Intro")
        unit = a.create_container("unit", "unit-1")
        a.add_container_version(unit, [ref], title="Unit 1")
        a.publish(message="Initial")

The whole ``with`` block is one write transaction. Inputs are validated before anything is written, so
an :class:`AuthoringError` caught inside the block leaves the transaction usable. The author keeps the
package's entity pointers in memory and buffers media, child and draft rows, so creating thousands of
components costs about two statements each.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import batched
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Table, delete, func, insert, select, update

from ..domain import (
    CHILD_RULES,
    COMPONENT,
    CONTAINER,
    PackageRecord,
    PayloadRecord,
    child_problem,
    component_ref,
    media_path_problem,
    media_type_for,
)
from ..domain.syntax import ASCII_CODE_RE, CODE_RE, MAX_CODE_LENGTH, PLUGIN_NAME_PATTERN, PLUGIN_NAME_RE
from ..errors import AuthoringError, PackageNotFound
from .blobs import IN_LIMIT, BlobWriter
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
from .sql_sink import create_package, next_id

if TYPE_CHECKING:
    from .sql import SqlStore

__all__ = ["Author", "AuthoringError", "Child", "Clock", "open_author"]

Clock = Callable[[], datetime]
"""Returns "now" as an aware datetime."""

Child = str | tuple[str, int]
"""A container child: an entity ref (unpinned) or ``(ref, version number)`` (pinned)."""

_FLUSH_ROWS = 5000


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class _Media:
    sha256: str
    media_type: str
    has_text: bool
    has_file: bool


@dataclass(slots=True)
class _Entity:
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
    media: dict[str, _Media] | None = None  # of version `cached`
    children: list[tuple[str, int | None]] | None = None  # of version `cached`
    cached: int = 0


@dataclass(slots=True)
class _Collection:
    id: int
    enabled: bool
    members: set[int] | None = None  # entity ids, loaded lazily


@dataclass(slots=True)
class _Buffers:
    entities: list[dict[str, Any]] = field(default_factory=list)
    versions: list[dict[str, Any]] = field(default_factory=list)
    media: list[dict[str, Any]] = field(default_factory=list)
    children: list[dict[str, Any]] = field(default_factory=list)
    drafts: set[str] = field(default_factory=set)


def _check_code(code: str, pattern: re.Pattern[str], what: str) -> None:
    if not isinstance(code, str) or len(code) > MAX_CODE_LENGTH or not pattern.match(code):
        raise AuthoringError(f"invalid {what} {code!r}: must match {pattern.pattern} (at most 255 characters)")


def _check_path(path: str) -> None:
    problem = media_path_problem(path) if isinstance(path, str) else f"media path {path!r} is not a string"
    if problem is not None:
        raise AuthoringError(f"invalid media path: {problem}")


def _check_envelope(record: PayloadRecord) -> None:
    """The body must be a JSON object whose envelope says what the record says (readers trust the body)."""
    try:
        doc = json.loads(record.body)
    except (ValueError, RecursionError) as exc:
        raise AuthoringError(f"a payload body must be a JSON document: {exc}") from None
    if not isinstance(doc, dict):
        raise AuthoringError("a payload body must be a JSON object")
    said = (doc.get("plugin"), doc.get("schema_version"), doc.get("entity"), doc.get("version"))
    meant = (record.plugin, record.schema_version, record.entity, record.version)
    if said != meant or not isinstance(doc.get("data"), dict):
        raise AuthoringError(f"the payload body's envelope (plugin, schema_version, entity, version) = {said} "
                             f"does not match the record's {meant}, or it has no 'data' object")


class Author:
    """Edits one package inside a write transaction; obtain one with ``SqlStore.author``."""

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
        self._clock = clock or _utcnow
        self._blobs = BlobWriter(conn)
        self._buf = _Buffers()
        # SQLite: the write transaction holds the only write lock, so new ids can be assigned here and the
        # rows buffered; PostgreSQL: rows are inserted at once with RETURNING.
        self._next_ids: dict[str, int] | None = {} if conn.dialect.name == "sqlite" else None
        self._entities: dict[str, _Entity] = {}
        self._collections: dict[str, _Collection] = {}
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
            self._entities[r.ref] = _Entity(
                r.id, r.ref, r.kind, r.type, r.latest or 0,
                r.d_row is not None, r.d_num, r.p_row is not None, r.p_num,
            )  # fmt: skip
        cq = select(collection.c.code, collection.c.id, collection.c.enabled).where(
            collection.c.package_id == self._package_id
        )
        for cr in self._conn.execute(cq):
            self._collections[cr.code] = _Collection(cr.id, bool(cr.enabled))

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

    def _get(self, ref: str, kind: str | None = None) -> _Entity:
        ent = self._entities.get(ref)
        if ent is None:
            raise AuthoringError(f"no entity {ref!r} in {self.package_ref}")
        if kind is not None and ent.kind != kind:
            raise AuthoringError(f"{ref!r} is a {ent.kind}, not a {kind}")
        return ent

    def _has_version(self, ent: _Entity, number: int) -> bool:
        if number < 1 or number > ent.latest:
            return False
        if number == ent.latest:
            return True
        self.flush()
        where = (version.c.entity_id == ent.id) & (version.c.number == number)
        return self._conn.execute(select(version.c.id).where(where)).first() is not None

    def _next_number(self, ent: _Entity, force: int | None) -> int:
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
        self._entities[ref] = _Entity(self._insert_row(entity, row, self._buf.entities), ref, kind, type_)

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

    def _insert_version(self, ent: _Entity, number: int, title: str, at: datetime) -> int:
        row = {"entity_id": ent.id, "number": number, "title": title, "created": at, "created_by": self.user}
        vid = self._insert_row(version, row, self._buf.versions)
        ent.has_draft, ent.draft = True, number
        self._buf.drafts.add(ent.ref)
        return vid

    def _media_of(self, ent: _Entity, number: int) -> dict[str, _Media]:
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
            r.path: _Media(r.sha256, r.media_type, bool(r.has_text), bool(r.has_file)) for r in self._conn.execute(q)
        }

    def _children_of(self, ent: _Entity, number: int) -> list[tuple[str, int | None]]:
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

    # -- components ------------------------------------------------------------------------------

    def create_component(
        self, namespace: str, type: str, code: str, *, can_stand_alone: bool = True, created: datetime | None = None
    ) -> str:
        """Create a component with no versions; return its ref ``namespace:type:code``."""
        if not namespace or len(namespace) > 100 or ":" in namespace:
            raise AuthoringError(f"invalid component namespace {namespace!r}")
        if len(type) > 100 or ":" in type:
            raise AuthoringError(f"invalid component type {type!r}")
        _check_code(code, CODE_RE, "component code")
        ref = component_ref(namespace, type, code)
        if ref in self._entities:
            raise AuthoringError(f"entity {ref!r} already exists")
        self._insert_entity(
            ref, kind=COMPONENT, ns=namespace, type_=type, code=code, alone=can_stand_alone, at=self._now(created)
        )
        return ref

    def add_component_version(
        self,
        ref: str,
        media_map: Mapping[str, str | bytes | None],
        *,
        title: str = "",
        created: datetime | None = None,
        replace: bool = False,
        media_types: Mapping[str, str] | None = None,
        force_number: int | None = None,
    ) -> int:
        """Add a version and point the draft at it; return its number.

        ``media_map`` maps paths to text (``str``), file bytes, or ``None`` (remove the path). Unless
        ``replace`` is true it is applied as a delta on the latest version's media.
        """
        ent = self._get(ref, COMPONENT)
        number = self._next_number(ent, force_number)
        at = self._now(created)
        files = {} if replace or ent.latest == 0 else dict(self._media_of(ent, ent.latest))
        types = media_types or {}
        staged: list[tuple[str, bytes | None, bool]] = []
        for path, value in media_map.items():
            _check_path(path)
            if value is None:
                staged.append((path, None, False))
            elif isinstance(value, str):
                staged.append((path, value.encode("utf-8"), True))
            elif isinstance(value, bytes | bytearray | memoryview):
                staged.append((path, bytes(value), False))
            else:
                raise AuthoringError(f"media {path!r} must be str, bytes or None, not {type(value).__name__}")
        for path, data, is_text in staged:
            if data is None:
                files.pop(path, None)
                continue
            sha, _ = self._blobs.put_bytes(data)
            mtype = types.get(path) or media_type_for(ent.type, path)
            files[path] = _Media(sha, mtype, is_text, not is_text)
        vid = self._insert_version(ent, number, title, at)
        self._buf.media.extend(
            {"version_id": vid, "path": p, "position": i, "sha256": m.sha256, "media_type": m.media_type,
             "has_text": m.has_text, "has_file": m.has_file}
            for i, (p, m) in enumerate(files.items())
        )  # fmt: skip
        if number > ent.latest:
            ent.latest, ent.cached, ent.media = number, number, files
        self._maybe_flush()
        return number

    # -- containers ------------------------------------------------------------------------------

    def create_container(
        self, type: str, code: str, *, can_stand_alone: bool = True, created: datetime | None = None
    ) -> str:
        """Create a unit, subsection or section with no versions; its ref is ``code``."""
        if type not in CHILD_RULES:
            raise AuthoringError(f"unknown container type {type!r} (use unit, subsection or section)")
        _check_code(code, CODE_RE, "container code")
        if code in self._entities:
            raise AuthoringError(f"entity {code!r} already exists")
        self._insert_entity(
            code, kind=CONTAINER, ns="", type_=type, code=code, alone=can_stand_alone, at=self._now(created)
        )
        return code

    def _resolve_child(self, parent: _Entity, item: Child) -> tuple[_Entity, int | None]:
        ref, pinned = (item, None) if isinstance(item, str) else item
        ent = self._get(ref)
        if child_problem(parent.type, ent.kind, ent.type) is not None:
            kind, type_ = CHILD_RULES[parent.type]
            wanted = type_ or kind
            actual = ent.kind if ent.kind == COMPONENT else ent.type
            raise AuthoringError(f"a {parent.type} can only contain {wanted}s; {ref!r} is a {actual}")
        if pinned is not None and not self._has_version(ent, pinned):
            raise AuthoringError(f"cannot pin {ref!r} to version {pinned}: no such version")
        return ent, pinned

    def add_container_version(
        self,
        ref: str,
        children: Sequence[Child] | None,
        *,
        title: str = "",
        created: datetime | None = None,
        force_number: int | None = None,
    ) -> int:
        """Add a version with these ordered children (``None`` keeps the latest version's); set the draft."""
        ent = self._get(ref, CONTAINER)
        number = self._next_number(ent, force_number)
        at = self._now(created)
        if children is None:
            resolved = [(self._get(r), p) for r, p in self._children_of(ent, ent.latest)] if ent.latest else []
        else:
            resolved = [self._resolve_child(ent, item) for item in children]
        vid = self._insert_version(ent, number, title, at)
        self._buf.children.extend(
            {"version_id": vid, "position": i, "child_entity_id": c.id, "pinned_number": pin}
            for i, (c, pin) in enumerate(resolved)
        )
        if number > ent.latest:
            ent.latest, ent.cached, ent.children = number, number, [(c.ref, pin) for c, pin in resolved]
        self._maybe_flush()
        return number

    # -- draft and publish -----------------------------------------------------------------------

    def soft_delete(self, ref: str) -> None:
        """Soft-delete the draft (the draft row stays, pointing at no version)."""
        ent = self._get(ref)
        ent.has_draft, ent.draft = True, None
        self._buf.drafts.add(ref)

    def set_draft(self, ref: str, number: int) -> None:
        """Point the draft at an existing version (e.g. to revert)."""
        ent = self._get(ref)
        if not isinstance(number, int) or number < 1:
            raise AuthoringError(f"version number must be >= 1, not {number!r}")
        if not self._has_version(ent, number):
            raise AuthoringError(f"{ref!r} has no version {number}")
        ent.has_draft, ent.draft = True, number
        self._buf.drafts.add(ref)

    @staticmethod
    def _differs(ent: _Entity) -> bool:
        if not ent.has_draft:
            return False
        if ent.draft is None:  # soft-deleted: publish only if something live is published
            return ent.has_published and ent.published is not None
        return not ent.has_published or ent.published != ent.draft

    def _with_dependencies(self, refs: Iterable[str]) -> list[_Entity]:
        """The entities named, plus the unpinned children of their drafts, recursively."""
        todo = [self._get(r) for r in refs]
        seen: dict[str, _Entity] = {}
        while todo:
            ent = todo.pop()
            if ent.ref in seen:
                continue
            seen[ent.ref] = ent
            if ent.kind == CONTAINER and ent.draft is not None:
                todo.extend(self._get(r) for r, pin in self._children_of(ent, ent.draft) if pin is None)
        return list(seen.values())

    def publish(
        self, message: str = "", refs: Iterable[str] | None = None, *, published_at: datetime | None = None
    ) -> int:
        """Publish every draft that differs from its published version; return how many changed.

        ``refs`` limits it to those entities and the unpinned children of their drafts. A soft-deleted
        draft becomes a published deletion. Writes one publish log (none when nothing changed).
        """
        at = self._now(published_at)
        candidates = list(self._entities.values()) if refs is None else self._with_dependencies(refs)
        changed = sorted((e for e in candidates if self._differs(e)), key=lambda e: e.id)
        if not changed:
            return 0
        self.flush()
        log_row = {"package_id": self._package_id, "published_at": at, "published_by": self.user, "message": message}
        log_id = self._conn.execute(insert(publish_log).returning(publish_log.c.id), log_row).scalar_one()
        entries = [
            {"log_id": log_id, "position": i, "entity_id": e.id, "old_number": e.published, "new_number": e.draft}
            for i, e in enumerate(changed)
        ]
        for rows in batched(entries, 10_000):
            self._conn.execute(insert(publish_log_entry), list(rows))
        for ids in batched((e.id for e in changed), IN_LIMIT):
            self._conn.execute(delete(published).where(published.c.entity_id.in_(ids)))
        for part in batched(changed, 10_000):
            self._conn.execute(insert(published), [{"entity_id": e.id, "version_number": e.draft} for e in part])
        for e in changed:
            e.has_published, e.published = True, e.draft
        return len(changed)

    # -- collections -----------------------------------------------------------------------------

    def create_collection(
        self, code: str, title: str, *, description: str = "", created: datetime | None = None
    ) -> None:
        """Create an (enabled, empty) collection."""
        _check_code(code, ASCII_CODE_RE, "collection code")
        if not title.strip():
            raise AuthoringError("a collection needs a title")
        if code in self._collections:
            raise AuthoringError(f"collection {code!r} already exists")
        at = self._now(created)
        row = {
            "package_id": self._package_id, "code": code, "title": title, "description": description,
            "enabled": True, "created": at, "modified": at, "created_by": self.user,
        }  # fmt: skip
        cid = self._conn.execute(insert(collection).returning(collection.c.id), row).scalar_one()
        self._collections[code] = _Collection(int(cid), True, set())

    def _collection(self, code: str) -> _Collection:
        coll = self._collections.get(code)
        if coll is None:
            raise AuthoringError(f"no collection {code!r} in {self.package_ref}")
        return coll

    def add_to_collection(self, code: str, refs: Iterable[str], *, modified: datetime | None = None) -> int:
        """Add entities to an enabled collection (existing members are ignored); return how many were new."""
        coll = self._collection(code)
        if not coll.enabled:
            raise AuthoringError(f"collection {code!r} is disabled")
        ents = [self._get(r) for r in refs]
        at = self._now(modified)
        if coll.members is None:
            q = select(collection_member.c.entity_id).where(collection_member.c.collection_id == coll.id)
            coll.members = set(self._conn.execute(q).scalars())
        new = [i for i in dict.fromkeys(e.id for e in ents) if i not in coll.members]
        if new:
            self.flush()
            self._conn.execute(insert(collection_member), [{"collection_id": coll.id, "entity_id": i} for i in new])
            coll.members.update(new)
        self._conn.execute(update(collection).where(collection.c.id == coll.id).values(modified=at))
        return len(new)

    def disable_collection(self, code: str, *, modified: datetime | None = None) -> None:
        """Soft-delete a collection (``enabled = False``); its members are kept."""
        coll = self._collection(code)
        at = self._now(modified)
        self._conn.execute(update(collection).where(collection.c.id == coll.id).values(enabled=False, modified=at))
        coll.enabled = False


    # -- plugin payloads -------------------------------------------------------------------------

    def set_payload(self, record: PayloadRecord) -> None:
        """Attach (or replace) one plugin payload; ``record.body`` is stored byte for byte.

        Build the record with ``Registry.encode_payload`` (typed records of an installed plugin), or
        pass bytes you already have. Version scope needs an existing version of the entity.
        """
        if not PLUGIN_NAME_RE.fullmatch(record.plugin):
            raise AuthoringError(f"plugin name {record.plugin!r} must match {PLUGIN_NAME_PATTERN}")
        if record.schema_version < 1:
            raise AuthoringError("a payload's schema_version is 1 or more")
        _check_envelope(record)
        entity_id = None
        if record.entity is not None:
            ent = self._get(record.entity)
            entity_id = ent.id
            if record.version is not None and not self._has_version(ent, record.version):
                raise AuthoringError(f"{record.entity!r} has no version {record.version}")
        elif record.version is not None:
            raise AuthoringError("a version-scoped payload needs an entity")
        self.flush()
        p = payload.c
        where = [p.package_id == self._package_id, p.plugin == record.plugin,
                 p.entity_id.is_(None) if entity_id is None else p.entity_id == entity_id,
                 p.version_number.is_(None) if record.version is None else p.version_number == record.version]
        self._conn.execute(delete(payload).where(*where))
        self._conn.execute(insert(payload).values(
            package_id=self._package_id, plugin=record.plugin, entity_id=entity_id, version_number=record.version,
            schema_version=record.schema_version, body=record.body))


@contextmanager
def open_author(
    store: SqlStore,
    ref: str,
    *,
    user: str | None = None,
    create: Mapping[str, str] | None = None,
    clock: Clock | None = None,
) -> Iterator[Author]:
    """An :class:`Author` for one package, in one write transaction that commits on normal exit."""
    now = clock or _utcnow
    with store.transaction(write=True) as conn:
        if create is not None:
            unknown = set(create) - {"title", "description"}
            if unknown:
                raise AuthoringError(f"create= takes title and description, not {sorted(unknown)}")
            title = create.get("title", "")
            if not title.strip():
                raise AuthoringError("a learning package needs a title")
            at = now()
            record = PackageRecord(ref, title, create.get("description", ""), at, at)
            author = Author(conn, create_package(conn, record), ref, user=user, clock=now, new=True)
        else:
            found = conn.execute(select(package.c.id).where(package.c.ref == ref)).scalar_one_or_none()
            if found is None:
                raise PackageNotFound(ref)
            author = Author(conn, int(found), ref, user=user, clock=now)
        yield author
        author.flush()
