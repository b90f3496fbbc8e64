"""Bulk writes for the SQL store: many rows per round trip, without SQLAlchemy's per-row work.

* :func:`insert_rows` inserts rows given as dicts of column values: PostgreSQL streams them with
  ``COPY ... FROM STDIN`` (psycopg's binary-safe row writer), SQLite runs one plain ``executemany``
  of a prepared ``INSERT``. Column types are applied the way the schema's types would (timestamps
  become their canonical text, see :class:`~.schema.UtcTimestamp`), once per value, with no statement
  compilation per batch.
* :func:`insert_rows_ignoring_duplicates` is the same for content-addressed rows that another
  transaction may have stored already (blobs): PostgreSQL copies them into a temporary staging table
  and moves them with ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``; SQLite uses ``INSERT OR IGNORE``.
* :func:`reserve_ids` hands out the ``id`` values of new rows: from the table's sequence on
  PostgreSQL (safe with concurrent writers), ``max(id) + 1 ...`` on SQLite, whose write transaction
  holds the database's only write lock.

Package-internal: the SQL sink, the blob writer and the authoring API use these.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Connection, Table, func, select, text

from .schema import UtcTimestamp, format_timestamp

__all__: list[str] = []

_COPY_ROWS = 5000
"""Rows per ``COPY`` (each is one round trip; the rows of one call are sent as they are converted)."""


def _converter(column: Column[Any]) -> Callable[[Any], Any] | None:
    if isinstance(column.type, UtcTimestamp):
        return lambda v: None if v is None else format_timestamp(v)
    return None


def _prepared(table: Table, columns: Sequence[str]) -> list[Callable[[Any], Any] | None]:
    return [_converter(table.c[name]) for name in columns]


def _tuples(rows: Sequence[Mapping[str, Any]], columns: Sequence[str],
            converters: list[Callable[[Any], Any] | None]) -> list[tuple[Any, ...]]:
    if not any(converters):
        return [tuple(row[c] for c in columns) for row in rows]
    pairs = list(zip(columns, converters, strict=True))
    return [tuple(conv(row[c]) if conv is not None else row[c] for c, conv in pairs) for row in rows]


def _quoted(conn: Connection, names: Sequence[str]) -> str:
    quote = conn.dialect.identifier_preparer.quote
    return ", ".join(quote(n) for n in names)


def _copy(conn: Connection, table_name: str, columns: Sequence[str], values: list[tuple[Any, ...]]) -> None:
    """``COPY table (columns) FROM STDIN`` over the connection's psycopg driver connection."""
    raw = conn.connection.driver_connection
    assert raw is not None
    statement = f"COPY {conn.dialect.identifier_preparer.quote(table_name)} ({_quoted(conn, columns)}) FROM STDIN"
    with raw.cursor() as cursor:
        for start in range(0, len(values), _COPY_ROWS):
            with cursor.copy(statement) as copy:
                for row in values[start:start + _COPY_ROWS]:
                    copy.write_row(row)


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` inside the caller's transaction."""
    if not rows:
        return
    columns = list(rows[0])
    values = _tuples(rows, columns, _prepared(table, columns))
    if conn.dialect.name == "postgresql":
        _copy(conn, table.name, columns, values)
        return
    marks = ", ".join("?" for _ in columns)
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({_quoted(conn, columns)}) VALUES ({marks})", values)


def insert_rows_ignoring_duplicates(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` into ``table``, skipping those whose primary key is there already."""
    if not rows:
        return
    columns = list(rows[0])
    values = _tuples(rows, columns, _prepared(table, columns))
    names = _quoted(conn, columns)
    if conn.dialect.name == "postgresql":
        stage = f"lc_stage_{table.name}"
        conn.execute(text(f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} "
                          f"(LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DROP"))
        _copy(conn, stage, columns, values)
        conn.execute(text(f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {stage} ON CONFLICT DO NOTHING"))
        conn.execute(text(f"TRUNCATE {stage}"))
        return
    marks = ", ".join("?" for _ in columns)
    conn.exec_driver_sql(f"INSERT OR IGNORE INTO {table.name} ({names}) VALUES ({marks})", values)


def reserve_ids(conn: Connection, table: Table, count: int) -> list[int]:
    """``count`` fresh ``id`` values for new rows of ``table`` (which has an integer ``id`` key)."""
    if count <= 0:
        return []
    if conn.dialect.name == "postgresql":
        query = text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)")
        return [int(i) for i in conn.execute(query, {"table": table.name, "n": count}).scalars()]
    start = int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1
    return list(range(start, start + count))
