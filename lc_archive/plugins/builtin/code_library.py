"""Code libraries: custom Python grading libraries (``python_lib.zip``) as components.

A code library is a component of ComponentType namespace ``lc-archive.v1``, type ``code_library``
(ref ``lc-archive.v1:code_library:<code>``), versioned, published and collected like any component
(``docs/decisions/0003-code-libraries.md``). Each version has exactly one media file,
``python_lib.zip``, kept whole (never exploded into files).

:class:`CodeLibraryComponent` (id ``lc-archive.v1:code_library``) checks each version:

* its only media file is ``python_lib.zip`` (a ``block.xml`` or any other file is an error naming
  them; no ``python_lib.zip`` is an error);
* ``python_lib.zip`` passes :func:`~lc_archive.archive.nested_zip.inspect_nested_zip` with the
  archive's limits: the same pre-flight as the archive itself, every member streamed and CRC-checked,
  every ``.py`` file UTF-8 and compiling as Python 3, no archive inside it opened.

Problems name the archive member of the zip and, for one file inside it, the path
``$.files["lib/x.py"]``; the facts list the zip's files (:attr:`ComponentFacts.files`).

A problem depends on a code library when its scripts import (:attr:`ComponentFacts.imports`, filled
by the problem serializer) a top-level module that the library provides (:func:`provided_modules`);
codejail puts ``python_lib.zip`` on ``sys.path``, so the zip's top level is the import root.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import ClassVar, Final

from ...archive.nested_zip import inspect_nested_zip
from ...errors import LcArchiveError
from ..contract import ComponentFacts, ComponentSerializer, ComponentVersionView, Issue, VersionCheck

__all__ = [
    "CODE_LIBRARY_MEDIA",
    "CODE_LIBRARY_NAMESPACE",
    "CODE_LIBRARY_TYPE",
    "CodeLibraryComponent",
    "file_path",
    "provided_modules",
]

CODE_LIBRARY_NAMESPACE: Final = "lc-archive.v1"
CODE_LIBRARY_TYPE: Final = "code_library"
CODE_LIBRARY_MEDIA: Final = "python_lib.zip"
CODE_LIBRARY_MEDIA_TYPE: Final = "application/zip"


def provided_modules(files: Iterable[str]) -> frozenset[str]:
    """The top-level modules and packages a zip with these files provides on ``sys.path``.

    ``x.py`` provides ``x``; ``x/__init__.py`` and any ``x/....py`` (regular or namespace package)
    provide ``x``. Files under ``__MACOSX/``, paths with a component starting with ``.``, and names
    that are not Python identifiers (which no ``import`` can name) provide nothing.
    """
    out: set[str] = set()
    for name in files:
        if not name.endswith(".py") or name.startswith("__MACOSX/"):
            continue
        parts = name.split("/")
        if any(not part or part.startswith(".") for part in parts):
            continue
        top = parts[0][:-3] if len(parts) == 1 else parts[0]
        if top.isidentifier():
            out.add(top)
    return frozenset(out)


def file_path(name: str) -> str:
    """The issue path of one file inside the zip: ``$.files["lib/x.py"]``."""
    return f"$.files[{json.dumps(name, ensure_ascii=False)}]"


class CodeLibraryComponent(ComponentSerializer):
    """``lc-archive.v1:code_library``: a version is one ``python_lib.zip`` that must be safe and parse."""

    id: ClassVar[str] = f"{CODE_LIBRARY_NAMESPACE}:{CODE_LIBRARY_TYPE}"
    description: ClassVar[str] = "code libraries (python_lib.zip): safe zip, Python 3 sources that parse"
    code_library_media: ClassVar[str | None] = CODE_LIBRARY_MEDIA

    def provided_modules(self, files: Iterable[str]) -> frozenset[str]:
        """See the module function :func:`provided_modules`."""
        return provided_modules(files)

    def facts(self, olx: bytes) -> ComponentFacts:
        """A code library has no OLX: no facts from it."""
        return ComponentFacts()

    def check_version(self, version: ComponentVersionView) -> VersionCheck:
        others = sorted(path for path in version.media if path != CODE_LIBRARY_MEDIA)
        issues: list[Issue] = []
        if others:
            listed = ", ".join(repr(p) for p in others)
            issues.append(Issue("$", f"version {version.number}: a code library holds only {CODE_LIBRARY_MEDIA}; "
                                     f"it also has {listed}", member=version.member))
        zip_member = version.media.get(CODE_LIBRARY_MEDIA)
        if zip_member is None:
            issues.append(Issue("$", f"version {version.number}: a code library needs a {CODE_LIBRARY_MEDIA} "
                                     "media file", member=version.member))
            return VersionCheck(ComponentFacts(), tuple(issues))
        try:
            with version.open_media(CODE_LIBRARY_MEDIA) as stream:
                found = inspect_nested_zip(stream, member=CODE_LIBRARY_MEDIA, limits=version.limits)
        except (LcArchiveError, OSError) as exc:
            issues.append(Issue("$", f"{CODE_LIBRARY_MEDIA}: cannot be read: {exc}", member=zip_member))
            return VersionCheck(ComponentFacts(), tuple(issues))
        issues.extend(Issue("$" if p.file is None else file_path(p.file), p.message, member=zip_member)
                      for p in found.problems)
        return VersionCheck(ComponentFacts(display_name=None, files=found.files), tuple(issues))
