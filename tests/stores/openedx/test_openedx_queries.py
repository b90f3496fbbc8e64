"""Reading costs a fixed number of queries per batch of entities, whatever the package's size."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from support.openedx_db import OpenedxDb
from support.openedx_library import build_library

from lc_archive import backup
from lc_archive.stores import open_store


def _queries(action: Callable[[], object]) -> int:
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connections["default"]) as captured:
        action()
    return len(captured.captured_queries)


def test_queries_do_not_grow_with_the_package(openedx_db: OpenedxDb, tmp_path: Path) -> None:
    small = build_library("lib:Org:S", components=3, versions=2)
    large = build_library("lib:Org:L", components=10, versions=4)
    with open_store(openedx_db.store_url) as store:

        def read(ref: str, history: str) -> Callable[[], object]:
            def run() -> object:
                with store.read(ref) as source:
                    return (list(source.iter_entities(history=history, batch_size=1000)),  # type: ignore[arg-type]
                            list(source.iter_collections()), list(source.iter_publish_log()), source.last_changed())
            return run

        for history in ("current", "all"):
            assert _queries(read(small.ref, history)) == _queries(read(large.ref, history)), history
        for fmt in ("v1", "v2"):
            counts = [_queries(lambda r=ref: backup(store, r, tmp_path / f"{r[-1]}.{fmt}.zip", format=fmt))
                      for ref in (small.ref, large.ref)]
            assert counts[0] == counts[1], (fmt, counts)


def test_queries_grow_with_batches_not_entities(openedx_db: OpenedxDb) -> None:
    lib = build_library(components=6, versions=2)  # 8 entities
    with open_store(openedx_db.store_url) as store:

        def per_batch(size: int | None) -> int:
            def run() -> object:
                with store.read(lib.ref) as source:
                    return None if size is None else list(source.iter_entities(history="all", batch_size=size))
            return _queries(run)

        opening = per_batch(None)  # the package lookup and the transaction's set-up
        per = per_batch(8) - opening  # one batch of all 8 entities
        assert per <= 8
        assert per_batch(2) - opening <= 4 * per + 1  # four full batches, then one empty page
