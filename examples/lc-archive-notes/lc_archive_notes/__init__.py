"""lc-archive plugin ``plugin:notes``: authors' notes on entities and on single versions, as payloads.

Schema versions of ``data``:

1. ``{"notes": [{"author": "alice", "text": "Check the answer key"}]}``
2. ``{"notes": [{"author": "alice", "body": "...", "format": "text", "created": "2025-01-31T09:00:00Z"}]}``:
   ``text`` is renamed ``body``, ``format`` is ``text`` or ``markdown``, ``created`` an RFC 3339 time
   with a UTC offset, or null when unknown; upgrading 1 -> 2 renames ``text`` and sets ``format`` to
   ``text`` and ``created`` to null.

Fields this version does not know (written by a newer plugin) are kept: every model allows extras.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, StringConstraints

from lc_archive.plugins import Issue, PayloadScope, PayloadTarget, PluginSerializer

__all__ = ["Note", "NotesData", "NotesSerializer"]


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain a NUL character (U+0000)")
    return value


def _timestamp(value: object) -> object:
    # JSON has no date-time type: accept an RFC 3339 string (or a datetime from Python code), never a number.
    if isinstance(value, str | datetime):
        return value
    raise ValueError(f"expected an RFC 3339 date-time string, got {type(value).__name__}")


Author = Annotated[str, StringConstraints(min_length=1, max_length=255), AfterValidator(_no_nul)]
Body = Annotated[str, StringConstraints(min_length=1, max_length=100_000), AfterValidator(_no_nul)]
Created = Annotated[AwareDatetime, BeforeValidator(_timestamp)]


class Note(BaseModel):
    """One note: the typed record of this plugin, and one item of ``data.notes``."""

    model_config = ConfigDict(extra="allow", frozen=True)

    author: Author
    """Who wrote it (a username)."""
    body: Body
    """The note itself."""
    format: Literal["text", "markdown"] = "text"
    """How :attr:`body` is written."""
    created: Created | None = None
    """When it was written (with a UTC offset), None when unknown."""


class NotesData(BaseModel):
    """``data`` at schema version 2."""

    model_config = ConfigDict(extra="allow")

    notes: list[Note]


class NotesSerializer(PluginSerializer):
    """Notes on an entity or on one version of it (``plugin:notes``)."""

    id: ClassVar[str] = "plugin:notes"
    name: ClassVar[str] = "notes"
    description: ClassVar[str] = "authors' notes on entities and versions (text or markdown)"
    schema_version: ClassVar[int] = 2
    model: ClassVar[type[BaseModel]] = NotesData
    scopes: ClassVar[frozenset[PayloadScope]] = frozenset({"entity", "version"})

    def dump(self, records: Sequence[Any]) -> NotesData:
        """``data`` for :class:`Note` records (mappings with the same keys are accepted too)."""
        return NotesData(notes=[r if isinstance(r, Note) else Note.model_validate(r) for r in records])

    def load(self, payload: BaseModel) -> list[Any]:
        """The :class:`Note` records, in document order."""
        if not isinstance(payload, NotesData):
            raise TypeError(f"expected NotesData, got {type(payload).__name__}")
        return list(payload.notes)

    def upgrade(self, data: dict[str, Any], from_version: int) -> dict[str, Any]:
        """1 -> 2: ``text`` becomes ``body``, ``format`` is ``text``, ``created`` null; other keys are kept."""
        if from_version != 1:
            raise ValueError(f"no upgrade from schema version {from_version}")
        notes = data.get("notes")
        if not isinstance(notes, list):
            return dict(data)
        upgraded: list[Any] = []
        for note in notes:
            if not isinstance(note, Mapping):
                upgraded.append(note)  # the model reports it
                continue
            new = {k: v for k, v in note.items() if k != "text"}
            if "text" in note:
                new["body"] = note["text"]
            new.setdefault("format", "text")
            new.setdefault("created", None)
            upgraded.append(new)
        return {**data, "notes": upgraded}

    def check(self, payload: BaseModel, target: PayloadTarget) -> list[Issue]:
        """A warning for notes whose ``created`` goes back in time (notes are kept oldest first)."""
        if not isinstance(payload, NotesData):
            raise TypeError(f"expected NotesData, got {type(payload).__name__}")
        issues: list[Issue] = []
        latest: tuple[int, datetime] | None = None
        for i, note in enumerate(payload.notes):
            if note.created is None:
                continue
            if latest is not None and note.created < latest[1]:
                issues.append(Issue(f"$.data.notes[{i}].created", f"created before the note at "
                                    f"$.data.notes[{latest[0]}]; notes are kept oldest first", severity="warning"))
            else:
                latest = (i, note.created)
        return issues
