"""The public facade: ``from lc_archive import restore`` gives the function, and importing it is cheap."""

from __future__ import annotations

import subprocess
import sys

import lc_archive


def test_public_names_resolve() -> None:
    for name in lc_archive.__all__:
        assert getattr(lc_archive, name) is not None, name
    assert callable(lc_archive.restore) and lc_archive.restore.__module__ == "lc_archive.usecases.restore"
    assert callable(lc_archive.backup) and callable(lc_archive.validate) and callable(lc_archive.open_store)
    assert lc_archive.Limits() == lc_archive.DEFAULT_LIMITS


def test_import_is_lazy() -> None:
    """``import lc_archive`` (and the CLI's --help) load neither SQLAlchemy nor pydantic nor lxml nor Django."""
    code = ("import sys, lc_archive; heavy = {'sqlalchemy', 'pydantic', 'lxml', 'rich', 'django'} & set(sys.modules); "
            "print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    code = ("import sys\nfrom lc_archive.cli.app import build_parser\nbuild_parser()\n"
            "print(sorted({'sqlalchemy', 'pydantic', 'lxml', 'rich', 'django'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_sql_store_never_imports_django(tmp_path) -> None:
    """The embedded store, opened through the URL dispatch, leaves Django (the openedx extra) unloaded."""
    code = (f"import sys, lc_archive\nwith lc_archive.open_store({str(tmp_path / 's.db')!r}) as s: s.package_refs()\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'openedx_content')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
