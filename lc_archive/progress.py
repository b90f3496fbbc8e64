"""A minimal progress-reporting protocol, so library code never depends on a terminal."""

from __future__ import annotations

from typing import Protocol

__all__ = ["NULL_PROGRESS", "Progress"]


class Progress(Protocol):
    """Receives phase changes and advances; the CLI renders them with rich."""

    def phase(self, name: str, total: int | None) -> None:
        """A new phase starts; ``total`` units of work are expected (None: unknown)."""

    def advance(self, n: int = 1) -> None:
        """``n`` more units are done."""


class _NullProgress:
    def phase(self, name: str, total: int | None) -> None:
        return None

    def advance(self, n: int = 1) -> None:
        return None


NULL_PROGRESS: Progress = _NullProgress()
