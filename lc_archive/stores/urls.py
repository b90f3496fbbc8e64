"""Which store a URL names: ``openedx:`` or ``openedx:ALIAS`` is a live openedx-core instance (Django),
anything else the embedded SQL store (a SQLAlchemy URL or a SQLite file path).

The openedx adapter is imported only when its URL is used, so the SQL store never loads Django.
"""

from __future__ import annotations

import os

from .base import Store

__all__ = ["OPENEDX_SCHEME", "open_store"]

OPENEDX_SCHEME = "openedx:"
"""The prefix of an openedx-core store URL; the rest is the Django database alias (default ``default``)."""


def open_store(url: str | os.PathLike[str], *, create: bool = True) -> Store:
    """Open the store a URL names (see the module docstring).

    ``create`` applies to the SQL store only: an openedx-core database is made by its own migrations.
    """
    if isinstance(url, str) and url.startswith(OPENEDX_SCHEME):
        from .openedx import OpenedxStore

        return OpenedxStore(url[len(OPENEDX_SCHEME):] or "default")
    from .sql import open_store as open_sql_store

    return open_sql_store(url, create=create)
