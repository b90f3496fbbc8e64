"""TakenNames: the archive writer's fold(name) -> name table answers as a dict of the names would,
whether the names sit in its buffer or were spilled to its temporary file."""

from __future__ import annotations

import pytest

from lc_archive.archive import zip_names
from lc_archive.archive.names import fold
from lc_archive.archive.zip_names import TakenNames


@pytest.mark.parametrize("in_memory", [1 << 20, 64, 1])
def test_same_answers_as_a_dict(in_memory: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zip_names, "_IN_MEMORY", in_memory)
    names = [f"entities/xblock.v1/html/c{i}/v1/static/Img-{i}.PNG" for i in range(3000)]
    names += ["Straße/ǅ.txt", "ﬁle.txt", "a/", "A/b", "é/ﬀ"]
    taken = TakenNames()
    model: dict[str, str] = {}
    try:
        for name in names:
            folded = fold(name)
            assert taken.get(folded) == model.get(folded)
            if folded not in model:
                taken.add(folded, name)
                model[folded] = name
        assert len(taken) == len(model)
        for name in names:
            assert taken.get(fold(name)) == model[fold(name)]
        for absent in ("nope", "entities/", "a", "strasse/ǆ.txt"):
            assert taken.get(fold(absent)) == model.get(fold(absent))
    finally:
        taken.close()
