"""The embedded SQL store: SQLite by default, PostgreSQL by URL, over SQLAlchemy Core.

Usage::

    store = open_store("sqlite:///lib.db")        # or a bare path, or "postgresql+psycopg://..."
    with store.write(package_record) as sink:     # one transaction: all or nothing, blobs included
        sha, size = sink.put_blob([b"..."])
        sink.add_entities(records)
    with store.read("lib:Org:LIB1") as source:
        for entity in source.iter_entities(history="all"):
            ...

SQLite transactions are driven explicitly: the ``sqlite3`` driver's implicit transaction handling is
switched off (``isolation_level = None``) and every transaction starts with our own ``BEGIN`` (deferred
for reads, ``BEGIN IMMEDIATE`` for writes), as SQLAlchemy's SQLite documentation describes. Connections
use ``foreign_keys=ON``, the rollback journal (``journal_mode=DELETE``) and ``synchronous=FULL``, so an
interrupted or failed write leaves the database file exactly as it was.

This module holds the store itself (URL parsing, SQLite set-up, transactions); reading a package is
:mod:`.sql_source`, writing one :mod:`.sql_sink`, and blobs :mod:`.blobs`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import Connection, Engine, create_engine, event, insert, select, update
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from ..domain import PackageRecord
from ..errors import StoreError, StoreMissing
from ..faults import fault_point
from ..text import escape
from .base import PackageSink, PackageSource
from .blobs import BlobWriter
from .schema import SCHEMA_VERSION, meta, metadata, package
from .sql_sink import SqlSink, create_package, insert_with_ids
from .sql_source import SqlSource
from .updates import DeleteResult, ManagedStore, PackageInfo, PackageUpdater

if TYPE_CHECKING:
    from .authoring import Author

_UPGRADABLE = frozenset({1})
"""Older store schema versions that opening a store upgrades in place."""


# BlobWriter, create_package and insert_with_ids live in .blobs and .sql_sink; they are re-exported here
# so that imports from this module keep working.
__all__ = ["BlobWriter", "SqlStore", "create_package", "insert_with_ids", "open_store"]

_WRITE = "lc_archive_write"
_CACHE_KIB = 16 * 1024
_STATEMENTS = 16
"""Prepared statements the sqlite3 driver keeps per connection (its default is 128). Each batch of an
``IN (...)`` list of another length is another statement, some 0.5 MiB at 5,000 values: with 128 of
them, SQLite held 72 MiB in a 100,000-component restore; the store's fixed statements are fewer than 16."""
"""SQLite's page cache per connection. 64 MiB was no faster for restores and backups of 20,000
components (CPU time within 3 %, at 8 and 16 MiB alike) and cost 48 MiB more peak memory; SQLite's
own default, 2 MiB, makes every random-key insert (blob hashes) a page read once the indexes outgrow it.
A write transaction that outgrows the cache spills pages to the database file and holds SQLite's
exclusive lock from then on, so readers of the same file wait for the commit (as they did past 64 MiB)."""
_DIALECTS = ("sqlite", "postgresql")
SQLITE_BUSY_TIMEOUT_S = 30.0
"""How long a SQLite connection waits for another process's lock before giving up with a clear message
(``LC_ARCHIVE_SQLITE_BUSY_TIMEOUT`` seconds overrides it)."""


def _busy_timeout() -> float:
    try:
        return float(os.environ.get("LC_ARCHIVE_SQLITE_BUSY_TIMEOUT", SQLITE_BUSY_TIMEOUT_S))
    except ValueError:
        return SQLITE_BUSY_TIMEOUT_S


def open_store(url: str | os.PathLike[str], *, create: bool = True, upgrade: bool = True) -> SqlStore:
    """Open (and on first use initialise) the store at a SQLAlchemy URL or a SQLite file path.

    With ``create=False`` a store that does not exist yet raises :class:`StoreMissing` instead; with
    ``upgrade=False`` an older schema is read as it is, never migrated (a store opened only to look).
    Every failure to open (no such file or database, not a database, locked, driver missing) is a
    one-line :class:`StoreError`.
    """
    return SqlStore(url, create=create, upgrade=upgrade)


def _parse_url(url: str | os.PathLike[str]) -> URL:
    if not isinstance(url, str):
        return URL.create("sqlite", database=os.fspath(url))
    if "://" not in url:
        return URL.create("sqlite", database=url)
    try:
        return make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"not a database URL: {escape(url)!r} (use sqlite:///path.db or postgresql+psycopg://...)") \
            from exc


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.isolation_level = None  # no implicit BEGIN/COMMIT from the driver
        cursor = dbapi_connection.cursor()
        for pragma in ("foreign_keys=ON", "journal_mode=DELETE", "synchronous=FULL", f"cache_size=-{_CACHE_KIB}"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _schema_version(found: str | None) -> int | None:
    try:
        return None if found is None else int(found)
    except ValueError:
        return -1  # not a number: unsupported, said with the value itself


def _one_line(exc: BaseException) -> str:
    """A database error as one escaped line, with what to do for the usual ones."""
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    text = escape(detail[0] if detail else type(exc).__name__)
    if "database is locked" in text:
        return (f"{text}: another process held the store for more than {_busy_timeout():g} s; "
                "try again when it has finished")
    if "file is not a database" in text:
        return f"{text}: this file is not a SQLite store"
    if "unable to open database file" in text:
        return f"{text}: check that the directory exists and is writable"
    return text


class SqlStore(ManagedStore):
    """A store in one SQL database (see the module docstring)."""

    def __init__(self, url: str | os.PathLike[str], *, create: bool = True, upgrade: bool = True) -> None:
        parsed = _parse_url(url)
        if parsed.get_backend_name() not in _DIALECTS:
            raise StoreError(f"unsupported database {parsed.get_backend_name()!r} (use SQLite or PostgreSQL)")
        self.url: str = parsed.render_as_string(hide_password=True)
        database = parsed.database or ""
        is_file = parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:")
        if is_file and not create and not Path(database).exists():
            raise StoreMissing(f"no store at {escape(database)}")
        if is_file and Path(database).exists() and not Path(database).is_file():
            raise StoreError(f"{escape(database)} is not a store file (a directory or a device)")
        self._upgrade = upgrade
        self._file = Path(database) if is_file else None
        try:
            self.engine: Engine = create_engine(
                parsed, connect_args={"timeout": _busy_timeout(), "cached_statements": _STATEMENTS} if is_file else {})
        except ImportError as exc:
            raise StoreError(f"cannot open {escape(self.url)}: its database driver is not installed ({exc}); "
                             "for PostgreSQL: pip install 'psycopg[binary]'") from exc
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open {escape(self.url)}: {_one_line(exc)}") from exc
        if self.dialect == "sqlite":
            _configure_sqlite(self.engine)
        try:
            self._initialise(create)
        except BaseException:
            self.engine.dispose()
            raise

    @property
    def local_files(self) -> tuple[Path, ...]:
        """The SQLite file (and its journal), or nothing for PostgreSQL and in-memory stores."""
        if self._file is None:
            return ()
        return (self._file, self._file.with_name(self._file.name + "-journal"))

    @property
    def dialect(self) -> str:
        """The database dialect name: ``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def _initialise(self, create: bool) -> None:
        """Check the schema, creating or upgrading it when asked to and needed.

        The check is a read transaction, so opening a store that is ready takes no write lock: on SQLite
        even an empty ``BEGIN IMMEDIATE`` commits only once every reader of the file has finished (and
        shuts out new readers meanwhile), so processes that each open the store per package (a site
        backup's workers) would take turns. Only a store that needs creating or upgrading gets a write
        transaction, which checks again (another process may have done it in between).
        """
        with self.transaction(write=False) as conn:
            needs_write = self._check_schema(conn, create, writable=False)
        if needs_write:
            with self.transaction(write=True) as conn:
                self._check_schema(conn, create, writable=True)

    def _check_schema(self, conn: Connection, create: bool, *, writable: bool) -> bool:
        """Check (and, if ``writable``, create or upgrade) the schema; return whether a write is needed."""
        has_meta = conn.dialect.has_table(conn, meta.name)
        if not has_meta and not create:
            if conn.dialect.get_table_names(conn):
                raise StoreError(f"{escape(self.url)} is a database but not an lc-archive store")
            raise StoreMissing(f"{escape(self.url)} is not an lc-archive store (it holds no tables)")
        key = meta.c.key == "schema_version"
        found = conn.execute(select(meta.c.value).where(key)).scalar_one_or_none() if has_meta else None
        version = _schema_version(found)
        if found is not None and version != SCHEMA_VERSION and version not in _UPGRADABLE:
            raise StoreError(f"{escape(self.url)}: store schema version {escape(found)} is not supported "
                             f"(expected {SCHEMA_VERSION})")
        if found is None and (create or self._upgrade):
            if writable:
                if not has_meta:
                    metadata.create_all(conn)
                conn.execute(insert(meta).values(key="schema_version", value=str(SCHEMA_VERSION)))
            return not writable
        if version in _UPGRADABLE and self._upgrade:  # 1 -> 2 only added lc_payload: create what is missing
            if writable:
                metadata.create_all(conn, checkfirst=True)
                conn.execute(update(meta).where(key).values(value=str(SCHEMA_VERSION)))
            return not writable
        return False

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Connection]:
        """One transaction: commits on normal exit (when ``write``), rolls back on any exception.

        Reads get a consistent snapshot (a deferred SQLite transaction, REPEATABLE READ on
        PostgreSQL); writes take SQLite's write lock up front (``BEGIN IMMEDIATE``). Database errors
        are re-raised as :class:`StoreError`.
        """
        try:
            connection = self.engine.connect()
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open {escape(self.url)}: {_one_line(exc)}") from exc
        with connection as conn:
            try:
                if write:
                    conn.execution_options(**{_WRITE: True})
                elif self.dialect == "postgresql":
                    conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
                trans = conn.begin()
            except SQLAlchemyError as exc:
                raise StoreError(f"cannot use {escape(self.url)}: {_one_line(exc)}") from exc
            try:
                yield conn
            except BaseException as exc:
                trans.rollback()
                if isinstance(exc, SQLAlchemyError):
                    raise StoreError(f"database error on {escape(self.url)}: {_one_line(exc)}") from exc
                raise
            if write:
                try:
                    trans.commit()
                except SQLAlchemyError as exc:
                    raise StoreError(f"commit to {escape(self.url)} failed: {_one_line(exc)}") from exc
            else:
                trans.rollback()

    def package_refs(self) -> list[str]:
        """Refs of every package in the store, in code-point order."""
        with self.transaction(write=False) as conn:
            return list(conn.execute(select(package.c.ref).order_by(package.c.ref)).scalars())

    @contextmanager
    def read(self, ref: str) -> Iterator[PackageSource]:
        """Open one package for reading (a consistent snapshot); raises PackageNotFound."""
        with self.transaction(write=False) as conn:
            yield SqlSource(conn, ref)

    @contextmanager
    def write(self, package: PackageRecord) -> Iterator[PackageSink]:
        """Create a package and fill it in one transaction (see :meth:`Store.write`)."""
        with self.transaction(write=True) as conn:
            sink = SqlSink(conn, create_package(conn, package))
            yield sink
            sink.finish()
            fault_point("store.before_commit")

    def package_infos(self) -> list[PackageInfo]:
        """Every package with its counts, last change and size (see :class:`ManagedStore`)."""
        from .sql_admin import package_infos

        with self.transaction(write=False) as conn:
            return package_infos(conn)

    def delete_package(self, ref: str) -> DeleteResult:
        """Delete a package and the blobs only it used, in one transaction (see :class:`ManagedStore`)."""
        from .sql_admin import delete_package

        with self.transaction(write=True) as conn:
            result = delete_package(conn, ref)
            fault_point("store.before_commit")
        return result

    def rename_package(self, ref: str, new_ref: str) -> None:
        """Give a package another ref (see :class:`ManagedStore`)."""
        from .sql_admin import rename_package

        with self.transaction(write=True) as conn:
            rename_package(conn, ref, new_ref)

    @contextmanager
    def update(self, ref: str) -> Iterator[PackageUpdater]:
        """Open one package for an import, in one write transaction (see :class:`ManagedStore`)."""
        from .sql_updater import SqlUpdater

        with self.transaction(write=True) as conn:
            updater = SqlUpdater(conn, ref)
            yield updater
            updater.finish()
            fault_point("store.before_commit")

    def author(
        self,
        ref: str,
        *,
        user: str | None = None,
        create: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> AbstractContextManager[Author]:
        """Edit one package with the authoring API, in one transaction (see ``authoring.Author``).

        ``create=dict(title=..., description=...)`` creates the package (PackageExists if it
        exists); without it the package must exist (PackageNotFound).
        """
        from .authoring import open_author  # imported on use: restores and backups never need it

        return open_author(self, ref, user=user, create=create, clock=clock)

    def close(self) -> None:
        """Dispose of the engine and its pooled connections."""
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __repr__(self) -> str:
        return f"SqlStore({self.url!r})"
