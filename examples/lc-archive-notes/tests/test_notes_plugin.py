"""The lc-archive conformance suite, plus checks specific to the notes plugin."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
from lc_archive_notes import Note, NotesSerializer

from lc_archive.archive.limits import DEFAULT_LIMITS
from lc_archive.errors import Problem
from lc_archive.plugins.contract import PayloadTarget
from lc_archive.plugins.payloads import (
    PayloadError,
    check_payload,
    decode_payload,
    encode_payload,
    parse_payload,
    render_payload,
)
from lc_archive.testing import Samples, SerializerConformance

V1: dict[str, Any] = {"notes": [{"author": "alice", "text": "Check the answer key"}, {"author": "bob", "text": "Done"}]}
V2: dict[str, Any] = {
    "notes": [
        {"author": "alice", "body": "Check the *answer key*", "format": "markdown", "created": "2025-01-31T09:00:00Z"},
        {"author": "bob", "body": "Done", "format": "text", "created": None},
    ],
}
VERSION = PayloadTarget("version", "xblock.v1:problem:q1", 2, "component", "xblock.v1:problem")


class TestNotesConformance(SerializerConformance):
    serializer = NotesSerializer
    samples: ClassVar[Samples] = {1: [V1, {"notes": []}], 2: [V2]}


def _check(data: dict[str, Any], schema_version: int = 2) -> tuple[list[Problem], bytes | None]:
    body = render_payload("notes", schema_version, data, entity=VERSION.entity, version=VERSION.version)
    problems: list[Problem] = []
    parsed = parse_payload("plugins/notes/q1.v2.json", body, limits=DEFAULT_LIMITS, problems=problems)
    assert parsed is not None, problems
    record = check_payload(parsed, NotesSerializer(), VERSION, problems=problems, notes=[])
    return problems, None if record is None else record.body


def test_upgrade_renames_text_to_body() -> None:
    problems, body = _check(V1, schema_version=1)
    assert problems == []
    expected = {"notes": [{"author": "alice", "body": "Check the answer key", "format": "text", "created": None},
                          {"author": "bob", "body": "Done", "format": "text", "created": None}]}
    assert body == render_payload("notes", 2, expected, entity=VERSION.entity, version=VERSION.version)


def test_v1_note_without_text_is_located_after_the_upgrade() -> None:
    problems, body = _check({"notes": [{"author": "alice", "text": "ok"}, {"author": "bob"}]}, schema_version=1)
    assert body is None
    assert [p.path for p in problems] == ["$.data.notes[1].body"]
    assert "after upgrading from schema version 1 to 2" in problems[0].message


def test_created_needs_a_utc_offset_and_a_string() -> None:
    problems, _ = _check({"notes": [{"author": "a", "body": "b", "created": "2025-01-31T09:00:00"},
                                    {"author": "a", "body": "b", "created": 1738314000}]})
    assert [p.path for p in problems] == ["$.data.notes[0].created", "$.data.notes[1].created"]


def test_notes_going_back_in_time_are_a_warning_only() -> None:
    problems, body = _check({"notes": [{"author": "a", "body": "b", "created": "2025-02-01T00:00:00Z"},
                                       {"author": "a", "body": "c", "created": "2025-01-01T00:00:00Z"}]})
    assert body is not None
    assert [(p.path, p.severity) for p in problems] == [("$.data.notes[1].created", "warning")]


def test_notes_are_not_package_data() -> None:
    with pytest.raises(PayloadError, match="does not attach data to the package"):
        encode_payload(NotesSerializer(), [])


def test_records_round_trip() -> None:
    notes = [Note(author="alice", body="hi", format="markdown", created=datetime(2025, 1, 31, 9, tzinfo=UTC))]
    record = encode_payload(NotesSerializer(), notes, entity="xblock.v1:problem:q1", version=2)
    assert decode_payload(NotesSerializer(), record) == notes
    assert b'"created": "2025-01-31T09:00:00Z"' in record.body
