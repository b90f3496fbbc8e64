"""Pydantic models of the three v1 TOML documents, exactly as openedx-core 1.15.2 writes them.

Validation errors carry TOML paths (``$.version[1].version_num``). Unknown keys are allowed and
ignored: they are v1's extension points (``docs/formats/v1.md``). Types are strict where openedx-core's own
reader silently misbehaves: a version number must be a TOML integer, a flag a TOML boolean.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictStr

from ...domain.fields import AsciiCode, Ref, UtcDatetime, VersionNumber
from ...domain.syntax import no_nul

__all__ = [
    "CollectionDoc",
    "EntityDoc",
    "PackageDoc",
    "VersionTable",
]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


NonBlank = Annotated[StrictStr, AfterValidator(_not_blank), AfterValidator(no_nul)]
Text = Annotated[StrictStr, AfterValidator(no_nul)]
_OPEN = ConfigDict(extra="allow", frozen=True)


class MetaTable(BaseModel):
    """``[meta]`` of package.toml: who made the backup, when, and the format version."""

    model_config = _OPEN
    format_version: Annotated[int, Field(strict=True)]
    created_at: UtcDatetime
    created_by: StrictStr | None = None
    created_by_email: StrictStr | None = None
    origin_server: StrictStr | None = None


class LearningPackageTable(BaseModel):
    """``[learning_package]`` of package.toml."""

    model_config = _OPEN
    title: Annotated[NonBlank, Field(max_length=500)]
    key: Ref
    description: Annotated[Text, Field(max_length=10_000)]
    created: UtcDatetime
    updated: UtcDatetime | None = None


class PackageDoc(BaseModel):
    """package.toml."""

    model_config = _OPEN
    meta: MetaTable
    learning_package: LearningPackageTable


class VersionPointer(BaseModel):
    """``[entity.draft]`` / ``[entity.published]``; an empty table means "no version"."""

    model_config = _OPEN
    version_num: VersionNumber | None = None


class EntityTable(BaseModel):
    """``[entity]``: the publishable entity and its draft/published pointers."""

    model_config = _OPEN
    can_stand_alone: StrictBool
    key: Ref
    created: UtcDatetime
    draft: VersionPointer | None = None
    published: VersionPointer | None = None
    container: dict[str, Any] | None = None


class VersionContainerTable(BaseModel):
    """``[version.container]``: the ordered child refs (pins are not part of v1)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    children: list[Ref]


class VersionTable(BaseModel):
    """One ``[[version]]``. ``created`` is optional (openedx-core honours it when present)."""

    model_config = _OPEN
    title: Annotated[Text, Field(max_length=500)]
    version_num: VersionNumber
    created: UtcDatetime | None = None
    container: VersionContainerTable | None = None


class EntityDoc(BaseModel):
    """A component or container TOML file."""

    model_config = _OPEN
    entity: EntityTable
    version: list[VersionTable] = Field(default_factory=list)


class CollectionTable(BaseModel):
    """``[collection]``."""

    model_config = _OPEN
    title: Annotated[NonBlank, Field(max_length=500)]
    key: AsciiCode
    description: Annotated[Text, Field(max_length=10_000)]
    created: UtcDatetime | None = None
    entities: list[Ref]


class CollectionDoc(BaseModel):
    """A collection TOML file."""

    model_config = _OPEN
    collection: CollectionTable
