"""The archive's created_at is the package's last change by default: unchanged content, same bytes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from lc_archive.archive.zip_reader import ArchiveReader
from lc_archive.formats.table import read_archive
from lc_archive.stores import open_store
from lc_archive.synthetic import SYNTHETIC_START, generate_library
from lc_archive.usecases.backup import backup

REF = "lib:Org:TIME"


def _created_at(archive: Path) -> str:
    with ArchiveReader(archive) as reader, read_archive(reader) as plan:
        return str(plan.summary().as_dict()["created_at"])


def test_unchanged_content_gives_identical_archives_and_a_change_moves_the_time(tmp_path: Path) -> None:
    store = open_store(tmp_path / "lib.db")
    generate_library(store, REF, components=12, seed=3)
    with store.read(REF) as source:
        last = source.last_changed()
    assert last.tzinfo is not None and last > datetime(2025, 1, 6, tzinfo=UTC)
    for fmt in ("v1", "v2"):
        a, b = tmp_path / f"a-{fmt}.zip", tmp_path / f"b-{fmt}.zip"
        first = backup(store, REF, a, format=fmt)  # type: ignore[arg-type]
        backup(store, REF, b, format=fmt)  # type: ignore[arg-type]
        assert a.read_bytes() == b.read_bytes(), fmt
        assert first.created_at == last
        assert _created_at(a).startswith(last.strftime("%Y-%m-%dT%H:%M:%S"))
    # An explicit time still wins.
    pinned = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert backup(store, REF, tmp_path / "pinned.zip", created_at=pinned).created_at == pinned

    # A new version (of one component) is a change: a later created_at, different bytes.
    later = last + timedelta(hours=5)
    with store.read(REF) as source:
        ref = next(e.ref for e in source.iter_entities() if e.ref.startswith("xblock.v1:html:"))
    with store.author(REF, clock=lambda: later) as author:
        author.add_component_version(ref, {"block.xml": b"<html>changed</html>"}, title="changed")
    with store.read(REF) as source:
        assert source.last_changed() == later
    backup(store, REF, tmp_path / "c-v2.zip")
    assert (tmp_path / "c-v2.zip").read_bytes() != (tmp_path / "a-v2.zip").read_bytes()
    assert _created_at(tmp_path / "c-v2.zip").startswith(later.strftime("%Y-%m-%dT%H:%M:%S"))

    # A publish and a collection change count too.
    with store.author(REF, clock=lambda: later + timedelta(hours=1)) as author:
        author.publish("again")
    with store.read(REF) as source:
        assert source.last_changed() == later + timedelta(hours=1)
    with store.author(REF, clock=lambda: later + timedelta(hours=2)) as author:
        author.create_collection("late", "Late")
    with store.read(REF) as source:
        assert source.last_changed() == later + timedelta(hours=2)
    store.close()


def test_synthetic_clock_is_what_a_fresh_package_reports(tmp_path: Path) -> None:
    store = open_store(tmp_path / "lib.db")
    generate_library(store, REF, components=3, seed=1)
    with store.read(REF) as source:
        # Every timestamp of a synthetic library comes from its clock, so the last change is one of its ticks.
        assert (source.last_changed() - SYNTHETIC_START).total_seconds() % 37 == 0
    store.close()
