"""The learning-package content model: pydantic models with openedx-core's rules.

These models describe content, not site identity: no database ids, uuids or e-mail addresses. They
validate data coming from archives and convert to and from the store records
(``lc_archive.stores.records``) with ``from_record``/``to_record``.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..stores.records import (
    ChildRecord,
    CollectionRecord,
    EntityRecord,
    MediaRecord,
    PackageRecord,
    PublishLogEntry,
    PublishLogRecord,
    VersionRecord,
)
from .types import AsciiCode, Description, Ref, Title, UtcDatetime, VersionNumber, check_code, media_path_problem

__all__ = [
    "Child",
    "Collection",
    "Entity",
    "Media",
    "Package",
    "PublishLog",
    "PublishLogChange",
    "Version",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")
SHA256_PATTERN = r"^[0-9a-f]{64}$"


class Package(BaseModel):
    """A learning package (content library): its ref, title, description and timestamps."""

    model_config = _FROZEN
    ref: Ref
    title: Title = Field(min_length=1)
    description: Description = ""
    created: UtcDatetime
    updated: UtcDatetime

    def to_record(self) -> PackageRecord:
        """The store record."""
        return PackageRecord(self.ref, self.title, self.description, self.created, self.updated)

    @classmethod
    def from_record(cls, r: PackageRecord) -> Self:
        """Build from a store record."""
        return cls(ref=r.ref, title=r.title, description=r.description, created=r.created, updated=r.updated)


class Media(BaseModel):
    """One file of a component version: its path, blob hash and size, media type and storage mode."""

    model_config = _FROZEN
    path: str = Field(min_length=1, max_length=500)
    sha256: str = Field(pattern=SHA256_PATTERN)
    size: int = Field(ge=0, le=50_000_000)
    media_type: str = Field(min_length=3, max_length=255)
    has_text: bool = False
    has_file: bool = True

    @model_validator(mode="after")
    def _check(self) -> Self:
        problem = media_path_problem(self.path)
        if problem:
            raise ValueError(problem)
        if not (self.has_text or self.has_file):
            raise ValueError("media must be stored as text, as a file, or both")
        return self


class Child(BaseModel):
    """A container child: an entity ref, optionally pinned to one version number."""

    model_config = _FROZEN
    ref: Ref
    pinned: VersionNumber | None = None


class Version(BaseModel):
    """An immutable version of an entity."""

    model_config = _FROZEN
    number: VersionNumber
    title: Title = ""
    created: UtcDatetime
    created_by: str | None = None
    media: tuple[Media, ...] = ()
    children: tuple[Child, ...] = ()

    @model_validator(mode="after")
    def _unique_paths(self) -> Self:
        paths = [m.path for m in self.media]
        if len(paths) != len(set(paths)):
            dupes = sorted({p for p in paths if paths.count(p) > 1})
            raise ValueError(f"media paths repeat: {dupes}")
        return self


class Entity(BaseModel):
    """A publishable entity (component or container) with its versions and draft/published state.

    ``draft is None and draft_deleted`` is a soft-deleted draft; ``published is None and
    published_deleted`` a published deletion. A pointer names a version present in ``versions``.
    """

    model_config = _FROZEN
    ref: Ref
    kind: Literal["component", "container"]
    namespace: str = Field(max_length=100)
    type: str = Field(max_length=100)
    code: str
    can_stand_alone: bool = True
    created: UtcDatetime
    created_by: str | None = None
    versions: tuple[Version, ...] = ()
    draft: VersionNumber | None = None
    draft_deleted: bool = False
    published: VersionNumber | None = None
    published_deleted: bool = False

    @model_validator(mode="after")
    def _check(self) -> Self:
        check_code(self.code)
        if self.kind == "container":
            if self.type not in ("unit", "subsection", "section"):
                raise ValueError(f"unknown container type {self.type!r}")
            if any(v.media for v in self.versions):
                raise ValueError("a container version cannot have media")
        elif any(v.children for v in self.versions):
            raise ValueError("a component version cannot have children")
        numbers = [v.number for v in self.versions]
        if len(numbers) != len(set(numbers)):
            raise ValueError(f"version numbers repeat: {sorted(n for n in set(numbers) if numbers.count(n) > 1)}")
        for name in ("draft", "published"):
            n = getattr(self, name)
            if n is not None and n not in numbers:
                raise ValueError(f"{name} points at version {n}, which is not present")
            if n is not None and getattr(self, f"{name}_deleted"):
                raise ValueError(f"{name} cannot both point at version {n} and be deleted")
        return self

    def to_record(self) -> EntityRecord:
        """The store record."""
        return EntityRecord(
            ref=self.ref, kind=self.kind, namespace=self.namespace, type=self.type, code=self.code,
            can_stand_alone=self.can_stand_alone, created=self.created, created_by=self.created_by,
            versions=tuple(_version_record(v) for v in sorted(self.versions, key=lambda v: v.number)),
            draft=self.draft, draft_deleted=self.draft_deleted,
            published=self.published, published_deleted=self.published_deleted,
        )

    @classmethod
    def from_record(cls, r: EntityRecord) -> Self:
        """Build (and validate) from a store record."""
        return cls(
            ref=r.ref, kind=r.kind, namespace=r.namespace, type=r.type, code=r.code,
            can_stand_alone=r.can_stand_alone, created=r.created, created_by=r.created_by,
            versions=tuple(_version_model(v) for v in r.versions),
            draft=r.draft, draft_deleted=r.draft_deleted, published=r.published,
            published_deleted=r.published_deleted,
        )


class Collection(BaseModel):
    """A collection of entities (not versioned); ``enabled=False`` is a soft-deleted collection."""

    model_config = _FROZEN
    code: AsciiCode
    title: Title = Field(min_length=1)
    description: Description = ""
    enabled: bool = True
    created: UtcDatetime
    modified: UtcDatetime
    created_by: str | None = None
    members: tuple[Ref, ...] = ()

    def to_record(self) -> CollectionRecord:
        """The store record (members sorted, duplicates removed)."""
        return CollectionRecord(
            self.code, self.title, self.description, self.enabled, self.created, self.modified,
            self.created_by, tuple(sorted(set(self.members))),
        )

    @classmethod
    def from_record(cls, r: CollectionRecord) -> Self:
        """Build from a store record."""
        return cls(code=r.code, title=r.title, description=r.description, enabled=r.enabled,
                   created=r.created, modified=r.modified, created_by=r.created_by, members=r.members)


class PublishLogChange(BaseModel):
    """One entity changed by a publish: old and new version numbers (None: none, or a deletion)."""

    model_config = _FROZEN
    ref: Ref
    old: VersionNumber | None
    new: VersionNumber | None


class PublishLog(BaseModel):
    """A publish event: when, by whom, the message, and the entities it changed."""

    model_config = _FROZEN
    published_at: UtcDatetime
    published_by: str | None = None
    message: str = Field(default="", max_length=500)
    changes: tuple[PublishLogChange, ...] = ()

    def to_record(self) -> PublishLogRecord:
        """The store record."""
        return PublishLogRecord(self.published_at, self.published_by, self.message,
                                tuple(PublishLogEntry(c.ref, c.old, c.new) for c in self.changes))

    @classmethod
    def from_record(cls, r: PublishLogRecord) -> Self:
        """Build from a store record."""
        return cls(published_at=r.published_at, published_by=r.published_by, message=r.message,
                   changes=tuple(PublishLogChange(ref=e.ref, old=e.old, new=e.new) for e in r.entries))


def _version_record(v: Version) -> VersionRecord:
    return VersionRecord(
        number=v.number, title=v.title, created=v.created, created_by=v.created_by,
        media=tuple(MediaRecord(m.path, m.sha256, m.size, m.media_type, m.has_text, m.has_file) for m in v.media),
        children=tuple(ChildRecord(c.ref, c.pinned) for c in v.children),
    )


def _version_model(v: VersionRecord) -> Version:
    return Version(
        number=v.number, title=v.title, created=v.created, created_by=v.created_by,
        media=tuple(Media(path=m.path, sha256=m.sha256, size=m.size, media_type=m.media_type,
                          has_text=m.has_text, has_file=m.has_file) for m in v.media),
        children=tuple(Child(ref=c.ref, pinned=c.pinned) for c in v.children),
    )


