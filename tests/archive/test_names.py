"""The member-name policy: one module, one answer for the reader, the writers and the name allocators."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lc_archive.archive.limits import DEFAULT_LIMITS
from lc_archive.archive.names import NameClaims, check_raw_name, fold, name_problem

_NAMES = st.text(alphabet="abC:./\\\x00\t\x7fe\u0301\u00e9ßẞ", max_size=12)


@given(_NAMES)
def test_name_problem_is_the_pre_flight_answer_for_a_file(name: str) -> None:
    """The fast answer writers use is exactly the reader's diagnosis of a file member's name."""
    if name.endswith("/"):
        assert name_problem(name) is not None
        return
    _, _, messages = check_raw_name(name.encode("utf-8", "surrogatepass"), True, DEFAULT_LIMITS)
    assert (name_problem(name) is None) == (not messages)


def test_fold_matches_names_a_case_insensitive_disk_would_merge() -> None:
    assert fold("Straße") == fold("STRASSE") == fold("strasse")
    assert fold("e\u0301") == fold("\u00e9")
    assert fold("abc") == "abc"


def test_fold_gives_back_a_name_already_folded_itself() -> None:
    # Tables keyed by folded names that also hold the names (the ZIP writer's) then keep one string each.
    for name in ("entities/xblock.v1/html/abc/v1/block.xml", "123/", "strasse-\u00e9"):
        assert fold(name) is name
    assert fold("Block.XML") == "block.xml"


def test_claims_refuse_folded_duplicates_and_file_directory_clashes() -> None:
    claims = NameClaims()
    assert claims.free("a/B.txt")
    claims.claim("a/B.txt")
    assert not claims.free("A/b.TXT")  # folded duplicate
    assert not claims.free("a/b.txt/x")  # a file used as a directory
    assert not claims.free("A")  # a directory used as a file
    assert not claims.free_dir("a/b.txt/")
    assert claims.free("a/c.txt") and claims.free_dir("b/")
    assert not claims.free("bad:name") and not claims.free("x/../y")
