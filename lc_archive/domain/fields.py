"""The domain rules as pydantic annotated field types, for the document models of every format.

Each type applies one rule of :mod:`.syntax`, :mod:`.media`, :mod:`.kinds` or :mod:`.timestamps`
(see ``docs/formats/v1.md``), so every format validates the same way: ref and code syntax, version
numbers, title and description lengths, UTC datetimes, media paths. Importing this module imports
pydantic; the rest of :mod:`lc_archive.domain` does not.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

from .kinds import ContainerType
from .media import media_path_problem
from .syntax import MAX_REF_LENGTH, PLUGIN_NAME_PATTERN, check_code, no_nul, ref_problem
from .text import MAX_DESCRIPTION, MAX_TITLE
from .timestamps import to_utc

__all__ = [
    "AsciiCode",
    "Code",
    "ContainerType",
    "Description",
    "MediaPath",
    "PluginName",
    "Ref",
    "Title",
    "UtcDatetime",
    "VersionNumber",
]


def _check_ascii_code(value: str) -> str:
    return check_code(value, ascii_only=True)


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


def _ref(value: str) -> str:
    problem = ref_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _media_path(value: str) -> str:
    problem = media_path_problem(value)
    if problem:
        raise ValueError(problem)
    return value


Ref = Annotated[str, StringConstraints(min_length=1, max_length=MAX_REF_LENGTH), AfterValidator(_ref)]
"""An opaque identifier (package_ref, entity_ref) under the one ref rule (:func:`~.syntax.ref_problem`)."""
Code = Annotated[str, AfterValidator(check_code)]
AsciiCode = Annotated[str, AfterValidator(_check_ascii_code)]
Title = Annotated[str, StringConstraints(max_length=MAX_TITLE), AfterValidator(no_nul)]
Description = Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION), AfterValidator(no_nul)]
VersionNumber = Annotated[int, Field(strict=True, ge=1, le=2**31 - 1)]
"""A version number: a positive integer. Strict: the string "1" or ``true`` are rejected."""
UtcDatetime = Annotated[datetime, BeforeValidator(_parse_datetime), AfterValidator(to_utc)]
MediaPath = Annotated[str, AfterValidator(_media_path)]
"""A component version's media path (:func:`~.media.media_path_problem`)."""
PluginName = Annotated[str, StringConstraints(pattern=f"^{PLUGIN_NAME_PATTERN}$")]
"""A plugin name (:data:`~.syntax.PLUGIN_NAME_PATTERN`)."""
