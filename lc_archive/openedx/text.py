"""Text from archives made safe to show: control characters (C0, DEL, C1) and the bidirectional
formatting characters that can disguise a line are written as ``\\xNN`` / ``\\uNNNN`` escapes."""

from __future__ import annotations

import re

__all__ = ["escape_controls"]

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    """``text`` with every control and bidi formatting character escaped (newlines and tabs too)."""
    return _UNSAFE.sub(_escape, text)
