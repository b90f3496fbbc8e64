"""Managing the SQL store's packages: list them with counts and sizes, delete one, rename one.

Package-internal: :class:`~lc_archive.stores.sql.SqlStore` calls these inside its transactions
(:class:`~lc_archive.stores.updates.ManagedStore` is the interface).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import batched
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from ..domain.syntax import check_ref
from ..errors import PackageExists, PackageNotFound
from ..faults import fault_point
from .blobs import IN_LIMIT
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
    parse_timestamp,
    payload,
    publish_log,
    publish_log_entry,
    published,
    version,
)
from .updates import DeleteResult, PackageInfo

__all__: list[str] = []


def package_id(conn: Connection, ref: str) -> int:
    """The id of the package ``ref``; PackageNotFound if there is none."""
    found = conn.execute(select(package.c.id).where(package.c.ref == ref)).scalar_one_or_none()
    if found is None:
        raise PackageNotFound(ref)
    return int(found)


def _per_package(conn: Connection, query: Select[Any]) -> dict[int, Any]:
    return {int(pid): value for pid, value in conn.execute(query)}


def package_infos(conn: Connection) -> list[PackageInfo]:
    """Every package with its counts, last change and size (a few grouped queries, whatever the count)."""
    e, v, col = entity, version, collection
    kinds: dict[tuple[int, str], int] = {
        (int(pid), kind): int(n)
        for pid, kind, n in conn.execute(select(e.c.package_id, e.c.kind, func.count()).group_by(e.c.package_id,
                                                                                                  e.c.kind))
    }
    versions = _per_package(conn, select(e.c.package_id, func.count()).select_from(v.join(e, e.c.id == v.c.entity_id))
                            .group_by(e.c.package_id))
    collections = _per_package(conn, select(col.c.package_id, func.count()).where(col.c.enabled.is_(True))
                               .group_by(col.c.package_id))
    times: list[dict[int, Any]] = [
        _per_package(conn, select(e.c.package_id, func.max(e.c.created)).group_by(e.c.package_id)),
        _per_package(conn, select(e.c.package_id, func.max(v.c.created)).select_from(v.join(e, e.c.id == v.c.entity_id))
                     .group_by(e.c.package_id)),
        _per_package(conn, select(publish_log.c.package_id, func.max(publish_log.c.published_at))
                     .group_by(publish_log.c.package_id)),
        _per_package(conn, select(col.c.package_id, func.max(col.c.modified)).group_by(col.c.package_id)),
    ]
    used = (select(e.c.package_id.label("pid"), media.c.sha256.label("sha")).distinct()
            .select_from(media.join(v, v.c.id == media.c.version_id).join(e, e.c.id == v.c.entity_id)).subquery())
    sizes = _per_package(conn, select(used.c.pid, func.sum(blob.c.size))
                         .select_from(used.join(blob, blob.c.sha256 == used.c.sha)).group_by(used.c.pid))
    out: list[PackageInfo] = []
    for row in conn.execute(select(package).order_by(package.c.ref)):
        pid = int(row.id)
        stamps: list[datetime] = [row.created, row.updated]
        stamps += [t[pid] for t in times if t.get(pid) is not None]
        out.append(PackageInfo(
            ref=row.ref, title=row.title, components=kinds.get((pid, "component"), 0),
            containers=kinds.get((pid, "container"), 0), collections=int(collections.get(pid, 0)),
            versions=int(versions.get(pid, 0)), last_changed=max(_as_datetime(s) for s in stamps),
            size=int(sizes.get(pid) or 0)))
    return out


def _as_datetime(value: Any) -> datetime:
    """Aggregates over timestamp columns come back as the stored text (no result type is applied)."""
    if isinstance(value, datetime):
        return value
    return parse_timestamp(str(value))


def delete_package(conn: Connection, ref: str) -> DeleteResult:
    """Delete the package ``ref`` and every blob no other package uses, inside the caller's transaction."""
    pid = package_id(conn, ref)
    ent_ids = select(entity.c.id).where(entity.c.package_id == pid).scalar_subquery()
    ver_ids = select(version.c.id).join(entity, entity.c.id == version.c.entity_id).where(
        entity.c.package_id == pid).scalar_subquery()
    n_entities = int(conn.execute(select(func.count()).select_from(entity).where(entity.c.package_id == pid))
                     .scalar_one())
    n_versions = int(conn.execute(select(func.count()).select_from(version).where(version.c.entity_id.in_(ent_ids)))
                     .scalar_one())
    candidates = sorted(conn.execute(select(media.c.sha256).distinct().where(media.c.version_id.in_(ver_ids)))
                        .scalars())
    log_ids = select(publish_log.c.id).where(publish_log.c.package_id == pid).scalar_subquery()
    col_ids = select(collection.c.id).where(collection.c.package_id == pid).scalar_subquery()
    steps: list[tuple[Any, ColumnElement[bool]]] = [
        (payload, payload.c.package_id == pid),
        (publish_log_entry, publish_log_entry.c.log_id.in_(log_ids)),
        (publish_log, publish_log.c.package_id == pid),
        (collection_member, collection_member.c.collection_id.in_(col_ids)),
        (collection, collection.c.package_id == pid),
        (child, child.c.version_id.in_(ver_ids)),
        (media, media.c.version_id.in_(ver_ids)),
        (draft, draft.c.entity_id.in_(ent_ids)),
        (published, published.c.entity_id.in_(ent_ids)),
        (version, version.c.entity_id.in_(ent_ids)),
        (entity, entity.c.package_id == pid),
        (package, package.c.id == pid),
    ]
    for table, where in steps:
        conn.execute(delete(table).where(where))
        fault_point("delete.rows")
    freed, freed_bytes = _free_blobs(conn, candidates)
    return DeleteResult(ref, n_entities, n_versions, freed, freed_bytes)


def _free_blobs(conn: Connection, candidates: Sequence[str]) -> tuple[int, int]:
    """Delete the blobs among ``candidates`` that no media row uses any more; return (count, bytes)."""
    count = size = 0
    for part in batched(candidates, IN_LIMIT):
        still = set(conn.execute(select(media.c.sha256).distinct().where(media.c.sha256.in_(part))).scalars())
        unused = [sha for sha in part if sha not in still]
        if not unused:
            continue
        size += int(conn.execute(select(func.coalesce(func.sum(blob.c.size), 0)).where(blob.c.sha256.in_(unused)))
                    .scalar_one())
        conn.execute(delete(blob_chunk).where(blob_chunk.c.sha256.in_(unused)))
        count += conn.execute(delete(blob).where(blob.c.sha256.in_(unused))).rowcount
        fault_point("delete.blobs")
    return count, size


def rename_package(conn: Connection, ref: str, new_ref: str) -> None:
    """Give the package ``ref`` the ref ``new_ref``, inside the caller's transaction."""
    check_ref(new_ref, what="package ref")  # InvalidRef: the one ref rule
    pid = package_id(conn, ref)
    if new_ref == ref:
        return
    if conn.execute(select(package.c.id).where(package.c.ref == new_ref)).first() is not None:
        raise PackageExists(f"learning package {new_ref!r} already exists in this store")
    try:
        with conn.begin_nested():
            conn.execute(update(package).where(package.c.id == pid).values(ref=new_ref))
    except IntegrityError as exc:  # a concurrent writer took the ref first (PostgreSQL)
        raise PackageExists(f"learning package {new_ref!r} already exists in this store") from exc
