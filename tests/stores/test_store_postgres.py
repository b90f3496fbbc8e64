"""The SQL store on PostgreSQL: the same checks as on SQLite, in a fresh database per test.

Runs when ``LC_ARCHIVE_PG_URL`` names a server database the user may ``CREATE DATABASE`` from, e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/test``; skips otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.pg import fresh_database
from support.store_checks import (
    check_blobs,
    check_failed_write_rolls_back,
    check_ordering,
    check_package_exists,
    check_round_trip,
    pkg,
)

from lc_archive.errors import PackageExists
from lc_archive.stores import AuthoringError, SqlStore, open_store


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL to a brand-new, empty database, dropped after the test."""
    with fresh_database() as url:
        yield url


@pytest.fixture
def store(pg_url: str) -> Iterator[SqlStore]:
    s = open_store(pg_url)
    yield s
    s.close()


def test_round_trip(store: SqlStore) -> None:
    assert store.dialect == "postgresql"
    check_round_trip(store)


def test_blobs_dedup_and_stream(store: SqlStore) -> None:
    check_blobs(store)


def test_failed_write_rolls_back(store: SqlStore) -> None:
    check_failed_write_rolls_back(store)


def test_ordering_is_code_point(store: SqlStore) -> None:
    check_ordering(store)


def test_package_exists_and_not_found(store: SqlStore) -> None:
    check_package_exists(store)


def test_reopen_and_author(pg_url: str) -> None:
    with open_store(pg_url) as s, s.author("lib:PG:1", user="u", create={"title": "T"}) as a:
        ref = a.create_component("xblock.v1", "html", "c1")
        a.add_component_version(ref, {"block.xml": "<x/>", "static/a.png": b"A"})
        unit = a.create_container("unit", "u1")
        a.add_container_version(unit, [ref, (ref, 1)])
        with pytest.raises(AuthoringError):
            a.create_component("xblock.v1", "html", "c1")
        assert a.publish("Initial") == 2
    with open_store(pg_url, create=False) as s:
        with s.author("lib:PG:1") as a:
            assert a.add_component_version(ref, {"static/a.png": None}) == 2
        with s.read("lib:PG:1") as src:
            got = {e.ref: e for e in src.iter_entities(history="all")}
            assert [m.path for m in got[ref].versions[1].media] == ["block.xml"]
            assert [c.pinned for c in got[unit].versions[0].children] == [None, 1]
            assert [log.message for log in src.iter_publish_log()] == ["Initial"]
        with pytest.raises(PackageExists), s.write(pkg("lib:PG:1")):
            pass


def test_plugin_payloads_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    """Payload bodies are kept byte for byte in PostgreSQL too, and come back in code-point order."""
    from support.plugin_package import build, payload_members

    from lc_archive import backup, restore

    with build(tmp_path / "src.db") as src:
        backup(src, "lib:Org:PLUG", tmp_path / "a.zip", format="v2")
    with open_store(pg_url) as s:
        restore(tmp_path / "a.zip", s, ref="lib:Org:PLUG")
        backup(s, "lib:Org:PLUG", tmp_path / "b.zip", format="v2")
        with s.read("lib:Org:PLUG") as source:
            keys = [p.target for p in source.iter_payloads()]
    assert keys == sorted(keys) and len(keys) == 4
    assert payload_members(tmp_path / "b.zip") == payload_members(tmp_path / "a.zip")
