"""Media types of v1 media files: re-exported from :mod:`lc_archive.stores.media_types`.

The one table lives in the stores layer so that the authoring API uses it too.
"""

from __future__ import annotations

from ...stores.media_types import guess_media_type, olx_media_type

__all__ = ["guess_media_type", "olx_media_type"]
