"""The content model: pydantic models of a learning package and the field types they share."""

from .content import Child, Collection, Entity, Media, Package, PublishLog, PublishLogChange, Version
from .types import (
    AsciiCode,
    Code,
    ContainerType,
    Description,
    Ref,
    Title,
    UtcDatetime,
    VersionNumber,
    check_code,
    media_path_problem,
    to_utc,
)

__all__ = [
    "AsciiCode",
    "Child",
    "Code",
    "Collection",
    "ContainerType",
    "Description",
    "Entity",
    "Media",
    "Package",
    "PublishLog",
    "PublishLogChange",
    "Ref",
    "Title",
    "UtcDatetime",
    "Version",
    "VersionNumber",
    "check_code",
    "media_path_problem",
    "to_utc",
]
