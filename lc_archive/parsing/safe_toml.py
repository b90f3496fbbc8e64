"""Parse an untrusted TOML document: strict UTF-8, a nesting-depth check before ``tomllib``, no escapes.

``tomllib`` is correct but not built for hostile input (``threats.md`` §3, measured on Python 3.12):

* arrays and inline tables recurse (a ``RecursionError`` at about 330 nested arrays);
* dotted keys are built in quadratic time and memory: a 40 KB key of 20,000 parts takes 3.6 s and
  1.5 GB, one of 100,000 parts (200 KB, well inside the 1 MiB TOML size cap) exhausts memory;
* table headers of 10,000 parts parse, into dictionaries nested 10,000 deep that later recursive code
  (validation, ``repr``, ``pickle``) trips over;
* an integer of more than 4,300 digits raises a plain ``ValueError``, not ``TOMLDecodeError``.

So :func:`parse_toml` first measures the document's nesting with :func:`toml_depth`, a linear scan
that skips strings and comments exactly as TOML does and never underestimates: every table-header and
dotted-key part and every array or inline table counts one level. Only a document within the limit
reaches ``tomllib``, and every way ``tomllib`` can fail becomes :class:`TomlInvalid` with one clear
message.

The parser is ``tomli``, the project ``tomllib`` was taken from (same grammar, same results, same
exceptions), because its wheels are compiled with mypyc: 2.5x faster, and parsing TOML is the largest
part of a restore (a fifth of a v1 restore and more than a third of a v2 one at 10,000 components).
The depth check above bounds its recursion as it bounds ``tomllib``'s.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from operator import methodcaller
from typing import Any

import tomli

__all__ = ["TomlInvalid", "decode_toml", "parse_toml", "parse_toml_text", "split_at_headers", "toml_depth"]


class TomlInvalid(ValueError):
    """The bytes are not a TOML document lc-archive accepts; ``str()`` is the message for a Problem."""


# Strings and comments are skipped whole, so that brackets, dots and '=' inside them do not count.
# Multi-line strings may end with up to two extra quotes that belong to their content (TOML 1.0). Each
# pattern also matches an unterminated string (to the end of its line, or of the document), so every
# character is looked at once (no rescans, linear time): tomllib stops with an error at such a string,
# and whatever is counted after it can only overestimate.
_TOKENS = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*(?:""""{0,2})?'  # multi-line basic string
    r"|'''(?:[^']|'(?!''))*(?:''''{0,2})?"  # multi-line literal string
    r'|"(?:[^"\\\n]|\\[^\n])*"?'  # basic string
    r"|'[^'\n]*'?"  # literal string
    r"|#[^\n]*"  # comment
    r"|[\[\]{}.,=\n]",  # structure
    re.DOTALL,
)


# A '[' on a line that does not start with one: an array value (or a bracket in a string or comment).
_NOT_A_HEADER_BRACKET = re.compile(r"^[ \t]*[^\[\s][^\n]*\[", re.MULTILINE)


def _line_bound(text: str) -> int | None:
    """A quick upper bound of the depth of a document without arrays or inline tables, or None.

    With no ``{`` at all and every ``[`` at the start of a line (table headers only), the only levels
    are header parts (two each) and dotted-key parts, all on one line: a line with ``d`` dots adds at
    most ``d + 1`` parts, so the depth is at most ``3 * (most dots on a line) + 3``. Dots and brackets
    inside strings only make the bound larger. Computed at C speed (``str.count`` per line), so a long
    document of ordinary tables (a publish log) needs no token scan.
    """
    if "{" in text or _NOT_A_HEADER_BRACKET.search(text):
        return None
    return 3 * max(map(_COUNT_DOTS, text.splitlines()), default=0) + 3


_COUNT_DOTS = methodcaller("count", ".")


def toml_depth(text: str, limit: int | None = None) -> int:
    """An upper bound of the nesting depth of the TOML document ``text``.

    The depth of a value is the number of keys and array indexes on its path from the root: ``a = 1``
    is 1, ``c.d = [[1]]`` is 4, ``x = [{a = 1}]`` is 3. Each part of a table header counts two, since
    any part may name an array of tables and so add an index (``[[a]]`` then ``[a.b]`` puts ``b`` at
    depth 3). Dots inside values (floats, times) do not count; invalid TOML may get an overestimate.
    With ``limit``, the scan stops as soon as the depth exceeds it, and a document with too few
    brackets and dots to exceed it is not scanned at all. Linear in the length of ``text``.
    """
    if limit is not None:
        bound = text.count("[") + text.count("{") + text.count(".") + 1  # each level past the first needs one
        if bound <= limit:
            return bound
        quick = _line_bound(text)
        if quick is not None and quick <= limit:
            return quick
    deepest = 1
    table = 0  # levels of the current [table] or [[array.of.tables]] header: two per part
    stack: list[tuple[str, int]] = []  # open '[' (array) and '{' (inline table), with the depth inside
    in_header = False
    in_key = True  # reading a key: at the start of a line, or after '{' or ',' in an inline table
    key_parts = 1
    depth = 0  # depth of the value being read (after '=', or an element of the innermost array)
    for match in _TOKENS.finditer(text):
        c = match.group()[0]
        if c in "\"'#":
            continue
        if c == "\n":
            if not stack:
                in_key, key_parts, in_header = True, 1, False
            continue
        if c == "[":
            if in_header:  # the second bracket of '[[': already counted
                pass
            elif not stack and in_key:  # a table header
                in_header, table = True, 2
            else:
                depth += 1
                stack.append(("[", depth))
                in_key = False
            deepest = max(deepest, table, depth)
        elif c == ".":
            if in_header:
                table += 2
                deepest = max(deepest, table)
            elif in_key:
                key_parts += 1
                deepest = max(deepest, (stack[-1][1] if stack else table) + key_parts)
        elif c == "=":
            if in_key:
                depth = (stack[-1][1] if stack else table) + key_parts
                deepest = max(deepest, depth)
                in_key, key_parts = False, 1
        elif c == "{":
            stack.append(("{", depth))  # an inline table adds no level; each of its keys does
            in_key, key_parts = True, 1
        elif c in "]}":
            if in_header:
                in_header = in_key = False
                continue
            if stack:
                stack.pop()
            depth = stack[-1][1] if stack else 0
            in_key = False
        elif c == "," and stack and stack[-1][0] == "{":
            in_key, key_parts = True, 1
        if limit is not None and deepest > limit:
            break
    return deepest


def decode_toml(raw: bytes) -> str:
    """``raw`` as TOML text: strict UTF-8 without a byte-order mark (else :class:`TomlInvalid`)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raise TomlInvalid("invalid TOML: the document starts with a UTF-8 byte-order mark (BOM), which TOML "
                          "does not allow")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TomlInvalid(f"not valid UTF-8 (byte {exc.start}): {exc.reason}") from None


def parse_toml(raw: bytes, *, max_depth: int) -> dict[str, Any]:
    """Decode ``raw`` as strict UTF-8, check its nesting against ``max_depth``, parse it with ``tomllib``.

    Raises :class:`TomlInvalid` for invalid UTF-8, a document nested too deeply, invalid TOML, and
    anything else ``tomllib`` raises on hostile input (huge integers, recursion).
    """
    return parse_toml_text(decode_toml(raw), max_depth=max_depth)


def parse_toml_text(text: str, *, max_depth: int) -> dict[str, Any]:
    """:func:`parse_toml` for text already decoded (:func:`decode_toml`)."""
    depth = toml_depth(text, max_depth)
    if depth > max_depth:
        raise TomlInvalid(f"invalid TOML: nested more than {max_depth} levels deep, counting table and "
                          "dotted-key parts, arrays and inline tables (max_toml_depth); refused unparsed")
    try:
        return tomli.loads(text)
    except tomli.TOMLDecodeError as exc:
        raise TomlInvalid(f"invalid TOML: {exc}") from None
    except RecursionError:
        raise TomlInvalid("invalid TOML: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer longer than sys.get_int_max_str_digits()
        raise TomlInvalid(f"invalid TOML: {exc}") from None


def _string_around(text: str, start: int, at: int) -> int:
    """The end of the string or comment that position ``at`` falls inside, or -1; scans from ``start``
    (a position outside any)."""
    for match in _TOKENS.finditer(text, start):
        if match.start() >= at:
            break
        if at < match.end() and match.group()[0] in "\"'#":
            return match.end()
    return -1


def split_at_headers(text: str, header: str, piece_size: int) -> Iterator[tuple[int, str]]:
    """Cut a TOML document into pieces at its top-level ``[[header]]`` lines; ``(first line, piece)``.

    Each piece is a TOML document of its own: the first holds whatever comes before the first
    ``[[header]]`` and the sections after it, every later piece starts with a ``[[header]]`` line.
    Sections are joined until a piece reaches ``piece_size`` characters (a single section may be
    larger). Parsing the pieces one after the other gives the array of tables the whole document
    gives, in the same order, with memory bounded by the piece instead of the document. A header line
    inside a multi-line string is not a header: where the text holds triple quotes, it is scanned
    (:data:`_TOKENS`, each character once) to tell. ``first line`` is the 1-based line where the piece
    starts.
    """
    mark = f"\n[[{header}]]"
    start = 0
    line = 1
    first = 0 if text.startswith(mark[1:]) else text.find(mark) + 1  # the first piece holds one section at least
    cut = text.find(mark, first + 1) if first > 0 or text.startswith(mark[1:]) else -1
    outside = 0  # a position known to be outside any string or comment, at or after ``start``
    while cut >= 0:
        end = cut + len(mark)
        rest = text[end : end + 1]
        if rest in ("", "\n", "\r", " ", "\t", "#") and cut + 1 - start >= piece_size:
            if text.find('"""', outside, cut) >= 0 or text.find("'''", outside, cut) >= 0:
                inside_until = _string_around(text, outside, cut + 1)
                if inside_until >= 0:  # a header line inside a multi-line string: not a header
                    outside = inside_until
                    cut = text.find(mark, inside_until - 1)
                    continue
                outside = cut + 1
            yield line, text[start : cut + 1]
            line += text.count("\n", start, cut + 1)
            start = outside = cut + 1
        cut = text.find(mark, end)
    yield line, text[start:]
