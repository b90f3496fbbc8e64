"""Bulk inserts into openedx-core's tables on one Django database alias.

:func:`create_with_ids` inserts model objects and returns their new ids (``INSERT ... RETURNING``
where the database has it; one INSERT per row elsewhere).
:func:`insert_values` inserts plain rows of ints, strings, booleans and NULLs (link tables, pointers,
the subclass tables of multi-table inheritance that ``bulk_create`` refuses) with ``executemany``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import batched
from typing import Any

__all__ = ["create_with_ids", "insert_values"]

_BATCH = 2000
_MAX_PARAMS = 30_000


def create_with_ids(model: Any, objs: list[Any], using: str) -> list[int]:
    """Insert ``objs`` (unsaved instances of ``model``) and return their primary keys, in order.

    Not ``bulk_create``: openedx-core makes ``pk`` a read-only property on its models, which
    ``bulk_create`` assigns to. Values are prepared by each field as ``save()`` prepares them
    (defaults, ``auto_now``, database conversion); the ids come back from ``INSERT ... RETURNING``
    where the database has it (SQLite, PostgreSQL, MariaDB 10.5+), one INSERT per row elsewhere.
    """
    if not objs:
        return []
    from django.db import connections

    connection = connections[using]
    meta = model._meta
    auto = meta.auto_field
    fields = [f for f in meta.concrete_fields if f is not auto]
    quote = connection.ops.quote_name
    if fields:
        columns = ", ".join(quote(f.column) for f in fields)
        one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    else:  # a table of ids only (EntityList): let the database number the rows
        columns = quote(auto.column)
        one = "(DEFAULT)" if connection.vendor == "postgresql" else "(NULL)"
    head = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES "
    per_insert = max(1, _MAX_PARAMS // max(1, len(fields)))
    tail = f" RETURNING {quote(auto.column)}" if auto is not None else ""
    rows = [[f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields] for obj in objs]
    if auto is None:
        with connection.cursor() as cursor:
            for part in batched(rows, per_insert):
                cursor.execute(head + ", ".join([one] * len(part)), [v for row in part for v in row])
        return [getattr(obj, meta.pk.attname) for obj in objs]
    ids: list[int] = []
    with connection.cursor() as cursor:
        if connection.features.can_return_rows_from_bulk_insert:
            for part in batched(rows, per_insert):
                cursor.execute(head + ", ".join([one] * len(part)) + tail, [v for row in part for v in row])
                ids.extend(r[0] for r in cursor.fetchall())
        else:  # MySQL: one INSERT per row, for its id
            for row in rows:
                cursor.execute(head + one, row)
                ids.append(cursor.lastrowid)
    for obj, i in zip(objs, ids, strict=True):
        setattr(obj, auto.attname, i)
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
