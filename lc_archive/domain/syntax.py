"""Syntax of codes, refs and plugin names: openedx-core's rules, checked the same way everywhere.

A *code* is a component's, container's or collection's short name (``code_field`` in openedx-core);
a *ref* is an opaque identifier of a package or an entity; a *plugin name* names a plugin's data
(``plugins/<name>/`` in archives, the serializer id ``plugin:<name>``).
"""

from __future__ import annotations

import re
from typing import Final

from .text import MAX_CODE

__all__ = [
    "ASCII_CODE_PATTERN",
    "ASCII_CODE_RE",
    "CODE_RE",
    "MAX_CODE_LENGTH",
    "MAX_REF_LENGTH",
    "PLUGIN_NAME_PATTERN",
    "PLUGIN_NAME_RE",
    "check_code",
    "code_problem",
    "no_nul",
]

CODE_RE: Final = re.compile(r"^[\w.-]+\Z")
"""openedx-core ``code_field(unicode=True)``: component and container codes."""
ASCII_CODE_PATTERN: Final = r"^[a-zA-Z0-9_.-]+$"
"""openedx-core ``code_field(unicode=False)``: collection codes (JSON Schema form)."""
ASCII_CODE_RE: Final = re.compile(ASCII_CODE_PATTERN.removesuffix("$") + r"\Z")
""":data:`ASCII_CODE_PATTERN` compiled (``\\Z``: no newline before the end)."""
MAX_CODE_LENGTH: Final = MAX_CODE
MAX_REF_LENGTH: Final = 500

PLUGIN_NAME_PATTERN: Final = r"[a-z0-9][a-z0-9_.-]{0,63}"
"""A plugin name: lower-case ASCII letters and digits, then also ``_``, ``.``, ``-``; at most 64."""
PLUGIN_NAME_RE: Final = re.compile(PLUGIN_NAME_PATTERN)
""":data:`PLUGIN_NAME_PATTERN` compiled (use ``fullmatch``)."""


def code_problem(value: str, *, ascii_only: bool = False) -> str | None:
    """Why ``value`` is not a valid code (at most 255 characters of ``^[\\w.-]+$``), or None."""
    pattern = ASCII_CODE_RE if ascii_only else CODE_RE
    if len(value) > MAX_CODE_LENGTH:
        return f"code is {len(value)} characters long; the limit is {MAX_CODE_LENGTH}"
    if not pattern.match(value):
        allowed = "ASCII letters, digits, '_', '.' and '-'" if ascii_only else "letters, digits, '_', '.', '-'"
        return f"invalid code {value!r}: only {allowed} are allowed"
    return None


def check_code(value: str, *, ascii_only: bool = False) -> str:
    """Return ``value`` if it is a valid code, else raise ``ValueError`` saying why."""
    problem = code_problem(value, ascii_only=ascii_only)
    if problem is not None:
        raise ValueError(problem)
    return value


def no_nul(value: str) -> str:
    """Refuse NUL characters: PostgreSQL cannot store them in text, and no title or ref needs one."""
    if "\x00" in value:
        raise ValueError("must not contain a NUL character (U+0000)")
    return value
