"""What a command returns: a :class:`Report`, rendered once by the app as the JSON envelope or as text.

A command never prints errors, warnings or its summary itself: it raises an
:class:`~lc_archive.errors.LcArchiveError` or returns a Report. :func:`envelope` is the one JSON shape
of every command (``docs/formats/cli-envelope.schema.json``), success and failure alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import Problem

__all__ = ["ENVELOPE_VERSION", "Loss", "Report", "envelope", "loss_list", "warning_problems"]

ENVELOPE_VERSION = 1
"""Bumped when a key of the envelope changes meaning or goes away (new keys do not bump it)."""


@dataclass(frozen=True, slots=True)
class Loss:
    """Something the written format does not carry: ``count`` of ``kind``, or None when unknown (said why)."""

    kind: str
    count: int | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        """The envelope's form."""
        return {"kind": self.kind, "count": self.count, "message": self.message}


@dataclass
class Report:
    """The outcome of one command (see the module docstring)."""

    result: dict[str, Any] | None = None
    """The command's own data: the ``result`` of the envelope (JSON-able)."""
    summary: str = ""
    """One line, printed last on a terminal (escaped by the renderer)."""
    body: Callable[[], None] | None = None
    """Prints tables or lines before the warnings and the summary (not with ``--json`` or ``-q``)."""
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    warning_count: int | None = None
    """Warnings found in all, when more were found than :attr:`warnings` keeps."""
    losses: list[Loss] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    exit: int = 0


def warning_problems(warnings: Mapping[str, int], sentences: Iterable[str]) -> list[Problem]:
    """Counted warnings (kind -> n, with one sentence each) as warning Problems of the whole archive."""
    return [Problem("", "$", text, "warning", kind) for kind, text in zip(warnings, sentences, strict=False)]


def loss_list(counts: Mapping[str, int | None], sentences: Iterable[str]) -> list[Loss]:
    """Counted losses (kind -> n, with one sentence each) as :class:`Loss` records."""
    return [Loss(kind, n, text) for (kind, n), text in zip(counts.items(), sentences, strict=False)]


def envelope(command: str | None, report: Report | None = None, *, exit: int = 0,
             error: tuple[str, str] | None = None, problems: Iterable[Problem] = (),
             refused: bool = False) -> dict[str, Any]:
    """The JSON envelope: ``ok``, ``command``, ``exit``, ``result``, ``error`` (type, message), ``problems``,
    ``warnings``, ``losses`` and ``notes``, every key always present.

    ``ok`` is true when the command did what it was asked without an error or an error-severity problem
    (``refused``: an archive refused, by its warnings too); ``exit`` may still be 1 for an answer
    (``diff``: the archives differ).
    """
    report = report or Report()
    every = [*report.problems, *problems]
    return {
        "envelope": ENVELOPE_VERSION,
        "ok": error is None and not refused and not any(p.severity == "error" for p in every),
        "command": command,
        "exit": exit,
        "result": report.result,
        "error": None if error is None else {"type": error[0], "message": error[1]},
        "problems": [p.as_dict() for p in every if p.severity == "error"],
        "warnings": [p.as_dict() for p in (*report.warnings, *(p for p in every if p.severity != "error"))],
        "warning_count": report.warning_count if report.warning_count is not None else
        len(report.warnings) + sum(p.severity != "error" for p in every),
        "losses": [loss.as_dict() for loss in report.losses],
        "notes": list(report.notes),
    }
