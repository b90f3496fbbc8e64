"""The v1 archive format: the layout openedx-core 1.15.2 writes (``package.toml`` + ``entities/`` ...).

Writing: :func:`write_v1` (layout, order, timestamps), :mod:`.toml_render` (the TOML text),
:mod:`..naming` (file names, shared with v2). This module only re-exports.
"""

from ..naming import MAX_STEM_BYTES, NameAllocator, hashed_name, slugify
from .toml_render import (
    EntityExtras,
    Extras,
    ExtraValue,
    render_collection,
    render_entity,
    render_package,
    written_versions,
)
from .writer import V1WriteStats, write_v1

__all__ = [
    "MAX_STEM_BYTES",
    "EntityExtras",
    "ExtraValue",
    "Extras",
    "NameAllocator",
    "V1WriteStats",
    "hashed_name",
    "render_collection",
    "render_entity",
    "render_package",
    "slugify",
    "write_v1",
    "written_versions",
]
