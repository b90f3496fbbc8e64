"""The one ref rule (domain.syntax) and safe text (lc_archive.text), everywhere they apply."""

from __future__ import annotations

from pathlib import Path

import pytest

from lc_archive import InvalidRef, open_store
from lc_archive.domain.syntax import MAX_REF_LENGTH, check_ref, fit_ref, ref_problem
from lc_archive.text import escape, json_safe
from lc_archive.usecases.restore import staged_ref

BAD = ["", "x" * (MAX_REF_LENGTH + 1), "lib:Org:A B", "lib:Org:A\nB", "lib:\x1b]0;t\x07:A", "lib:Org:\x85",
       " lib:Org:A", "lib:Org:A\u2028"]


@pytest.mark.parametrize("ref", BAD, ids=range(len(BAD)))
def test_bad_refs(ref: str) -> None:
    assert ref_problem(ref) is not None
    with pytest.raises(InvalidRef):
        check_ref(ref)


@pytest.mark.parametrize("ref", ["lib:Org:LIB1", "xblock.v1:html:intro", "x" * MAX_REF_LENGTH, "lib:Ünï:cödé"])
def test_good_refs(ref: str) -> None:
    assert check_ref(ref) == ref


def test_a_staged_ref_fits_and_is_deterministic() -> None:
    long = "lib:Org:" + "c" * 600
    first = staged_ref(long, "a user\x1b", 1234)
    assert len(first) <= MAX_REF_LENGTH and ref_problem(first) is None
    assert first == staged_ref(long, "a user\x1b", 1234) and first.endswith(":1234")
    assert staged_ref(long + "d", "a user\x1b", 1234) != first  # two long refs stay distinct
    assert fit_ref("short") == "short"


def test_the_authoring_api_keeps_the_rule(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.db") as store:
        for ref in ("", "lib:Org:A B", "x" * 501):
            with pytest.raises(InvalidRef), store.author(ref, create={"title": "T"}):
                pass
        assert store.package_refs() == []


def test_escape_is_idempotent_and_total() -> None:
    hostile = "t\x1b]52;c;ZXZpbA==\x07 \x1b[2J \x9b \u202e \x7f \x00 a\\x1b"
    shown = escape(hostile)
    assert escape(shown) == shown
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F or c == "\u202e" for c in shown)
    assert "\\x1b]52;c;ZXZpbA==\\x07" in shown and "\\u202e" in shown and "a\\x1b" in shown


def test_json_safe_keeps_the_values() -> None:
    import json

    value = {"t": "a\x85b\u202ec\x1b"}
    text = json_safe(json.dumps(value, ensure_ascii=False))
    assert json.loads(text) == value and "\x85" not in text and "\u202e" not in text
