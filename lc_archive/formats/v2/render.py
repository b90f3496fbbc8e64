"""Fast rendering of the v2 TOML documents (tomlkit is only the test oracle, never on this path).

Strings and datetimes are written by v1's helpers (:mod:`..v1.toml_render`): basic strings with
tomlkit's escapes, datetimes in UTC with ``Z`` (microseconds only when non-zero). Every document
has a fixed key order, tables are separated by one blank line, optional values that are absent
(``None``) are left out, and the text ends with one newline (an empty publish log is empty).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from ...domain import CONTAINER, CollectionRecord, EntityRecord, PackageRecord, PublishLogRecord
from ..toml_text import toml_datetime, toml_string
from .docs import FORMAT, FORMAT_VERSION

__all__ = ["render_collection", "render_entity", "render_package", "render_publish_log", "toml_datetime", "toml_string"]


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _optional(key: str, value: str | None) -> str:
    return "" if value is None else f"{key} = {toml_string(value)}\n"


def render_package(
    package: PackageRecord,
    *,
    created_at: datetime,
    created_by: str | None = None,
    origin_server: str | None = None,
) -> str:
    """``package.toml``: ``[meta]`` then ``[learning_package]``; blank ``created_by``/``origin_server``
    are left out."""
    return "".join((
        "[meta]\n",
        f"format = {toml_string(FORMAT)}\n",
        f"format_version = {FORMAT_VERSION}\n",
        f"created_at = {toml_datetime(created_at)}\n",
        _optional("created_by", created_by if created_by and created_by.strip() else None),
        _optional("origin_server", origin_server if origin_server and origin_server.strip() else None),
        "\n[learning_package]\n",
        f"ref = {toml_string(package.ref)}\n",
        f"title = {toml_string(package.title)}\n",
        f"description = {toml_string(package.description)}\n",
        f"created = {toml_datetime(package.created)}\n",
        f"updated = {toml_datetime(package.updated)}\n",
    ))  # fmt: skip


def _pointer(name: str, number: int | None, deleted: bool) -> str:
    if number is not None:
        return f"\n[entity.{name}]\nversion = {number}\n"
    if deleted:
        return f"\n[entity.{name}]\ndeleted = true\n"
    return ""


def render_entity(entity: EntityRecord) -> str:
    """An entity TOML: ``[entity]``, its pointers, then every version in ``entity.versions`` order.

    Components get ``namespace`` and ``[[version.media]]``; containers ``[[version.children]]``.
    """
    is_container = entity.kind == CONTAINER
    parts = [
        "[entity]\n",
        f"ref = {toml_string(entity.ref)}\n",
        f"kind = {toml_string(entity.kind)}\n",
    ]
    if not is_container:
        parts.append(f"namespace = {toml_string(entity.namespace)}\n")
    parts += [
        f"type = {toml_string(entity.type)}\n",
        f"code = {toml_string(entity.code)}\n",
        f"can_stand_alone = {_bool(entity.can_stand_alone)}\n",
        f"created = {toml_datetime(entity.created)}\n",
        _optional("created_by", entity.created_by),
        _pointer("draft", entity.draft, entity.draft_deleted),
        _pointer("published", entity.published, entity.published_deleted),
    ]
    for v in entity.versions:
        parts += [
            "\n[[version]]\n",
            f"number = {v.number}\n",
            f"title = {toml_string(v.title)}\n",
            f"created = {toml_datetime(v.created)}\n",
            _optional("created_by", v.created_by),
        ]
        if is_container:
            for c in v.children:
                parts.append(f"\n[[version.children]]\nref = {toml_string(c.ref)}\n")
                if c.pinned is not None:
                    parts.append(f"pinned = {c.pinned}\n")
        else:
            for m in v.media:
                parts.append(
                    f"\n[[version.media]]\npath = {toml_string(m.path)}\nsha256 = {toml_string(m.sha256)}\n"
                    f"size = {m.size}\nmedia_type = {toml_string(m.media_type)}\ntext = {_bool(m.has_text)}\n"
                    f"file = {_bool(m.has_file)}\n"
                )
    return "".join(parts)


def render_collection(collection: CollectionRecord) -> str:
    """A collection TOML; ``members`` one per line, in the order given (the writer sorts them)."""
    if collection.members:
        members = "members = [\n" + "".join(f"    {toml_string(ref)},\n" for ref in collection.members) + "]\n"
    else:
        members = "members = []\n"
    return "".join((
        "[collection]\n",
        f"code = {toml_string(collection.code)}\n",
        f"title = {toml_string(collection.title)}\n",
        f"description = {toml_string(collection.description)}\n",
        f"enabled = {_bool(collection.enabled)}\n",
        f"created = {toml_datetime(collection.created)}\n",
        f"modified = {toml_datetime(collection.modified)}\n",
        _optional("created_by", collection.created_by),
        members,
    ))  # fmt: skip


def render_publish(record: PublishLogRecord, *, first: bool) -> str:
    """One ``[[publish]]`` table with its ``[[publish.change]]`` tables."""
    parts = [
        "" if first else "\n",
        "[[publish]]\n",
        f"published_at = {toml_datetime(record.published_at)}\n",
        _optional("published_by", record.published_by),
        f"message = {toml_string(record.message)}\n",
    ]
    for e in record.entries:
        parts.append(f"\n[[publish.change]]\nref = {toml_string(e.ref)}\n")
        if e.old is not None:
            parts.append(f"old = {e.old}\n")
        if e.new is not None:
            parts.append(f"new = {e.new}\n")
    return "".join(parts)


def render_publish_log(records: Iterable[PublishLogRecord]) -> Iterator[str]:
    """``publish_log.toml`` a publish event at a time (oldest first, as the store yields them)."""
    first = True
    for record in records:
        yield render_publish(record, first=first)
        first = False
