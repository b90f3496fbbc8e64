"""The exception hierarchy and the ``Problem`` record that validation collects.

Every error raised by lc-archive derives from :class:`LcArchiveError`. Validation never stops at the
first problem: it collects :class:`Problem` records (archive member, field path, message) and raises
:class:`ArchiveInvalid` once with all of them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final, SupportsIndex

from .text import escape

__all__ = [
    "MAX_LISTED_PROBLEMS",
    "ArchiveInvalid",
    "AuthoringError",
    "FileError",
    "InternalError",
    "InvalidArgument",
    "InvalidRef",
    "LcArchiveError",
    "OmittedProblems",
    "PackageExists",
    "PackageNotFound",
    "Problem",
    "ProblemList",
    "StoreError",
    "StoreMissing",
    "only_lc_errors",
]


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    """One thing wrong with an archive: where (member, field path) and what.

    ``path`` is a JSONPath-like location inside the member, ``$`` for the member as a whole, for
    example ``$.version[1].title``.
    """

    member: str
    path: str
    message: str
    severity: str = "error"
    """``error`` always refuses the archive; ``warning`` (content openedx-core accepts but that is likely
    broken) fails ``validate`` and a strict restore, and is only reported by a normal restore."""
    kind: str = ""
    """What sort of problem (``missing-static``...), to group many alike; empty: the severity."""

    def __str__(self) -> str:
        """One line, safe on a terminal (control characters escaped, see :func:`lc_archive.text.escape`)."""
        tag = "warning: " if self.severity == "warning" else ""
        return escape(f"{self.member}: {self.path}: {tag}{self.message}")

    def as_dict(self) -> dict[str, str]:
        """The machine form used by ``--json`` output (the real, unescaped values)."""
        return {"member": self.member, "path": self.path, "message": self.message, "severity": self.severity,
                "kind": self.kind or self.severity}


MAX_LISTED_PROBLEMS: Final = 1000
"""Problems kept whole while an archive is validated; the rest are counted per kind (:class:`ProblemList`)."""
_MAX_KINDS: Final = 100

_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_DIGEST = re.compile(r"\b[0-9a-f]{16,}\b")
_NUMBER = re.compile(r"\d+")


def _pattern(text: str) -> str:
    """``text`` with quoted values, digests and numbers replaced: what problems of one kind share."""
    return _NUMBER.sub("N", _DIGEST.sub("<sha256>", _QUOTED.sub("'…'", text)))


@dataclass(frozen=True, slots=True)
class OmittedProblems:
    """Problems of one kind beyond the first :data:`MAX_LISTED_PROBLEMS`, counted, not kept."""

    member: str
    """The member of the first of them, ``*`` when they name several members."""
    path: str
    """Their path, indexes replaced by ``*`` (``$.members[*].name``)."""
    message: str
    """Their message, quoted values as ``'…'``, numbers as ``N``, SHA-256 digests as ``<sha256>``."""
    severity: str
    count: int

    def __str__(self) -> str:
        """One line, safe on a terminal (as :meth:`Problem.__str__`)."""
        tag = "warning: " if self.severity == "warning" else ""
        return escape(f"{self.member}: {self.path}: {tag}{self.count} more like: {self.message}")

    def as_dict(self) -> dict[str, str | int]:
        """The machine form used by ``--json`` output."""
        return {"member": self.member, "path": self.path, "message": self.message, "severity": self.severity,
                "count": self.count}


@dataclass(slots=True)
class _Kind:
    member: str
    count: int = 1


class ProblemList(list[Problem]):
    """The problems found so far, in bounded memory: the first ``limit`` kept whole, the rest counted
    per kind (:class:`OmittedProblems`), so that an archive listing a million absent members gives a
    report of a thousand lines and some counts, not a million lines. ``append``/``extend`` as a list.
    """

    def __init__(self, problems: Iterable[Problem] = (), *, limit: int = MAX_LISTED_PROBLEMS) -> None:
        super().__init__()
        self.limit = limit
        self.errors = 0
        """Problems of severity ``error``, kept or not."""
        self._omitted: dict[tuple[str, str, str], _Kind] = {}
        self.extend(problems)

    def append(self, problem: Problem) -> None:
        """Keep ``problem`` (or count it, past the limit)."""
        if problem.severity != "warning":
            self.errors += 1
        if len(self) < self.limit:
            super().append(problem)
            return
        key = (_pattern(problem.path).replace("[N]", "[*]"), _pattern(problem.message), problem.severity)
        if key not in self._omitted and len(self._omitted) >= _MAX_KINDS:
            key = ("$", "other problems", problem.severity)
        kind = self._omitted.get(key)
        if kind is None:
            self._omitted[key] = _Kind(problem.member)
            return
        kind.count += 1
        if kind.member != problem.member:
            kind.member = "*"

    def extend(self, problems: Iterable[Problem]) -> None:
        """:meth:`append` each."""
        for problem in problems:
            self.append(problem)

    def __iadd__(self, problems: Iterable[Problem]) -> ProblemList:  # type: ignore[override,misc]
        self.extend(problems)
        return self

    def insert(self, index: SupportsIndex, problem: Problem) -> None:
        """Not supported: problems are collected in the order found."""
        raise TypeError("a ProblemList is appended to, never inserted into")

    @property
    def omitted(self) -> tuple[OmittedProblems, ...]:
        """The problems counted, not kept, one record per kind, the largest count first."""
        out = [OmittedProblems(kind.member, path, message, severity, kind.count)
               for (path, message, severity), kind in self._omitted.items()]
        return tuple(sorted(out, key=lambda o: (-o.count, o.member, o.path, o.message)))

    @property
    def total(self) -> int:
        """Every problem found, kept or counted."""
        return len(self) + sum(kind.count for kind in self._omitted.values())


class LcArchiveError(Exception):
    """Root of every error lc-archive raises on purpose."""


class ArchiveInvalid(LcArchiveError):
    """The archive cannot be restored; ``problems`` lists every reason found (from a :class:`ProblemList`,
    the first :data:`MAX_LISTED_PROBLEMS` of them, and ``omitted`` counts the rest per kind; ``count``
    is the total). A plain list is kept whole (the ZIP pre-flight's, bounded by ``max_members``)."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: Sequence[Problem] = tuple(sorted(set(problems)))
        self.omitted: tuple[OmittedProblems, ...] = problems.omitted if isinstance(problems, ProblemList) else ()
        self.count = len(self.problems) + sum(o.count for o in self.omitted)
        count = self.count
        lines = "\n".join(str(p) for p in self.problems[:50])
        more = f"\n... and {count - 50} more" if count > 50 else ""
        super().__init__(f"archive is invalid ({count} problem{'s' if count != 1 else ''}):\n{lines}{more}")


class InvalidArgument(LcArchiveError, ValueError):
    """An argument given by the caller is malformed (a ref, a time, a count, a URL): bad usage, exit 2."""


class InvalidRef(InvalidArgument):
    """A ref breaks the one ref rule (:func:`lc_archive.domain.syntax.check_ref`)."""


class AuthoringError(LcArchiveError, ValueError):
    """Invalid input to the authoring API (bad code, unknown ref, wrong child type, ...)."""


class StoreError(LcArchiveError):
    """A store could not be opened, read or written."""


class StoreMissing(StoreError):
    """There is no store at that location (yet): opened with ``create=False``."""


class PackageNotFound(StoreError, KeyError):
    """No learning package with that ref exists in the store."""

    def __str__(self) -> str:
        return escape(f"no learning package {self.args[0]!r} in this store")


class PackageExists(StoreError):
    """A learning package with that ref already exists; restores never overwrite one."""


class FileError(LcArchiveError, OSError):
    """A file or directory could not be read or written (the ``OSError`` is chained as the cause)."""


class InternalError(LcArchiveError):
    """Something failed that lc-archive did not expect (a bug: please report it); the cause is chained."""


def only_lc_errors[**P, R](function: Callable[P, R],
                           passthrough: tuple[type[Exception], ...] = ()) -> Callable[P, R]:
    """``function`` raising only :class:`LcArchiveError` subclasses: an ``OSError`` becomes a
    :class:`FileError`, anything else an :class:`InternalError`, each with the original as its cause.
    ``KeyboardInterrupt``, ``SystemExit`` and the ``passthrough`` exceptions (the crash tests' injected
    faults) pass unchanged."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except LcArchiveError:
            raise
        except Exception as exc:
            if isinstance(exc, passthrough):
                raise
            if not isinstance(exc, OSError):
                raise InternalError(f"unexpected {type(exc).__name__}: {exc}") from exc
            if exc.errno is None:
                raise FileError(str(exc)) from exc
            raise FileError(exc.errno, exc.strerror or str(exc), exc.filename) from exc

    return wrapper
