"""Plain records that cross the store interface.

These are the rows of a learning package, shaped for streaming: one :class:`EntityRecord` carries an
entity with its versions, media and children, so a reader can hand a whole entity to a writer without
further queries. They are the model that flows through every layer: archive readers build them (after
validating their documents with the format's pydantic models, :mod:`.fields`), stores keep them,
writers render them. They do no validation themselves: the rules live in :mod:`.kinds`,
:mod:`.syntax` and :mod:`.media`.

Timestamps are timezone-aware UTC ``datetime`` objects. ``created_by`` fields are user names, or
``None`` when unknown; site identities (ids, uuids, emails) never appear here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from operator import attrgetter

from .kinds import EntityKind

__all__ = [
    "ChildRecord",
    "CollectionRecord",
    "ComponentFacts",
    "EntityRecord",
    "MediaRecord",
    "PackageRecord",
    "PayloadRecord",
    "PublishLogEntry",
    "PublishLogRecord",
    "VersionRecord",
]


@dataclass(frozen=True, slots=True)
class PackageRecord:
    """A learning package's own fields (``ref`` is the package_ref, e.g. ``lib:Org:LIB1``)."""

    ref: str
    title: str
    description: str
    created: datetime
    updated: datetime


@dataclass(frozen=True, slots=True)
class MediaRecord:
    """One file of a component version: ``path`` (e.g. ``block.xml``, ``static/a.png``) -> blob.

    ``has_text``/``has_file`` mirror openedx-core's Media storage modes (text, file, or both).
    """

    path: str
    sha256: str
    size: int
    media_type: str
    has_text: bool = False
    has_file: bool = True


@dataclass(frozen=True, slots=True)
class ChildRecord:
    """One row of a container version's ordered child list; ``pinned`` is a version number or None."""

    ref: str
    pinned: int | None = None


@dataclass(frozen=True, slots=True)
class ComponentFacts:
    """Facts a component serializer derives from a version's OLX and media, never read from an archive.

    ``display_name``, ``is_scorable`` and ``max_score`` come from the OLX root (None: the serializer
    cannot tell). ``files`` lists the files inside a code library's zip; ``imports`` the top-level
    Python modules a problem's scripts import (how a problem depends on a code library).
    """

    display_name: str | None = None
    is_scorable: bool | None = None
    max_score: float | None = None
    files: tuple[str, ...] = ()
    imports: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VersionRecord:
    """An immutable version of an entity. Components have ``media``, containers ``children``.

    ``facts`` is filled by archive readers (derived from the OLX by the component's serializer) and
    is not part of the content: it never takes part in comparisons and stores do not keep it.
    """

    number: int
    title: str
    created: datetime
    created_by: str | None = None
    media: tuple[MediaRecord, ...] = ()
    children: tuple[ChildRecord, ...] = ()
    facts: ComponentFacts | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class EntityRecord:
    """A publishable entity with its versions and its draft/published pointers.

    ``kind`` is ``component`` or ``container``. For components ``namespace``/``type``/``code`` are the
    ComponentType namespace and name and the component_code; for containers ``namespace`` is ``""``,
    ``type`` the container type (``unit``, ``subsection``, ``section``) and ``code`` the container_code.

    Draft pointer states: ``draft`` set (normal); ``draft is None and draft_deleted`` (soft-deleted:
    the Draft row exists and points at nothing); ``draft is None and not draft_deleted`` (no Draft
    row: the entity never had a version). Published works the same way, ``published_deleted`` being
    a published deletion.

    ``versions`` holds the versions a reader chose to include (all, or only draft and published),
    in ascending number order.
    """

    ref: str
    kind: EntityKind
    namespace: str
    type: str
    code: str
    can_stand_alone: bool
    created: datetime
    created_by: str | None = None
    versions: tuple[VersionRecord, ...] = ()
    draft: int | None = None
    draft_deleted: bool = False
    published: int | None = None
    published_deleted: bool = False
    version_count: int | None = field(default=None, compare=False)
    """How many versions the entity has where it was read from, when ``versions`` may hold fewer (a store
    read for the current versions only); None when unknown or when ``versions`` holds them all."""

    def version(self, number: int | None) -> VersionRecord | None:
        """The included version with that number, if any."""
        if number is None:
            return None
        for v in self.versions:
            if v.number == number:
                return v
        return None


@dataclass(frozen=True, slots=True)
class CollectionRecord:
    """A collection (not versioned). ``members`` are entity refs, sorted."""

    code: str
    title: str
    description: str
    enabled: bool
    created: datetime
    modified: datetime
    created_by: str | None = None
    members: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PublishLogEntry:
    """One entity changed by a publish: ``old``/``new`` version numbers (None = none / deletion)."""

    ref: str
    old: int | None
    new: int | None


@dataclass(frozen=True, slots=True)
class PublishLogRecord:
    """One publish event of the package."""

    published_at: datetime
    published_by: str | None
    message: str
    entries: tuple[PublishLogEntry, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class PayloadRecord:
    """One plugin payload: a JSON document a plugin attached to the package, an entity or a version.

    ``body`` is the document's exact bytes (the archive member): stores keep it byte for byte, so data
    of a plugin that is not installed travels unchanged. ``plugin``/``schema_version``/``entity``/
    ``version`` repeat what the document's envelope says, for indexing. ``entity`` None is package scope;
    ``version`` None (with an entity) is entity scope.
    """

    plugin: str
    schema_version: int
    body: bytes
    entity: str | None = None
    version: int | None = None

    @property
    def target(self) -> tuple[str, str, int]:
        """A sort key: package scope first, then by entity ref, entity scope before its versions."""
        return (self.plugin, self.entity or "", self.version or 0)


def _fast_pickling(cls: type) -> None:
    """Pickle ``cls`` as a call with its fields in order (what a restore plan's spool does for every
    record), instead of the generic state dict of a slotted dataclass, which rebuilds its field list for
    every object pickled and unpickled (several times slower)."""
    values = attrgetter(*(f.name for f in fields(cls)))

    def __reduce__(self: object) -> tuple[type, tuple[object, ...]]:
        return cls, values(self)

    cls.__reduce__ = __reduce__  # type: ignore[assignment,method-assign]


for _record in (PackageRecord, MediaRecord, ChildRecord, ComponentFacts, VersionRecord, EntityRecord,
                CollectionRecord, PublishLogEntry, PublishLogRecord, PayloadRecord):
    _fast_pickling(_record)
del _record
