"""Compile untrusted Python sources with a CPU cap per file, in a child process.

``compile()`` is C code that no signal interrupts, and some sources well inside the 1 MiB size cap
take far longer than their size suggests (an f-string of 300,000 placeholders: over 10 s for 900 KB). So
the sources of a code library are compiled by one child Python process (``python -I -S``, nothing
imported but :mod:`resource`), fed through a pipe one file at a time; before each file the child sets
``RLIMIT_CPU`` to what it has used plus :data:`CPU_SECONDS_PER_FILE`, and ``RLIMIT_AS`` caps its
memory. A file that runs over is killed with the child (``SIGXCPU``) and reported as too costly to
compile; a new child takes the remaining files. Nothing is executed: the child only compiles.

Where ``resource`` does not exist (not POSIX), sources are compiled in this process, uncapped.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import subprocess
import sys
import warnings
from collections.abc import Iterable, Iterator
from typing import Final

__all__ = ["CPU_SECONDS_PER_FILE", "MEMORY_PER_CHILD", "compile_problem", "compile_sources"]

CPU_SECONDS_PER_FILE: Final = 3
"""CPU seconds one source file may take to compile (real modules of 100 KB take milliseconds)."""
MEMORY_PER_CHILD: Final = 1 << 30
"""Address space of the compiling child process."""

_CHILD = r"""
import json, resource, sys, warnings
cpu, memory = int(sys.argv[1]), int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
stdin, stdout = sys.stdin.buffer, sys.stdout
while True:
    header = stdin.readline()
    if not header:
        break
    size = int(header)
    data = stdin.read(size)
    used = resource.getrusage(resource.RUSAGE_SELF)
    limit = int(used.ru_utime + used.ru_stime) + cpu + 1
    resource.setrlimit(resource.RLIMIT_CPU, (limit, resource.RLIM_INFINITY))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(data, "<source>", "exec", dont_inherit=True)
        answer = None
    except SyntaxError as exc:
        answer = ["syntax", exc.lineno, exc.msg]
    except (RecursionError, MemoryError):
        answer = ["deep", None, None]
    except (ValueError, OverflowError, TypeError) as exc:
        answer = ["other", None, str(exc)]
    stdout.write(json.dumps(answer) + "\n")
    stdout.flush()
"""


def _message(name: str, answer: list[object] | None) -> str | None:
    if answer is None:
        return None
    kind, line, text = answer
    if kind == "syntax":
        where = f"line {line}: " if line else ""
        return f"{name} does not parse: {where}{text}"
    if kind == "deep":
        return f"{name} does not parse: too deeply nested"
    if kind == "costly":
        return (f"{name} is too costly to compile (more than {CPU_SECONDS_PER_FILE} s of CPU or "
                f"{MEMORY_PER_CHILD >> 20} MiB of memory); refused")
    return f"{name} does not parse: {text}"


def compile_problem(name: str, text: str) -> str | None:
    """Why ``text`` does not compile as Python 3, in this process and uncapped (trusted or small input)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning for invalid escapes and the like
            compile(text, name, "exec", dont_inherit=True)
    except SyntaxError as exc:  # IndentationError and TabError included
        return _message(name, ["syntax", exc.lineno, exc.msg])
    except (RecursionError, MemoryError):
        return _message(name, ["deep", None, None])
    except (ValueError, OverflowError, TypeError) as exc:
        return _message(name, ["other", None, str(exc)])
    return None


_ANSWERS: dict[str, list[object] | None] = {}
"""What compiling gave, by SHA-256 of the source (bounded, oldest dropped first): the same bytes are
compiled once per process, whichever library or version holds them."""
_ANSWERS_KEPT: Final = 4096
_TOO_COSTLY: Final[list[object]] = ["costly", None, None]


def _remember(digest: str, answer: list[object] | None) -> None:
    if len(_ANSWERS) >= _ANSWERS_KEPT:
        _ANSWERS.pop(next(iter(_ANSWERS)))
    _ANSWERS[digest] = answer


def compile_sources(sources: Iterable[tuple[str, str]]) -> Iterator[tuple[str, str | None]]:
    """Compile each ``(name, text)`` under the per-file CPU cap; yield ``(name, why it does not compile)``
    (None: it compiles), in order. Sources are read from ``sources`` one at a time. See the module
    docstring."""
    try:
        import resource  # noqa: F401  (POSIX only)
    except ImportError:  # pragma: no cover
        for name, text in sources:
            yield name, compile_problem(name, text)
        return
    child: subprocess.Popen[bytes] | None = None
    try:
        for name, text in sources:
            data = text.encode("utf-8")
            digest = hashlib.sha256(data).hexdigest()
            if digest in _ANSWERS:
                yield name, _message(name, _ANSWERS[digest])
                continue
            if child is None:
                child = subprocess.Popen(
                    [sys.executable, "-I", "-S", "-c", _CHILD, str(CPU_SECONDS_PER_FILE), str(MEMORY_PER_CHILD)],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)  # fmt: skip
            assert child.stdin is not None and child.stdout is not None
            try:
                child.stdin.write(b"%d\n" % len(data) + data)
                child.stdin.flush()
                line = child.stdout.readline()
            except OSError:  # the child is gone
                line = b""
            if not line:  # killed by its limits on this file: the next file gets a new child
                _close(child)
                child = None
                answer: list[object] | None = _TOO_COSTLY
            else:
                answer = json.loads(line)
            _remember(digest, answer)
            yield name, _message(name, answer)
    finally:
        if child is not None:
            _close(child)


def _close(child: subprocess.Popen[bytes]) -> None:
    if child.stdin is not None:
        with contextlib.suppress(OSError):
            child.stdin.close()
    try:
        child.wait(timeout=5)
    except subprocess.TimeoutExpired:  # pragma: no cover
        child.kill()
        child.wait()
    if child.stdout is not None:
        child.stdout.close()
