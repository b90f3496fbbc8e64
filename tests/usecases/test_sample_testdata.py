"""The committed ``testdata/sample-library.zip`` is exactly what ``testdata/build_sample.py`` builds."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from support.paths import REPO

SCRIPT = REPO / "testdata" / "build_sample.py"
COMMITTED = REPO / "testdata" / "sample-library.zip"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_sample", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rebuild_is_byte_identical(tmp_path: Path) -> None:
    if not COMMITTED.exists():
        pytest.fail(f"{COMMITTED} is missing: run `make testdata`")
    built = _load().build_sample(tmp_path / "sample.zip")
    assert built.read_bytes() == COMMITTED.read_bytes(), (
        "testdata/sample-library.zip is stale: run `make testdata` and commit the result"
    )


def test_sample_is_small_and_restores(tmp_path: Path) -> None:
    from lc_archive import restore
    from lc_archive.stores import open_store
    from lc_archive.usecases.state import compute_state

    assert COMMITTED.stat().st_size < 60_000
    module = _load()
    store = open_store(f"sqlite:///{tmp_path / 'r.db'}")
    try:
        restore(COMMITTED, store, ref=module.REF)
        with store.read(module.REF) as source:
            state = compute_state(source)
    finally:
        store.close()
    summary = state["summary"]
    assert summary["xblock.v1:html"] >= 4 and summary["xblock.v1:drag-and-drop-v2"] == 1
    assert summary["unit"] == 4 and summary["subsection"] == 2 and summary["section"] == 1
    assert summary["draft_deleted"] == 1 and summary["collections"] == 2
    assert state["package"]["description"].count("\n") == 1
    assert "xblock.v1:problem:übung-1" in state["entities"]
