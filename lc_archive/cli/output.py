"""What the command line prints: consoles, ``--json``, progress bars, tables, notes and warnings.

User data (refs like ``lib:A:A``, titles, TOML table names) is printed as it is: no markup, no emoji
codes. rich is imported on first use, so that ``lc-archive --help`` stays cheap.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..progress import NULL_PROGRESS
from ..progress import Progress as ProgressProtocol

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

__all__ = ["emit", "err", "notes_and_warnings", "out", "print_table", "progress", "table"]


@functools.cache
def err() -> Console:
    """The console on stderr (problems, warnings, progress bars)."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, markup=False, emoji=False, soft_wrap=True)


@functools.cache
def out() -> Console:
    """The console on stdout."""
    from rich.console import Console

    return Console(highlight=False, markup=False, emoji=False, soft_wrap=True)


class _RichProgress:
    """Progress bars on stderr, one task per phase."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(TextColumn("{task.description:>9}"), BarColumn(), MofNCompleteColumn(),
                             TimeElapsedColumn(), console=err(), transient=True)
        self._task: Any = None

    def __enter__(self) -> _RichProgress:
        self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()

    def phase(self, name: str, total: int | None) -> None:
        if self._task is not None:
            self._bar.update(self._task, visible=False)
        self._task = self._bar.add_task(name, total=total)

    def advance(self, n: int = 1) -> None:
        if self._task is not None:
            self._bar.advance(self._task, n)


class _Null:
    def __enter__(self) -> ProgressProtocol:
        return NULL_PROGRESS

    def __exit__(self, *exc: object) -> None:
        return None


def progress(args: argparse.Namespace) -> Any:
    """A context manager giving the :class:`~lc_archive.progress.Progress` to report to: bars on a
    terminal, nothing with ``--json``, ``--quiet`` or when stderr is not a terminal."""
    if args.json or args.quiet or not err().is_terminal:
        return _Null()
    return _RichProgress()


def emit(args: argparse.Namespace, data: dict[str, Any], human: Callable[[], None]) -> None:
    """``data`` as JSON on stdout with ``--json``; otherwise run ``human``."""
    if args.json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=1, default=str) + "\n")
    else:
        human()


def table(*columns: str) -> Table:
    """A rich table with these column headers."""
    from rich.table import Table

    return Table(*columns)


def print_table(rows: Table) -> None:
    """A table at the terminal's width; piped to a file, wide enough not to squeeze refs and titles."""
    if out().is_terminal:
        out().print(rows)
    else:
        from rich.console import Console

        Console(highlight=False, markup=False, emoji=False, width=200).print(rows)


def notes_and_warnings(summary: dict[str, Any]) -> None:
    """The notes (stdout) and warnings (stderr) of an archive summary."""
    for note in summary.get("notes", []):
        out().print(f"note: {note}")
    for warning in summary.get("warnings", []):
        err().print(f"{warning}")
    if summary.get("warning_count", 0) > len(summary.get("warnings", [])):
        err().print(f"... {summary['warning_count'] - len(summary['warnings'])} more warning(s)")
