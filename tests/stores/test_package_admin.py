"""Managing packages in the SQL store (SQLite and PostgreSQL): list with sizes, delete, rename."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from support.importkit import SRC, archive_of, counts, make_source, state
from support.pg import fresh_database

from lc_archive import faults, restore
from lc_archive.errors import InvalidRef, PackageExists, PackageNotFound
from lc_archive.faults import FaultInjected
from lc_archive.stores import SqlStore, open_store, schema


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("admin")
    src = make_source(work / "src.db")
    with src.author(SRC) as a:  # a blob only this package has and one shared with the second package
        a.add_component_version("xblock.v1:html:h4", {"static/only.bin": b"only in one" * 100})
    path = archive_of(src, SRC, work / "a.zip")
    src.close()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    if request.param == "sqlite":
        s = open_store(f"sqlite:///{tmp_path / 'store.db'}")
        yield s
        s.close()
        return
    with fresh_database("lc_admin") as url:
        s = open_store(url)
        yield s
        s.close()


def used_blobs(store: SqlStore) -> tuple[set[str], set[str]]:
    with store.transaction(write=False) as conn:
        stored = set(conn.execute(select(schema.blob.c.sha256)).scalars())
        chunks = set(conn.execute(select(schema.blob_chunk.c.sha256)).scalars())
        used = set(conn.execute(select(schema.media.c.sha256)).scalars())
    assert chunks <= stored
    return stored, used


def test_packages_counts_and_sizes(store: SqlStore, archive: Path) -> None:
    restore(archive, store, ref="lib:A:one")
    restore(archive, store, ref="lib:A:two")
    with store.author("lib:A:two") as a:
        a.create_collection("x", "X")
    infos = store.package_infos()
    assert [i.ref for i in infos] == ["lib:A:one", "lib:A:two"]
    one, two = infos
    assert (one.title, one.components, one.containers, one.versions) == ("Source", 7, 3, 13)
    assert (one.collections, two.collections) == (1, 2)
    with store.read("lib:A:one") as source:
        shas = {m.sha256: m.size for e in source.iter_entities(history="all") for v in e.versions for m in v.media}
        assert one.last_changed == source.last_changed()
    assert one.size == two.size == sum(shas.values())
    assert one.as_dict()["last_changed"].endswith("Z")


def test_delete_frees_only_unshared_blobs(store: SqlStore, archive: Path) -> None:
    restore(archive, store, ref="lib:A:one")
    restore(archive, store, ref="lib:A:keep")
    with store.author("lib:A:one") as a:
        a.add_component_version("xblock.v1:html:h0", {"static/mine.bin": b"mine alone" * 50})
    keep = state(store, "lib:A:keep", all_versions=True)
    result = store.delete_package("lib:A:one")
    assert (result.blobs_freed, result.bytes_freed) == (1, 500)
    assert result.entities == 10
    assert store.package_refs() == ["lib:A:keep"]
    assert state(store, "lib:A:keep", all_versions=True) == keep
    stored, used = used_blobs(store)
    assert stored == used
    store.delete_package("lib:A:keep")
    assert store.package_infos() == []
    assert {k: v for k, v in counts(store).items() if k != "lc_meta"} == dict.fromkeys(
        (t for t in counts(store) if t != "lc_meta"), 0)
    with pytest.raises(PackageNotFound):
        store.delete_package("lib:A:keep")


def test_failed_delete_changes_nothing(store: SqlStore, archive: Path) -> None:
    restore(archive, store, ref="lib:A:one")
    before = counts(store), state(store, "lib:A:one", all_versions=True)
    for point in ("delete.rows", "delete.blobs", "store.before_commit"):
        faults.configure(f"{point}:1:raise")
        try:
            with pytest.raises(FaultInjected):
                store.delete_package("lib:A:one")
        finally:
            faults.configure(None)
        assert (counts(store), state(store, "lib:A:one", all_versions=True)) == before


def test_rename(store: SqlStore, archive: Path) -> None:
    restore(archive, store, ref="lib:A:one")
    restore(archive, store, ref="lib:A:two")
    content = state(store, "lib:A:one", all_versions=True)
    store.rename_package("lib:A:one", "lib:B:new")
    assert store.package_refs() == ["lib:A:two", "lib:B:new"]
    assert state(store, "lib:B:new", all_versions=True) == content
    with pytest.raises(PackageExists):
        store.rename_package("lib:B:new", "lib:A:two")
    with pytest.raises(PackageNotFound):
        store.rename_package("lib:A:one", "lib:C:x")
    for bad in ("", "a\nb", "x" * 501, "lib:B:a b"):
        with pytest.raises(InvalidRef):
            store.rename_package("lib:B:new", bad)
    assert store.package_refs() == ["lib:A:two", "lib:B:new"]


def test_sqlite_store_back_to_empty_size_after_vacuum(tmp_path: Path, archive: Path) -> None:
    empty, used = tmp_path / "empty.db", tmp_path / "used.db"
    open_store(f"sqlite:///{empty}").close()
    with open_store(f"sqlite:///{used}") as s:
        restore(archive, s, ref="lib:A:one")
        with s.author("lib:A:one") as a:
            a.add_component_version("xblock.v1:html:h1", {"static/big.bin": bytes(range(256)) * 12_000})
        assert used.stat().st_size > 3 * empty.stat().st_size
        s.delete_package("lib:A:one")
    with sqlite3.connect(used) as conn:
        conn.execute("VACUUM")
    with sqlite3.connect(empty) as conn:
        conn.execute("VACUUM")
    assert used.stat().st_size == empty.stat().st_size
