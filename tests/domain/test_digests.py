"""DigestTable: a compact index of SHA-256 hex digests behaves like a dict of them to rows in insertion order."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lc_archive.domain.digests import DigestTable, IdsByText, TextSet
from lc_archive.formats.plan import BlobMembers


def _sha(i: int) -> str:
    return hashlib.sha256(str(i).encode()).hexdigest()


def test_rows_in_order_through_growth() -> None:
    table = DigestTable()
    shas = [_sha(i) for i in range(5000)]
    assert [table.add(s) for s in shas] == list(range(5000))
    assert [table.add(s) for s in reversed(shas)] == list(reversed(range(5000)))  # present: same row
    assert len(table) == 5000
    assert [table.find(s) for s in shas] == list(range(5000))
    assert list(table) == shas
    assert table.digest(1234) == shas[1234]
    assert table.find(_sha(5000)) == -1
    assert _sha(5000) not in table
    assert shas[0] in table


def test_strings_that_are_not_canonical_digests_stay_distinct() -> None:
    table = DigestTable()
    canonical = _sha(1)
    others = [canonical.upper(), " " + canonical[1:], canonical[:62] + " " + canonical[63], "", "abc", "g" * 64,
              canonical + "00", "é" * 64]
    rows = [table.add(s) for s in [canonical, *others]]
    assert rows == list(range(len(others) + 1))
    assert [table.find(s) for s in others] == rows[1:]
    assert list(table) == [canonical, *others]
    assert table.digest(1) == canonical.upper()
    for _ in range(2000):  # grow past the side table's rows
        table.add(_sha(len(table) + 10))
    assert [table.find(s) for s in [canonical, *others]] == rows
    assert 5 not in table  # not a string


@given(st.lists(st.one_of(st.integers(0, 300).map(_sha), st.text(max_size=70)), max_size=400))
def test_same_answers_as_a_dict(keys: list[str]) -> None:
    table = DigestTable()
    model: dict[str, int] = {}
    for key in keys:
        assert table.add(key) == model.setdefault(key, len(model))
    assert list(table) == list(model)
    assert all(table.find(k) == r for k, r in model.items())


def test_blob_members_maps_digests_to_members() -> None:
    blobs = BlobMembers()
    blobs[_sha(1)] = "a"
    blobs[_sha(2)] = "b"
    blobs[_sha(1)] = "c"  # replaced, keeps its place
    assert len(blobs) == 2
    assert list(blobs.items()) == [(_sha(1), "c"), (_sha(2), "b")]
    assert blobs[_sha(2)] == "b"
    assert blobs.get(_sha(3)) is None
    assert _sha(2) in blobs
    assert _sha(3) not in blobs


def test_ids_by_text_is_a_map_of_strings_to_ints() -> None:
    ids = IdsByText({"a": 1, "b": 2})
    ids["c"] = 3
    ids["a"] = 10
    ids["\udc80 odd"] = 4  # a lone surrogate is a key like any other
    assert len(ids) == 4
    assert (ids["a"], ids.get("b"), ids.get("zz"), ids["\udc80 odd"]) == (10, 2, None, 4)
    assert "c" in ids
    assert "d" not in ids
    assert 3 not in ids
    with pytest.raises(KeyError):
        ids["d"]
    for i in range(3000):
        ids[f"lct:org:lib:xblock.v1:html:{i}"] = i
    assert all(ids[f"lct:org:lib:xblock.v1:html:{i}"] == i for i in range(3000))


def test_text_set() -> None:
    names = TextSet()
    for i in range(2000):
        names.add(f"entities/xblock.v1/html/c{i}/")
    names.add("\udc80")
    names.add("entities/xblock.v1/html/c1/")  # twice: once
    assert len(names) == 2001
    assert "entities/xblock.v1/html/c1999/" in names
    assert "\udc80" in names
    assert "entities/xblock.v1/html/c2000/" not in names
    assert 1 not in names
