"""Configure Django, once, from ``DJANGO_SETTINGS_MODULE`` (or settings a host process configured).

Everything of the openedx adapter that touches Django calls :func:`ensure_django` first. A missing
extra, a missing or broken settings module, or settings without openedx-core's app each become one
clear :class:`~lc_archive.errors.LcArchiveError` line, never a traceback.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

from ...errors import LcArchiveError

__all__ = ["database_settings", "ensure_django", "use_pymysql_if_needed"]

_CONTENT_APP = "openedx_content"
_state = {"ready": False}


def use_pymysql_if_needed() -> None:
    """Let PyMySQL stand in for ``mysqlclient`` (Django's MySQL driver) when only PyMySQL is installed.

    Sites that already run ``mysqlclient`` keep it; see docs/decisions/0007-openedx-mysql-driver.md.
    """
    if importlib.util.find_spec("MySQLdb") is not None or importlib.util.find_spec("pymysql") is None:
        return
    import pymysql

    pymysql.install_as_MySQLdb()


def ensure_django() -> None:
    """Make Django usable in this process: set up from ``DJANGO_SETTINGS_MODULE`` unless already set up.

    Raises :class:`LcArchiveError` with a one-line reason when that cannot be done.
    """
    if _state["ready"]:
        return
    try:
        import django
        from django.apps import apps
        from django.conf import settings
    except ImportError as exc:
        raise LcArchiveError("the openedx: store needs Django and openedx-core: pip install 'lc-archive[openedx]'")\
            from exc
    if not apps.ready:
        if not settings.configured and not os.environ.get("DJANGO_SETTINGS_MODULE"):
            raise LcArchiveError(
                "the openedx: store needs Django settings: set DJANGO_SETTINGS_MODULE to the site's settings module"
            )
        use_pymysql_if_needed()
        try:
            django.setup()
        except Exception as exc:  # any error of a site's settings module: report it in one line
            name = os.environ.get("DJANGO_SETTINGS_MODULE", "(configured settings)")
            raise LcArchiveError(f"Django settings {name!r} could not be loaded: {_one_line(exc)}") from exc
    if not apps.is_installed(_CONTENT_APP):
        raise LcArchiveError(f"Django settings do not install openedx-core's app {_CONTENT_APP!r} (INSTALLED_APPS)")
    _state["ready"] = True


def database_settings(alias: str) -> dict[str, Any]:
    """The ``DATABASES`` entry of ``alias``; :class:`LcArchiveError` naming the aliases there are."""
    from django.conf import settings

    databases: dict[str, dict[str, Any]] = settings.DATABASES
    if alias not in databases:
        known = ", ".join(sorted(databases)) or "none"
        raise LcArchiveError(f"no Django database {alias!r} in settings.DATABASES (there are: {known})")
    return databases[alias]


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if type(exc).__name__ not in text else text
