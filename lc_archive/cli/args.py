"""Arguments several commands share: ``--json``/``-q``/``-v``, the store (``LC_ARCHIVE_STORE``), and
argument types whose errors are usage errors (exit 2)."""

from __future__ import annotations

import argparse
import os
from datetime import datetime

from ..errors import InvalidArgument

__all__ = ["STORE_ENV", "add_common", "add_store_argument", "created_at_type", "non_negative", "store_url"]

STORE_ENV = "LC_ARCHIVE_STORE"
"""The environment variable naming the default store URL (like restic's ``RESTIC_REPOSITORY``)."""


def add_common(parser: argparse.ArgumentParser) -> None:
    """``--json``, ``-q/--quiet`` and ``-v/--show-warnings``: every command takes them."""
    parser.add_argument("--json", action="store_true",
                        help="one JSON envelope on stdout (docs/formats/cli-envelope.schema.json), also on errors")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="print only errors and the result line (no progress, tables, notes or warnings)")
    parser.add_argument("-v", "--show-warnings", "--verbose", dest="verbose", action="store_true",
                        help="list every warning (by default they are grouped by kind with a few examples)")


def add_store_argument(parser: argparse.ArgumentParser, *, last: bool = False) -> None:
    """The ``STORE`` positional, optional when ``LC_ARCHIVE_STORE`` is set (read with :func:`store_url`)."""
    parser.add_argument("store", metavar="STORE", nargs="?", default=None,
                        help=f"store URL (sqlite:///lib.db, postgresql+psycopg://..., openedx: for an openedx-core "
                             f"site) or a SQLite path; default ${STORE_ENV}" + ("" if last else " (then leave it out)"))


def store_url(args: argparse.Namespace) -> str:
    """The store the command line names, else ``$LC_ARCHIVE_STORE``; bad usage if neither."""
    url: str | None = args.store or os.environ.get(STORE_ENV)
    if not url:
        raise InvalidArgument(f"no store given: name one (sqlite:///lib.db) or set {STORE_ENV}")
    return url


def created_at_type(text: str) -> datetime:
    """An ISO 8601 time (naive means UTC); anything else is bad usage."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r} (e.g. 2024-05-01T12:00:00Z)") from None


def non_negative(text: str) -> int:
    """A whole number >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value
