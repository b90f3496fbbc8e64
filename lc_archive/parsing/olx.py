"""Parse untrusted OLX (``block.xml``) with a hardened lxml parser: well-formed, UTF-8, no DTD at all.

lxml's defaults changed across versions and still differ between entry points (``threats.md`` §2):
4.9 reads local files through an external entity, 5.x ``iterparse()`` still does, and
``huge_tree=True`` switches libxml2's amplification and depth guards off. So every OLX document is
parsed by a parser that :func:`olx_parser` builds with every relevant option spelled out
(:data:`PARSER_OPTIONS`: no entity resolution, no network, no DTD loading or validation, no
``huge_tree``, no gzip decompression, UTF-8 forced), and a parser *target* that:

* refuses any DOCTYPE the moment libxml2 reports it, before its internal subset is read: billion
  laughs, quadratic blowup, external entities (XXE, ``file://`` or ``http://``), external DTDs and
  parameter entities all have to start with one, and OLX never needs one;
* builds no tree (:func:`check_olx`, for a yes/no answer).

OLX must be UTF-8: the readers check the bytes, and an XML declaration naming another encoding
(``encoding="latin-1"``, ``"UTF-16"``) is refused (:func:`encoding_problem`) rather than overridden.

The readers use :func:`parse_olx`: one parse with the same options that also builds the tree the
type-specific serializers need (a ``block.xml`` is at most ``max_xml_size``); any document that
mentions ``<!DOCTYPE`` goes through the refusing target first, so a DOCTYPE is still never read.

Without a DTD, an entity reference other than the five predefined ones is a well-formedness error,
so no entity can survive into the store for a later, more permissive parser to expand. XInclude
elements and processing instructions are plain markup to this parser (lxml processes neither unless
asked with ``.xinclude()`` or XSLT, which lc-archive never calls).
"""

from __future__ import annotations

import re
import threading
from typing import Any, Final

from lxml import etree

__all__ = ["PARSER_OPTIONS", "DoctypeRefused", "check_olx", "encoding_problem", "olx_parser", "parse_olx"]

PARSER_OPTIONS: Final[dict[str, Any]] = {
    "resolve_entities": False,  # never expand an entity (lxml >= 5 defaults to 'internal')
    "no_network": True,  # never fetch anything
    "load_dtd": False,  # never read an external DTD
    "dtd_validation": False,
    "attribute_defaults": False,  # would need the DTD
    "huge_tree": False,  # keep libxml2's depth (256), text-node (10 MB) and amplification guards
    "decompress": False,  # never gunzip input (a second bomb layer)
    "recover": False,  # malformed is an error, never repaired
    "encoding": "utf-8",  # the bytes were checked as UTF-8; a declaration cannot make them latin-1
    "collect_ids": False,  # nothing to look up by xml:id
}
"""The options every OLX parser is built with (a test asserts them, so a refactor cannot drop one)."""


_DECLARED_ENCODING = re.compile(rb"""(?:\xef\xbb\xbf)?<\?xml\s[^>]{0,200}?\bencoding\s*=\s*(["'])(.{0,64}?)\1""",
                                re.DOTALL)


def encoding_problem(data: bytes) -> str | None:
    """Why the XML declaration of ``data`` contradicts UTF-8 (``encoding="latin-1"``...), or None.

    OLX is UTF-8 (the readers check the bytes; openedx-core stores OLX as UTF-8 text), and the parser
    is forced to UTF-8, so a declaration naming any other encoding would be silently overridden: a
    later tool that honours it would read other text than lc-archive checked. It is refused instead.
    """
    match = _DECLARED_ENCODING.match(data)
    if match is None:
        return None
    declared = match.group(2)
    if declared.replace(b"-", b"").replace(b"_", b"").lower() == b"utf8":
        return None
    shown = repr(declared[:40])[2:-1]  # control characters and non-ASCII bytes escaped
    return f'the XML declaration says encoding="{shown}", but OLX must be UTF-8 (declare UTF-8 or no encoding)'


class DoctypeRefused(Exception):
    """Raised by the parser target when libxml2 reports a DOCTYPE (internal)."""


class _CheckTarget:
    """A parser target that keeps nothing and refuses a DOCTYPE."""

    def start(self, tag: str, attrib: dict[str, str], nsmap: dict[str, str] | None = None) -> None:
        return None

    def end(self, tag: str) -> None:
        return None

    def data(self, data: str) -> None:
        return None

    def comment(self, text: str) -> None:
        return None

    def pi(self, target: str, data: str | None = None) -> None:
        return None

    def doctype(self, name: str | None, public_id: str | None, system_url: str | None) -> None:
        raise DoctypeRefused(name, public_id, system_url)

    def close(self) -> None:
        return None


def olx_parser() -> etree.XMLParser:
    """A new hardened parser that checks OLX without building a tree (one per thread: not thread-safe)."""
    return etree.XMLParser(**PARSER_OPTIONS, target=_CheckTarget())


def check_olx(data: bytes, parser: etree.XMLParser | None = None) -> str | None:
    """Why ``data`` (a ``block.xml``) is not acceptable OLX, or None if it is well-formed and DTD-free.

    Empty or blank documents are accepted: they stand for an empty OLX text, which the authoring API
    allows and lc-archive's own writer emits. ``parser`` (from :func:`olx_parser`) may be reused
    between calls to save its construction.
    """
    if not data.strip():
        return None
    declared = encoding_problem(data)
    if declared is not None:
        return declared
    try:
        etree.fromstring(data, parser if parser is not None else olx_parser())
    except DoctypeRefused as exc:
        name = str(exc.args[0] or "")[:40]
        return (f"a DOCTYPE declaration (<!DOCTYPE {name} ...>) is not allowed in OLX; DTDs and entities "
                "are refused unread (billion laughs, XXE and external DTDs all need one)")
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        return f"not well-formed XML (line {line}, column {column}): {exc.msg.split(', line ')[0]}"
    except etree.LxmlError as exc:  # any other parser failure: still a refusal, never a crash
        return f"not well-formed XML: {exc}"
    return None


_local = threading.local()


def _tree_parser() -> etree.XMLParser:
    """This thread's tree-building parser (lxml parsers are not thread-safe)."""
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(**PARSER_OPTIONS, remove_comments=True, remove_pis=True)
        _local.parser = parser
    return parser


def parse_olx(data: bytes) -> tuple[Any, str | None]:
    """Parse OLX into a tree: ``(root, None)``, ``(None, None)`` for a blank document, ``(None, why not)``.

    The same rules as :func:`check_olx`, in one parse that also gives the type-specific serializers
    their tree: the parser has :data:`PARSER_OPTIONS` (plus ``remove_comments``/``remove_pis``, so
    that neither reaches a serializer), and a document that mentions ``<!DOCTYPE`` goes through
    :func:`check_olx` first, whose target refuses a DOCTYPE before its internal subset is read. Never
    raises on content: malformed XML, excessive depth (libxml2 stops at 256) and out-of-memory are
    messages.
    """
    if not data.strip():
        return None, None
    declared = encoding_problem(data)
    if declared is not None:
        return None, declared
    if b"<!DOCTYPE" in data:
        reason = check_olx(data)
        if reason is not None:
            return None, reason
    try:
        root = etree.fromstring(data, _tree_parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        return None, f"not well-formed XML (line {line}, column {column}): {exc.msg.split(', line ')[0]}"
    except (etree.LxmlError, ValueError, MemoryError, RecursionError) as exc:
        return None, f"not well-formed XML: {type(exc).__name__}: {str(exc)[:200]}"
    if root is None or root.getroottree().docinfo.doctype:
        return None, "a DOCTYPE declaration is not allowed in OLX"
    return root, None
