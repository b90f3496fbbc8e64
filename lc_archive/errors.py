"""The exception hierarchy and the ``Problem`` record that validation collects.

Every error raised by lc-archive derives from :class:`LcArchiveError`. Validation never stops at the
first problem: it collects :class:`Problem` records (archive member, field path, message) and raises
:class:`ArchiveInvalid` once with all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "ArchiveInvalid",
    "AuthoringError",
    "LcArchiveError",
    "PackageExists",
    "PackageNotFound",
    "Problem",
    "StoreError",
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

    def __str__(self) -> str:
        tag = "warning: " if self.severity == "warning" else ""
        return f"{self.member}: {self.path}: {tag}{self.message}"

    def as_dict(self) -> dict[str, str]:
        """The machine form used by ``--json`` output."""
        return {"member": self.member, "path": self.path, "message": self.message, "severity": self.severity}


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


class AuthoringError(LcArchiveError, ValueError):
    """Invalid input to the authoring API (bad code, unknown ref, wrong child type, ...)."""


class StoreError(LcArchiveError):
    """A store could not be opened, read or written."""


class PackageNotFound(StoreError, KeyError):
    """No learning package with that ref exists in the store."""

    def __str__(self) -> str:
        return f"no learning package {self.args[0]!r} in this store"


class PackageExists(StoreError):
    """A learning package with that ref already exists; restores never overwrite one."""
