"""Read untrusted OLX into a tree for the built-in serializers, and find its ``/static/`` references.

OLX trees come from the core's hardened :func:`~lc_archive.parsing.olx.parse_olx` (re-exported
here): the readers parse each ``block.xml`` once and hand the tree over in the
:class:`~lc_archive.plugins.contract.ComponentVersionView`; :func:`parse_olx` is for OLX read
elsewhere (backup-time facts).

:func:`static_ref_issues` reports each ``/static/<path>`` reference of an OLX document that names no
media ``static/<path>`` of the version. References are looked for in every attribute value and text
node (CDATA included: an ``html`` block's markup is one CDATA text), so ``src="/static/a.png"``,
``href='/static/a b.pdf'``, ``url(/static/x.png)`` in CSS and a JSON string inside an attribute
(``"imageURL": "/static/map.png"``) are all found. A reference starts at ``/static/`` when the character
before it cannot belong to a URL (``https://cdn.org/static/x`` and ``../static/x`` are not references to
the version's assets) and ends at the quote that opened it (quoted references may hold spaces), or
else at whitespace, a quote, ``<``, ``>`` or ``)`` (trailing sentence punctuation dropped). The query
string and fragment are ignored; the path matches as written, percent-decoded or HTML-unescaped.
The scan is one forward pass with bounded runs (no backtracking regex), and at most
:data:`MAX_REF_ISSUES` issues are reported per version.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Mapping
from typing import Any, Final
from urllib.parse import unquote

from ...parsing.olx import parse_olx
from ..contract import Issue

__all__ = [
    "MAX_REF_ISSUES",
    "display_name",
    "element_strings",
    "parse_olx",
    "root_tag_issue",
    "static_ref_issues",
    "static_refs",
]

MAX_REF_ISSUES: Final = 50
"""Missing-asset warnings reported per version; one more warning counts the rest."""

_MAX_REF_LENGTH: Final = 1024
_MAX_SHOWN: Final = 200

def display_name(root: Any) -> str | None:
    """The root's ``display_name`` attribute as written, None when it has none."""
    value = root.get("display_name")
    return value if isinstance(value, str) else None


def root_tag_issue(root: Any, expected: str, ref_type: str, member: str | None) -> Issue | None:
    """An error when the OLX root is not ``<expected>`` (an XBlock's root tag is its block type)."""
    tag = root.tag
    if tag == expected:
        return None
    found = tag if isinstance(tag, str) else repr(tag)
    return Issue("$", f"the OLX root element is <{_shorten(found)}>, but a {ref_type} component's root must be "
                 f"<{expected}>", member=member)


def element_strings(root: Any) -> Iterator[str]:
    """Every attribute value and text node of the tree (comments and PIs were removed at parse time)."""
    for el in root.iter():
        if isinstance(el.tag, str):  # elements only: an unexpanded entity node has no text of its own
            yield from el.attrib.values()
            if el.text:
                yield el.text
        if el.tail:
            yield el.tail


_START = re.compile(r"(?<![\w.~%/:@+\-])/static/")
_RUN_AFTER: Final[dict[str, re.Pattern[str]]] = {
    '"': re.compile(rf'[^"<>\r\n]{{0,{_MAX_REF_LENGTH}}}'),
    "'": re.compile(rf"[^'<>\r\n]{{0,{_MAX_REF_LENGTH}}}"),
}
_RUN_BARE = re.compile(rf"[^\s\"'<>()\\]{{0,{_MAX_REF_LENGTH}}}")
_TRAILING_PUNCTUATION = ".,;:!?"


def static_refs(text: str) -> Iterator[str]:
    """Each ``/static/...`` reference in ``text``, as written, without the ``/static/`` prefix."""
    if "/static/" not in text:
        return
    pos = 0
    while True:
        m = _START.search(text, pos)
        if m is None:
            return
        start = m.end()
        opener = text[m.start() - 1] if m.start() else ""
        quoted = opener in _RUN_AFTER
        run = (_RUN_AFTER[opener] if quoted else _RUN_BARE).match(text, start)
        ref = run.group() if run is not None else ""
        pos = start + len(ref)
        if not quoted:
            ref = ref.rstrip(_TRAILING_PUNCTUATION)
        if ref:
            yield ref


def _candidates(path: str) -> set[str]:
    unescaped = html.unescape(path)
    return {path, unquote(path), unescaped, unquote(unescaped)}


def static_ref_issues(root: Any, media: Mapping[str, str], number: int, member: str | None) -> list[Issue]:
    """One warning per ``/static/`` file the OLX references that the version's media lack."""
    missing: dict[str, str] = {}  # decoded path -> reference as written (first one)
    checked: set[str] = set()
    for text in element_strings(root):
        for ref in static_refs(text):
            path = ref.split("#", 1)[0].split("?", 1)[0]
            if not path or path.endswith("/") or path in checked:
                continue
            checked.add(path)
            candidates = _candidates(path)
            if any(f"static/{c}" in media for c in candidates):
                continue
            missing.setdefault(unquote(html.unescape(path)), ref)
    issues = [
        Issue("$", f"references /static/{_shorten(ref)}, but version {number} has no static/{_shorten(path)}",
              member=member, severity="warning", kind="missing-static")
        for path, ref in list(missing.items())[:MAX_REF_ISSUES]
    ]
    if len(missing) > MAX_REF_ISSUES:
        issues.append(Issue("$", f"... and {len(missing) - MAX_REF_ISSUES} more /static/ references to files "
                            f"version {number} does not have", member=member, severity="warning",
                            kind="missing-static"))
    return issues


def _shorten(text: str, limit: int = _MAX_SHOWN) -> str:
    one_line = text.replace("\r", " ").replace("\n", " ")
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"
