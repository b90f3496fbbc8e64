"""The openedx-core adapter's store (the ``openedx`` extra): lc-archive's store interface over a live
openedx-core instance, through Django and openedx-core's own models.

Only this package and :mod:`lc_archive.openedx` import Django; the rest of lc-archive never does.
"""

from __future__ import annotations

from .store import OpenedxStore

__all__ = ["OpenedxStore"]
