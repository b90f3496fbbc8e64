"""Parse an untrusted JSON document: strict UTF-8, a nesting-depth check before ``json``, no NaN.

``json.loads`` recurses once per array or object (a ``RecursionError`` near 1,000 levels), accepts
``NaN`` and ``Infinity``, keeps the last of duplicate keys and lone surrogate escapes (``\\ud800``).
:func:`parse_json` refuses a byte-order mark and invalid UTF-8, measures the nesting with
:func:`json_depth` (linear, never recursive) before parsing, refuses NaN, infinities and floats out of
range, and turns every failure into :class:`JsonInvalid`; :func:`structure_problems` then finds
duplicate keys and lone surrogates, located (``$.data.tags[0]``). Plugin payloads are read this way.
(``manifest.json``, lc-archive's own fixed-shape document, is parsed by its strict pydantic model.)
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from ..errors import Problem

__all__ = ["JsonInvalid", "json_depth", "json_type", "parse_json", "structure_problems"]


class JsonInvalid(ValueError):
    """The bytes are not a JSON document lc-archive accepts; ``str()`` is the message for a Problem."""


# A string (unterminated ones run to the end) is skipped whole, so brackets inside it do not count;
# unrolled so that every character is looked at once (linear time, no backtracking).
_JSON_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)


def json_depth(text: str, limit: int | None = None) -> int:
    """An upper bound of the nesting depth of the JSON text: open arrays and objects, ``{}`` is 1.

    Linear in the length of ``text`` and never recursive. With ``limit`` the scan stops as soon as the
    depth exceeds it, and a text with too few brackets to exceed it is not scanned at all.
    """
    if limit is not None:
        bound = text.count("[") + text.count("{")
        if bound <= limit:
            return bound
    depth = deepest = 0
    for match in _JSON_TOKENS.finditer(text):
        c = match.group()[0]
        if c in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if limit is not None and deepest > limit:
                    return deepest
        elif c in "]}":
            depth = max(depth - 1, 0)
    return deepest


class _Duplicates(dict[str, Any]):
    """An object that had duplicate keys (the parse hook's marker)."""

    duplicates: list[str]


class _Refused(ValueError):
    """A JSON constant lc-archive refuses (NaN, Infinity, a float out of range)."""


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    marked = _Duplicates(obj)
    seen: set[str] = set()
    marked.duplicates = []
    for key, _ in pairs:
        if key in seen and key not in marked.duplicates:
            marked.duplicates.append(key)
        seen.add(key)
    return marked


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number (NaN and infinities are refused)")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"number {text[:40]} is out of range for a 64-bit float")
    return value


def _has_surrogate(text: str) -> bool:
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


_SURROGATE = "string holds a lone surrogate (not Unicode text)"


def structure_problems(member: str, value: Any, problems: list[Problem]) -> None:
    """Duplicate keys and lone surrogates (from ``\\ud800`` escapes), located; iterative."""
    stack: list[tuple[Any, str]] = [(value, "$")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            if isinstance(node, _Duplicates):
                for key in node.duplicates:
                    problems.append(Problem(member, f"{path}.{key}", f"duplicate key {key!r}"))
            for key, item in node.items():
                if _has_surrogate(key):
                    problems.append(Problem(member, path, f"key {key!r} holds a lone surrogate (not Unicode text)"))
                if isinstance(item, (dict, list)):
                    stack.append((item, f"{path}.{key}"))
                elif isinstance(item, str) and _has_surrogate(item):
                    problems.append(Problem(member, f"{path}.{key}", _SURROGATE))
        elif isinstance(node, list):
            for i, item in enumerate(node):
                if isinstance(item, (dict, list)):
                    stack.append((item, f"{path}[{i}]"))
                elif isinstance(item, str) and _has_surrogate(item):
                    problems.append(Problem(member, f"{path}[{i}]", _SURROGATE))


def parse_json(raw: bytes, *, max_depth: int, what: str = "document") -> Any:
    """Decode ``raw`` as strict UTF-8 (no BOM), check its nesting against ``max_depth``, parse it.

    Raises :class:`JsonInvalid` naming ``what`` for a BOM, invalid UTF-8, a document nested too deeply,
    invalid JSON, NaN or infinities, and numbers that do not fit. Objects with duplicate keys are marked
    for :func:`structure_problems`.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        raise JsonInvalid(f"{what} starts with a UTF-8 byte order mark; write UTF-8 without one")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JsonInvalid(f"{what} is not valid UTF-8 (at byte {exc.start})") from None
    if json_depth(text, max_depth) > max_depth:
        raise JsonInvalid(f"{what} nests more than {max_depth} levels deep (--max-toml-depth)")
    try:
        return json.loads(text, object_pairs_hook=_object, parse_constant=_constant, parse_float=_float)
    except json.JSONDecodeError as exc:
        raise JsonInvalid(f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except (ValueError, RecursionError) as exc:  # _Refused, integers of more than 4300 digits
        raise JsonInvalid(f"not valid JSON: {exc}") from None


def json_type(value: Any) -> str:
    """How a parsed JSON value is named in a message: ``an array``, ``a string``, ``null``..."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"
