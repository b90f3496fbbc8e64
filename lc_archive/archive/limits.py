"""Resource limits applied to every archive before and while it is read.

Every archive is hostile until proven otherwise, so each limit is checked against the *declared*
values in the central directory before anything is inflated, and again against the bytes actually
produced while streaming. The defaults are sized for the largest real library we expect (about
100,000 components) with headroom; callers with other needs pass their own :class:`Limits`.

Usage::

    limits = DEFAULT_LIMITS.replace(max_members=5_000)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_LIMITS", "Limits"]

_KIB = 1024
_MIB = 1024 * _KIB
_GIB = 1024 * _MIB


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps on archive size and shape; every field is a positive integer."""

    max_members: int = 1_000_000
    """Entries in the central directory, directories included.

    A v1 archive of 10,000 components already has about 74,000 entries (directory entries count), so
    100,000 components need about 750,000. Zipfile-style parsing costs about 0.6 KiB of memory per
    entry, so 1,000,000 keeps the central directory itself well under 1 GiB. Checked from the
    end-of-central-directory record before the central directory is read.
    """

    max_total_uncompressed: int = 32 * _GIB
    """Sum of the declared uncompressed sizes of all entries, in bytes.

    A 100,000-component library is about 1.7 GB uncompressed; media-heavy libraries are larger. 32 GiB
    bounds the disk a restore can be made to fill (the many-small-entries bomb, each under the
    per-member cap).
    """

    max_member_size: int = 64 * _MIB
    """Declared uncompressed size of one entry, in bytes.

    openedx-core caps a media file at 50 MB, so 64 MiB accepts every file it can produce. TOML
    documents have their own, smaller cap (:attr:`max_toml_size`).
    """

    max_toml_size: int = 1 * _MIB
    """Size of one TOML document (``package.toml``, entity and collection files), in bytes.

    Real ones are well under 10 KiB; TOML is parsed in memory, so the cap bounds parse time and memory.
    Enforced by callers through ``read_bytes(name, max_size=limits.max_toml_size)``.
    """

    max_ratio: int = 200
    """Declared uncompressed/compressed ratio of one entry, for entries above :attr:`ratio_min_size`.

    Deflate cannot exceed about 1032:1, and only degenerate data (long runs of one byte) gets close.
    Text (TOML, OLX) compresses 3-20:1 and media much less, so a large entry above 200:1 is a bomb, not
    content. Small entries are exempt: tiny or repetitive files (an empty-ish ``block.xml``, a
    generated SVG) legitimately reach high ratios, and their output is small anyway.
    """

    ratio_min_size: int = 1 * _MIB
    """Declared size in bytes above which :attr:`max_ratio` (and :attr:`max_total_ratio`) apply."""

    max_total_ratio: int = 100
    """Ratio of the total declared uncompressed size to the total compressed size.

    Catches many medium entries that each stay under :attr:`max_ratio`. Applies only when the total
    declared size is above :attr:`ratio_min_size`.
    """

    max_path_length: int = 1024
    """Length of one entry name in UTF-8 bytes.

    v1 names are at most about 130 bytes in practice (slugged names, ``component_versions/vN``, a
    media path); PATH_MAX-style limits on the target systems start at 1024 (macOS).
    """

    max_path_depth: int = 32
    """Number of ``/``-separated components in one entry name.

    v1 names have depth 7-10; deep nesting only serves to exhaust recursion or path limits.
    """

    max_name_component: int = 255
    """Length of one path component in UTF-8 bytes: NAME_MAX on ext4, APFS and NTFS."""

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"Limits.{field.name} must be a positive int, not {value!r}")

    def replace(self, **changes: Any) -> Limits:
        """Return a copy with the given fields changed (validated like the constructor)."""
        return dataclasses.replace(self, **changes)


DEFAULT_LIMITS = Limits()
"""The limits used when a caller does not pass its own."""
