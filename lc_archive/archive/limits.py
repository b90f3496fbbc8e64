"""Resource limits applied to every archive before and while it is read: one settings object.

Every archive is hostile until proven otherwise, so each limit is checked against the *declared*
values in the central directory before anything is inflated, and again against the bytes actually
produced while streaming; content limits (TOML size and nesting, OLX size, media size) are checked
in phase A, before anything is written. The defaults are sized for the largest real library we
expect (about 100,000 components) with headroom, and explained in ``docs/decisions/0002-limits.md``;
callers with other needs pass their own :class:`Limits` (``restore(..., limits=)``,
``validate(..., limits=)``), and the CLI has one flag per field (``--max-members``,
``--max-member-size 128MiB``, ...).

Usage::

    limits = DEFAULT_LIMITS.replace(max_members=5_000, max_member_size=parse_size("128MiB"))
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["DEFAULT_LIMITS", "LIMIT_HELP", "Limits", "limit_unit", "parse_count", "parse_limit", "parse_size"]

_KIB = 1024
_MIB = 1024 * _KIB
_GIB = 1024 * _MIB

Unit = Literal["bytes", "count"]


def _limit(default: int, unit: Unit, help: str) -> Any:
    """A Limits field; ``unit`` decides how the CLI parses it, ``help`` is its one-line description."""
    return field(default=default, metadata={"unit": unit, "help": help})


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps on archive size, shape and content; every field is a positive integer."""

    max_members: int = _limit(1_000_000, "count", "entries in the archive, directories included")
    """Entries in the central directory, directories included.

    A v1 archive of 10,000 components already has about 74,000 entries (directory entries count), so
    100,000 components need about 740,000. Zipfile-style parsing costs about 0.6 KiB of memory per
    entry, so 1,000,000 keeps the central directory itself well under 1 GiB. Checked from the
    end-of-central-directory record before the central directory is read.
    """

    max_total_uncompressed: int = _limit(32 * _GIB, "bytes", "sum of the declared sizes of all entries")
    """Sum of the declared uncompressed sizes of all entries, in bytes.

    A 100,000-component library is about 1.7 GB uncompressed; media-heavy libraries are larger. 32 GiB
    bounds the disk a restore can be made to fill (the many-small-entries bomb, each under the
    per-member cap).
    """

    max_member_size: int = _limit(64 * _MIB, "bytes", "declared size of any one entry")
    """Declared uncompressed size of one entry, in bytes.

    openedx-core caps a media file at 50 MB, so 64 MiB accepts every file it can produce. TOML
    documents and OLX have their own, smaller caps (:attr:`max_toml_size`, :attr:`max_xml_size`).
    """

    max_toml_size: int = _limit(1 * _MIB, "bytes", "size of one TOML document")
    """Size of one TOML document (``package.toml``, entity and collection files), in bytes.

    Real ones are well under 10 KiB; TOML is parsed in memory, so the cap bounds parse time and memory.
    Enforced by callers through ``read_bytes(name, max_size=limits.max_toml_size)``.
    """

    max_ratio: int = _limit(200, "count", "uncompressed:compressed ratio of one entry above --ratio-min-size")
    """Declared uncompressed/compressed ratio of one entry, for entries above :attr:`ratio_min_size`.

    Deflate cannot exceed about 1032:1, and only degenerate data (long runs of one byte) gets close.
    Text (TOML, OLX) compresses 3-20:1 and media much less, so a large entry above 200:1 is a bomb, not
    content. Small entries are exempt: tiny or repetitive files (an empty-ish ``block.xml``, a
    generated SVG) legitimately reach high ratios, and their output is small anyway.
    """

    ratio_min_size: int = _limit(1 * _MIB, "bytes", "size above which the ratio limits apply")
    """Declared size in bytes above which :attr:`max_ratio` (and :attr:`max_total_ratio`) apply."""

    max_total_ratio: int = _limit(100, "count", "ratio of all declared sizes to all compressed sizes")
    """Ratio of the total declared uncompressed size to the total compressed size.

    Catches many medium entries that each stay under :attr:`max_ratio`. Applies only when the total
    declared size is above :attr:`ratio_min_size`.
    """

    max_path_length: int = _limit(1024, "count", "length of one entry name in UTF-8 bytes")
    """Length of one entry name in UTF-8 bytes.

    v1 names are at most about 130 bytes in practice (slugged names, ``component_versions/vN``, a
    media path); PATH_MAX-style limits on the target systems start at 1024 (macOS).
    """

    max_path_depth: int = _limit(32, "count", "'/'-separated components in one entry name")
    """Number of ``/``-separated components in one entry name.

    v1 names have depth 7-10; deep nesting only serves to exhaust recursion or path limits.
    """

    max_name_component: int = _limit(255, "count", "length of one path component in UTF-8 bytes")
    """Length of one path component in UTF-8 bytes: NAME_MAX on ext4, APFS and NTFS."""

    max_toml_depth: int = _limit(100, "count", "nesting of one TOML document (arrays, tables, dotted keys)")
    """Nesting depth of one TOML document: table-header and dotted-key parts plus array and inline-table
    nesting, measured by a scan before the document is parsed.

    v1 documents nest at most 4 deep (``[entity.container.unit]``, ``[[version]]`` with an inline
    array). ``tomllib`` recurses once or more per array or inline table (a ``RecursionError`` near
    330 arrays) and builds dotted keys in quadratic time and memory: a 40 KB key of 20,000 parts takes
    3.6 s and 1.5 GB, 100,000 parts exhaust memory, all well inside :attr:`max_toml_size`. 100 is
    tomlkit's own ``MAX_NESTING_DEPTH``.
    """

    max_xml_size: int = _limit(10 * _MIB, "bytes", "size of one block.xml (OLX) document")
    """Size of one ``block.xml`` (OLX) document, in bytes; OLX is read into memory once and parsed.

    openedx-core keeps OLX as text of at most 50,000 characters (``Media.MAX_TEXT_LENGTH``, up to
    200 KB of UTF-8), though it does not enforce it on restore; libxml2 (without ``huge_tree``)
    refuses text nodes over 10 MB. 10 MiB accepts anything real and bounds the parse.
    """

    max_media_size: int = _limit(50_000_000, "bytes", "size of one media file (openedx-core: 50 MB)")
    """Size of one media file of a component version (``block.xml`` and static files), in bytes.

    openedx-core's ``Media.MAX_FILE_SIZE``: a larger file cannot be restored there, so an archive
    holding one is not portable. Raising it above :attr:`max_member_size` needs that raised too.
    """

    max_archive_nesting: int = _limit(1, "count", "depth of archives inside the archive (python_lib.zip)")
    """How deep archives inside the archive are opened: 1 lets a reader open a ``python_lib.zip``
    inside the library archive (with these same limits, its sizes counted in the totals), but never
    an archive inside that one, which is kept as plain bytes.

    ``python_lib.zip`` is put on ``sys.path`` by codejail, and ``zipimport`` cannot import from a zip
    inside a zip, so deeper nesting has no use and only serves zip-in-zip bombs.
    """

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"Limits.{f.name} must be a positive int, not {value!r}")

    def replace(self, **changes: Any) -> Limits:
        """Return a copy with the given fields changed (validated like the constructor)."""
        return dataclasses.replace(self, **changes)

    def changed(self) -> dict[str, int]:
        """The fields that differ from :data:`DEFAULT_LIMITS`, by name."""
        return {f.name: v for f in dataclasses.fields(self) if (v := getattr(self, f.name)) != f.default}


DEFAULT_LIMITS = Limits()
"""The limits used when a caller does not pass its own."""

LIMIT_HELP: dict[str, str] = {f.name: f.metadata["help"] for f in dataclasses.fields(Limits)}
"""One-line description of every :class:`Limits` field, in field order (the CLI's help texts)."""


def limit_unit(name: str) -> Unit:
    """``"bytes"`` or ``"count"``: how the value of limit ``name`` is written."""
    for f in dataclasses.fields(Limits):
        if f.name == name:
            unit: Unit = f.metadata["unit"]
            return unit
    raise KeyError(f"no limit called {name!r}; the limits are {', '.join(LIMIT_HELP)}")


_SIZE = re.compile(r"(\d[\d_]*(?:\.\d+)?)\s*([a-z]*)", re.IGNORECASE)
_UNITS = {
    "": 1, "b": 1,
    "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4,
    "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
    "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40,
}  # fmt: skip


def parse_size(text: str) -> int:
    """A byte size such as ``1048576``, ``64MiB``, ``2GB``, ``1.5GiB`` or ``512k`` as an int.

    ``kB``/``MB``/``GB``/``TB`` are powers of 1000, ``KiB``/``MiB``/``GiB``/``TiB`` and the single
    letters ``k``/``M``/``G``/``T`` powers of 1024; case does not matter. ``ValueError`` otherwise.
    """
    match = _SIZE.fullmatch(text.strip())
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise ValueError(f"not a size: {text!r} (use bytes or a unit: 64MiB, 2GB, 512k)")
    number = match.group(1).replace("_", "")
    value = int(float(number) * _UNITS[unit]) if "." in number else int(number) * _UNITS[unit]
    if value <= 0:
        raise ValueError(f"a size must be positive, not {text!r}")
    return value


def parse_count(text: str) -> int:
    """A positive integer such as ``5000`` or ``1_000_000``; ``ValueError`` otherwise."""
    cleaned = text.strip().replace("_", "")
    if not cleaned.isascii() or not cleaned.isdigit() or int(cleaned) <= 0:
        raise ValueError(f"not a positive whole number: {text!r}")
    return int(cleaned)


def parse_limit(name: str, text: str) -> int:
    """The value of limit ``name`` written as ``text`` (a size for byte limits, else a count)."""
    return parse_size(text) if limit_unit(name) == "bytes" else parse_count(text)
