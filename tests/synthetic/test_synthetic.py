"""The synthetic library generator: deterministic, shaped as specified, and valid under the model rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lc_archive import backup, validate
from lc_archive.stores import open_store
from lc_archive.synthetic import SYNTHETIC_START, SyntheticClock, generate_library
from lc_archive.usecases.state import compute_state, state_json

REF = "lib:Org:SYN"


def _build(path: Path, n: int, seed: int = 1, profile: str = "default") -> tuple[dict[str, Any], str]:
    store = open_store(f"sqlite:///{path}")
    try:
        stats = generate_library(store, REF, components=n, seed=seed, profile=profile)  # type: ignore[arg-type]
        with store.read(REF) as source:
            return stats, state_json(compute_state(source, media_types=True))
    finally:
        store.close()


@pytest.fixture(scope="module")
def n400(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], str]:
    path = tmp_path_factory.mktemp("syn") / "a.db"
    stats, state = _build(path, 400)
    return path, stats, state


def stats_entities(store: Any) -> int:
    with store.read(REF) as source:
        return int(source.entity_count())


def test_clock_ticks_37_seconds() -> None:
    clock = SyntheticClock()
    assert (clock() - SYNTHETIC_START).total_seconds() == 37
    assert (clock() - SYNTHETIC_START).total_seconds() == 74


@pytest.mark.parametrize("profile", ["default", "unicode"])
def test_same_seed_same_state(tmp_path: Path, profile: str) -> None:
    _, first = _build(tmp_path / "one.db", 150, seed=7, profile=profile)
    _, second = _build(tmp_path / "two.db", 150, seed=7, profile=profile)
    assert first == second
    _, other = _build(tmp_path / "three.db", 150, seed=8, profile=profile)
    assert other != first


def test_same_seed_same_rows(tmp_path: Path) -> None:
    """Beyond the state: timestamps, authors and version histories are reproducible too."""
    dumps = []
    for name in ("x.db", "y.db"):
        store = open_store(str(tmp_path / name))
        try:
            generate_library(store, REF, components=60, seed=3)
            with store.read(REF) as source:
                dumps.append((source.package.created, list(source.iter_entities(history="all")),
                              list(source.iter_collections())))
        finally:
            store.close()
    assert dumps[0] == dumps[1]
    assert dumps[0][0] == SYNTHETIC_START.replace(second=37)


def test_shape_for_400(n400: tuple[Path, dict[str, Any], str]) -> None:
    _, stats, _ = n400
    cats = stats["component_categories"]
    assert sum(cats.values()) == 400
    expected = {"pub": 0.50, "pub+draft": 0.20, "never": 0.12, "deleted": 0.06, "repub": 0.12}
    for cat, share in expected.items():
        assert abs(cats[cat] / 400 - share) < 0.06, (cat, cats)
    assert stats["collections"] == 4  # min(12, 3 + 400 // 400)
    assert stats["units"] > 0 and stats["subsections"] > 0 and stats["sections"] > 0
    assert 0.12 <= (stats["units"] + stats["subsections"] + stats["sections"]) / 400 <= 0.26
    assert stats["static_files"] > 0
    # 1-3 versions before the first publish, plus post-publish edits
    assert 1.8 <= stats["component_versions"] / 400 <= 3.2


def test_state_matches_categories(n400: tuple[Path, dict[str, Any], str]) -> None:
    path, stats, _ = n400
    store = open_store(str(path))
    try:
        with store.read(REF) as source:
            state = compute_state(source)
    finally:
        store.close()
    cats = stats["component_categories"]
    comps = {r: e for r, e in state["entities"].items() if e["type"].startswith("xblock.v1:")}
    assert len(comps) == 400
    types = {t: sum(1 for e in comps.values() if e["type"] == f"xblock.v1:{t}") / 400
             for t in ("html", "problem", "video")}
    assert abs(types["html"] - 0.45) < 0.07 and abs(types["problem"] - 0.40) < 0.07, types
    never = sum(1 for e in comps.values() if e["published"] is None)
    deleted = sum(1 for e in comps.values() if e["draft"] is None)
    assert never == cats["never"]
    assert deleted == cats["deleted"]
    ahead = sum(1 for e in comps.values()
                if e["draft"] and e["published"] and e["draft"]["version_num"] > e["published"]["version_num"])
    assert cats["pub+draft"] <= ahead <= cats["pub+draft"] + cats["repub"]
    # The republished ones went through a second publish: published version > 1 for all of them.
    assert state["summary"]["draft_deleted"] >= cats["deleted"]
    # collections: one empty, every third with an empty description
    colls = state["collections"]
    assert len(colls) == 4
    assert sum(1 for c in colls.values() if not c["entities"]) == 1
    assert sum(1 for c in colls.values() if c["description"] == "") == 1
    # some media are images, and some image blobs are shared between components
    images = [h for e in comps.values() for v in (e["draft"], e["published"]) if v
              for p, h in v["media"].items() if p.startswith("static/")]
    assert images and len(set(images)) < len(images)


def test_every_entity_satisfies_the_model(n400: tuple[Path, dict[str, Any], str], tmp_path: Path) -> None:
    """Every rule of the domain holds: a v2 archive of the library (which carries every record as it is)
    passes the v2 reader's checks of codes, refs, media paths, pointers and child kinds."""
    path, _, _ = n400
    store = open_store(str(path))
    try:
        summary = validate(backup(store, REF, tmp_path / "all.zip").path, strict=False)
        assert summary.entities == stats_entities(store)
        with store.read(REF) as source:
            refs: set[str] = set()
            children: set[str] = set()
            for record in source.iter_entities(history="all"):
                refs.add(record.ref)
                numbers = [v.number for v in record.versions]
                assert numbers == list(range(1, len(numbers) + 1))
                children.update(c.ref for v in record.versions for c in v.children)
            assert children and children <= refs
            for coll in source.iter_collections():
                assert set(coll.members) <= refs
    finally:
        store.close()


def test_unicode_profile_plants_collisions(tmp_path: Path) -> None:
    stats, text = _build(tmp_path / "u.db", 40, profile="unicode")
    assert "xblock.v1:html:Welcome" in text and "xblock.v1:html:ｗｅｌｃｏｍｅ" in text
    assert "日本語" in text or "合成" in text
    assert stats["collections"] == 3 + 4  # planted colliding collection codes come on top
