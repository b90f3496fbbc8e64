"""What the command line prints: consoles, the JSON envelope, progress bars, tables, warnings, summaries.

Every string shown on a terminal goes through :func:`lc_archive.text.escape` here (refs, titles and
member names come from archives and stores, which may hold escape sequences); ``--json`` keeps the real
values. rich is imported on first use, so that ``lc-archive --help`` stays cheap.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections import Counter
from typing import TYPE_CHECKING, Any

from ..errors import Problem
from ..progress import NULL_PROGRESS
from ..progress import Progress as ProgressProtocol
from ..text import escape, json_safe
from .report import Report, envelope

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

__all__ = ["EXAMPLES_PER_KIND", "add_row", "err", "line", "out", "print_table", "progress", "render",
           "stdout_is_terminal", "table", "write_json"]

EXAMPLES_PER_KIND = 3
"""Warnings shown per kind on a terminal without ``--show-warnings``."""


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


def stdout_is_terminal() -> bool:
    """Whether stdout is a terminal (data written elsewhere is kept byte for byte, e.g. ``state``)."""
    return sys.stdout.isatty()


def line(text: object, *, stderr: bool = False) -> None:
    """One line of text, escaped, on stdout (or stderr)."""
    (sys.stderr if stderr else sys.stdout).write(escape(text) + "\n")


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


def table(*columns: str) -> Table:
    """A rich table with these column headers; cells fold rather than being cut (no identifier is lost)."""
    from rich.table import Table

    rows = Table()
    for column in columns:
        rows.add_column(column, overflow="fold")
    return rows


def add_row(rows: Table, *cells: object) -> None:
    """Add a row of escaped cells."""
    rows.add_row(*(escape(cell) for cell in cells))


def print_table(rows: Table) -> None:
    """A table at the terminal's width (long cells fold); piped, as wide as it needs (nothing folds)."""
    if out().is_terminal:
        out().print(rows)
    else:
        from rich.console import Console

        Console(highlight=False, markup=False, emoji=False, width=100_000).print(rows, crop=False)


def write_json(data: dict[str, Any]) -> None:
    """One JSON document on stdout (the real values, unescaped)."""
    sys.stdout.write(json_safe(json.dumps(data, ensure_ascii=False, indent=1, default=str)) + "\n")


def _warning_lines(warnings: list[Problem], total: int, show_all: bool) -> list[str]:
    if not warnings:
        return []
    if show_all:
        lines = [str(w) for w in warnings]
        if total > len(warnings):
            lines.append(f"... {total - len(warnings)} more warning(s) not kept")
        return lines
    kinds = Counter(w.kind or w.severity for w in warnings)
    lines = []
    for kind, n in kinds.most_common():
        lines.append(f"{n} warning(s) of kind {kind}, for example:")
        lines.extend(f"  {w}" for w in [w for w in warnings if (w.kind or w.severity) == kind][:EXAMPLES_PER_KIND])
    more = f" ({total - len(warnings)} more not kept)" if total > len(warnings) else ""
    if len(warnings) > EXAMPLES_PER_KIND * len(kinds) or more:
        lines.append(f"{total} warning(s) in all{more}; --show-warnings (-v) lists them")
    return lines


def render(args: argparse.Namespace, report: Report) -> None:
    """Print ``report``: the envelope with ``--json``; else the body, notes, warnings (grouped by kind,
    all with ``-v``), losses, errors and the summary line last. ``-q`` keeps only the errors and the summary."""
    if args.json:
        write_json(envelope(args.command, report, exit=report.exit))
        return
    if not args.quiet:
        if report.body is not None:
            report.body()
        for note in report.notes:
            line(f"note: {note}")
        total = report.warning_count if report.warning_count is not None else len(report.warnings)
        for text in _warning_lines(report.warnings, total, getattr(args, "verbose", False)):
            line(text, stderr=True)
        for loss in report.losses:
            line(f"  not carried: {loss.message}")
    for problem in report.problems:
        line(problem, stderr=True)
    if report.summary:
        line(report.summary)
