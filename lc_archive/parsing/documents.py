"""Validate one TOML archive document into a pydantic model, reporting problems with TOML paths.

Shared by every format's reader: the bytes go through :func:`~.safe_toml.parse_toml` (strict UTF-8,
a nesting check before ``tomllib``), the text rule of every store (:mod:`lc_archive.domain.text`) and
the model; every failure becomes :class:`Problem` records
located in the document (``$.version[1].title``), never an exception.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from ..domain.text import text_problems
from ..errors import Problem
from .safe_toml import TomlInvalid, decode_toml, parse_toml_text

__all__ = ["load_document", "load_text_document", "parse_document_text", "problems_from", "toml_path",
           "validate_document"]


def toml_path(loc: tuple[int | str, ...]) -> str:
    """Turn a pydantic error location into ``$.a.b[1].c``."""
    out = "$"
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def problems_from(member: str, error: ValidationError, prefix: tuple[int | str, ...] = (),
                  after: str = "") -> list[Problem]:
    """One :class:`Problem` per pydantic error, located in the document at ``$.<prefix>.<loc>``;
    ``after`` is appended to every message."""
    problems = []
    for e in error.errors(include_url=False):
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-after")))
        msg = e["msg"].removeprefix("Value error, ")
        problems.append(Problem(member, toml_path(prefix + loc), msg + after))
    return problems


def load_document[M: BaseModel](member: str, raw: bytes, model: type[M], *, max_depth: int,
                                problems: list[Problem]) -> M | None:
    """Parse and validate ``raw`` as ``model``; on failure append to ``problems`` and return None.

    Every key and string of the document, whatever its field (extension tables included), must be text
    every supported store can hold (:func:`~lc_archive.domain.text.text_problem`: no NUL): checked
    before the model, which checks each field's length against its column.
    """
    try:
        text = decode_toml(raw)
    except TomlInvalid as exc:
        problems.append(Problem(member, "$", str(exc)))
        return None
    return load_text_document(member, text, model, max_depth=max_depth, problems=problems)


def load_text_document[M: BaseModel](member: str, text: str, model: type[M], *, max_depth: int,
                                     problems: list[Problem]) -> M | None:
    """:func:`load_document` for TOML text already decoded (a document read in pieces)."""
    try:
        document, maybe_nul = parse_document_text(text, max_depth=max_depth)
    except TomlInvalid as exc:
        problems.append(Problem(member, "$", str(exc)))
        return None
    return validate_document(member, document, model, maybe_nul=maybe_nul, problems=problems)


def parse_document_text(text: str, *, max_depth: int) -> tuple[dict[str, Any], bool]:
    """The parsed TOML document (:class:`TomlInvalid` if it is not one) and whether it may hold a NUL.

    TOML can only spell a NUL as an escape (a raw one is invalid, and so is any surrogate escape): a
    document without one needs no walk in :func:`validate_document`.
    """
    document = parse_toml_text(text, max_depth=max_depth)
    return document, "\\u0000" in text or "\\U00000000" in text


def validate_document[M: BaseModel](member: str, document: dict[str, Any], model: type[M], *, maybe_nul: bool,
                                    problems: list[Problem]) -> M | None:
    """The second half of :func:`load_document`: the text rule, then the model (problems appended)."""
    unstorable = [Problem(member, path, why) for path, why in text_problems(document)] if maybe_nul else []
    if unstorable:
        problems.extend(unstorable)
        return None
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        problems.extend(problems_from(member, exc))
    return None
