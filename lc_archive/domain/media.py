"""Media types from file paths, chosen the same way on every host.

openedx-core guesses with ``mimetypes.guess_type``, whose answer depends on the host's
``/etc/mime.types``. lc-archive uses Python's built-in table only (plus a few types it lacks), so the
authoring API and a restore give the same media types everywhere. ``block.xml`` is the component's OLX:
``application/vnd.openedx.xblock.v1.<type>+xml``.

This lives in :mod:`lc_archive.stores`, the lowest layer, so that both the authoring API and the
serializers use the one table.
"""

from __future__ import annotations

import mimetypes

__all__ = ["guess_media_type", "olx_media_type"]

_TABLE = mimetypes.MimeTypes(filenames=())
_TABLE.add_type("text/x-toml", ".toml")
_TABLE.add_type("application/x-subrip", ".srt")
_TABLE.add_type("text/vtt", ".vtt")
_TABLE.add_type("image/webp", ".webp")
_TABLE.add_type("font/woff2", ".woff2")


def guess_media_type(path: str) -> str:
    """The media type for a file path, from its extension; ``application/octet-stream`` if unknown."""
    return _TABLE.guess_type(path, strict=False)[0] or "application/octet-stream"


def olx_media_type(block_type: str) -> str:
    """The media type openedx-core gives a component's ``block.xml``."""
    return f"application/vnd.openedx.xblock.v1.{block_type}+xml"
