"""Media files of a component version: which paths are allowed, and their media types.

**Paths.** openedx-core requires ``path == path.strip().lstrip("/")`` and no backslash; lc-archive also
refuses empty, ``.`` and ``..`` components (a path can never leave its version directory), NUL (no
database can keep it in text) and paths over 500 characters. :func:`media_path_problem` is that one
rule: the authoring API, both archive readers and both writers ask it.

**Media types**, chosen the same way on every host. openedx-core guesses with
``mimetypes.guess_type``, whose answer depends on the host's ``/etc/mime.types``. lc-archive uses
Python's built-in table only (plus a few types it lacks), so the authoring API and a restore give the
same media types everywhere. ``block.xml`` is the component's OLX:
``application/vnd.openedx.xblock.v1.<type>+xml``.
"""

from __future__ import annotations

import mimetypes
from typing import Final

__all__ = ["MAX_MEDIA_PATH", "OLX_PATH", "guess_media_type", "media_path_problem", "media_type_for", "olx_media_type"]

OLX_PATH: Final = "block.xml"
"""The media path of a component version's OLX."""
MAX_MEDIA_PATH: Final = 500

_TABLE = mimetypes.MimeTypes(filenames=())
_TABLE.add_type("text/x-toml", ".toml")
_TABLE.add_type("application/x-subrip", ".srt")
_TABLE.add_type("text/vtt", ".vtt")
_TABLE.add_type("image/webp", ".webp")
_TABLE.add_type("font/woff2", ".woff2")


def media_path_problem(path: str) -> str | None:
    """Why ``path`` cannot name a component version's media file, or None if it can."""
    if not path:
        return "media path is empty"
    if path != path.strip().lstrip("/"):
        return f"media path {path!r} has surrounding whitespace or a leading '/'"
    if "\\" in path:
        return f"media path {path!r} contains a backslash"
    if "\x00" in path:
        return f"media path {path!r} contains a NUL character"
    if any(part in ("", ".", "..") for part in path.split("/")):
        return f"media path {path!r} has an empty, '.' or '..' component"
    if len(path) > MAX_MEDIA_PATH:
        return f"media path is {len(path)} characters long; the limit is {MAX_MEDIA_PATH}"
    return None


def guess_media_type(path: str) -> str:
    """The media type for a file path, from its extension; ``application/octet-stream`` if unknown."""
    return _TABLE.guess_type(path, strict=False)[0] or "application/octet-stream"


def olx_media_type(block_type: str) -> str:
    """The media type openedx-core gives a component's ``block.xml``."""
    return f"application/vnd.openedx.xblock.v1.{block_type}+xml"


def media_type_for(component_type: str, path: str) -> str:
    """The media type a reader derives for ``path`` of a component of type ``component_type``."""
    return olx_media_type(component_type) if path == OLX_PATH else guess_media_type(path)
