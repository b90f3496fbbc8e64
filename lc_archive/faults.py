"""Deterministic fault points, for testing that restores and backups are all-or-nothing.

Restore, backup and the SQL store call :func:`fault_point` at each step that matters (after
validation, after each blob, after each batch of rows, before and after the commit, before and after
the rename of a backup, ...). It does nothing unless the environment variable ``LC_ARCHIVE_FAULT`` is
set when this module is first imported::

    LC_ARCHIVE_FAULT=restore.blob:3:kill lc-archive restore lib.zip sqlite:///lib.db

makes the third ``restore.blob`` point kill the process. The form is ``name:k:mode``: ``k`` counts
the hits of that one point from 1, and ``mode`` is

* ``kill``: ``SIGKILL`` this process (a crash: no cleanup at all);
* ``raise``: raise :class:`FaultInjected` (an unexpected error: normal cleanup runs);
* ``sigint`` / ``sigterm``: send this process that signal (an operator's Ctrl-C or a service stop),
  then carry on until the signal handler acts.

Tests in this process use :func:`configure` instead of the environment, and :func:`recording` to
list every point an operation passes. When nothing is armed, a fault point costs one global lookup.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["ENV", "MODES", "FaultInjected", "configure", "fault_point", "recording"]

ENV = "LC_ARCHIVE_FAULT"
"""The environment variable read once, at import."""

MODES = ("kill", "raise", "sigint", "sigterm")


class FaultInjected(RuntimeError):
    """The exception a ``raise`` fault point throws; deliberately not an ``LcArchiveError``."""


class _State:
    """What is armed and what has been hit (one per process)."""

    __slots__ = ("active", "error", "hits", "record", "target")

    def __init__(self) -> None:
        self.active = False  # the only thing the fast path reads
        self.target: tuple[str, int, str] | None = None
        self.hits: Counter[str] = Counter()
        self.record: list[tuple[str, int]] | None = None
        self.error: str | None = None  # a malformed LC_ARCHIVE_FAULT

    def update(self) -> None:
        self.active = self.target is not None or self.record is not None or self.error is not None


_state = _State()


def _parse(spec: str) -> tuple[str, int, str]:
    name, sep, rest = spec.strip().partition(":")
    count, sep2, mode = rest.partition(":")
    if not (name and sep and sep2 and count.isdigit() and int(count) >= 1 and mode in MODES):
        raise ValueError(f"{ENV}={spec!r}: expected name:k:mode with k >= 1 and mode one of {', '.join(MODES)}")
    return name, int(count), mode


def configure(spec: str | None) -> None:
    """Arm one fault point (``"name:k:mode"``) or, with None, disarm; hit counts start again at 0."""
    _state.target = _parse(spec) if spec else None
    _state.error = None
    _state.hits.clear()
    _state.update()


@contextmanager
def recording() -> Iterator[list[tuple[str, int]]]:
    """Collect every ``(name, k)`` passed inside the block, in order (faults stay as configured)."""
    previous, saved = _state.record, _state.hits.copy()
    _state.record = []
    _state.hits.clear()
    _state.update()
    try:
        yield _state.record
    finally:
        _state.record = previous
        _state.hits.clear()
        _state.hits.update(saved)
        _state.update()


def fault_point(name: str) -> None:
    """Mark a step; fails here if this is the armed ``name:k`` (see the module docstring)."""
    if _state.active:
        _hit(name)


def _hit(name: str) -> None:
    if _state.error is not None:
        raise ValueError(_state.error)
    _state.hits[name] += 1
    count = _state.hits[name]
    if _state.record is not None:
        _state.record.append((name, count))
    target = _state.target
    if target is None or target[0] != name or target[1] != count:
        return
    mode = target[2]
    if mode == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif mode == "raise":
        raise FaultInjected(f"fault injected at {name} #{count}")
    else:
        os.kill(os.getpid(), signal.SIGINT if mode == "sigint" else signal.SIGTERM)


try:
    configure(os.environ.get(ENV) or None)
except ValueError as exc:  # a typo must not pass silently as "no fault": every fault point raises it
    _state.error = str(exc)
    _state.update()
