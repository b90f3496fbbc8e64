"""Where serializers come from: the ``lc_archive.serializers`` entry-point group.

:data:`BUILTINS` mirrors the ``[project.entry-points."lc_archive.serializers"]`` table of
``pyproject.toml`` (a test keeps the two equal): lc-archive's own serializers are declared in the same
group as any plugin's and loaded the same way, by their entry-point values, never imported directly.
:func:`discover` lists the installed entry points of the group one distribution at a time, so that
one broken distribution spoils none; a serializer that cannot be loaded becomes a
:class:`PluginFailure`.
"""

from __future__ import annotations

import importlib.metadata
import re
import weakref
from dataclasses import dataclass
from importlib.metadata import EntryPoint
from typing import Final

__all__ = [
    "BUILTINS",
    "DISTRIBUTION",
    "GROUP",
    "PluginFailure",
    "discover",
    "distribution_of",
    "entry_point_order",
    "normalize",
    "one_line",
    "shorten",
]

GROUP: Final = "lc_archive.serializers"
"""The entry-point group serializers are declared in."""

_MAX_REASON: Final = 300

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


@dataclass(frozen=True, slots=True)
class PluginFailure:
    """An entry point that could not be registered (or a note about lc-archive's own ones)."""

    name: str
    """The entry point's name: the id it claims (``plugin:tags``)."""
    entry_point: str
    """Its value, ``module:attribute`` (``lc_archive_tags:TagsSerializer``)."""
    distribution: str | None
    """The distribution that declares it, None when unknown."""
    reason: str
    """One line: ``ModuleNotFoundError: No module named 'x'``, ``missing required method load``."""

    @property
    def id(self) -> str:
        """The same as :attr:`name`."""
        return self.name

    def __str__(self) -> str:
        where = f" from {self.distribution}" if self.distribution else ""
        return f"{self.name} ({self.entry_point}{where}): {self.reason}"


def discover() -> tuple[list[EntryPoint], list[PluginFailure]]:
    """The installed entry points of :data:`GROUP`, one distribution at a time (one broken file spoils none).

    Distributions are deduplicated by normalized name, first on ``sys.path`` wins, as
    ``importlib.metadata.entry_points()`` does.
    """
    found: list[EntryPoint] = []
    failures: list[PluginFailure] = []
    seen: set[str] = set()
    for dist in importlib.metadata.distributions():
        try:
            # The name from the .dist-info folder, as importlib.metadata.entry_points() dedupes (no METADATA
            # parse per installed distribution: that was most of the discovery's time); else from METADATA.
            name = getattr(dist, "_normalized_name", None) or dist.name
        except Exception:
            name = None
        if isinstance(name, str):
            if normalize(name) in seen:
                continue
            seen.add(normalize(name))
        else:
            name = None
        try:
            found.extend(ep for ep in dist.entry_points if ep.group == GROUP)
        except Exception as exc:
            try:
                declares = f"[{GROUP}]" in (dist.read_text("entry_points.txt") or "")
            except Exception:
                declares = True
            if declares:
                failures.append(PluginFailure("(entry points)", "entry_points.txt", _display_name(dist, name),
                                              f"cannot read the distribution's entry points: {one_line(exc)}"))
    return found, failures


def _display_name(dist: importlib.metadata.Distribution, fallback: str | None) -> str | None:
    """The distribution's name as its METADATA spells it (read only to report a failure)."""
    try:
        name = dist.name
    except Exception:
        return fallback
    return name if isinstance(name, str) else fallback


def entry_point_order(ep: EntryPoint) -> tuple[bool, str, str, str]:
    distribution, _ = distribution_of(ep)
    normalized = normalize(distribution or "")
    return (normalized != DISTRIBUTION, normalized, ep.name, ep.value)


def distribution_of(ep: EntryPoint) -> tuple[str | None, str | None]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return None, None
    known = _NAMES.get(dist)
    if known is None:  # METADATA is parsed anew by every .name and .version: once per distribution here
        try:
            metadata = dist.metadata
            name, version = metadata["Name"], metadata["Version"]
        except Exception:  # broken metadata: the plugin still loads, unattributed
            name = version = None
        known = _NAMES[dist] = ((name if isinstance(name, str) else None),
                                (version if isinstance(version, str) else None))
    return known


_NAMES: weakref.WeakKeyDictionary[importlib.metadata.Distribution, tuple[str | None, str | None]] = \
    weakref.WeakKeyDictionary()
"""Name and version of each distribution seen (a registry sorts and loads its entry points by them)."""


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return shorten(f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__)


def shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 1] + "…"
