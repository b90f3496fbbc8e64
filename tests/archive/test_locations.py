"""Archive locations: paths stay paths, URLs stay URLs, secrets never reach a message; memory:// round trip."""

from __future__ import annotations

import uuid
from pathlib import Path

import fsspec
import pytest

from lc_archive.archive.locations import (
    LocationError,
    archive_location,
    display,
    is_url,
    object_info,
    open_archive_file,
    redact,
    translated_errors,
)
from lc_archive.archive.zip_reader import ArchiveReader
from lc_archive.cli import main
from lc_archive.stores import open_store
from lc_archive.synthetic import generate_library
from lc_archive.usecases.backup import backup
from lc_archive.usecases.restore import restore
from lc_archive.usecases.validate import validate

REF = "lib:Org:LOC"


def test_paths_and_urls_are_told_apart() -> None:
    assert archive_location("s3://bucket/x.zip") == "s3://bucket/x.zip"  # never the local s3:/bucket/x.zip
    assert archive_location("simplecache::s3://bucket/x.zip") == "simplecache::s3://bucket/x.zip"
    assert archive_location("lib.zip") == Path("lib.zip")
    assert archive_location("dir/s3:x.zip") == Path("dir/s3:x.zip")
    assert archive_location("file:///tmp/a%20b.zip") == Path("/tmp/a b.zip")
    assert archive_location(Path("/x/y.zip")) == Path("/x/y.zip")
    assert is_url("memory://a/b.zip") and not is_url("/a/b.zip") and not is_url(Path("s3://x"))
    with pytest.raises(LocationError, match="names a host"):
        archive_location("file://server/share/x.zip")


def test_messages_show_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    assert display("https://user:hunter22@example.org/x.zip?X-Amz-Signature=abc") == \
        "https://user:***@example.org/x.zip?..."
    assert display("s3://bucket/key.zip") == "s3://bucket/key.zip"
    assert display(Path("/a/b.zip")) == "/a/b.zip"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG")

    class FakeFs:
        def __init__(self) -> None:
            self.storage_options = {"key": "AKIAEXAMPLE", "client_kwargs": {"aws_session_token": "tok-123456"},
                                    "anon": False}

    assert redact("denied for wJalrXUtnFEMI/K7MDENG, AKIAEXAMPLE and tok-123456", FakeFs()) == \
        "denied for ***, *** and ***"
    with pytest.raises(LocationError) as caught, translated_errors("read", "s3://b/k?sig=s", FakeFs()):
        raise RuntimeError("boom with tok-123456 inside")
    assert "tok-123456" not in str(caught.value) and "sig=s" not in str(caught.value)
    assert "s3://b/k?..." in str(caught.value)


def test_unknown_protocols_are_refused_with_the_known_ones() -> None:
    with pytest.raises(LocationError, match=r"fsspec knows:.*memory"):
        open_archive_file("nosuchproto://bucket/x.zip")
    with pytest.raises(FileNotFoundError):
        open_archive_file(f"memory://lc-archive-{uuid.uuid4().hex}/missing.zip")


def test_memory_urls_back_up_restore_and_validate(tmp_path: Path) -> None:
    store = open_store(tmp_path / "lib.db")
    generate_library(store, REF, components=8, seed=2)
    local = backup(store, REF, tmp_path / "local.zip")
    url = f"memory://lc-archive-{uuid.uuid4().hex}/site/lib.zip"
    remote = backup(store, REF, url, checksum=True)
    fs = fsspec.filesystem("memory")
    data = fs.cat(url)
    assert data == (tmp_path / "local.zip").read_bytes()  # the same bytes wherever it goes
    assert remote.archive_bytes == local.archive_bytes == len(data)
    import hashlib
    assert remote.sha256 == hashlib.sha256(data).hexdigest()
    assert fs.glob(url.rsplit("/", 1)[0] + "/.*.tmp") == []  # the temporary object was moved into place
    info = object_info(url)
    assert info is not None and info.size == len(data)
    assert object_info(url + ".none") is None
    assert validate(url, strict=False).entities == local.entities
    with ArchiveReader(url) as reader:
        assert "package.toml" in reader
    fresh = open_store(tmp_path / "fresh.db")
    assert restore(url, fresh, ref="lib:Org:COPY").ref == "lib:Org:COPY"
    # The CLI takes the URL as it is.
    assert main(["validate", "-q", "--allow-warnings", url]) == 0
    assert main(["verify", "-q", "--allow-warnings", url]) == 0
    assert main(["diff", "-q", url, str(tmp_path / "local.zip")]) == 0
    store.close()
    fresh.close()


def test_a_failed_backup_to_a_url_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lc_archive import faults

    store = open_store(tmp_path / "lib.db")
    generate_library(store, REF, components=4, seed=2)
    url = f"memory://lc-archive-{uuid.uuid4().hex}/x/lib.zip"
    faults.configure("backup.entries_written:1:raise")
    try:
        with pytest.raises(faults.FaultInjected):
            backup(store, REF, url)
    finally:
        faults.configure(None)
    fs = fsspec.filesystem("memory")
    assert not fs.exists(url)
    assert fs.glob(url.rsplit("/", 1)[0] + "/*") == [] and fs.glob(url.rsplit("/", 1)[0] + "/.*") == []
    store.close()
