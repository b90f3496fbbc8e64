"""Bulk inserts into openedx-core's tables on one Django database alias, without model instances.

:func:`insert_rows` inserts rows given as ``{field name: value}`` and returns their new ids: every
column the model has is written, a field left out gets its model default (a fresh UUID for
openedx-core's ``uuid`` fields), values are converted as ``save()`` converts them (datetimes, UUIDs),
and the ids come back from ``INSERT ... RETURNING`` where the database has it (SQLite, PostgreSQL,
MariaDB 10.5+; one INSERT per row elsewhere). Not ``bulk_create``: openedx-core makes ``pk`` a read-only
property, which ``bulk_create`` assigns to, and building ~100,000 model instances costs seconds.
:func:`insert_values` inserts rows of plain values (link tables, pointers, the subclass tables of
multi-table inheritance) with ``executemany``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import batched
from typing import Any

__all__ = ["insert_rows", "insert_values"]

_BATCH = 2000
_MAX_PARAMS = 30_000


def _converter(field: Any, connection: Any) -> Callable[[Any], Any] | None:
    """How a value of ``field`` goes to the database: None when it goes as it is."""
    from django.db import models

    if field.is_relation or isinstance(field, models.CharField | models.TextField | models.IntegerField
                                       | models.BooleanField):
        return None

    def convert(value: Any) -> Any:
        return field.get_db_prep_save(value, connection)

    return convert


def insert_rows(model: Any, rows: Sequence[dict[str, Any]], using: str) -> list[int]:
    """Insert ``rows`` (field name -> value) into ``model``'s own table; return the new auto ids in
    row order ([] for a table whose key is not an auto field)."""
    if not rows:
        return []
    from django.db import connections

    connection = connections[using]
    meta = model._meta
    auto = meta.auto_field
    fields = [f for f in meta.local_concrete_fields if f is not auto]
    quote = connection.ops.quote_name
    if fields:
        columns = ", ".join(quote(f.column) for f in fields)
        one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    else:  # a table of ids only (EntityList): let the database number the rows
        columns = quote(auto.column)
        one = "(DEFAULT)" if connection.vendor == "postgresql" else "(NULL)"
    head = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES "
    per_insert = max(1, _MAX_PARAMS // max(1, len(fields)))
    plan = [(f.name, f.attname, _converter(f, connection), f) for f in fields]
    values: list[list[Any]] = []
    for row in rows:
        out = []
        for name, attname, convert, f in plan:
            value = row[name] if name in row else row[attname] if attname in row else f.get_default()
            out.append(value if convert is None else convert(value))
        values.append(out)
    ids: list[int] = []
    with connection.cursor() as cursor:
        if auto is None:
            for part in batched(values, per_insert):
                cursor.execute(head + ", ".join([one] * len(part)), [v for row in part for v in row])
        elif connection.features.can_return_rows_from_bulk_insert:
            tail = f" RETURNING {quote(auto.column)}"
            for part in batched(values, per_insert):
                cursor.execute(head + ", ".join([one] * len(part)) + tail, [v for row in part for v in row])
                ids.extend(r[0] for r in cursor.fetchall())
        else:  # MySQL: one INSERT per row, for its id
            for row_values in values:
                cursor.execute(head + one, row_values)
                ids.append(cursor.lastrowid)
    return ids


def insert_values(model: Any, fields: Sequence[str], rows: Iterable[Sequence[Any]], using: str) -> int:
    """Insert rows of plain values into ``model``'s own table; ``fields`` are model field names.

    Returns the number of rows. Values must need no conversion (no datetimes, no UUIDs).
    """
    from django.db import connections

    connection = connections[using]
    quote = connection.ops.quote_name
    meta = model._meta
    columns = ", ".join(quote(meta.get_field(f).column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks})"
    count = 0
    with connection.cursor() as cursor:
        for part in batched(rows, _BATCH):
            cursor.executemany(sql, list(part))
            count += len(part)
    return count
