"""store -> v2 -> fresh store keeps everything: every version, pins, soft deletes, published
deletions, disabled collections, the publish log, media types and storage modes, authors and times.
Blobs are stored once; the same content gives the same bytes."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.v2kit import NS, REF, WHEN, backup_v2, handmade_store, png, restore_v2, snapshot

from lc_archive.archive.zip_reader import ArchiveReader
from lc_archive.formats.v2 import read_v2, verify_v2
from lc_archive.stores import open_store
from lc_archive.stores.sql import SqlStore
from lc_archive.synthetic import SyntheticClock, generate_library
from lc_archive.usecases.state import compute_state


def _round_trip(store: SqlStore, tmp_path: Path, ref: str = REF) -> tuple[Path, SqlStore]:
    archive = tmp_path / "one.zip"
    backup_v2(store, ref, archive)
    fresh = open_store(f"sqlite:///{tmp_path / 'fresh.db'}")
    restore_v2(archive, fresh, ref)
    return archive, fresh


def test_handmade_package_round_trips_exactly(tmp_path: Path) -> None:
    store = handmade_store(tmp_path / 'src.db')
    archive, fresh = _round_trip(store, tmp_path)
    before, after = snapshot(store, REF), snapshot(fresh, REF)
    # The states this test is about are really there.
    ents = {e.ref: e for e in before["entities"]}
    assert ents["xblock.v1:html:gone"].draft_deleted and ents["xblock.v1:html:gone"].published is None
    assert ents["xblock.v1:html:kept"].draft_deleted and ents["xblock.v1:html:kept"].published == 1
    assert ents["xblock.v1:html:dead"].published_deleted
    assert ents["xblock.v1:video:empty"].versions == () and ents["xblock.v1:video:empty"].draft is None
    assert [v.number for v in ents["xblock.v1:html:intro"].versions] == [1, 2, 5, 6, 7]
    assert any(c.pinned == 1 for c in ents["unit-1"].versions[0].children)
    assert [c.enabled for c in before["collections"]] == [True, True, False]
    assert len(before["publish_log"]) == 4 and before["publish_log"][-1].published_by is None
    # ... and all of it survives.
    assert after == before
    for side in (store, fresh):
        with side.read(REF) as source:
            compute_state(source)
    with open_store(f"sqlite:///{tmp_path / 'fresh.db'}") as again, again.read(REF) as s:
        assert s.package.title == "Hand-made ✓"
    # The names the ZIP pre-flight refuses were stored elsewhere, and the archive is still valid.
    names = zipfile.ZipFile(archive).namelist()
    assert any("/_blobs/" in n for n in names)
    assert not any(":" in n for n in names)
    with ArchiveReader(archive) as reader:
        assert verify_v2(reader).verified_members == len(names)
    store.close()
    fresh.close()


@pytest.mark.parametrize("profile", ["default", "unicode"])
def test_generated_library_round_trips_every_version(profile: str, tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'src.db'}")
    generate_library(store, REF, components=150, seed=4, profile=profile)  # type: ignore[arg-type]
    archive, fresh = _round_trip(store, tmp_path)
    before, after = snapshot(store, REF), snapshot(fresh, REF)
    assert sum(len(e.versions) for e in before["entities"]) > len(before["entities"])  # history really there
    assert after == before
    # Back up the restored copy: byte-identical to the first archive.
    backup_v2(fresh, REF, tmp_path / "two.zip")
    assert (tmp_path / "two.zip").read_bytes() == archive.read_bytes()
    store.close()
    fresh.close()


def test_same_content_twice_gives_identical_bytes(tmp_path: Path) -> None:
    store = handmade_store(tmp_path / 'src.db')
    backup_v2(store, REF, tmp_path / "a.zip")
    backup_v2(store, REF, tmp_path / "b.zip")
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    backup_v2(store, REF, tmp_path / "c.zip", created_at=datetime(2027, 1, 1, tzinfo=UTC))
    assert (tmp_path / "c.zip").read_bytes() != (tmp_path / "a.zip").read_bytes()  # created_at is content
    # Timestamps come from the content, not from the clock.
    with zipfile.ZipFile(tmp_path / "a.zip") as z:
        assert all(i.date_time[0] == 2025 for i in z.infolist())
    store.close()


def test_shared_image_is_stored_once(tmp_path: Path) -> None:
    image = png(200_000, 9)
    store = open_store(f"sqlite:///{tmp_path / 'src.db'}")
    with store.author(REF, user="u", create={"title": "Shared", "description": ""}, clock=SyntheticClock()) as a:
        for c in range(5):
            ref = a.create_component(NS, "html", f"c{c}")
            for v in range(20):
                a.add_component_version(ref, {"block.xml": f"<html>{c}.{v}</html>", "static/big.png": image},
                                        title=f"{c}.{v}")
    stats = backup_v2(store, REF, tmp_path / "a.zip")
    assert stats.versions == 100 and stats.media_files == 200
    assert stats.blobs == 101  # 100 distinct block.xml + the image once
    with zipfile.ZipFile(tmp_path / "a.zip") as z:
        pngs = [i for i in z.infolist() if i.filename.endswith(".png")]
        assert [i.filename for i in pngs] == ["entities/xblock.v1/html/c0/v1/static/big.png"]
        assert pngs[0].compress_type == zipfile.ZIP_STORED
        xml = [i for i in z.infolist() if i.filename.endswith("block.xml")]
        assert {i.compress_type for i in xml} == {zipfile.ZIP_DEFLATED}
    size = (tmp_path / "a.zip").stat().st_size
    assert 200_000 < size < 200_000 + 80_000, size  # one image plus TOML, XML and the manifest
    fresh = open_store(f"sqlite:///{tmp_path / 'fresh.db'}")
    summary = restore_v2(tmp_path / "a.zip", fresh, REF)
    assert summary.distinct_blobs == 101 and summary.media_files == 200
    assert snapshot(fresh, REF) == snapshot(store, REF)
    store.close()
    fresh.close()


def test_plan_summary_and_counts(tmp_path: Path) -> None:
    store = handmade_store(tmp_path / 'src.db')
    backup_v2(store, REF, tmp_path / "a.zip", created_by="bob", origin_server="studio.example.org")
    with ArchiveReader(tmp_path / "a.zip") as reader, read_v2(reader) as plan:
        s = plan.summary().as_dict()
    assert (s["format"], s["format_version"], s["created_by"], s["origin_server"]) == (
        "v2", 2, "bob", "studio.example.org")
    assert s["created_at"] == WHEN.isoformat().replace("+00:00", "Z")
    assert s["publish_events"] == 4 and s["collections"] == 3
    assert s["types"]["unit"] == 1 and s["types"]["xblock.v1:html"] == 7
    store.close()


def test_empty_package_round_trips(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'src.db'}")
    with store.author(REF, user=None, create={"title": "Empty", "description": ""}, clock=SyntheticClock()):
        pass
    archive, fresh = _round_trip(store, tmp_path)
    with zipfile.ZipFile(archive) as z:
        assert z.namelist() == ["package.toml", "publish_log.toml", "manifest.json"]
        log = z.getinfo("publish_log.toml")
        assert (log.file_size, log.compress_type) == (0, zipfile.ZIP_STORED)
    assert snapshot(fresh, REF) == snapshot(store, REF)
    store.close()
    fresh.close()
