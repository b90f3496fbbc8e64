"""TOML scalars rendered byte for byte as tomlkit renders them, shared by every archive format.

openedx-core writes v1 with tomlkit; lc-archive renders the same text directly (tomlkit is the test
oracle, not a runtime dependency of the hot path): basic strings with tomlkit's escapes, and UTC
offset date-times with ``Z``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from ..domain.timestamps import iso

__all__ = ["toml_datetime", "toml_string"]

_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f\x7f"\\]')
_SHORT_ESCAPES = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\"}


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    return _SHORT_ESCAPES.get(char) or f"\\u{ord(char):04x}"


def toml_string(value: str) -> str:
    """A TOML basic string, escaped exactly like tomlkit's ``escape_string``."""
    if _NEEDS_ESCAPE.search(value) is None:
        return f'"{value}"'
    return f'"{_NEEDS_ESCAPE.sub(_escape_char, value)}"'


def toml_datetime(value: datetime) -> str:
    """A TOML offset date-time in UTC: ``isoformat()`` with ``Z``, microseconds only when non-zero."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: archive TOML needs timezone-aware (UTC) datetimes")
    return iso(value.astimezone(UTC))
