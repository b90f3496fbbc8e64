"""Text that is safe on a terminal and in a log: control characters shown as escapes.

Refs, titles, member names and every other string that came from an archive or a store may hold
escape sequences (``ESC ]0;`` retitles a terminal, ``ESC [2J`` clears it, OSC 52 writes the clipboard)
or characters that reorder or break lines. :func:`escape` shows each of them as ``\\x1b``/``\\u202e``;
everything else, backslashes included, is left as it is, so escaping twice changes nothing.
Machine output (``--json``) keeps the real values.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["JSON_UNSAFE_RE", "UNSAFE_RE", "escape", "json_safe"]

UNSAFE_RE: Final = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""Characters never written raw: C0 and C1 controls, DEL, line/paragraph separators and bidi controls."""

JSON_UNSAFE_RE: Final = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""The characters of :data:`UNSAFE_RE` that a JSON encoder writes raw (it escapes those below U+0020)."""


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(text: object) -> str:
    """``str(text)`` with every character of :data:`UNSAFE_RE` written as an escape (idempotent)."""
    return UNSAFE_RE.sub(_escaped, str(text))


def json_safe(text: str) -> str:
    """JSON text with the characters of :data:`JSON_UNSAFE_RE` written as ``\\uXXXX`` escapes.

    The decoded values are unchanged (``--json`` keeps the real value); only the bytes on the terminal are
    safe. ``text`` must be JSON written with ``ensure_ascii=False`` (those characters occur only in strings).
    """
    return JSON_UNSAFE_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
