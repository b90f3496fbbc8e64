"""A migrated, empty openedx-core database per test, fast, on SQLite and (when their URL variables are
set) on MariaDB and PostgreSQL, plus the Django set-up these tests need.

Django is configured (``tests/openedx_settings.py``) only when a test asks for one of these fixtures, so
the rest of the suite never imports it.

* SQLite: openedx-core's migrations run once into a template file cached in the temp dir (keyed by the
  openedx-core and Django versions); each test gets its own copy (``default`` alias re-pointed at it).
* Whatever the vendor, the database under test is Django's ``default`` alias (store URL ``openedx:``):
  openedx-core's API works on the default connection only (it even asks the default connection what
  the database supports), as on a real site. The fixture re-points ``default`` at the vendor's
  database before each test; the ``mysql`` and ``postgresql`` aliases name the same databases.
* MariaDB / PostgreSQL: each test process creates its own database (``lcoedx_<pid>_<random>``), migrates
  it once in a subprocess (openedx-core's data migrations query the default alias, so the server is made
  the default there), drops it at the end; before each test every openedx-core and auth row is deleted.

Every test also gets its own media storage directory (``<db>.media/private``, where
``../shared/peer``'s settings look too) and :meth:`OpenedxDb.env` for subprocesses.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parents[1]
SETTINGS = "openedx_settings"
SERVERS = {"mysql": "LC_ARCHIVE_MYSQL_URL", "postgresql": "LC_ARCHIVE_PG_URL"}
DB_ENV = {"mysql": "LC_ARCHIVE_OPENEDX_MYSQL_DB", "postgresql": "LC_ARCHIVE_OPENEDX_PG_DB"}
VENDORS = ("sqlite", "mysql", "postgresql")
_KEPT_TABLES = {"django_migrations", "django_content_type", "auth_permission"}


def django_env() -> dict[str, str]:
    """The environment a subprocess needs for the test settings (before any per-test variable)."""
    path = os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS, "PYTHONPATH": path}


def setup_django() -> None:
    """Configure Django in this process with the test settings (once). ``DJANGO_SETTINGS_MODULE`` is set
    only while Django reads it: subprocesses of other tests (a Celery worker, the peer) must not see it."""
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    from lc_archive.stores.openedx.django_setup import ensure_django

    added = "DJANGO_SETTINGS_MODULE" not in os.environ
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    try:
        ensure_django()
    finally:
        if added:
            del os.environ["DJANGO_SETTINGS_MODULE"]
    if not _SQLITE:
        from django.db import connections

        _SQLITE.update(connections.settings["default"])


def _versions_key() -> str:
    versions = [importlib.metadata.version(d) for d in ("openedx-core", "Django")]
    return hashlib.sha256(repr(versions).encode()).hexdigest()[:12]


def _migrate(env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "django", "migrate", "-v0", "--no-input"],
        env=env, capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"openedx-core migrations failed:\n{done.stderr[-4000:]}")


def sqlite_template() -> Path:
    """A migrated, empty openedx-core SQLite file, made once per openedx-core/Django version."""
    path = Path(tempfile.gettempdir()) / f"lc-archive-openedx-template-{_versions_key()}.sqlite3"
    if not path.exists():
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        partial.unlink(missing_ok=True)
        _migrate({**django_env(), "LC_ARCHIVE_OPENEDX_SQLITE": str(partial)})
        os.replace(partial, path)
    return path


@dataclass
class OpenedxDb:
    """One test's openedx-core database: Django ``alias`` (store URL ``openedx:<alias>``) and media."""

    alias: str
    vendor: str
    media_root: Path
    sqlite_path: Path | None = None
    server_db: str | None = None

    @property
    def store_url(self) -> str:
        """The lc-archive store URL of this database."""
        return f"openedx:{self.alias}"

    def env(self) -> dict[str, str]:
        """Environment for a subprocess (CLI, management command) using this same database and media."""
        env = {**django_env(), "LC_ARCHIVE_OPENEDX_MEDIA": str(self.media_root)}
        if self.sqlite_path is not None:
            env["LC_ARCHIVE_OPENEDX_SQLITE"] = str(self.sqlite_path)
        if self.server_db is not None:
            env[DB_ENV[self.vendor]] = self.server_db
            env["LC_ARCHIVE_OPENEDX_DEFAULT"] = self.vendor
        return env


_SQLITE: dict[str, Any] = {}
"""The settings' SQLite entry, kept before ``default`` is first re-pointed."""


def _point_media(root: Path) -> None:
    from django.conf import settings
    from openedx_content.applets.media.models import get_storage

    root.mkdir(parents=True, exist_ok=True)
    settings.OPENEDX_LEARNING["MEDIA"]["OPTIONS"]["location"] = str(root)
    get_storage.cache_clear()


def _reset_caches() -> None:
    from openedx_content.models_api import Container

    Container.reset_cache()  # ContainerType ids are cached per process; each test's database has its own


class _Server:
    """One database on a server for this test process (created, migrated, dropped at the end)."""

    def __init__(self, vendor: str) -> None:
        from django.db import connections

        self.vendor = vendor
        self.name = f"lcoedx_{os.getpid()}_{secrets.token_hex(3)}"
        self._admin("CREATE DATABASE {} CHARACTER SET utf8mb4" if vendor == "mysql" else "CREATE DATABASE {}")
        env = {**django_env(), DB_ENV[vendor]: self.name, "LC_ARCHIVE_OPENEDX_DEFAULT": vendor}
        _migrate(env)
        connections[vendor].close()
        connections[vendor].settings_dict["NAME"] = self.name
        with connections[vendor].cursor() as cursor:
            tables = connections[vendor].introspection.table_names(cursor)
        self.tables = sorted(t for t in tables if t not in _KEPT_TABLES)

    def _admin(self, statement: str) -> None:
        from django.db import connections

        with connections[self.vendor].cursor() as cursor:
            connection = connections[self.vendor]
            cursor.execute(statement.format(connection.ops.quote_name(self.name)))

    def empty(self) -> None:
        """Delete every row of every table except migration bookkeeping."""
        from django.db import connections

        connection = connections[self.vendor]
        with connection.cursor() as cursor:
            if self.vendor == "mysql":
                cursor.execute("SET FOREIGN_KEY_CHECKS = 0")
                for table in self.tables:
                    cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")
                cursor.execute("SET FOREIGN_KEY_CHECKS = 1")
            else:
                names = ", ".join(connection.ops.quote_name(t) for t in self.tables)
                cursor.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")

    def drop(self) -> None:
        from django.db import connections

        connections[self.vendor].close()
        connections[self.vendor].settings_dict["NAME"] = _maintenance_db(self.vendor)
        self._admin("DROP DATABASE IF EXISTS {}")
        connections[self.vendor].close()


def _maintenance_db(vendor: str) -> str:
    return "mysql" if vendor == "mysql" else "postgres"


@pytest.fixture(scope="session")
def openedx_servers() -> Iterator[dict[str, _Server]]:
    """The server databases of this test process, made on first use."""
    made: dict[str, _Server] = {}
    yield made
    for server in made.values():
        server.drop()


def _server(vendor: str, servers: dict[str, _Server]) -> _Server:
    if vendor not in servers:
        from django.db import connections

        connections[vendor].close()
        connections[vendor].settings_dict["NAME"] = _maintenance_db(vendor)
        servers[vendor] = _Server(vendor)
    return servers[vendor]


def open_db(vendor: str, tmp_path: Path, servers: dict[str, _Server]) -> OpenedxDb:
    """A fresh, empty openedx-core database of ``vendor`` for one test (skips when not configured)."""
    if vendor != "sqlite" and not os.environ.get(SERVERS[vendor]):
        pytest.skip(f"set {SERVERS[vendor]} to run the openedx-core tests on {vendor} (.ci/run does)")
    setup_django()
    from django.db import connections

    media = tmp_path / "openedx.sqlite3.media" / "private"
    _point_media(media)
    _reset_caches()
    if vendor == "sqlite":
        path = tmp_path / "openedx.sqlite3"
        shutil.copyfile(sqlite_template(), path)
        _point_default({**_SQLITE, "NAME": str(path)})
        return OpenedxDb("default", vendor, media, sqlite_path=path)
    server = _server(vendor, servers)
    _point_default(connections[vendor].settings_dict)
    server.empty()
    return OpenedxDb("default", vendor, media, server_db=server.name)


def open_sqlite_copy(source: Path, tmp_path: Path) -> OpenedxDb:
    """A copy of an openedx-core SQLite file and its media (``<file>.media/private``, the peer's layout),
    made the ``default`` database: for libraries ``../shared/peer/peer.py gen`` made."""
    setup_django()
    path = tmp_path / "openedx.sqlite3"
    shutil.copyfile(source, path)
    media = tmp_path / "openedx.sqlite3.media" / "private"
    source_media = Path(f"{source}.media") / "private"
    if source_media.is_dir():
        shutil.copytree(source_media, media)
    _point_media(media)
    _reset_caches()
    _point_default({**_SQLITE, "NAME": str(path)})
    return OpenedxDb("default", "sqlite", media, sqlite_path=path)


def _point_default(database: dict[str, Any]) -> None:
    """Make ``default`` the connection to ``database`` (a DATABASES entry), from the next query on."""
    from django.db import connections

    connections["default"].close()
    del connections["default"]
    connections.settings["default"] = {**database}


@pytest.fixture(params=VENDORS)
def openedx_db(
    request: pytest.FixtureRequest, tmp_path: Path, openedx_servers: dict[str, _Server]
) -> Iterator[OpenedxDb]:
    """An empty, migrated openedx-core database, once per vendor (SQLite; MariaDB and PostgreSQL when
    their URL variables are set)."""
    db = open_db(request.param, tmp_path, openedx_servers)
    yield db
    _close(db)
    _point_default({**_SQLITE})


@pytest.fixture
def openedx_sqlite(tmp_path: Path, openedx_servers: dict[str, _Server]) -> Iterator[OpenedxDb]:
    """An empty, migrated openedx-core SQLite database (the one ``../shared/peer`` can read too)."""
    db = open_db("sqlite", tmp_path, openedx_servers)
    yield db
    _close(db)


def _close(db: OpenedxDb) -> None:
    from django.db import connections

    connections[db.alias].close()


def any_user(username: str, email: str | None = None) -> Any:
    """A Django user with that name (made if missing, in the database under test), e-mail
    ``<username>@example.com`` by default."""
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(
        username=username, defaults={"email": email or f"{username}@example.com"}
    )
    return user
