"""The openedx-core store: learning packages in a live openedx-core (Django) database.

``OpenedxStore(alias)`` works on the Django database ``alias`` of the settings in
``DJANGO_SETTINGS_MODULE`` (store URL ``openedx:`` or ``openedx:ALIAS``). Reading goes through
openedx-core's own models (:mod:`.source`); writing a package is :mod:`.sink`'s, importing into one
:mod:`.updater`'s, deleting and renaming one :mod:`.admin`'s.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from ...domain import PackageRecord
from ...errors import LcArchiveError, StoreError
from ..base import PackageSink, PackageSource
from ..updates import DeleteResult, ManagedStore, PackageInfo, PackageUpdater
from .django_setup import database_settings, ensure_django

__all__ = ["OpenedxStore"]


class OpenedxStore(ManagedStore):
    """The learning packages of one Django database of an openedx-core site."""

    def __init__(self, alias: str = "default") -> None:
        """Set Django up (once) and check that ``alias`` is one of its databases."""
        ensure_django()
        database_settings(alias)
        self.alias = alias
        self.url: str = f"openedx:{alias}"
        self.restored_by: str | None = None
        """Username of who restores (a restore's draft change log and catch-up publish name them)."""
        self.author_emails: dict[str, str] = {}
        """E-mail addresses for archive user names (users are matched by username, then e-mail)."""
        self.last_warnings: list[str] = []
        """What the last :meth:`write` could not keep exactly (unknown users, plugin payloads)."""

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
        """Create a package and fill it in one ``transaction.atomic`` (see :meth:`Store.write`);
        :attr:`restored_by` is recorded as the restorer, :attr:`last_warnings` says what was not kept."""
        return self._write(package)

    @contextmanager
    def _write(self, package: PackageRecord) -> Iterator[PackageSink]:
        from .sink import open_sink

        self.last_warnings = []
        with _database_errors(), open_sink(package, using=self.alias, user=self.restored_by,
                                           emails=self.author_emails) as sink:
            yield sink
        self.last_warnings = sink.warnings

    def delete_package(self, ref: str) -> DeleteResult:
        """Delete a package with everything in it (openedx-core's cascades) and its media files, in one
        transaction (see :mod:`.admin`)."""
        from .admin import delete_package

        with _database_errors():
            return delete_package(self.alias, ref)

    def rename_package(self, ref: str, new_ref: str) -> None:
        """Give a package another ``package_ref``; ``PackageExists`` if ``new_ref`` is taken."""
        from .admin import rename_package

        with _database_errors():
            rename_package(self.alias, ref, new_ref)

    def update(self, ref: str) -> AbstractContextManager[PackageUpdater]:
        """Open one package for an import in one ``transaction.atomic`` (see :mod:`.updater`);
        :attr:`restored_by` is recorded as the importer, :attr:`last_warnings` says what was not kept."""
        return self._update(ref)

    @contextmanager
    def _update(self, ref: str) -> Iterator[PackageUpdater]:
        from .updater import open_updater

        self.last_warnings = []
        with _database_errors(), open_updater(ref, using=self.alias, user=self.restored_by,
                                              emails=self.author_emails) as updater:
            yield updater
        self.last_warnings = updater.warnings

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
