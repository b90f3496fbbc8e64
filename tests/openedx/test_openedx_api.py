"""``lc_archive.openedx.api.create_zip_file``: openedx-core's signature, the format the setting names,
the user and origin recorded, openedx-core's not-found exception."""

from __future__ import annotations

import tomllib
import zipfile
from pathlib import Path

import pytest
from support.openedx_db import OpenedxDb
from support.openedx_library import build_library

from lc_archive.errors import LcArchiveError, PackageNotFound


def _members(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return zf.namelist()


def test_create_zip_file_writes_the_configured_format(openedx_sqlite: OpenedxDb, tmp_path: Path) -> None:
    from django.test.utils import override_settings

    from lc_archive.openedx.api import create_zip_file

    lib = build_library(components=3, versions=2)
    default, v1 = tmp_path / "default.zip", tmp_path / "v1.zip"
    create_zip_file(lib.ref, str(default), user=lib.users["bob"], origin_server="studio.example.com")
    assert "manifest.json" in _members(default)
    with override_settings(LC_ARCHIVE_FORMAT="v1"):
        create_zip_file(lib.ref, str(v1), lib.users["ann"], "studio.example.com")
    assert "package.toml" in _members(v1) and "manifest.json" not in _members(v1)
    with zipfile.ZipFile(v1) as zf:
        meta = tomllib.loads(zf.read("package.toml").decode())["meta"]
    assert (meta["created_by"], meta["created_by_email"], meta["origin_server"]) == (
        "ann", "ann@example.com", "studio.example.com")
    with override_settings(LC_ARCHIVE_FORMAT="v3"), pytest.raises(LcArchiveError, match="LC_ARCHIVE_FORMAT"):
        create_zip_file(lib.ref, str(tmp_path / "bad.zip"))
    assert not (tmp_path / "bad.zip").exists()


def test_unknown_package_raises_what_openedx_core_raises(openedx_sqlite: OpenedxDb, tmp_path: Path) -> None:
    from django.core.exceptions import ObjectDoesNotExist

    from lc_archive.openedx.api import create_zip_file

    with pytest.raises(ObjectDoesNotExist) as caught:
        create_zip_file("lib:Org:NOPE", str(tmp_path / "x.zip"))
    assert isinstance(caught.value, PackageNotFound)
    assert not (tmp_path / "x.zip").exists()


def test_dump_command_takes_lp_dumps_arguments(openedx_sqlite: OpenedxDb, tmp_path: Path) -> None:
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    lib = build_library(components=2, versions=2)
    out, target = StringIO(), tmp_path / "lib.zip"
    call_command("lc_archive_dump", lib.ref, str(target), "--username", "bob", "--origin_server", "cms.test",
                 "--format", "v1", stdout=out)
    assert f"{lib.ref} written to {target}" in out.getvalue()
    with zipfile.ZipFile(target) as zf:
        meta = tomllib.loads(zf.read("package.toml").decode())["meta"]
    assert (meta["created_by"], meta["created_by_email"], meta["origin_server"]) == (
        "bob", "bob@example.org", "cms.test")
    with pytest.raises(CommandError, match=r"must end with \.zip"):
        call_command("lc_archive_dump", lib.ref, str(tmp_path / "lib.tar"))
    with pytest.raises(CommandError, match="no user 'carol'"):
        call_command("lc_archive_dump", lib.ref, str(tmp_path / "c.zip"), "--username", "carol")
    with pytest.raises(CommandError, match="lib:Org:NOPE"):
        call_command("lc_archive_dump", "lib:Org:NOPE", str(tmp_path / "n.zip"))
    assert sorted(p.name for p in tmp_path.glob("*.zip")) == ["lib.zip"]
