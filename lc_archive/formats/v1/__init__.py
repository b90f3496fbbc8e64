"""The v1 archive format: the layout openedx-core 1.15.2 writes (``package.toml`` + ``entities/`` ...).

Writing: :func:`write_v1` (layout, order, timestamps), :mod:`.toml_render` (the TOML text),
:mod:`..naming` (file names, shared with v2). This module only re-exports.
"""

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

if TYPE_CHECKING:
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

_LAZY = {
    "MAX_STEM_BYTES": "..naming", "NameAllocator": "..naming", "hashed_name": "..naming", "slugify": "..naming",
    "EntityExtras": ".toml_render", "Extras": ".toml_render", "ExtraValue": ".toml_render",
    "render_collection": ".toml_render", "render_entity": ".toml_render", "render_package": ".toml_render",
    "written_versions": ".toml_render", "V1WriteStats": ".writer", "write_v1": ".writer",
}
"""The re-exports, imported on first use: a restore of a v1 archive needs none of the writer."""

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


__getattr__ = lazy_exports(globals(), _LAZY)
