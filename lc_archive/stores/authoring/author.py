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

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from itertools import batched
from typing import Protocol

from sqlalchemy import Connection, delete, insert, select, update

from ...domain import (
    CHILD_RULES,
    COMPONENT,
    CONTAINER,
    PackageRecord,
    PayloadRecord,
    child_problem,
    component_ref,
    media_type_for,
)
from ...domain.syntax import ASCII_CODE_RE, CODE_RE, PLUGIN_NAME_PATTERN, PLUGIN_NAME_RE, check_ref
from ...errors import AuthoringError, PackageNotFound
from ..blobs import IN_LIMIT
from ..schema import (
    collection,
    collection_member,
    package,
    payload,
    publish_log,
    publish_log_entry,
    published,
)
from ..sql_sink import create_package
from .inputs import check_code, check_envelope, check_path
from .session import Child, Clock, CollectionState, EntityState, MediaRow, Session, utcnow

__all__ = ["Author", "Transactional", "open_author"]


class Transactional(Protocol):
    """A store that runs one transaction (:meth:`SqlStore.transaction <lc_archive.stores.sql.SqlStore.transaction>`)."""

    def transaction(self, *, write: bool) -> AbstractContextManager[Connection]: ...


class Author(Session):
    """Edits one package inside a write transaction; obtain one with ``SqlStore.author``."""

    # -- components ------------------------------------------------------------------------------

    def create_component(
        self, namespace: str, type: str, code: str, *, can_stand_alone: bool = True, created: datetime | None = None
    ) -> str:
        """Create a component with no versions; return its ref ``namespace:type:code``."""
        if not namespace or len(namespace) > 100 or ":" in namespace:
            raise AuthoringError(f"invalid component namespace {namespace!r}")
        if len(type) > 100 or ":" in type:
            raise AuthoringError(f"invalid component type {type!r}")
        check_code(code, CODE_RE, "component code")
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
            check_path(path)
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
            files[path] = MediaRow(sha, mtype, is_text, not is_text)
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
        check_code(code, CODE_RE, "container code")
        if code in self._entities:
            raise AuthoringError(f"entity {code!r} already exists")
        self._insert_entity(
            code, kind=CONTAINER, ns="", type_=type, code=code, alone=can_stand_alone, at=self._now(created)
        )
        return code

    def _resolve_child(self, parent: EntityState, item: Child) -> tuple[EntityState, int | None]:
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
    def _differs(ent: EntityState) -> bool:
        if not ent.has_draft:
            return False
        if ent.draft is None:  # soft-deleted: publish only if something live is published
            return ent.has_published and ent.published is not None
        return not ent.has_published or ent.published != ent.draft

    def _with_dependencies(self, refs: Iterable[str]) -> list[EntityState]:
        """The entities named, plus the unpinned children of their drafts, recursively."""
        todo = [self._get(r) for r in refs]
        seen: dict[str, EntityState] = {}
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
        check_code(code, ASCII_CODE_RE, "collection code")
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
        self._collections[code] = CollectionState(int(cid), True, set())

    def _collection(self, code: str) -> CollectionState:
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
        check_envelope(record)
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
    store: Transactional,
    ref: str,
    *,
    user: str | None = None,
    create: Mapping[str, str] | None = None,
    clock: Clock | None = None,
) -> Iterator[Author]:
    """An :class:`Author` for one package, in one write transaction that commits on normal exit."""
    now = clock or utcnow
    with store.transaction(write=True) as conn:
        if create is not None:
            check_ref(ref, what="package ref")  # InvalidRef: the one ref rule
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
