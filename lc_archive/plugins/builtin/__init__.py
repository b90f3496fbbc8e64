"""lc-archive's own serializers, registered through the ``lc_archive.serializers`` entry-point group.

:data:`BUILTINS` mirrors the ``[project.entry-points."lc_archive.serializers"]`` table of
``pyproject.toml`` (a test keeps the two equal). The registry loads them through the installed
entry points like any plugin's, and registers them from this table directly only when lc-archive's
own entry points are not installed (running from a source tree).
"""

from __future__ import annotations

from typing import Final

__all__ = ["BUILTINS", "DISTRIBUTION"]

DISTRIBUTION: Final = "lc-archive"
"""The distribution that declares the built-in entry points."""

BUILTINS: Final[dict[str, str]] = {
    "*": "lc_archive.plugins.builtin.components:AnyComponent",
    "xblock.v1:*": "lc_archive.plugins.builtin.components:XBlockComponent",
    "xblock.v1:problem": "lc_archive.plugins.builtin.components:ProblemComponent",
    "xblock.v1:html": "lc_archive.plugins.builtin.components:HtmlComponent",
    "xblock.v1:video": "lc_archive.plugins.builtin.components:VideoComponent",
    "container:unit": "lc_archive.plugins.builtin.containers:UnitContainer",
    "container:subsection": "lc_archive.plugins.builtin.containers:SubsectionContainer",
    "container:section": "lc_archive.plugins.builtin.containers:SectionContainer",
    "collection": "lc_archive.plugins.builtin.collection:Collections",
    "lc-archive.v1:code_library": "lc_archive.plugins.builtin.code_library:CodeLibraryComponent",
}
"""Built-in serializer id -> entry-point value (``module:Class``)."""
