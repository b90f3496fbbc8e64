"""The embedded SQL store on real SQLite files: round trip, blobs, transactions, ordering.

The ``check_*`` helpers take any :class:`SqlStore`; ``test_store_postgres.py`` runs them on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text
from support.files import sha
from support.paths import TESTS
from support.store_checks import (
    MiB,
    build_package,
    check_blobs,
    check_failed_write_rolls_back,
    check_ordering,
    check_package_exists,
    check_round_trip,
    component,
    pkg,
    ts,
)

from lc_archive.errors import LcArchiveError, StoreError
from lc_archive.stores import (
    CONTAINER,
    ChildRecord,
    CollectionRecord,
    EntityRecord,
    MediaRecord,
    PackageRecord,
    PublishLogEntry,
    PublishLogRecord,
    SqlStore,
    VersionRecord,
    open_store,
    schema,
)

# --- SQLite ---------------------------------------------------------------------------------------


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "lib.db"


@pytest.fixture
def store(db: Path) -> Iterator[SqlStore]:
    s = open_store(f"sqlite:///{db}")
    yield s
    s.close()




def test_round_trip(store: SqlStore) -> None:
    check_round_trip(store)


def test_blobs_dedup_and_stream(store: SqlStore) -> None:
    check_blobs(store)


def test_failed_write_rolls_back(store: SqlStore) -> None:
    check_failed_write_rolls_back(store)


def test_ordering(store: SqlStore) -> None:
    check_ordering(store)


def test_package_exists_and_not_found(store: SqlStore) -> None:
    check_package_exists(store)


@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyboardInterrupt(), "unknown-child", "bad-blob"])
def test_failed_write_leaves_file_byte_identical(store: SqlStore, db: Path, exc: object) -> None:
    with store.write(pkg("lib:Keep:1")) as sink:
        build_package(sink)
    before = sha(db)
    with pytest.raises((RuntimeError, KeyboardInterrupt, StoreError)), store.write(pkg()) as sink:
        build_package(sink)
        if exc == "unknown-child":
            unit = EntityRecord(
                "unit-x",
                CONTAINER,
                "",
                "unit",
                "unit-x",
                True,
                ts(0),
                None,
                (VersionRecord(1, "", ts(0), children=(ChildRecord("nope"),)),),
                draft=1,
            )
            sink.add_entities([unit])
        elif exc == "bad-blob":
            sink.add_entities(
                [
                    component(
                        "a:b:c",
                        (VersionRecord(1, "", ts(0), media=(MediaRecord("block.xml", "f" * 64, 1, "text/xml"),)),),
                        draft=1,
                    )
                ]
            )
        else:
            assert isinstance(exc, BaseException)
            raise exc
    assert sha(db) == before
    assert not db.with_name("lib.db-journal").exists()
    assert store.package_refs() == ["lib:Keep:1"]


def test_large_failed_write_spills_and_still_rolls_back(store: SqlStore, db: Path) -> None:
    """More than the page cache holds (so SQLite writes pages mid-transaction): still byte-identical."""
    with store.write(pkg("lib:Keep:1")) as sink:
        sink.put_blob([b"kept"])
    before = sha(db)
    with pytest.raises(RuntimeError), store.write(pkg()) as sink:
        for i in range(80):
            sink.put_blob([i.to_bytes(4, "big") * (MiB // 4)])
        raise RuntimeError("late failure")
    assert sha(db) == before
    assert store.package_refs() == ["lib:Keep:1"]


def test_unresolved_refs_name_the_ref(store: SqlStore) -> None:
    unit = EntityRecord(
        "unit-x",
        CONTAINER,
        "",
        "unit",
        "unit-x",
        True,
        ts(0),
        None,
        (VersionRecord(1, "", ts(0), children=(ChildRecord("xblock.v1:html:missing"),)),),
        draft=1,
    )
    with pytest.raises(StoreError, match=r"container child 'xblock\.v1:html:missing'"), store.write(pkg()) as sink:
        sink.add_entities([unit])
    coll = CollectionRecord("c", "C", "", True, ts(0), ts(0), None, ("ghost",))
    with pytest.raises(StoreError, match="collection member 'ghost'"), store.write(pkg()) as sink:
        sink.add_collections([coll])
    log = PublishLogRecord(ts(0), None, "", (PublishLogEntry("ghost", None, 1),))
    with pytest.raises(StoreError, match="publish log entry 'ghost'"), store.write(pkg()) as sink:
        sink.add_publish_log([log])
    with pytest.raises(StoreError, match="duplicate entity ref"), store.write(pkg()) as sink:
        sink.add_entities([component("a:b:c")])
        sink.add_entities([component("a:b:c")])
    m = MediaRecord("block.xml", "f" * 64, 1, "text/xml")
    with pytest.raises(StoreError, match=r"a:b:c v1 'block.xml': blob f+ was never stored"), store.write(pkg()) as sink:
        sink.add_entities([component("a:b:c", (VersionRecord(1, "", ts(0), media=(m,)),), draft=1)])
    assert store.package_refs() == []


def test_media_may_use_blob_stored_by_earlier_package(store: SqlStore) -> None:
    with store.write(pkg("lib:A:1")) as sink:
        sha, size = sink.put_blob([b"<html/>"])
    with store.write(pkg()) as sink:
        m = MediaRecord("block.xml", sha, size, "text/xml")
        sink.add_entities([component("a:b:c", (VersionRecord(1, "", ts(0), media=(m,)),), draft=1)])
    with store.read("lib:Org:LIB1") as src:
        assert next(src.iter_entities()).versions[0].media == (m,)


def test_timestamps_are_canonical_text(store: SqlStore, db: Path) -> None:
    plus2 = timezone(timedelta(hours=2))
    record = PackageRecord("lib:T:1", "T", "", datetime(2024, 5, 6, 9, 0, 0, tzinfo=plus2), ts(0))
    with store.write(record):
        pass
    with sqlite3.connect(db) as raw:
        created, updated = raw.execute("SELECT created, updated FROM lc_package").fetchone()
    assert created == "2024-05-06T07:00:00.000000Z"
    assert updated == "2024-01-02T03:04:05.123456Z"
    with store.read("lib:T:1") as src:
        assert src.package.created == datetime(2024, 5, 6, 7, tzinfo=UTC)
        assert src.package.created.tzinfo == UTC
    naive = PackageRecord("lib:T:2", "T", "", datetime(2024, 1, 1), ts(0))
    with pytest.raises(StoreError, match="naive datetime"), store.write(naive):
        pass


def test_connection_settings(store: SqlStore) -> None:
    with store.transaction(write=False) as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "delete"
        assert conn.execute(text("PRAGMA synchronous")).scalar_one() == 2  # FULL
        version = select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")
        assert conn.execute(version).scalar_one() == str(schema.SCHEMA_VERSION)


def test_write_takes_the_lock_up_front(store: SqlStore, db: Path) -> None:
    """``BEGIN IMMEDIATE``: a second writer cannot start while a write transaction is open."""
    with store.write(pkg()):
        other = sqlite3.connect(db, timeout=0, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()


def test_opening_a_ready_store_takes_no_write_lock(store: SqlStore, db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second process-like reader opens the store and reads while a first one holds a read transaction.

    SQLite commits even an empty ``BEGIN IMMEDIATE`` only once every reader has finished, so a schema
    check in a write transaction made the workers of ``backup_all`` (each opening the store per package)
    wait for one another's reads: two processes used one core between them (ADR 0009 section 8).
    """
    with store.write(pkg()):
        pass
    monkeypatch.setenv("LC_ARCHIVE_SQLITE_BUSY_TIMEOUT", "0")  # any wait for a lock fails at once
    with store.read("lib:Org:LIB1") as first:
        first.last_changed()  # the read transaction holds its shared lock from here on
        with open_store(db, create=False) as second, second.read("lib:Org:LIB1") as source:
            assert source.last_changed() == first.last_changed()
            writer = sqlite3.connect(db, timeout=0, isolation_level=None)
            try:  # and opening left no write lock behind
                writer.execute("BEGIN IMMEDIATE")
                writer.execute("ROLLBACK")
            finally:
                writer.close()


def test_opening_an_old_store_upgrades_it_in_a_write_transaction(store: SqlStore, db: Path) -> None:
    store.close()
    with sqlite3.connect(db) as raw:
        raw.execute("DROP TABLE lc_payload")
        raw.execute("UPDATE lc_meta SET value = '1' WHERE key = 'schema_version'")
    raw.close()
    with SqlStore(db, upgrade=False, create=False) as looked, looked.transaction(write=False) as conn:
        assert not conn.dialect.has_table(conn, "lc_payload")  # only looking: left as it is
    with open_store(db, create=False) as upgraded, upgraded.transaction(write=False) as conn:
        assert conn.dialect.has_table(conn, "lc_payload")
        version = select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")
        assert conn.execute(version).scalar_one() == str(schema.SCHEMA_VERSION)


def test_open_store_urls(tmp_path: Path) -> None:
    bare = tmp_path / "bare.db"
    with open_store(str(bare)) as s:
        assert s.url == f"sqlite:///{bare}"
        assert s.dialect == "sqlite"
        with s.write(pkg()):
            pass
    with open_store(f"sqlite:///{bare}") as s:
        assert s.package_refs() == ["lib:Org:LIB1"]
    with open_store(str(bare), create=False) as s:
        assert s.package_refs() == ["lib:Org:LIB1"]
    with pytest.raises(StoreError, match="no store"):
        open_store(str(tmp_path / "missing.db"), create=False)
    assert not (tmp_path / "missing.db").exists()
    with pytest.raises(StoreError, match="unsupported database"):
        open_store("mysql://u@localhost/db")
    with pytest.raises(StoreError, match="unsupported database"):
        open_store("nonsense://")
    with pytest.raises(StoreError, match="not a database URL"):
        open_store("not a url://x")
    with open_store("sqlite://") as mem:
        check_package_exists(mem)


def test_other_sqlite_file_is_not_a_store(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE t (x)")
    with pytest.raises(StoreError, match="not an lc-archive store"):
        open_store(str(path), create=False)


def test_newer_schema_version_is_refused(store: SqlStore, db: Path) -> None:
    store.close()
    with sqlite3.connect(db) as raw:
        raw.execute("UPDATE lc_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="schema version 99"):
        open_store(str(db))


def test_put_blob_streams_in_bounded_memory(store: SqlStore) -> None:
    def pieces() -> Iterator[bytes]:
        for i in range(24 * 4):
            yield i.to_bytes(2, "big") * (128 * 1024)  # 256 KiB each, 24 MiB in all

    tracemalloc.start()
    try:
        with store.write(pkg()) as sink:
            sha, size = sink.put_blob(pieces())
            peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert size == 24 * MiB
    assert peak < 8 * MiB, f"peak {peak / MiB:.1f} MiB"
    with store.read("lib:Org:LIB1") as src, src.open_blob(sha) as f:
        digest = hashlib.sha256()
        while data := f.read(MiB // 3):
            digest.update(data)
        assert digest.hexdigest() == sha


def test_a_reader_connects_during_a_write_that_fits_the_page_cache(store: SqlStore) -> None:
    # A write transaction larger than SQLite's page cache (16 MiB) spills pages to the database file and
    # takes the exclusive lock from then on (rollback journal); a smaller one leaves readers alone.
    with store.write(pkg()) as sink:
        sink.put_blob([bytes(range(256)) * 4096 * 4])  # 4 MiB
        with store.engine.connect() as other:
            assert other.exec_driver_sql("SELECT count(*) FROM lc_package").scalar_one() == 0


def test_history_must_be_known(store: SqlStore) -> None:
    with store.write(pkg()):
        pass
    with store.read("lib:Org:LIB1") as src, pytest.raises(ValueError, match="history"):
        list(src.iter_entities(history="some"))  # type: ignore[arg-type]


def test_errors_are_lc_archive_errors() -> None:
    assert issubclass(StoreError, LcArchiveError)


_CRASH_WRITER = """
import sys
from datetime import UTC, datetime
from lc_archive.stores import COMPONENT, EntityRecord, MediaRecord, PackageRecord, VersionRecord, open_store
now = datetime(2024, 1, 1, tzinfo=UTC)
store = open_store(sys.argv[1])
with store.write(PackageRecord("lib:Crash:1", "T", "", now, now)) as sink:
    print("started", flush=True)
    def entities():
        for i in range(int(sys.argv[2])):
            sha, size = sink.put_blob([i.to_bytes(4, "big") * 2500])
            media = (MediaRecord("block.xml", sha, size, "text/xml"),)
            yield EntityRecord(f"a:b:c{i:06d}", COMPONENT, "a", "b", f"c{i:06d}", True, now, None,
                               (VersionRecord(1, "", now, media=media),), draft=1)
    sink.add_entities(entities())
print("committed", flush=True)
"""


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.05, 0.3, 0.6, 1.0, None])
def test_sigkill_mid_write_leaves_old_or_new_state(store: SqlStore, db: Path, delay: float | None) -> None:
    """threats.md §5: a SIGKILLed restore leaves the store as before or fully written, never between."""
    count = 20_000
    with store.write(pkg("lib:Keep:1")) as sink:
        sink.put_blob([b"kept"])
    store.close()
    before = sha(db)
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _CRASH_WRITER, str(db), str(count)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "started"
    if delay is not None:
        time.sleep(delay)
        proc.kill()
    proc.wait(timeout=120)
    proc.stdout.close()
    with open_store(str(db)) as after:  # the first connection rolls back a hot journal
        refs = after.package_refs()
        if refs == ["lib:Crash:1", "lib:Keep:1"]:
            with after.read("lib:Crash:1") as src:
                assert src.entity_count() == count
        else:
            assert delay is not None and refs == ["lib:Keep:1"]
    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    if refs == ["lib:Keep:1"]:
        assert sha(db) == before
        with open_store(str(db)) as again, again.write(pkg("lib:Crash:1")):  # and a retry succeeds
            pass
