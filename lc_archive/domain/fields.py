"""Annotated field types shared by the content model and the archive document models.

Each type encodes one openedx-core rule (see ``docs/formats/v1.md``) so that every format validates the
same way: ref and code syntax, version numbers, title and description lengths, UTC datetimes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

__all__ = [
    "ASCII_CODE_RE",
    "CODE_RE",
    "AsciiCode",
    "Code",
    "ContainerType",
    "Description",
    "Ref",
    "Title",
    "UtcDatetime",
    "VersionNumber",
    "check_code",
    "media_path_problem",
    "no_nul",
    "to_utc",
]

CODE_RE = re.compile(r"^[\w.-]+\Z")
"""openedx-core ``code_field(unicode=True)``: component and container codes."""
ASCII_CODE_RE = re.compile(r"^[a-zA-Z0-9_.-]+\Z")
"""openedx-core ``code_field(unicode=False)``: collection codes."""

CONTAINER_TYPES = ("unit", "subsection", "section")
ContainerType = Literal["unit", "subsection", "section"]


def check_code(value: str, *, ascii_only: bool = False) -> str:
    """Return ``value`` if it is a valid code (<= 255 chars, ``^[\\w.-]+$``), else raise ValueError."""
    pattern = ASCII_CODE_RE if ascii_only else CODE_RE
    if len(value) > 255:
        raise ValueError(f"code is {len(value)} characters long; the limit is 255")
    if not pattern.match(value):
        allowed = "ASCII letters, digits, '_', '.' and '-'" if ascii_only else "letters, digits, '_', '.', '-'"
        raise ValueError(f"invalid code {value!r}: only {allowed} are allowed")
    return value


def media_path_problem(path: str) -> str | None:
    """Why ``path`` cannot name a component version's media file, or None if it can.

    openedx-core requires ``path == path.strip().lstrip("/")`` and no backslash; lc-archive also refuses
    empty, ``.`` and ``..`` components so that a path can never leave its version directory.
    """
    if not path:
        return "media path is empty"
    if path != path.strip().lstrip("/"):
        return f"media path {path!r} has surrounding whitespace or a leading '/'"
    if "\\" in path:
        return f"media path {path!r} contains a backslash"
    if any(part in ("", ".", "..") for part in path.split("/")):
        return f"media path {path!r} has an empty, '.' or '..' component"
    if len(path) > 500:
        return f"media path is {len(path)} characters long; the limit is 500"
    return None


def no_nul(value: str) -> str:
    """Refuse NUL characters: PostgreSQL cannot store them in text, and no title or ref needs one."""
    if "\x00" in value:
        raise ValueError("must not contain a NUL character (U+0000)")
    return value


def _check_ascii_code(value: str) -> str:
    return check_code(value, ascii_only=True)


def to_utc(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC (as openedx-core's reader does); aware ones are converted.

    ``ValueError`` (a validation error, not a crash) when the converted time falls outside years
    1-9999, e.g. ``0001-01-01T00:00:00+01:00``.
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"date-time {value.isoformat()} is out of range once converted to UTC") from None


def _parse_datetime(value: object) -> object:
    # A TOML/JSON string in ISO 8601 form is accepted too; a bare date is not a timestamp.
    if isinstance(value, str):
        if len(value) <= 10:  # a bare date such as 2025-01-01 is not a point in time
            raise ValueError(f"not a date-time (a date alone is not enough): {value!r}")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"not an ISO 8601 date-time: {value!r}") from exc
        return parsed
    if not isinstance(value, datetime):
        raise ValueError(f"expected a date-time, got {type(value).__name__}")
    return value


Ref = Annotated[str, StringConstraints(min_length=1, max_length=500), AfterValidator(no_nul)]
"""An opaque identifier (package_ref, entity_ref): 1-500 characters, case-sensitive."""
Code = Annotated[str, AfterValidator(check_code)]
AsciiCode = Annotated[str, AfterValidator(_check_ascii_code)]
Title = Annotated[str, StringConstraints(max_length=500), AfterValidator(no_nul)]
Description = Annotated[str, StringConstraints(max_length=10_000), AfterValidator(no_nul)]
VersionNumber = Annotated[int, Field(strict=True, ge=1, le=2**31 - 1)]
"""A version number: a positive integer. Strict: the string "1" or ``true`` are rejected."""
UtcDatetime = Annotated[datetime, BeforeValidator(_parse_datetime), AfterValidator(to_utc)]
