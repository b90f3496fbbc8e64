"""The streamed export: the bytes of a file backup, bounded, stoppable, errors raised from the iterator."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from support.sitekit import library_with_big_media

from lc_archive.errors import PackageNotFound
from lc_archive.stores import open_store
from lc_archive.usecases.backup import backup
from lc_archive.usecases.streaming import CHUNK, DEPTH, stream_backup

REF = "lib:Org:STREAM"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Media larger than the writer's 1 MiB in-memory bound, stored and compressed.
    return library_with_big_media(tmp_path_factory.mktemp("stream") / "lib.db", REF, components=120, seed=6,
                                  files={"static/big.mp4": os.urandom(3 * 1024 * 1024),
                                         "static/notes.txt": b"lorem ipsum " * 200_000})


@pytest.mark.parametrize("fmt", ["v2", "v1"])
def test_the_stream_equals_the_file_backup(db: Path, tmp_path: Path, fmt: str) -> None:
    with open_store(db) as store:
        chunks = list(stream_backup(store, REF, format=fmt))  # type: ignore[arg-type]
        backup(store, REF, tmp_path / "file.zip", format=fmt)  # type: ignore[arg-type]
        selective = b"".join(stream_backup(store, REF, entities=["xblock.v1:video:big"]))
        backup(store, REF, tmp_path / "part.zip", entities=["xblock.v1:video:big"])
    assert b"".join(chunks) == (tmp_path / "file.zip").read_bytes()
    assert selective == (tmp_path / "part.zip").read_bytes()
    assert len(chunks) > 3 and max(map(len, chunks)) <= 2 * 1024 * 1024 + CHUNK


def test_closing_early_stops_the_producer_and_frees_the_store(db: Path) -> None:
    with open_store(db) as store:
        chunks = stream_backup(store, REF)
        first = next(chunks)
        assert first.startswith(b"PK\x03\x04")
        chunks.close()  # e.g. the HTTP client went away
        assert not [t for t in threading.enumerate() if t.name == "lc-archive-stream"]  # the producer stopped
        # The read transaction is over: a write goes through at once.
        with store.author(REF) as author:
            author.create_collection("after", "After")


def test_nothing_runs_until_iterated_and_errors_come_from_the_iterator(db: Path) -> None:
    with open_store(db) as store:
        chunks = stream_backup(store, "lib:Org:NONE")
        with pytest.raises(PackageNotFound):
            next(chunks)
    assert DEPTH >= 2
