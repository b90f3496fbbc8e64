"""Which member names the ZIP pre-flight accepts, and when two names clash on a case-insensitive disk.

Writers use these to hand out only names that :class:`~lc_archive.archive.zip_reader.ArchiveReader`
accepts (the reader enforces the same rules on every archive it opens).
"""

from __future__ import annotations

import re
import unicodedata

from .limits import DEFAULT_LIMITS, Limits

__all__ = ["fold", "name_problem"]

_BAD_CHAR = re.compile(r"[\x00-\x1f\x7f\\:]")


def fold(name: str) -> str:
    """The key under which two names land on the same file on a case-insensitive filesystem.

    The same folding as the ZIP pre-flight's duplicate check (NFC, case folding, NFC).
    """
    if name.isascii():
        return name.lower()
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())


def name_problem(name: str, limits: Limits = DEFAULT_LIMITS) -> str | None:
    """Why the ZIP pre-flight would refuse ``name`` as a file member (on its own), or None."""
    if not name or name.startswith("/"):
        return "empty or absolute"
    ascii_name = name.isascii()
    if not ascii_name and not unicodedata.is_normalized("NFC", name):
        return "not in Unicode NFC"
    if _BAD_CHAR.search(name):
        return "contains a control character, '\\' or ':'"
    wrapped = f"/{name}/"
    if "//" in wrapped or "/./" in wrapped or "/../" in wrapped:
        return "has an empty, '.' or '..' segment"
    size = len(name) if ascii_name else len(name.encode("utf-8"))
    if size > limits.max_path_length:
        return f"longer than {limits.max_path_length} bytes"
    if name.count("/") >= limits.max_path_depth:
        return f"deeper than {limits.max_path_depth} segments"
    if size > limits.max_name_component and any(
        len(p.encode("utf-8")) > limits.max_name_component for p in name.split("/")
    ):
        return f"has a segment longer than {limits.max_name_component} bytes"
    return None
