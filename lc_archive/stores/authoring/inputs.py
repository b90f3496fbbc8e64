"""Checks of the authoring API's inputs, before anything is written (the rules are the domain's)."""


from __future__ import annotations

import json
import re

from ...domain import (
    PayloadRecord,
    media_path_problem,
)
from ...domain.syntax import MAX_CODE_LENGTH
from ...errors import AuthoringError

__all__ = ["check_code", "check_envelope", "check_path"]


def check_code(code: str, pattern: re.Pattern[str], what: str) -> None:
    if not isinstance(code, str) or len(code) > MAX_CODE_LENGTH or not pattern.match(code):
        raise AuthoringError(f"invalid {what} {code!r}: must match {pattern.pattern} (at most 255 characters)")


def check_path(path: str) -> None:
    problem = media_path_problem(path) if isinstance(path, str) else f"media path {path!r} is not a string"
    if problem is not None:
        raise AuthoringError(f"invalid media path: {problem}")


def check_envelope(record: PayloadRecord) -> None:
    """The body must be a JSON object whose envelope says what the record says (readers trust the body)."""
    try:
        doc = json.loads(record.body)
    except (ValueError, RecursionError) as exc:
        raise AuthoringError(f"a payload body must be a JSON document: {exc}") from None
    if not isinstance(doc, dict):
        raise AuthoringError("a payload body must be a JSON object")
    said = (doc.get("plugin"), doc.get("schema_version"), doc.get("entity"), doc.get("version"))
    meant = (record.plugin, record.schema_version, record.entity, record.version)
    if said != meant or not isinstance(doc.get("data"), dict):
        raise AuthoringError(f"the payload body's envelope (plugin, schema_version, entity, version) = {said} "
                             f"does not match the record's {meant}, or it has no 'data' object")


