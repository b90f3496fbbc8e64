"""The table of archive formats, and finding an archive's format.

Like Django's ``core.serializers.BUILTIN_SERIALIZERS``, :data:`BUILTIN_FORMATS` maps a format name to
the dotted path of its :class:`~.base.ArchiveFormat`; a format's modules are imported on first use.
The formats are tried in table order by :func:`detect`: v2 (``manifest.json`` last, or ``[meta]
format = "lc-archive"``), then v1, which takes anything else (its problems then say what is missing).
The format is decided by the archive's contents, never by the file name.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Final

from ..archive.limits import DEFAULT_LIMITS, Limits
from ..archive.zip_reader import ArchiveReader
from ..errors import LcArchiveError
from ..plugins.registry import Registry
from .base import ArchiveFormat
from .plan import RestorePlan

__all__ = ["BUILTIN_FORMATS", "FORMAT_NAMES", "detect", "get_format", "read_archive"]

BUILTIN_FORMATS: Final[dict[str, str]] = {
    "v2": "lc_archive.formats.v2.format:V2Format",
    "v1": "lc_archive.formats.v1.format:V1Format",
}
"""Format name -> ``module:Class``, in detection order."""

FORMAT_NAMES: Final = tuple(BUILTIN_FORMATS)


@functools.cache
def get_format(name: str) -> ArchiveFormat:
    """The format called ``name`` (:class:`~lc_archive.errors.LcArchiveError` naming the known ones otherwise)."""
    try:
        module, _, attr = BUILTIN_FORMATS[name].partition(":")
    except KeyError:
        raise LcArchiveError(f"unknown archive format {name!r}; the formats are {', '.join(BUILTIN_FORMATS)}") from None
    cls = getattr(importlib.import_module(module), attr)
    instance = cls()
    assert isinstance(instance, ArchiveFormat)
    return instance


def detect(reader: ArchiveReader, *, limits: Limits = DEFAULT_LIMITS) -> ArchiveFormat:
    """The format of the archive: the first in :data:`BUILTIN_FORMATS` that recognises it."""
    for name in BUILTIN_FORMATS:
        fmt = get_format(name)
        if fmt.detect(reader, limits=limits):
            return fmt
    raise AssertionError("unreachable: v1 takes any archive")  # pragma: no cover


def read_archive(reader: ArchiveReader, *, limits: Limits = DEFAULT_LIMITS,
                 progress: Callable[[int], None] | None = None, registry: Registry | None = None) -> RestorePlan:
    """Validate the whole archive in its own format and return its restore plan (``ArchiveInvalid``)."""
    return detect(reader, limits=limits).read(reader, limits=limits, progress=progress, registry=registry)
