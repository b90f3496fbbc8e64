"""The ``lc-archive`` command line."""

from .app import main

__all__ = ["main"]
