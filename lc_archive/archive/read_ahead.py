"""Members read ahead by a second process: the other core inflates, checks and hashes what the reader
will ask for next, while this process validates and writes what it has.

A restore reads every member of an archive in an order its format's reader knows beforehand. When the
machine lets this process use two cores, :func:`read_ahead` forks a child that runs a pure function
(``work(reader, name)``: the member's bytes, SHA-256, parsed TOML...) over those names in that order
and sends the results back through a pipe, in batches; :meth:`ReadAhead.take` hands each one over
when the reader asks for that member. The child never writes anything but the pipe, and it reads the
archive with ``pread`` on the inherited descriptor, so the parent's file position is never moved.

Nothing depends on the child: a name the child did not read (``work`` returned None or raised), a name
asked for out of the expected order, or a child that died all give None, and the caller reads that
member itself, as a single-process run does: the results, the problems and their order are the same
either way. The pipe holds a bounded amount (the child blocks when it is full), the child ends when the
parent closes its end (or dies: the next write fails), and :meth:`ReadAhead.close` ends and reaps it.

One process (``take`` always None) when the process may use a single core (``os.sched_getaffinity``),
runs other threads (a fork copies no thread, and a lock another thread holds would stay held in the
child), reads an archive that is not a local file, or has fewer than ``min_members`` to read;
``LC_ARCHIVE_PROCESSES=1`` forces one process, ``=2`` a second one whatever the size (tests).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import threading
from collections import deque
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import IO, Any, Self

from .zip_reader import ArchiveReader

__all__ = ["ENV", "ReadAhead", "read_ahead", "two_cores"]

ENV = "LC_ARCHIVE_PROCESSES"
"""``1``: never a second process; ``2``: a second process even for small archives (tests)."""

_BATCH = 64
"""Results sent per message (fewer wake-ups than one message each)."""
_BATCH_BYTES = 256 * 1024
"""A batch is sent once its results hold about this many bytes, even if it has fewer results."""
_LOOKAHEAD = 64
"""How far past the expected name :meth:`ReadAhead.take` looks for the name asked for."""
_PIPE_SIZE = 1 << 20
"""The pipe's capacity (Linux): how far the child may run ahead of the reader."""

Work = Callable[[ArchiveReader, str], Any]


def two_cores() -> bool:
    """Whether this process may run on more than one core."""
    try:
        return len(os.sched_getaffinity(0)) > 1
    except (AttributeError, OSError):  # pragma: no cover (not Linux)
        return (os.cpu_count() or 1) > 1


def _allowed(reader: ArchiveReader, count: int, min_members: int) -> bool:
    setting = os.environ.get(ENV, "")
    if setting == "1" or not hasattr(os, "fork") or reader.fileno() is None:
        return False
    if setting == "2":
        return True
    return count >= min_members and two_cores() and threading.active_count() == 1


class ReadAhead:
    """The results of ``work`` over ``names``, computed by a child process (see the module docstring).

    Use :func:`read_ahead`, which gives one that never has a result when a second process does not pay.
    """

    def __init__(self, names: Sequence[str]) -> None:
        self._names = names
        self._head = 0  # the index in names of the next result to receive
        self._ready: deque[Any] = deque()  # results received, for names[_head:]
        self._pipe: IO[bytes] | None = None
        self._pid = 0
        self.taken = 0
        """Results handed over so far."""

    def _start(self, reader: ArchiveReader, work: Work) -> None:
        fd = reader.fileno()
        assert fd is not None
        read_end, write_end = os.pipe()
        with contextlib.suppress(OSError, AttributeError):  # a larger pipe: fewer switches between the two
            import fcntl

            fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(read_end)
            _child(reader, fd, self._names, work, write_end)
        os.close(write_end)
        self._pid = pid
        self._pipe = os.fdopen(read_end, "rb", buffering=_PIPE_SIZE)

    def take(self, name: str) -> Any:
        """The result for member ``name`` if it is (nearly) the next expected, else None; the results of
        the names passed over are dropped (the caller reads those members itself, if it wants them)."""
        if self._pipe is None:
            return None
        names = self._names
        end = min(self._head + _LOOKAHEAD, len(names))
        for i in range(self._head, end):
            if names[i] == name:
                while self._head < i:
                    self._next()
                result = self._next()
                self.taken += result is not None
                return result
        return None

    def _next(self) -> Any:
        if not self._ready:
            try:
                assert self._pipe is not None
                self._ready.extend(pickle.load(self._pipe))  # our own child's pickles
            except Exception:  # the child died or was killed: read the rest in this process
                self.close()
                return None
        self._head += 1
        return self._ready.popleft()

    def close(self) -> None:
        """Stop the child (if it is still reading) and reap it."""
        pipe, self._pipe = self._pipe, None
        self._ready.clear()
        if pipe is not None:
            pipe.close()
        if self._pid:
            pid, self._pid = self._pid, 0
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def read_ahead(reader: ArchiveReader, names: Sequence[str], work: Work, *, min_members: int = 2000) -> ReadAhead:
    """A :class:`ReadAhead` of ``work(reader, name)`` for each of ``names`` (the order the caller will
    ask for them in), computed by a second process when that pays (see the module docstring)."""
    ahead = ReadAhead(names)
    if names and _allowed(reader, len(names), min_members):
        try:
            ahead._start(reader, work)
        except OSError:  # no process or pipe to be had: one process it is
            ahead.close()
    return ahead


def _child(reader: ArchiveReader, fd: int, names: Sequence[str], work: Work, write_end: int) -> None:
    """Run ``work`` over ``names`` and send the results in batches; exit without running any handler of
    the parent (its buffered output, its temporary files and connections are its own)."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends the child quietly, not with a traceback
        reader.use_pread(fd)
        with os.fdopen(write_end, "wb", buffering=_PIPE_SIZE) as out:
            batch: list[Any] = []
            size = 0
            for name in names:
                try:
                    result = work(reader, name)
                except Exception:  # the reader will meet the problem itself
                    result = None
                batch.append(result)
                size += _weight(result)
                if len(batch) >= _BATCH or size >= _BATCH_BYTES:
                    pickle.dump(batch, out, protocol=pickle.HIGHEST_PROTOCOL)
                    out.flush()
                    batch, size = [], 0
            pickle.dump(batch, out, protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException:  # the parent went away (a broken pipe) or stopped us
        code = 1
    finally:
        os._exit(code)


def _weight(result: Any) -> int:
    """About how many bytes a result pickles to: its bytes objects, 64 for anything else in a tuple."""
    if isinstance(result, bytes):
        return len(result)
    if isinstance(result, tuple):
        return sum(len(part) if isinstance(part, bytes) else 64 for part in result)
    return 64
