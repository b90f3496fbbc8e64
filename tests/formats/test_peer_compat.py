"""Compatibility with the real openedx-core 1.15.2, in both directions.

1. Every archive openedx-core wrote (``../shared/peer``) restores here, and where the peer recorded the
   content it backed up (``X.state.json``), our restored state equals it byte for byte, soft-deleted
   drafts included. Two probes carry less than their state in any v1 archive; for those the test pins
   the exact, documented difference.
2. Our v1 backup of each restored package restores in openedx-core itself, to the same state that
   openedx-core reaches from its own archive (or, where openedx-core cannot restore its own archive,
   to the original content), both ways: without directory entries (the default) and with them
   (``directory_entries=True``, openedx-core's exact layout).
"""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from support.peer import PEER_REF, peer_archives, peer_dir_or_none, peer_restore

from lc_archive import backup, restore
from lc_archive.stores import open_store
from lc_archive.usecases.state import compute_state, state_json

pytestmark = [pytest.mark.peer, pytest.mark.xdist_group("peer")]

REF = PEER_REF
_found = peer_dir_or_none()
ARCHIVES = [p.relative_to(_found).as_posix() for p in peer_archives(_found)] if _found else ["(no peer)"]

# v1 cannot carry these; the peer's README documents both.
V1_LIMITS: dict[str, Any] = {
    # v1 drops pins: the child comes back unpinned.
    "probe-pinned_child": lambda s: s["entities"]["unit-pinned"]["draft"].pop("children_pinned_versions"),
    # openedx-core's writer drops an empty block.xml, so no reader can get it back.
    "probe-empty_block_xml": lambda s: s["entities"]["xblock.v1:html:emptyxml"]["draft"]["media"].pop("block.xml"),
}
# openedx-core cannot restore its own archive of these (peer bugs §5.2 #3 and #5).
PEER_CANNOT_RESTORE_ITS_OWN = {"probe-static_toml_file", "probe-empty_slug_component"}


def _expected_state(zip_path: Path) -> dict[str, Any] | None:
    stem = zip_path.name.removesuffix(".zip")
    own = zip_path.with_name(f"{stem}.state.json")
    if not own.exists():
        return None
    state: dict[str, Any] = json.loads(own.read_text(encoding="utf-8"))
    if stem in V1_LIMITS:
        V1_LIMITS[stem](state)
    return state


def _restore_here(zip_path: Path, tmp_path: Path) -> tuple[Any, dict[str, Any]]:
    store = open_store(f"sqlite:///{tmp_path / 'ours.db'}")
    restore(zip_path, store, ref=REF)
    with store.read(REF) as source:
        return store, compute_state(source)


def _without_toml_media(state: dict[str, Any]) -> dict[str, Any]:
    for entity in state["entities"].values():
        for side in ("draft", "published"):
            if entity[side] and "media" in entity[side]:
                entity[side]["media"] = {p: h for p, h in entity[side]["media"].items() if not p.endswith(".toml")}
    return state


@pytest.mark.parametrize("name", ARCHIVES)
def test_peer_archive_restores_to_its_recorded_state(name: str, peer_dir: Path, tmp_path: Path) -> None:
    zip_path = peer_dir / name
    store, ours = _restore_here(zip_path, tmp_path)
    store.close()
    expected = _expected_state(zip_path)
    if expected is None:
        # The upstream fixture, and X.roundtrip.zip (openedx-core's backup of its own restore of X):
        # what they hold is what openedx-core restored.
        recorded = zip_path.with_name(zip_path.name.removesuffix(".roundtrip.zip").removesuffix(".zip")
                                      + ".restored.state.json")
        expected = json.loads(recorded.read_text(encoding="utf-8"))
    assert state_json(ours) == state_json(expected)


@pytest.mark.parametrize("name", ARCHIVES)
def test_our_v1_backup_restores_in_openedx_core(name: str, peer_dir: Path, peer_python: Path,
                                                tmp_path: Path) -> None:
    zip_path = peer_dir / name
    stem = zip_path.name.removesuffix(".zip")
    store, ours = _restore_here(zip_path, tmp_path)
    ours_zip, exact_zip = tmp_path / "ours.zip", tmp_path / "ours-exact.zip"
    backup(store, REF, ours_zip, format="v1", created_at=datetime(2026, 1, 1, tzinfo=UTC))
    backup(store, REF, exact_zip, format="v1", created_at=datetime(2026, 1, 1, tzinfo=UTC), directory_entries=True)
    store.close()
    with zipfile.ZipFile(ours_zip) as compact, zipfile.ZipFile(exact_zip) as exact:
        assert not any(i.is_dir() for i in compact.infolist())
        assert any(i.is_dir() for i in exact.infolist())
        assert [n for n in exact.namelist() if not n.endswith("/")] == compact.namelist()

    got = peer_restore(peer_dir, peer_python, ours_zip, tmp_path / "peer-ours.sqlite3")
    assert got["status"] == "success", got["errors"]
    got_exact = peer_restore(peer_dir, peer_python, exact_zip, tmp_path / "peer-exact.sqlite3")
    assert got_exact["status"] == "success", got_exact["errors"]
    assert state_json(got_exact["state"]) == state_json(got["state"])

    recorded = zip_path.with_name(f"{stem}.restored.state.json")
    if recorded.exists():
        reference = json.loads(recorded.read_text(encoding="utf-8"))
    elif stem in PEER_CANNOT_RESTORE_ITS_OWN:
        own = peer_restore(peer_dir, peer_python, zip_path, tmp_path / "peer-own.sqlite3")
        assert own["status"] != "success", "the peer now restores its own archive: update this test"
        # Then openedx-core must reach the content we restored, less what a v1 writer must leave out
        # for openedx-core's reader (a .toml asset crashes it; the backup reports that loss).
        reference = _without_toml_media(ours)
    else:
        own = peer_restore(peer_dir, peer_python, zip_path, tmp_path / "peer-own.sqlite3")
        assert own["status"] == "success", own["errors"]
        reference = own["state"]
    assert state_json(got["state"]) == state_json(reference)


V2_TO_V1 = ["fixtures/library_backup.zip", "archives/lib-N150-seed2.zip", "archives/probe/probe-draft_deleted.zip",
            "archives/probe/probe-draft_reverted_older.zip"]


@pytest.mark.parametrize("name", V2_TO_V1)
def test_v2_converted_to_v1_restores_in_openedx_core(name: str, peer_dir: Path, peer_python: Path,
                                                     tmp_path: Path) -> None:
    """peer archive -> our store -> v2 backup -> `convert --format v1` -> openedx-core: the same state as
    openedx-core reaches from its own archive."""
    from lc_archive.usecases.convert import convert

    zip_path = peer_dir / name
    store, _ = _restore_here(zip_path, tmp_path)
    backup(store, REF, tmp_path / "ours-v2.zip", format="v2", created_at=datetime(2026, 1, 1, tzinfo=UTC))
    store.close()
    convert(tmp_path / "ours-v2.zip", tmp_path / "ours-v1.zip", format="v1")
    got = peer_restore(peer_dir, peer_python, tmp_path / "ours-v1.zip", tmp_path / "peer-ours.sqlite3")
    assert got["status"] == "success", got["errors"]
    own = peer_restore(peer_dir, peer_python, zip_path, tmp_path / "peer-own.sqlite3")
    assert own["status"] == "success", own["errors"]
    assert state_json(got["state"]) == state_json(own["state"])
