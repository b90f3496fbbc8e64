"""Pydantic models of the v2 documents: four TOML kinds (package, entity, collection, publish log)
and the JSON manifest. ``docs/formats/v2/schema/*.json`` are generated from them (:mod:`.schema`).

Strict everywhere (``strict=True``): an integer must be a TOML/JSON integer, a flag a boolean, a
timestamp a TOML offset date-time (a string that looks like one, or a local date-time without
offset, is refused). **Unknown keys are refused**, in every table, with one exception: every table
may hold an ``x`` table, reserved for extensions. Readers of this version accept anything inside
``x`` and ignore it; a later writer may put data there that older readers can safely skip. Data that
older readers must not skip needs a new ``format_version`` instead.

Validation errors carry TOML paths (``$.version[2].media[0].sha256``), through
:func:`~lc_archive.formats.v1.docs.problems_from`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from ...domain.fields import (
    AsciiCode,
    Code,
    ContainerType,
    Description,
    MediaPath,
    Ref,
    Title,
    UtcDatetime,
    VersionNumber,
)
from ...domain.syntax import ASCII_CODE_PATTERN
from ...domain.text import MAX_MEDIA_TYPE, MAX_MESSAGE, MAX_TYPE_NAME, MAX_USER
from ...parsing.documents import problems_from, toml_path
from .detect import FORMAT

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "SHA256_PATTERN",
    "ChildTable",
    "CollectionDoc",
    "CollectionTable",
    "ComponentDoc",
    "ComponentEntityTable",
    "ComponentVersionTable",
    "ContainerDoc",
    "ContainerEntityTable",
    "ContainerVersionTable",
    "LearningPackageTable",
    "ManifestDoc",
    "ManifestMember",
    "MediaTable",
    "MetaTable",
    "PackageDoc",
    "PointerTable",
    "PublishChangeTable",
    "PublishLogDoc",
    "PublishTable",
    "Timestamp",
    "problems_from",
    "toml_path",
]

FORMAT_VERSION = 2
"""The format version this module describes."""
SHA256_PATTERN = r"^[0-9a-f]{64}$"


def _offset_datetime(value: object) -> object:
    if not isinstance(value, datetime):
        raise ValueError(f"expected a TOML offset date-time such as 2025-01-31T09:00:00Z, got {type(value).__name__}")
    if value.tzinfo is None:
        raise ValueError("a local date-time has no UTC offset; write it with Z or +HH:MM")
    return value


def _folder_name(value: str) -> str:
    if value in (".", "..") or any(c in value for c in "/\\\x00"):
        raise ValueError(f"{value!r} cannot be a folder name")
    return value


Timestamp = Annotated[UtcDatetime, BeforeValidator(_offset_datetime)]
"""A point in time: a TOML offset date-time, normalized to UTC (written with `Z`)."""
Sha256 = Annotated[str, Field(pattern=SHA256_PATTERN)]
User = Annotated[str, Field(max_length=MAX_USER)]
"""A user name (never an e-mail address or an id), as long as the store's column (openedx-core's)."""
TypeName = Annotated[str, Field(min_length=1, max_length=MAX_TYPE_NAME), AfterValidator(_folder_name)]
Size = Annotated[int, Field(ge=0)]
Extension = dict[str, Any]

_STRICT = ConfigDict(extra="forbid", frozen=True, strict=True, use_attribute_docstrings=True)


class _Table(BaseModel):
    model_config = _STRICT
    x: Extension | None = None
    """Reserved for extensions: any keys; readers of this version ignore them."""


# -- package.toml ------------------------------------------------------------------------------------


class MetaTable(_Table):
    """`[meta]`: which format this is and when the backup was made."""

    format: Literal["lc-archive"]
    """Always `lc-archive`."""
    format_version: Annotated[int, Field(ge=1)]
    """2 for this version; a reader refuses versions it does not know."""
    created_at: Timestamp
    """When the backup was made (the one value that is not derived from the content)."""
    created_by: User | None = None
    """Who made the backup (a user name), when known."""
    origin_server: Annotated[str, Field(max_length=255)] | None = None
    """The host the content came from, when known."""


class LearningPackageTable(_Table):
    """`[learning_package]`: the package itself."""

    ref: Ref
    """The package ref (`lib:Org:CODE`); a restore may put the package under another ref."""
    title: Title
    description: Description
    created: Timestamp
    updated: Timestamp


class PackageDoc(_Table):
    """`package.toml`."""

    meta: MetaTable
    learning_package: LearningPackageTable


# -- entity TOMLs ------------------------------------------------------------------------------------


class PointerTable(_Table):
    """`[entity.draft]` / `[entity.published]`: `version = N`, or `deleted = true`.

    The table is absent when the entity never had that pointer. `deleted = true` on the draft is a
    soft-deleted draft; on the published side, a published deletion.
    """

    version: VersionNumber | None = None
    """The version the pointer names (it must be one of the entity's `[[version]]` tables)."""
    deleted: Literal[True] | None = None
    """The pointer exists but names no version."""

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if (self.version is None) == (self.deleted is None):
            raise ValueError("give exactly one of `version = N` and `deleted = true`")
        return self


class _EntityTable(_Table):
    ref: Ref
    """The entity ref, unique in the package: the identity of the entity (never the file name)."""
    code: Annotated[Code, Field(min_length=1, max_length=255)]
    """The component or container code: letters, digits, `_`, `.` and `-` (Unicode letters too)."""
    can_stand_alone: bool
    created: Timestamp
    created_by: User | None = None
    draft: PointerTable | None = None
    published: PointerTable | None = None


class ComponentEntityTable(_EntityTable):
    """`[entity]` of a component."""

    kind: Literal["component"]
    namespace: TypeName
    """The component type's namespace, e.g. `xblock.v1`."""
    type: TypeName
    """The component type's name, e.g. `html`."""


class ContainerEntityTable(_EntityTable):
    """`[entity]` of a container."""

    kind: Literal["container"]
    type: ContainerType


class _VersionTable(_Table):
    number: VersionNumber
    title: Title
    created: Timestamp
    created_by: User | None = None


class MediaTable(_Table):
    """`[[version.media]]`: one file of a component version; its bytes are the blob `sha256`."""

    path: Annotated[MediaPath, Field(min_length=1, max_length=500)]
    """Relative path in the version (`block.xml`, `static/img/a.png`)."""
    sha256: Sha256
    """SHA-256 of the bytes (lowercase hex): the key of the blob in manifest.json."""
    size: Size
    """Size of the bytes."""
    media_type: Annotated[str, Field(min_length=1, max_length=MAX_MEDIA_TYPE)]
    """The stored media type (`image/png`, `application/vnd.openedx.xblock.v1.html+xml`)."""
    text: bool
    """Stored as text (openedx-core `Media.text`)."""
    file: bool
    """Stored as a file (openedx-core `Media.has_file`)."""


class ChildTable(_Table):
    """`[[version.children]]`: one child of a container version, in order."""

    ref: Ref
    pinned: VersionNumber | None = None
    """A version number of the child, or absent: the child's current version."""


class ComponentVersionTable(_VersionTable):
    """`[[version]]` of a component."""

    media: list[MediaTable] = Field(default_factory=list)


class ContainerVersionTable(_VersionTable):
    """`[[version]]` of a container."""

    children: list[ChildTable] = Field(default_factory=list)


class ComponentDoc(_Table):
    """`entities/<namespace>/<type>/<stem>.toml`: a component with every version."""

    entity: ComponentEntityTable
    version: list[ComponentVersionTable] = Field(default_factory=list)


class ContainerDoc(_Table):
    """`entities/<stem>.toml`: a container with every version."""

    entity: ContainerEntityTable
    version: list[ContainerVersionTable] = Field(default_factory=list)


# -- collections/<stem>.toml -------------------------------------------------------------------------


class CollectionTable(_Table):
    """`[collection]`."""

    code: Annotated[AsciiCode, Field(min_length=1, max_length=255, pattern=ASCII_CODE_PATTERN)]
    """The collection code: ASCII letters, digits, `_`, `.` and `-`."""
    title: Title
    description: Description
    enabled: bool
    """`false`: the collection is disabled (soft-deleted)."""
    created: Timestamp
    modified: Timestamp
    created_by: User | None = None
    members: list[Ref] = Field(default_factory=list)
    """Entity refs, sorted in code-point order, each once."""


class CollectionDoc(_Table):
    """`collections/<stem>.toml`."""

    collection: CollectionTable


# -- publish_log.toml --------------------------------------------------------------------------------


class PublishChangeTable(_Table):
    """`[[publish.change]]`: one entity a publish changed."""

    ref: Ref
    old: VersionNumber | None = None
    """The published version before (absent: none)."""
    new: VersionNumber | None = None
    """The published version after (absent: a published deletion)."""


class PublishTable(_Table):
    """`[[publish]]`: one publish event."""

    published_at: Timestamp
    published_by: User | None = None
    message: Annotated[str, Field(max_length=MAX_MESSAGE)]
    change: list[PublishChangeTable] = Field(default_factory=list)


class PublishLogDoc(_Table):
    """`publish_log.toml`: every publish event of the package, oldest first."""

    publish: list[PublishTable] = Field(default_factory=list)


# -- manifest.json -----------------------------------------------------------------------------------


class ManifestMember(_Table):
    """One member of the archive."""

    name: Annotated[str, Field(min_length=1)]
    size: Size
    sha256: Sha256


class ManifestDoc(_Table):
    """`manifest.json`: the last member; lists every other member, in archive order."""

    format: Literal["lc-archive"]
    format_version: Annotated[int, Field(ge=1)]
    members: list[ManifestMember]
