"""Selective backup: a view of one package restricted to some collections and entities, closed over
what they need.

``lc-archive backup ... --collection CODE --entity REF`` (``backup(..., collections=, entities=)``)
writes only part of a package. The part is the *closure* of what was named:

1. the members of the named collections, and the named entities;
2. the children of every version of every included container, recursively (every version the store
   has, not only draft and published, so pinned and older children come along whatever history the
   writer asks for);
3. the code libraries (``lc-archive.v1:code_library``) that the included components depend on: a
   component depends on a library when the Python of one of its versions imports a top-level module
   (:attr:`ComponentFacts.imports`, from the component's serializer) that a version of the library's
   ``python_lib.zip`` provides. Both answers come from the serializer registry: a component type is a
   code library when its serializer names a ``code_library_media``, and its
   :meth:`~lc_archive.plugins.contract.ComponentSerializer.provided_modules` says what a zip provides.
   A component whose scripts import nothing that a library provides depends on none.

The view (:class:`SelectedSource`, a :class:`PackageSource`) then yields:

* the package record unchanged;
* the entities of the closure, whole (every version the writer asks for), in the source's order;
* the **named collections only**, members unchanged (they are all in the closure). A selection made
  of ``--entity`` alone has no collection, even if some collection's members all happen to be
  included: a collection is something one asks for, not something inferred;
* the publish log, each event keeping only the entries of included entities; events left with no
  entry are dropped;
* package-scope payloads, and the payloads of included entities and their versions.

Memory: the selection keeps an index of refs (every ref of the package, the child refs of containers,
the blob hashes of code libraries), never entity records. It costs one pass over the entities, and a
second pass (reading each distinct ``block.xml`` of the included components once) only when the
package has a code library.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import BinaryIO

from ..archive.limits import DEFAULT_LIMITS, Limits
from ..archive.nested_zip import inspect_nested_zip
from ..domain import (
    CONTAINER,
    OLX_PATH,
    CollectionRecord,
    EntityRecord,
    PayloadRecord,
    PublishLogRecord,
)
from ..errors import LcArchiveError
from ..plugins.contract import ComponentSerializer
from ..plugins.registry import Registry, default_registry
from ..stores.base import History, PackageSource

__all__ = ["SelectedSource", "SelectionError", "select_source"]

_CHUNK = 1024 * 1024


class SelectionError(LcArchiveError):
    """A selection names a collection or an entity the package does not have."""


class SelectedSource(PackageSource):
    """A :class:`PackageSource` that shows only a closed selection of another one (see the module)."""

    def __init__(self, source: PackageSource, refs: frozenset[str], collections: frozenset[str],
                 libraries: tuple[str, ...] = ()) -> None:
        self.source = source
        self.package = source.package
        self.refs = refs
        """Every entity ref of the selection (the closure)."""
        self.collections = collections
        """Codes of the collections the selection yields."""
        self.libraries = libraries
        """Code libraries added because included components depend on them (and not otherwise selected)."""

    def entity_count(self) -> int:
        return len(self.refs)

    def iter_entities(self, *, history: History = "current", batch_size: int = 500) -> Iterator[EntityRecord]:
        refs = self.refs
        for record in self.source.iter_entities(history=history, batch_size=batch_size):
            if record.ref in refs:
                yield record

    def iter_collections(self, *, include_disabled: bool = True) -> Iterator[CollectionRecord]:
        refs = self.refs
        for record in self.source.iter_collections(include_disabled=include_disabled):
            if record.code in self.collections:
                members = tuple(m for m in record.members if m in refs)
                yield record if members == record.members else dataclasses.replace(record, members=members)

    def iter_publish_log(self) -> Iterator[PublishLogRecord]:
        refs = self.refs
        for record in self.source.iter_publish_log():
            entries = tuple(e for e in record.entries if e.ref in refs)
            if entries:
                yield record if entries == record.entries else dataclasses.replace(record, entries=entries)

    def iter_payloads(self) -> Iterator[PayloadRecord]:
        refs = self.refs
        for record in self.source.iter_payloads():
            if record.entity is None or record.entity in refs:
                yield record

    def open_blob(self, sha256: str) -> AbstractContextManager[BinaryIO]:
        return self.source.open_blob(sha256)

    def blob_in_memory(self, sha256: str) -> bytes | None:
        return self.source.blob_in_memory(sha256)


def select_source(
    source: PackageSource,
    *,
    collections: Sequence[str] = (),
    entities: Sequence[str] = (),
    registry: Registry | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> SelectedSource:
    """The closure of ``collections`` (codes) and ``entities`` (refs) in ``source``, as a source.

    ``registry`` (default: every installed serializer) says which component types are code libraries,
    what their zips provide and what a component's OLX imports; ``limits`` bound the reading of code
    libraries' zips. Raises :class:`SelectionError` naming every unknown collection code and entity ref.
    """
    registry = registry or default_registry()
    wanted_codes = list(dict.fromkeys(collections))
    wanted_refs = list(dict.fromkeys(entities))
    start: set[str] = set()
    found_codes: set[str] = set()
    for record in source.iter_collections(include_disabled=True):
        if record.code in wanted_codes:
            found_codes.add(record.code)
            start.update(record.members)
    # One pass: every ref, the children of containers, the zips of code libraries.
    known: set[str] = set()
    children: dict[str, set[str]] = {}
    library_zips: dict[str, tuple[ComponentSerializer, set[str]]] = {}
    for entity in source.iter_entities(history="all"):
        known.add(entity.ref)
        if entity.kind == CONTAINER:
            kids = {c.ref for v in entity.versions for c in v.children}
            if kids:
                children[entity.ref] = kids
            continue
        serializer = registry.component(entity.namespace, entity.type)
        media = serializer.code_library_media
        if media is not None:
            library_zips[entity.ref] = (serializer, {m.sha256 for v in entity.versions for m in v.media
                                                     if m.path == media})
    unknown = [f"no collection {code!r}" for code in wanted_codes if code not in found_codes]
    unknown += [f"no entity {ref!r}" for ref in wanted_refs if ref not in known]
    if unknown:
        raise SelectionError(f"cannot select from {source.package.ref}: {'; '.join(unknown)}")
    start.update(wanted_refs)
    closure = _descendants(start, children)
    added: list[str] = []
    if library_zips and closure - library_zips.keys():
        imports = _imports(source, closure - library_zips.keys(), registry)
        if imports:
            for ref in sorted(library_zips.keys() - closure):
                serializer, shas = library_zips[ref]
                if any(provided & imports for provided in _provides(source, serializer, shas, limits)):
                    added.append(ref)
    return SelectedSource(source, frozenset(closure | set(added)), frozenset(found_codes), tuple(added))


def _descendants(start: set[str], children: dict[str, set[str]]) -> set[str]:
    closure = set(start)
    todo = list(start)
    while todo:
        for kid in children.get(todo.pop(), ()):
            if kid not in closure:
                closure.add(kid)
                todo.append(kid)
    return closure


def _imports(source: PackageSource, components: set[str], registry: Registry) -> set[str]:
    """Top-level modules imported by any version of the included components (each OLX read once)."""
    imports: set[str] = set()
    seen: set[str] = set()
    for entity in source.iter_entities(history="all"):
        if entity.ref not in components or entity.kind == CONTAINER:
            continue
        serializer = registry.component(entity.namespace, entity.type)
        for version in entity.versions:
            for media in version.media:
                if media.path == OLX_PATH and media.sha256 not in seen:
                    seen.add(media.sha256)
                    imports.update(serializer.facts(_read_blob(source, media.sha256)).imports)
    return imports


def _read_blob(source: PackageSource, sha256: str) -> bytes:
    with source.open_blob(sha256) as stream:
        return stream.read()


def _provides(source: PackageSource, serializer: ComponentSerializer, shas: set[str],
              limits: Limits) -> Iterator[frozenset[str]]:
    """The modules each version's zip provides (a zip that does not open provides nothing)."""
    for sha in sorted(shas):
        with source.open_blob(sha) as stream:
            found = inspect_nested_zip(stream, member=serializer.code_library_media or "", limits=limits,
                                       check_sources=False)
        yield serializer.provided_modules(found.files)
