"""Django settings for the openedx-core adapter's tests: openedx-core 1.15.2's apps on up to three
databases, each a Django alias (store URL ``openedx:ALIAS``):

* ``default``: SQLite, always. File ``$LC_ARCHIVE_OPENEDX_SQLITE`` (the fixtures point it at a fresh
  copy of a migrated template per test).
* ``mysql``: the MariaDB of ``LC_ARCHIVE_MYSQL_URL`` (``mysql://root@127.0.0.1:3306/test``), through
  PyMySQL; database ``$LC_ARCHIVE_OPENEDX_MYSQL_DB`` (the fixtures pick one no other run is using).
* ``postgresql``: the PostgreSQL of ``LC_ARCHIVE_PG_URL``, through psycopg; database
  ``$LC_ARCHIVE_OPENEDX_PG_DB`` likewise.

Media files go to ``$LC_ARCHIVE_OPENEDX_MEDIA`` (default: ``<SQLite file>.media/private``, where
``../shared/peer``'s settings put them, so the peer reads a database made here and the reverse).
Subprocesses (the CLI, management commands) get the same databases through the same variables.
"""

from __future__ import annotations

import os
import tempfile
from urllib.parse import unquote, urlsplit

from openedx_content.settings_api import openedx_content_backcompat_apps_to_install

from lc_archive.stores.openedx.django_setup import use_pymysql_if_needed

use_pymysql_if_needed()  # PyMySQL as Django's MySQLdb (docs/decisions/0007-openedx-mysql-driver.md)

_TMP = tempfile.gettempdir()
SQLITE_PATH = os.environ.get("LC_ARCHIVE_OPENEDX_SQLITE") or os.path.join(_TMP, f"lc-openedx-{os.getpid()}.sqlite3")
MEDIA_ROOT_PRIVATE = os.environ.get("LC_ARCHIVE_OPENEDX_MEDIA") or os.path.join(SQLITE_PATH + ".media", "private")


def _server(url_env: str, engine: str, db_env: str, default_port: int) -> dict[str, object] | None:
    url = os.environ.get(url_env)
    if not url:
        return None
    parts = urlsplit(url)
    return {
        "ENGINE": engine,
        "NAME": os.environ.get(db_env) or f"{parts.path.lstrip('/') or 'test'}_lc_openedx",
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "127.0.0.1",
        "PORT": str(parts.port or default_port),
        **({"OPTIONS": {"charset": "utf8mb4"}} if engine.endswith("mysql") else {}),
        "TEST": {"NAME": None},
    }


SECRET_KEY = "lc-archive-tests-insecure"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

DATABASES: dict[str, dict[str, object]] = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": SQLITE_PATH, "OPTIONS": {"timeout": 30}},
}
_mysql = _server("LC_ARCHIVE_MYSQL_URL", "django.db.backends.mysql", "LC_ARCHIVE_OPENEDX_MYSQL_DB", 3306)
_pg = _server("LC_ARCHIVE_PG_URL", "django.db.backends.postgresql", "LC_ARCHIVE_OPENEDX_PG_DB", 5432)
if _mysql:
    DATABASES["mysql"] = _mysql
if _pg:
    DATABASES["postgresql"] = _pg
# LC_ARCHIVE_OPENEDX_DEFAULT=mysql|postgresql makes that server the default alias too: openedx-core's data
# migrations query the default database whichever one is being migrated, so a server is migrated as default.
_DEFAULT = os.environ.get("LC_ARCHIVE_OPENEDX_DEFAULT")
if _DEFAULT:
    DATABASES["default"] = DATABASES[_DEFAULT]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "openedx_content",
    *openedx_content_backcompat_apps_to_install(),
    "lc_archive.openedx",
]

OPENEDX_LEARNING = {
    "MEDIA": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT_PRIVATE},
    }
}
EVENT_BUS_PRODUCER_CONFIG: dict[str, object] = {}
LC_ARCHIVE_FORMAT = os.environ.get("LC_ARCHIVE_OPENEDX_FORMAT", "v2")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
}
