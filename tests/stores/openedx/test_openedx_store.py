"""The openedx-core store: opening it by URL, its package list, and its errors."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest
from support.openedx_db import OpenedxDb, django_env

from lc_archive.errors import LcArchiveError, PackageNotFound
from lc_archive.stores import open_store

T0 = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def _package(ref: str, title: str = "T") -> None:
    from openedx_content import api

    api.create_learning_package(ref, title, created=T0)


def test_open_store_url_names_the_alias(openedx_db: OpenedxDb) -> None:
    with open_store(openedx_db.store_url) as store:
        assert store.url == openedx_db.store_url
        assert store.package_refs() == []
        _package("lib:Org:b")
        _package("lib:Org:B")
        _package("lib:Org:a")
        assert store.package_refs() == ["lib:Org:B", "lib:Org:a", "lib:Org:b"]  # code-point order
        with pytest.raises(PackageNotFound), store.read("lib:Org:missing"):
            pass


def test_package_infos_count_what_each_package_holds(openedx_db: OpenedxDb) -> None:
    from support.openedx_library import PNG, build_library, html_olx

    build_library(components=4, versions=3)
    _package("lib:Org:empty", "Empty")
    with open_store(openedx_db.store_url) as store:
        infos = store.package_infos()  # type: ignore[attr-defined]
    assert [i.ref for i in infos] == ["lib:Org:LIB1", "lib:Org:empty"]
    lib, empty = infos
    assert (lib.title, lib.components, lib.containers, lib.collections, lib.versions) == ("Library One", 4, 2, 1, 15)
    texts = {html_olx(f"C{i}", f"v{v}") for i in range(4) for v in (1, 2, 3)}
    assert lib.size == sum(len(t.encode()) for t in texts) + len(PNG)
    assert (empty.components, empty.versions, empty.size, empty.last_changed) == (0, 0, 0, T0)
    assert lib.last_changed > T0


def test_unknown_alias_is_one_clear_error(openedx_sqlite: OpenedxDb) -> None:
    with pytest.raises(LcArchiveError, match=r"no Django database 'nope' in settings.DATABASES \(there are: .*default"):
        open_store("openedx:nope")


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "lc_archive", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)


def test_cli_without_settings_says_what_to_set() -> None:
    env = {k: v for k, v in django_env().items() if k != "DJANGO_SETTINGS_MODULE"}
    done = _cli(env, "packages", "openedx:")
    assert done.returncode != 0
    assert "DJANGO_SETTINGS_MODULE" in done.stderr and "Traceback" not in done.stderr


def test_cli_with_broken_settings_is_one_line() -> None:
    env = {**django_env(), "DJANGO_SETTINGS_MODULE": "no_such_settings_module"}
    done = _cli(env, "packages", "openedx:")
    assert done.returncode != 0
    assert "no_such_settings_module" in done.stderr and "Traceback" not in done.stderr


def test_cli_lists_packages(openedx_sqlite: OpenedxDb) -> None:
    _package("lib:Org:one")
    done = _cli(openedx_sqlite.env(), "packages", openedx_sqlite.store_url)
    assert done.returncode == 0, done.stderr
    assert "lib:Org:one" in done.stdout
