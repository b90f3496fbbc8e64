"""The pieces of the work budget that are plain functions: the capped problem list, the publish-log
splitter and the quick TOML depth bound."""

from __future__ import annotations

import tomli
from hypothesis import given, settings
from hypothesis import strategies as st

from lc_archive.errors import ArchiveInvalid, Problem, ProblemList
from lc_archive.parsing.safe_toml import _line_bound, split_at_headers, toml_depth


def test_problem_list_keeps_the_first_and_counts_the_rest_per_kind() -> None:
    found = ProblemList(limit=3)
    found.extend(Problem("manifest.json", f"$.members[{i}].name", f"lists 'x/{i:06x}', which is not in the archive")
                 for i in range(10_000))
    found.append(Problem("a.toml", "$", "a warning", "warning"))
    found += [Problem(f"m{i}", "$", "not listed in manifest.json") for i in range(5)]
    assert len(found) == 3 and found.total == 10_006 and found.errors == 10_005
    omitted = {(o.member, o.path, o.message, o.severity): o.count for o in found.omitted}
    assert omitted == {
        ("manifest.json", "$.members[*].name", "lists '…', which is not in the archive", "error"): 9_997,
        ("a.toml", "$", "a warning", "warning"): 1,
        ("*", "$", "not listed in manifest.json", "error"): 5,
    }
    refused = ArchiveInvalid(found)
    assert refused.count == 10_006 and len(refused.problems) == 3
    assert str(refused.omitted[0]) == ("manifest.json: $.members[*].name: 9997 more like: lists '…', which is not "
                                       "in the archive")


def test_problem_kinds_are_bounded() -> None:
    found = ProblemList(limit=0)
    found.extend(Problem("m", f"$.k{i}x", f"kind {chr(0x4e00 + i)}") for i in range(1_000))
    assert len(found.omitted) <= 101 and found.total == 1_000


SECTION = st.builds(lambda msg, ref, n: (f'[[publish]]\nmessage = {msg}\n\n'
                                         f'[[publish.change]]\nref = "{ref}"\nnew = {n}\n\n'),
                    st.sampled_from(['"a"', '"""\n[[publish]]\n"""', "'''x\n[[publish]]\ny'''", '"# [[publish]]"',
                                     '"""a"""']),
                    st.sampled_from(["r1", "r.2"]), st.integers(1, 9))


@settings(max_examples=200, deadline=None)
@given(pre=st.sampled_from(["", "x = 1\n", "# c\n\n"]), sections=st.lists(SECTION, max_size=12),
       size=st.integers(1, 400))
def test_pieces_of_the_publish_log_parse_to_what_the_whole_does(pre: str, sections: list[str], size: int) -> None:
    text = pre + "".join(sections)
    pieces = list(split_at_headers(text, "publish", size))
    assert "".join(piece for _, piece in pieces) == text
    merged = [event for _, piece in pieces for event in tomli.loads(piece).get("publish", [])]
    assert merged == tomli.loads(text).get("publish", [])
    lines = text.split("\n")
    for first_line, piece in pieces:
        assert lines[first_line - 1] == piece.split("\n")[0]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["[a]", "[[a.b.c]]", "x = 1", "a.b.c.d = 2", 'k = "v.v.v"', "[t.u]", "y.z = 'q'",
                                 "# .... [", "[[publish]]"]), max_size=30))
def test_the_quick_depth_bound_never_underestimates(lines: list[str]) -> None:
    text = "\n".join(lines) + "\n"
    quick = _line_bound(text)
    assert quick is None or quick >= toml_depth(text)  # the quick bound, when it applies, is above the scan's

