"""The openedx-core store: learning packages in a live openedx-core (Django) database.

``OpenedxStore(alias)`` works on the Django database ``alias`` of the settings in
``DJANGO_SETTINGS_MODULE`` (store URL ``openedx:`` or ``openedx:ALIAS``). Reading goes through
openedx-core's own models (:mod:`.source`); writing a package is :mod:`.sink`'s.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from ...domain import PackageRecord
from ...errors import LcArchiveError, StoreError
from ..base import PackageSink, PackageSource
from ..updates import ListedStore, PackageInfo
from .django_setup import database_settings, ensure_django

__all__ = ["OpenedxStore"]


class OpenedxStore(ListedStore):
    """The learning packages of one Django database of an openedx-core site."""

    def __init__(self, alias: str = "default") -> None:
        """Set Django up (once) and check that ``alias`` is one of its databases."""
        ensure_django()
        database_settings(alias)
        self.alias = alias
        self.url: str = f"openedx:{alias}"

    def package_refs(self) -> list[str]:
        """Every package_ref of the database, in code-point order."""
        from openedx_content.models_api import LearningPackage

        with _database_errors():
            refs = list(LearningPackage.objects.using(self.alias).values_list("package_ref", flat=True))
        return sorted(refs)

    def package_infos(self) -> list[PackageInfo]:
        """Every package with its counts, last change and size (``lc-archive packages``), sorted by ref."""
        from .listing import package_infos

        with _database_errors():
            return package_infos(self.alias)

    @contextmanager
    def read(self, ref: str) -> Iterator[PackageSource]:
        """Open one package for reading inside one read transaction (a consistent snapshot where the
        database gives one: REPEATABLE READ on MySQL and PostgreSQL); raises PackageNotFound."""
        from django.db import transaction

        from .source import OpenedxSource, begin_snapshot

        with _database_errors(), transaction.atomic(using=self.alias):
            begin_snapshot(self.alias)
            try:
                yield OpenedxSource(self.alias, ref)
            finally:
                transaction.set_rollback(True, using=self.alias)  # a read never commits anything

    def write(self, package: PackageRecord) -> AbstractContextManager[PackageSink]:
        """Create a package and fill it in one ``transaction.atomic`` (see :meth:`Store.write`)."""
        if importlib.util.find_spec(f"{__package__}.sink") is None:
            raise StoreError("restore into openedx-core is not available yet")
        from .sink import open_sink  # type: ignore[import-not-found,unused-ignore]

        return open_sink(package, using=self.alias)  # type: ignore[no-any-return,unused-ignore]

    def close(self) -> None:
        """Close this thread's connection to the database (Django opens a new one when needed)."""
        from django.db import connections

        connections[self.alias].close()

    def __repr__(self) -> str:
        return f"OpenedxStore({self.alias!r})"


@contextmanager
def _database_errors() -> Iterator[None]:
    """Database errors as :class:`StoreError`; lc-archive's own errors pass unchanged."""
    from django.db import DatabaseError

    try:
        yield
    except LcArchiveError:
        raise
    except DatabaseError as exc:
        raise StoreError(f"openedx-core database error: {' '.join(str(exc).split())}") from exc
