"""The SQL schema of the embedded store (SQLAlchemy Core), portable to SQLite and PostgreSQL.

Conventions:

* Every table is prefixed ``lc_`` so the store can share a PostgreSQL database with other software.
* Timestamps are stored as text in one canonical form, ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC, always six
  fraction digits), through :class:`UtcTimestamp`; they sort as text and round-trip exactly.
* ``ref`` columns compare in code-point order: SQLite's default ``BINARY`` collation, ``COLLATE "C"`` on
  PostgreSQL.
* ``lc_draft``/``lc_published``: no row means the entity never had one; a row whose ``version_number``
  is NULL is a soft-deleted draft or a published deletion.
* Blobs are content-addressed by SHA-256, stored once per store, as :data:`CHUNK_SIZE` chunks in
  ``lc_blob_chunk`` (inside the database, so a rolled-back transaction leaves none behind).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Dialect,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.types import TypeEngine

from ..domain.syntax import MAX_REF_LENGTH
from ..domain.text import MAX_CODE, MAX_MEDIA_TYPE, MAX_MESSAGE, MAX_TITLE, MAX_TYPE_NAME, MAX_USER

__all__ = [
    "CHUNK_SIZE",
    "SCHEMA_VERSION",
    "UtcTimestamp",
    "blob",
    "blob_chunk",
    "child",
    "collection",
    "collection_member",
    "draft",
    "entity",
    "format_timestamp",
    "media",
    "meta",
    "metadata",
    "package",
    "parse_timestamp",
    "publish_log",
    "publish_log_entry",
    "published",
    "version",
]

SCHEMA_VERSION = 2
"""The version of this schema, kept in ``lc_meta`` under ``schema_version``."""

CHUNK_SIZE = 1024 * 1024
"""Bytes per ``lc_blob_chunk`` row (the last chunk of a blob may be shorter)."""


def format_timestamp(value: datetime) -> str:
    """The canonical text form of an aware datetime, converted to UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} (timestamps must be timezone-aware)")
    v = value.astimezone(UTC)
    return f"{v.year:04d}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}.{v.microsecond:06d}Z"


def parse_timestamp(text: str) -> datetime:
    """Parse the canonical text form back into an aware UTC datetime."""
    return datetime.fromisoformat(text).astimezone(UTC)


class UtcTimestamp(TypeDecorator[datetime]):
    """An aware UTC datetime stored as canonical text (see :func:`format_timestamp`)."""

    impl = String(27)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> str | None:
        """Render a datetime as canonical text."""
        return None if value is None else format_timestamp(value)

    def process_result_value(self, value: object | None, dialect: Dialect) -> datetime | None:
        """Parse canonical text into an aware UTC datetime."""
        return None if value is None else parse_timestamp(str(value))


def _id() -> TypeEngine[int]:
    # BIGINT on PostgreSQL; INTEGER on SQLite so that the column aliases the rowid (autoincrement).
    return BigInteger().with_variant(Integer(), "sqlite")


def _ref() -> TypeEngine[str]:
    return String(MAX_REF_LENGTH).with_variant(String(MAX_REF_LENGTH, collation="C"), "postgresql")


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)
"""Every table of the store."""

meta = Table(
    "lc_meta",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", String(200), nullable=False),
)
"""Store-wide settings, e.g. ``schema_version``."""

package = Table(
    "lc_package",
    metadata,
    Column("id", _id(), primary_key=True, autoincrement=True),
    Column("ref", _ref(), nullable=False, unique=True),
    Column("title", String(MAX_TITLE), nullable=False),
    Column("description", Text, nullable=False),
    Column("created", UtcTimestamp, nullable=False),
    Column("updated", UtcTimestamp, nullable=False),
)
"""One row per learning package; ``ref`` is the package_ref, unique in the store."""

entity = Table(
    "lc_entity",
    metadata,
    Column("id", _id(), primary_key=True, autoincrement=True),
    Column("package_id", _id(), ForeignKey("lc_package.id"), nullable=False),
    Column("ref", _ref(), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("namespace", String(MAX_TYPE_NAME), nullable=False),
    Column("type", String(MAX_TYPE_NAME), nullable=False),
    Column("code", String(MAX_CODE), nullable=False),
    Column("can_stand_alone", Boolean, nullable=False),
    Column("created", UtcTimestamp, nullable=False),
    Column("created_by", String(MAX_USER)),
    UniqueConstraint("package_id", "ref"),
    CheckConstraint("kind IN ('component', 'container')", name="kind"),
)
"""Publishable entities (components and containers); ``ref`` is unique per package."""

version = Table(
    "lc_version",
    metadata,
    Column("id", _id(), primary_key=True, autoincrement=True),
    Column("entity_id", _id(), ForeignKey("lc_entity.id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("title", String(MAX_TITLE), nullable=False),
    Column("created", UtcTimestamp, nullable=False),
    Column("created_by", String(MAX_USER)),
    UniqueConstraint("entity_id", "number"),
    CheckConstraint("number >= 1", name="number"),
)
"""Immutable entity versions; ``number`` is unique per entity and >= 1."""

blob = Table(
    "lc_blob",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
)
"""Content-addressed blobs (SHA-256 hex), stored once per store."""

blob_chunk = Table(
    "lc_blob_chunk",
    metadata,
    Column("sha256", String(64), ForeignKey("lc_blob.sha256"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("data", LargeBinary, nullable=False),
)
"""The bytes of each blob, ``CHUNK_SIZE`` per row, ``seq`` from 0."""

media = Table(
    "lc_media",
    metadata,
    Column("version_id", _id(), ForeignKey("lc_version.id"), primary_key=True),
    Column("path", _ref(), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("sha256", String(64), ForeignKey("lc_blob.sha256"), nullable=False),
    Column("media_type", String(MAX_MEDIA_TYPE), nullable=False),
    Column("has_text", Boolean, nullable=False),
    Column("has_file", Boolean, nullable=False),
)
"""The files of a component version: path -> blob, in insertion order (``position``)."""

child = Table(
    "lc_child",
    metadata,
    Column("version_id", _id(), ForeignKey("lc_version.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("child_entity_id", _id(), ForeignKey("lc_entity.id"), nullable=False),
    Column("pinned_number", Integer),
)
"""The ordered children of a container version; ``pinned_number`` NULL means unpinned."""


def _pointer(name: str) -> Table:
    return Table(
        name,
        metadata,
        Column("entity_id", _id(), ForeignKey("lc_entity.id"), primary_key=True),
        Column("version_number", Integer),
        ForeignKeyConstraint(["entity_id", "version_number"], ["lc_version.entity_id", "lc_version.number"]),
    )


draft = _pointer("lc_draft")
"""The draft pointer: no row = never had a version; NULL ``version_number`` = soft-deleted."""
published = _pointer("lc_published")
"""The published pointer: no row = never published; NULL ``version_number`` = published deletion."""

collection = Table(
    "lc_collection",
    metadata,
    Column("id", _id(), primary_key=True, autoincrement=True),
    Column("package_id", _id(), ForeignKey("lc_package.id"), nullable=False),
    Column("code", String(MAX_CODE), nullable=False),
    Column("title", String(MAX_TITLE), nullable=False),
    Column("description", Text, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("created", UtcTimestamp, nullable=False),
    Column("modified", UtcTimestamp, nullable=False),
    Column("created_by", String(MAX_USER)),
    UniqueConstraint("package_id", "code"),
)
"""Collections (not versioned); ``enabled`` False means soft-deleted."""

collection_member = Table(
    "lc_collection_member",
    metadata,
    Column("collection_id", _id(), ForeignKey("lc_collection.id"), primary_key=True),
    Column("entity_id", _id(), ForeignKey("lc_entity.id"), primary_key=True),
)
"""Which entities belong to which collection."""

publish_log = Table(
    "lc_publish_log",
    metadata,
    Column("id", _id(), primary_key=True, autoincrement=True),
    Column("package_id", _id(), ForeignKey("lc_package.id"), nullable=False),
    Column("published_at", UtcTimestamp, nullable=False),
    Column("published_by", String(MAX_USER)),
    Column("message", String(MAX_MESSAGE), nullable=False),
    Index(None, "package_id", "id"),
)
"""Publish events, in ``id`` order."""

publish_log_entry = Table(
    "lc_publish_log_entry",
    metadata,
    Column("log_id", _id(), ForeignKey("lc_publish_log.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("entity_id", _id(), ForeignKey("lc_entity.id"), nullable=False),
    Column("old_number", Integer),
    Column("new_number", Integer),
    UniqueConstraint("log_id", "entity_id"),
)
"""The entities one publish changed: old/new version numbers (NULL: none or deletion)."""

payload = Table(
    "lc_payload",
    metadata,
    Column("id", _id(), primary_key=True, autoincrement=True),
    Column("package_id", _id(), ForeignKey("lc_package.id"), nullable=False),
    Column("plugin", String(64), nullable=False),
    Column("entity_id", _id(), ForeignKey("lc_entity.id")),
    Column("version_number", Integer),
    Column("schema_version", Integer, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Index(None, "package_id", "plugin", "entity_id", "version_number"),
)
"""Plugin payloads: one JSON document per (plugin, package | entity | version), kept byte for byte.

``entity_id`` NULL is package scope, ``version_number`` NULL entity scope. Added in schema version 2.
"""
