"""The domain vocabulary: the one bottom layer that stores, archive I/O, formats and plugins import.

* :mod:`.records`: the records that flow through every layer (package, entity, version, media, child,
  collection, publish log, plugin payload);
* :mod:`.kinds`: entity kinds, container types and which children each holds, component refs;
* :mod:`.syntax`: code, ref and plugin-name syntax;
* :mod:`.media`: the media-path rule and media types;
* :mod:`.text`: the one text rule, what every supported store can hold (no NUL, column lengths);
* :mod:`.timestamps`: UTC and ``iso()``;
* :mod:`.fields`: the same rules as pydantic field types (imported on its own: it needs pydantic).
"""

from .kinds import (
    CHILD_RULES,
    COMPONENT,
    CONTAINER,
    CONTAINER_TYPES,
    ContainerType,
    EntityKind,
    child_problem,
    component_ref,
    entity_type,
    split_component_ref,
)
from .media import OLX_PATH, guess_media_type, media_path_problem, media_type_for, olx_media_type
from .records import (
    ChildRecord,
    CollectionRecord,
    ComponentFacts,
    EntityRecord,
    MediaRecord,
    PackageRecord,
    PayloadRecord,
    PublishLogEntry,
    PublishLogRecord,
    VersionRecord,
)
from .syntax import PLUGIN_NAME_PATTERN, PLUGIN_NAME_RE, check_code, code_problem, no_nul
from .timestamps import iso, to_utc

__all__ = [
    "CHILD_RULES",
    "COMPONENT",
    "CONTAINER",
    "CONTAINER_TYPES",
    "OLX_PATH",
    "PLUGIN_NAME_PATTERN",
    "PLUGIN_NAME_RE",
    "ChildRecord",
    "CollectionRecord",
    "ComponentFacts",
    "ContainerType",
    "EntityKind",
    "EntityRecord",
    "MediaRecord",
    "PackageRecord",
    "PayloadRecord",
    "PublishLogEntry",
    "PublishLogRecord",
    "VersionRecord",
    "check_code",
    "child_problem",
    "code_problem",
    "component_ref",
    "entity_type",
    "guess_media_type",
    "iso",
    "media_path_problem",
    "media_type_for",
    "no_nul",
    "olx_media_type",
    "split_component_ref",
    "to_utc",
]
