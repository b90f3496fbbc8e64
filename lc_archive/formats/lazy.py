"""Re-exports imported on first use, for the format packages (PEP 562 module ``__getattr__``).

Importing the format table, or detecting a format, must not load every format's reader, writer and
document models; a package's ``__init__`` names what it re-exports and where, and this does the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(namespace: dict[str, Any], where: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``namespace`` (a package's ``globals()``): each name in ``where`` is
    imported from its module (relative to the package) on first use, then kept in the namespace."""
    package = namespace["__name__"]

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module, package), name)
        namespace[name] = value
        return value

    return __getattr__
