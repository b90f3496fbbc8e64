"""Syntax of codes, refs and plugin names: openedx-core's rules, checked the same way everywhere.

A *code* is a component's, container's or collection's short name (``code_field`` in openedx-core);
a *ref* is an opaque identifier of a package or an entity; a *plugin name* names a plugin's data
(``plugins/<name>/`` in archives, the serializer id ``plugin:<name>``).
"""

from __future__ import annotations

import hashlib
import re
from typing import Final

from ..errors import InvalidRef
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
    "check_ref",
    "code_problem",
    "fit_ref",
    "no_nul",
    "ref_problem",
]

CODE_RE: Final = re.compile(r"^[\w.-]+\Z")
"""openedx-core ``code_field(unicode=True)``: component and container codes."""
ASCII_CODE_PATTERN: Final = r"^[a-zA-Z0-9_.-]+$"
"""openedx-core ``code_field(unicode=False)``: collection codes (JSON Schema form)."""
ASCII_CODE_RE: Final = re.compile(ASCII_CODE_PATTERN.removesuffix("$") + r"\Z")
""":data:`ASCII_CODE_PATTERN` compiled (``\\Z``: no newline before the end)."""
MAX_CODE_LENGTH: Final = MAX_CODE
MAX_REF_LENGTH: Final = 500
"""openedx-core's key fields hold 500 characters."""
_REF_FORBIDDEN: Final = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SPACE: Final = re.compile(r"\s")

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


def ref_problem(ref: object) -> str | None:
    """Why ``ref`` breaks the one ref rule, or None.

    The rule, the same for the command line, the Python API, the authoring API, staged refs and both
    archive readers: a non-empty string of at most :data:`MAX_REF_LENGTH` characters, without control
    characters (C0, DEL, C1, U+2028/2029) and without white space (openedx-core's keys have none).
    """
    if not isinstance(ref, str):
        return f"a ref must be a string, not {type(ref).__name__}"
    if not ref:
        return "a ref must not be empty"
    if len(ref) > MAX_REF_LENGTH:
        return f"ref is {len(ref)} characters long; the limit is {MAX_REF_LENGTH}"
    if (bad := _REF_FORBIDDEN.search(ref)) is not None:
        return f"a ref must not contain control characters (U+{ord(bad.group()):04X} at {bad.start()})"
    if (space := _SPACE.search(ref)) is not None:
        return f"a ref must not contain white space (at {space.start()})"
    return None


def check_ref(ref: str, *, what: str = "ref") -> str:
    """Return ``ref`` if it keeps the ref rule (:func:`ref_problem`), else raise :class:`InvalidRef`."""
    problem = ref_problem(ref)
    if problem is not None:
        raise InvalidRef(f"invalid {what} {ref!r:.80}: {problem}")
    return ref


def fit_ref(ref: str, limit: int = MAX_REF_LENGTH) -> str:
    """``ref`` shortened deterministically to at most ``limit`` characters (unchanged if it fits).

    The cut keeps the start and the end and puts a hash of the whole between them, so two long refs
    that differ anywhere stay different.
    """
    if len(ref) <= limit:
        return ref
    digest = hashlib.sha256(ref.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    tail = max(0, min(32, (limit - 20) // 4))
    head = limit - len(digest) - 2 - tail
    return f"{ref[:head]}~{digest}~{ref[len(ref) - tail:] if tail else ''}"
