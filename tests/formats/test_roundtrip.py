"""The round-trip suite, run for every format of the format table: store -> archive -> store keeps
everything the format carries, and backups of the same package are identical."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lc_archive import backup, restore
from lc_archive.formats import FORMAT_NAMES
from lc_archive.stores import open_store
from lc_archive.synthetic import generate_library
from lc_archive.usecases.state import compute_state, state_json

WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def _state(url: str, ref: str) -> str:
    with open_store(url) as store, store.read(ref) as source:
        return state_json(compute_state(source))


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
@pytest.mark.parametrize("profile", ["default", "unicode"])
def test_restore_backup_restore_gives_equal_state(profile: str, fmt: str, tmp_path: Path) -> None:
    src = f"sqlite:///{tmp_path / 'src.db'}"
    with open_store(src) as store:
        generate_library(store, "lib:Org:GEN", components=160, seed=3, profile=profile)  # type: ignore[arg-type]
        backup(store, "lib:Org:GEN", tmp_path / "one.zip", format=fmt, created_at=WHEN)
    mid = f"sqlite:///{tmp_path / 'mid.db'}"
    with open_store(mid) as store:
        restore(tmp_path / "one.zip", store, ref="lib:Org:GEN")
        backup(store, "lib:Org:GEN", tmp_path / "two.zip", format=fmt, created_at=WHEN)
    end = f"sqlite:///{tmp_path / 'end.db'}"
    with open_store(end) as store:
        restore(tmp_path / "two.zip", store, ref="lib:Org:GEN")

    # v1 carries soft-deleted drafts, so the generated content survives exactly (no pins are generated).
    assert _state(src, "lib:Org:GEN") == _state(mid, "lib:Org:GEN") == _state(end, "lib:Org:GEN")

    # Backups of the same content: same members in the same order, same TOML bytes.
    one, two = zipfile.ZipFile(tmp_path / "one.zip"), zipfile.ZipFile(tmp_path / "two.zip")
    assert one.namelist() == two.namelist()
    assert len(set(one.namelist())) == len(one.namelist())
    for name in one.namelist():
        if name.endswith(".toml") and name != "package.toml":
            assert one.read(name) == two.read(name), name


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_same_store_twice_gives_identical_bytes(fmt: str, tmp_path: Path) -> None:
    with open_store(tmp_path / "s.db") as store:
        generate_library(store, "lib:Org:GEN", components=60, seed=5)
        backup(store, "lib:Org:GEN", tmp_path / "a.zip", format=fmt, created_at=WHEN)
        backup(store, "lib:Org:GEN", tmp_path / "b.zip", format=fmt, created_at=WHEN)
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
