"""The one JSON rule (``parsing.safe_json``): a document read whole and one streamed element by element
refuse the same things, with the same messages, located the same way."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lc_archive.errors import Problem
from lc_archive.parsing import safe_json
from lc_archive.parsing.safe_json import load_json, stream_json_chunks, stream_json_object

BAD = [
    (b'{"a": 1, "a": 2}', "$.a", "duplicate key 'a'"),
    (b'{"a": NaN}', "$", "NaN is not a JSON number"),
    (b'{"a": [Infinity]}', "$", "Infinity is not a JSON number"),
    (b'{"a": 1e999}', "$", "out of range"),
    (b'{"a": "\\ud800"}', "$.a", "lone surrogate"),
    (b'\xef\xbb\xbf{"a": 1}', "$", "byte order mark"),
    (b'{"a": "\xff"}', "$", "not valid UTF-8"),
    (b'{"a": ' + b"[" * 101 + b"]" * 101 + b"}", "$", "nests more than 100 levels deep"),
    (b'{"a": 1} {}', "$", "not valid JSON"),
    (b'{"a": 1', "$", "not valid JSON"),
    (b'{"a": "x\x01"}', "$", "not valid JSON"),
]


@pytest.mark.parametrize(("raw", "path", "fragment"), BAD)
def test_a_document_read_whole_is_refused(raw: bytes, path: str, fragment: str) -> None:
    problems: list[Problem] = []
    assert load_json("m.json", raw, max_depth=100, problems=problems) is None
    assert any(p.member == "m.json" and p.path == path and fragment in p.message for p in problems), problems


@pytest.mark.parametrize(("raw", "path", "fragment"), BAD)
def test_a_streamed_document_is_refused_the_same_way(raw: bytes, path: str, fragment: str) -> None:
    problems: list[Problem] = []
    stream_json_object("m.json", raw, max_depth=100, array="items", on_element=lambda i, v: None, problems=problems)
    assert any(p.member == "m.json" and p.path == path and fragment in p.message for p in problems), problems


def _stream(raw: bytes) -> tuple[dict[str, Any] | None, list[tuple[int, Any]], list[Problem]]:
    seen: list[tuple[int, Any]] = []
    problems: list[Problem] = []
    head = stream_json_object("m.json", raw, max_depth=100, array="items",
                              on_element=lambda i, v: seen.append((i, v)), problems=problems)
    return head, seen, problems


@pytest.mark.parametrize("doc", [
    {"items": [{"a": 1}, {"b": [1, 2]}, 3, "x", None], "format": "f", "n": 2},
    {"n": 1.5, "items": []},
    {"items": [], "other": {"items": [1]}},
    {},
    {"items": "not an array"},
])  # fmt: skip
def test_streaming_gives_what_json_loads_gives(doc: dict[str, Any]) -> None:
    for text in (json.dumps(doc), json.dumps(doc, indent=2), json.dumps(doc, separators=(",", ":"))):
        head, seen, problems = _stream(text.encode())
        assert problems == []
        streamed = isinstance(doc.get("items"), list)
        assert head == {**doc, "items": []} if streamed else head == doc
        assert [v for _, v in seen] == (doc["items"] if streamed else [])
        assert [i for i, _ in seen] == list(range(len(seen)))


def test_element_problems_are_located_and_the_element_is_not_handed_over() -> None:
    head, seen, problems = _stream(b'{"items": [{"a": 1}, {"b": 1, "b": 2}, {"c": "\\udfff"}, {"d": 4}]}')
    assert head == {"items": []}
    assert [i for i, _ in seen] == [0, 3]
    assert [(p.path, p.message) for p in problems] == [
        ("$.items[1].b", "duplicate key 'b'"),
        ("$.items[2].c", "string holds a lone surrogate (not Unicode text)"),
    ]


def test_a_duplicate_top_level_key_is_found_even_for_the_streamed_array() -> None:
    _, seen, problems = _stream(b'{"items": [1], "items": [2]}')
    assert [v for _, v in seen] == [1, 2]
    assert [(p.path, p.message) for p in problems] == [("$.items", "duplicate key 'items'")]


def test_the_document_must_be_an_object() -> None:
    for raw in (b"[1, 2]", b'"x"', b"", b"   "):
        head, _, problems = _stream(raw)
        assert head is None and problems and problems[0].path == "$", raw


# -- read in chunks (stream_json_chunks): the same results and the same words as read whole ----------

CHUNKED = [raw for raw, _, _ in BAD] + [
    b'{"items": [{"a": 1}, {"b": 1, "b": 2}, {"c": "\\udfff"}, {"d": 4}]}',
    b'{"items": [1], "items": [2]}',
    b"[1, 2]", b'"x"', b"", b"   ", b"\xef\xbb", b"\xef\xbb\xbf",
    b'{"items": [12345, 1.5e3, -0.25, true, null, "a\\\\", "\\"]", "\\u00e9t\xc3\xa9"], "n": 123}',
    b'{"items": [1,\n 2,\n\n 3 4]}',  # an error on a later line
    b'{"items": [1, 2] ,\n "x": [1}',
    b'{"items": [' + b", ".join(b'{"name": "m%d", "size": %d}' % (i, i) for i in range(300)) + b"]}",
    b'{"items": [' + b",\n".join(b'"%s"' % (b"x\\\\" * i) for i in range(200)) + b'], "tail": 1e5} x',
    b'{"items": [' + b",\n".join(b"%d" % i for i in range(100)) + b" x]}",  # line 100, after the window moved
    b'{"items": [' + b",\n".join(b'{"k": %d}' % i for i in range(100)) + b', {"k": 1,\n "k": tru}]}',
    b'{"items": ["\\\\\\"[[[[["], "a": ' + b"[" * 99 + b"]" * 99 + b"}",  # brackets inside strings do not count
]


def _chunked(raw: bytes, size: int) -> tuple[dict[str, Any] | None, list[tuple[int, Any]], list[Problem]]:
    seen: list[tuple[int, Any]] = []
    problems: list[Problem] = []

    def chunks() -> Any:
        return iter([raw[i : i + size] for i in range(0, len(raw), size)])

    head = stream_json_chunks("m.json", chunks, max_depth=100, array="items",
                              on_element=lambda i, v: seen.append((i, v)), problems=problems)
    return head, seen, problems


@pytest.mark.parametrize("raw", CHUNKED)
@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 1 << 20])
def test_a_document_read_in_chunks_gives_what_it_gives_read_whole(raw: bytes, size: int,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(safe_json, "_STEP", 16)  # the window grows and lets go every few elements
    assert _chunked(raw, size) == _stream(raw)
