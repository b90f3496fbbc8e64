"""A brand-new PostgreSQL database per test, when ``LC_ARCHIVE_PG_URL`` names a server (skips otherwise)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

SKIP = "set LC_ARCHIVE_PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test to run"


@contextmanager
def fresh_database(prefix: str = "lc_test") -> Iterator[str]:
    """A URL to an empty database of its own, dropped afterwards; ``pytest.skip`` without a server URL."""
    base = os.environ.get("LC_ARCHIVE_PG_URL")
    if not base:
        pytest.skip(SKIP)
    with database_on(base, prefix) as url:
        yield url


@contextmanager
def database_on(base: str, prefix: str) -> Iterator[str]:
    """A URL to an empty database of its own on the server ``base`` names, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
