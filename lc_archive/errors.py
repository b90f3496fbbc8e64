"""The exception hierarchy and the ``Problem`` record that validation collects.

Every error raised by lc-archive derives from :class:`LcArchiveError`. Validation never stops at the
first problem: it collects :class:`Problem` records (archive member, field path, message) and raises
:class:`ArchiveInvalid` once with all of them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from .text import escape

__all__ = [
    "ArchiveInvalid",
    "AuthoringError",
    "FileError",
    "InternalError",
    "InvalidArgument",
    "InvalidRef",
    "LcArchiveError",
    "PackageExists",
    "PackageNotFound",
    "Problem",
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


class LcArchiveError(Exception):
    """Root of every error lc-archive raises on purpose."""


class ArchiveInvalid(LcArchiveError):
    """The archive cannot be restored; ``problems`` lists every reason found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: Sequence[Problem] = tuple(sorted(set(problems)))
        count = len(self.problems)
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
