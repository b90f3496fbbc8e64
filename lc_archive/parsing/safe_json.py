"""The one JSON rule for every JSON member of an archive (plugin payloads, ``manifest.json``).

``json.loads`` recurses once per array or object (a ``RecursionError`` near 1,000 levels), accepts
``NaN`` and ``Infinity``, keeps the last of duplicate keys and lone surrogate escapes (``\\ud800``).
:func:`parse_json` refuses a byte-order mark and invalid UTF-8, measures the nesting with
:func:`json_depth` (linear, never recursive) before parsing, refuses NaN, infinities and floats out of
range, and turns every failure into :class:`JsonInvalid`; :func:`structure_problems` then finds
duplicate keys and lone surrogates, located (``$.data.tags[0]``). :func:`load_json` is both, for a
document read whole (plugin payloads); :func:`stream_json_object` applies the same rule to a document
whose one large array is handed over element by element and never held whole (``manifest.json``,
which grows with the package).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from ..errors import Problem

__all__ = ["JsonInvalid", "json_depth", "json_type", "load_json", "parse_json", "stream_json_object",
           "structure_problems"]


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


def structure_problems(member: str, value: Any, problems: list[Problem], path: str = "$") -> None:
    """Duplicate keys and lone surrogates (from ``\\ud800`` escapes), located under ``path``; iterative."""
    if isinstance(value, str) and _has_surrogate(value):
        problems.append(Problem(member, path, _SURROGATE))
    stack: list[tuple[Any, str]] = [(value, path)]
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


def _text(raw: bytes, max_depth: int, what: str) -> str:
    """``raw`` as strict UTF-8 without a BOM, nested at most ``max_depth`` deep (else :class:`JsonInvalid`)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raise JsonInvalid(f"{what} starts with a UTF-8 byte order mark; write UTF-8 without one")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JsonInvalid(f"{what} is not valid UTF-8 (at byte {exc.start})") from None
    if json_depth(text, max_depth) > max_depth:
        raise JsonInvalid(f"{what} nests more than {max_depth} levels deep (--max-toml-depth)")
    return text


_DECODER = json.JSONDecoder(object_pairs_hook=_object, parse_constant=_constant, parse_float=_float)


def _invalid(exc: Exception) -> JsonInvalid:
    if isinstance(exc, json.JSONDecodeError):
        return JsonInvalid(f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")
    return JsonInvalid(f"not valid JSON: {exc}")  # _Refused, integers of more than 4300 digits, recursion


def parse_json(raw: bytes, *, max_depth: int, what: str = "document") -> Any:
    """Decode ``raw`` as strict UTF-8 (no BOM), check its nesting against ``max_depth``, parse it.

    Raises :class:`JsonInvalid` naming ``what`` for a BOM, invalid UTF-8, a document nested too deeply,
    invalid JSON, NaN or infinities, and numbers that do not fit. Objects with duplicate keys are marked
    for :func:`structure_problems`.
    """
    text = _text(raw, max_depth, what)
    try:
        return _DECODER.decode(text)
    except (ValueError, RecursionError) as exc:
        raise _invalid(exc) from None


def load_json(member: str, raw: bytes, *, max_depth: int, problems: list[Problem], what: str = "document") -> Any:
    """The JSON rule for a document read whole: :func:`parse_json`, then :func:`structure_problems`.

    Returns the value, or None when anything is wrong (every problem appended to ``problems``,
    naming ``member``). Never raises on content.
    """
    try:
        value = parse_json(raw, max_depth=max_depth, what=what)
    except JsonInvalid as exc:
        problems.append(Problem(member, "$", str(exc)))
        return None
    found: list[Problem] = []
    structure_problems(member, value, found)
    if found:
        problems.extend(found)
        return None
    return value


_WS = re.compile(r"[ \t\n\r]*")


def _skip(text: str, pos: int) -> int:
    match = _WS.match(text, pos)
    return match.end() if match is not None else pos


def _expect(text: str, pos: int, chars: str, what: str) -> str:
    if pos >= len(text) or text[pos] not in chars:
        line = text.count("\n", 0, pos) + 1
        column = pos - text.rfind("\n", 0, pos)
        raise JsonInvalid(f"not valid JSON: expecting {what} (line {line}, column {column})")
    return text[pos]


def stream_json_object(member: str, raw: bytes, *, max_depth: int, array: str,
                       on_element: Callable[[int, Any], None], problems: list[Problem],
                       what: str = "document") -> dict[str, Any] | None:
    """The JSON rule for an object whose member ``array`` (a JSON array) may be large.

    The document must be an object; every value but ``array``'s is parsed as :func:`load_json` does and
    returned in a dict (``array``, when it is an array, maps to an empty list there). Each element of ``array`` is
    parsed on its own, checked for duplicate keys and lone surrogates (problems located at
    ``$.<array>[i]``) and handed to ``on_element(i, value)`` when it passes, then dropped: the array is
    never held whole. Returns None when the document cannot be read (problems appended; elements
    handed over before the error stand). Never raises on content.
    """
    try:
        text = _text(raw, max_depth, what)
        return _walk_object(member, text, array, on_element, problems)
    except JsonInvalid as exc:
        problems.append(Problem(member, "$", str(exc)))
    except (ValueError, RecursionError) as exc:
        problems.append(Problem(member, "$", str(_invalid(exc))))
    return None


def _walk_object(member: str, text: str, array: str, on_element: Callable[[int, Any], None],
                 problems: list[Problem]) -> dict[str, Any]:
    head: dict[str, Any] = {}
    pos = _skip(text, 0)
    _expect(text, pos, "{", "an object")
    pos = _skip(text, pos + 1)
    if text.startswith("}", pos):
        pos += 1
    else:
        while True:
            _expect(text, pos, '"', "a key in double quotes")
            key, pos = _DECODER.raw_decode(text, pos)  # a JSON string: the key
            if _has_surrogate(key):
                problems.append(Problem(member, "$", f"key {key!r} holds a lone surrogate (not Unicode text)"))
            if key in head:
                problems.append(Problem(member, f"$.{key}", f"duplicate key {key!r}"))
            pos = _skip(text, pos)
            _expect(text, pos, ":", "':'")
            pos = _skip(text, pos + 1)
            if key == array and text.startswith("[", pos):
                head[key] = []
                pos = _walk_array(member, text, pos, array, on_element=on_element, problems=problems)
            else:
                head[key], pos = _DECODER.raw_decode(text, pos)
                structure_problems(member, head[key], problems, f"$.{key}")
            pos = _skip(text, pos)
            if _expect(text, pos, ",}", "',' or '}'") == "}":
                pos += 1
                break
            pos = _skip(text, pos + 1)
    if _skip(text, pos) != len(text):
        raise JsonInvalid("not valid JSON: extra data after the object")
    return head


def _walk_array(member: str, text: str, pos: int, array: str, *, on_element: Callable[[int, Any], None],
                problems: list[Problem]) -> int:
    """Hand each element of the array at ``text[pos] == "["`` over; the position after its ``]``."""
    pos = _skip(text, pos + 1)
    if text.startswith("]", pos):
        return pos + 1
    i = 0
    while True:
        value, pos = _DECODER.raw_decode(text, pos)
        found: list[Problem] = []
        structure_problems(member, value, found, f"$.{array}[{i}]")
        if found:
            problems.extend(found)
        else:
            on_element(i, value)
        del value
        pos = _skip(text, pos)
        if _expect(text, pos, ",]", "',' or ']'") == "]":
            return pos + 1
        pos = _skip(text, pos + 1)
        i += 1


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
