"""NameIndex: the archive reader's compact name -> cell index answers as dict(zip(names, cells)) would."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lc_archive.archive.name_index import NameIndex


@given(st.lists(st.tuples(st.sampled_from(["a", "a/", "b", "é", "x/y", ""]) | st.text(max_size=8),
                          st.integers(-(2**40), 2**40)), max_size=200))
def test_same_answers_as_a_dict(pairs: list[tuple[str, int]]) -> None:
    names, cells = [n for n, _ in pairs], [c for _, c in pairs]
    index = NameIndex(names, cells)
    model = dict(zip(names, cells, strict=True))
    assert list(index) == list(model)
    assert list(index.items()) == list(model.items())
    assert len(index) == len(model)
    for name in [*names, "absent", "A"]:
        assert (name in index) == (name in model)
        if name in model:
            assert index[name] == model[name]
    with pytest.raises(KeyError):
        index["\x00 never a name"]


def test_many_names() -> None:
    names = [f"entities/xblock.v1/html/c{i}.toml" for i in range(20_000)]
    index = NameIndex(names, range(20_000))
    assert [index[n] for n in names[::997]] == list(range(0, 20_000, 997))
    assert 5 not in index
