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

import codecs
import itertools
import json
import math
import re
from collections.abc import Callable, Iterator
from typing import Any

from ..errors import Problem

__all__ = ["JsonInvalid", "json_depth", "json_type", "load_json", "parse_json", "stream_json_chunks",
           "stream_json_object", "structure_problems"]


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
_NUMBER_TAIL = frozenset("0123456789.eE+-")
_STEP = 64 * 1024
"""Characters a streamed document's window grows by at least, and lets go of at most."""


class _Window:
    """The text of a document, whole or decoded from chunks on demand; positions are absolute.

    A streamed window grows (by at least its own size, so re-reading an element is never quadratic)
    when a value or white space runs to its end, and lets go of the text before the element being
    read; it counts the newlines it let go of, so messages give the lines and columns of the whole text.
    An error is only final once the window holds the rest of the document: a value cut off at the
    window's end fails to parse like a broken one, so a failing value is parsed again with more text.
    """

    __slots__ = ("_decoder", "_last_nl", "_newlines", "_pieces", "base", "eof", "text")

    def __init__(self, text: str = "", chunks: Iterator[bytes] | None = None) -> None:
        self.text = text
        self.base = 0
        self._pieces = chunks
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self.eof = chunks is None
        self._newlines = 0  # in the text let go of
        self._last_nl = -1  # absolute position of the last newline let go of

    def more(self) -> bool:
        """Append more text (at least as much as the window holds); False at the end of the document."""
        if self.eof or self._pieces is None:
            return False
        want, got = max(len(self.text), _STEP), []
        for chunk in self._pieces:
            got.append(self._decoder.decode(chunk))
            want -= len(got[-1])
            if want <= 0:
                break
        else:
            got.append(self._decoder.decode(b"", final=True))
            self.eof = True
        added = "".join(got)
        self.text += added
        return bool(added) or not self.eof

    def drop(self, pos: int) -> None:
        """Let go of the text before ``pos`` (streamed windows only, a step at a time)."""
        cut = pos - self.base
        if self._pieces is not None and cut >= _STEP:
            self._newlines += self.text.count("\n", 0, cut)
            last = self.text.rfind("\n", 0, cut)
            if last >= 0:
                self._last_nl = self.base + last
            self.text = self.text[cut:]
            self.base = pos

    def line_column(self, pos: int) -> tuple[int, int]:
        """Line and column (from 1) of ``pos`` in the whole text."""
        rel = pos - self.base
        last = self.text.rfind("\n", 0, rel)
        return self._newlines + self.text.count("\n", 0, rel) + 1, pos - (self.base + last if last >= 0 else
                                                                            self._last_nl)

    def invalid(self, exc: Exception) -> JsonInvalid:
        """:func:`_invalid`, located in the whole text."""
        if isinstance(exc, json.JSONDecodeError) and exc.doc is self.text:
            line, column = self.line_column(self.base + exc.pos)
            return JsonInvalid(f"not valid JSON: {exc.msg} (line {line}, column {column})")
        return _invalid(exc)

    def skip(self, pos: int) -> int:
        """The position after the white space at ``pos``."""
        while True:
            match = _WS.match(self.text, pos - self.base)
            end = match.end() if match is not None else pos - self.base
            if end < len(self.text) or not self.more():
                return self.base + end

    def startswith(self, prefix: str, pos: int) -> bool:
        """Whether the text at ``pos`` starts with ``prefix``."""
        while len(self.text) - (pos - self.base) < len(prefix) and self.more():
            pass
        return self.text.startswith(prefix, pos - self.base)

    def at_end(self, pos: int) -> bool:
        """Whether ``pos`` is the end of the document."""
        while pos - self.base >= len(self.text) and self.more():
            pass
        return pos - self.base >= len(self.text)

    def expect(self, pos: int, chars: str, what: str) -> str:
        """The character at ``pos``, which must be one of ``chars`` (else :class:`JsonInvalid`)."""
        if self.at_end(pos) or self.text[pos - self.base] not in chars:
            line, column = self.line_column(pos)
            raise JsonInvalid(f"not valid JSON: expecting {what} (line {line}, column {column})")
        return self.text[pos - self.base]

    def decode(self, pos: int) -> tuple[Any, int]:
        """The JSON value at ``pos`` and the position after it."""
        while True:
            try:
                value, end = _DECODER.raw_decode(self.text, pos - self.base)
            except (ValueError, RecursionError):
                if self.more():
                    continue
                raise
            cut_off = end == len(self.text) or (type(value) in (int, float) and self.text[end] in _NUMBER_TAIL)
            if cut_off and self.more():  # the value may go on in text not read yet
                continue
            return value, self.base + end


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
        window = _Window(_text(raw, max_depth, what))
    except JsonInvalid as exc:
        problems.append(Problem(member, "$", str(exc)))
        return None
    return _walk(member, window, array, on_element, problems)


def stream_json_chunks(member: str, chunks: Callable[[], Iterator[bytes]], *, max_depth: int, array: str,
                       on_element: Callable[[int, Any], None], problems: list[Problem],
                       what: str = "document") -> dict[str, Any] | None:
    """:func:`stream_json_object` for a document read as chunks, in memory bounded by its largest value.

    ``chunks()`` yields the document's bytes from the start each time it is called. A first pass checks
    what :func:`stream_json_object` checks before parsing (no BOM, strict UTF-8, the nesting depth),
    a chunk at a time; the second walks the document through a window of its text. A document that
    fails a first-pass check is read whole and handed to :func:`stream_json_object`, so its problems
    are word for word the same.
    """
    if not _prechecked(chunks(), max_depth):
        return stream_json_object(member, b"".join(chunks()), max_depth=max_depth, array=array,
                                  on_element=on_element, problems=problems, what=what)
    return _walk(member, _Window(chunks=chunks()), array, on_element, problems)


# A token of json_depth's scan, with the closing quote of a string as a group (empty: unterminated so far).
_DEPTH_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*("?)|[\[\]{}]', re.DOTALL)
_STRING_REST = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*("?)', re.DOTALL)


def _prechecked(chunks: Iterator[bytes], max_depth: int) -> bool:
    """Whether the document has no BOM, is strict UTF-8 and nests at most ``max_depth`` deep
    (:func:`json_depth`'s scan, carried over from chunk to chunk)."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    head = b""
    depth = deepest = 0
    in_string = False
    carry = ""
    try:
        for chunk in itertools.chain(chunks, [None]):
            if len(head) < 3 and chunk is not None:
                head += chunk[:3]
                if head.startswith(b"\xef\xbb\xbf"):
                    return False
            text = carry + (decoder.decode(b"", final=True) if chunk is None else decoder.decode(chunk))
            carry, pos, final = "", 0, chunk is None
            if in_string:
                match = _STRING_REST.match(text)
                if match is None or not match.group(1):  # still in the string
                    carry = "" if final or match is None else text[match.end():]  # a lone backslash
                    continue
                in_string, pos = False, match.end()
            for match in _DEPTH_TOKENS.finditer(text, pos):
                c = match.group()[0]
                if c == '"':
                    if not match.group(1) and not final:
                        in_string, carry = True, text[match.end():]
                        break
                elif c in "[{":
                    depth += 1
                    deepest = max(deepest, depth)
                    if deepest > max_depth:
                        return False
                else:
                    depth = max(depth - 1, 0)
    except UnicodeDecodeError:
        return False
    return True


def _walk(member: str, window: _Window, array: str, on_element: Callable[[int, Any], None],
          problems: list[Problem]) -> dict[str, Any] | None:
    try:
        return _walk_object(member, window, array, on_element, problems)
    except JsonInvalid as exc:
        problems.append(Problem(member, "$", str(exc)))
    except (ValueError, RecursionError) as exc:
        problems.append(Problem(member, "$", str(window.invalid(exc))))
    return None


def _walk_object(member: str, w: _Window, array: str, on_element: Callable[[int, Any], None],
                 problems: list[Problem]) -> dict[str, Any]:
    head: dict[str, Any] = {}
    pos = w.skip(0)
    w.expect(pos, "{", "an object")
    pos = w.skip(pos + 1)
    if w.startswith("}", pos):
        pos += 1
    else:
        while True:
            w.expect(pos, '"', "a key in double quotes")
            key, pos = w.decode(pos)  # a JSON string: the key
            if _has_surrogate(key):
                problems.append(Problem(member, "$", f"key {key!r} holds a lone surrogate (not Unicode text)"))
            if key in head:
                problems.append(Problem(member, f"$.{key}", f"duplicate key {key!r}"))
            pos = w.skip(pos)
            w.expect(pos, ":", "':'")
            pos = w.skip(pos + 1)
            if key == array and w.startswith("[", pos):
                head[key] = []
                pos = _walk_array(member, w, pos, array, on_element=on_element, problems=problems)
            else:
                head[key], pos = w.decode(pos)
                structure_problems(member, head[key], problems, f"$.{key}")
            pos = w.skip(pos)
            if w.expect(pos, ",}", "',' or '}'") == "}":
                pos += 1
                break
            pos = w.skip(pos + 1)
    if not w.at_end(w.skip(pos)):
        raise JsonInvalid("not valid JSON: extra data after the object")
    return head


def _walk_array(member: str, w: _Window, pos: int, array: str, *, on_element: Callable[[int, Any], None],
                problems: list[Problem]) -> int:
    """Hand each element of the array at ``pos`` (a ``[``) over; the position after its ``]``."""
    pos = w.skip(pos + 1)
    if w.startswith("]", pos):
        return pos + 1
    i = 0
    while True:
        w.drop(pos)
        value, pos = w.decode(pos)
        found: list[Problem] = []
        structure_problems(member, value, found, f"$.{array}[{i}]")
        if found:
            problems.extend(found)
        else:
            on_element(i, value)
        del value
        pos = w.skip(pos)
        if w.expect(pos, ",]", "',' or ']'") == "]":
            return pos + 1
        pos = w.skip(pos + 1)
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
