"""Read and validate a v1 archive (phase A of a restore) into a :class:`RestorePlan`.

Everything is checked before anything is written: TOML syntax (size and nesting depth capped before
parsing, see :mod:`..safe_toml`) and types, ref and code syntax, version pointers, children and
collection members (they must exist and have the right kind), media paths and that every media file
belongs to a version of its component, ``block.xml`` being UTF-8 and well-formed XML without a DTD
(:mod:`..olx`), sizes against the :class:`Limits`, and every member's CRC (each member is read once,
streaming, and hashed with SHA-256). All problems are collected and raised together as
:class:`ArchiveInvalid`.

Where v1 has no data, the plan uses: the archive's ``created_at`` as the creation time of versions
without ``created`` (so restoring the same archive twice gives the same store), no authors, and an
``[entity.published]`` without ``[entity.draft]`` is a soft-deleted draft.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ...archive.limits import DEFAULT_LIMITS, Limits
from ...archive.read_ahead import read_ahead
from ...archive.zip_reader import ArchiveReader
from ...domain import (
    COMPONENT,
    CONTAINER,
    CONTAINER_TYPES,
    OLX_PATH,
    ChildRecord,
    CollectionRecord,
    EntityRecord,
    MediaRecord,
    PackageRecord,
    VersionRecord,
    check_code,
    media_path_problem,
    media_type_for,
    split_component_ref,
)
from ...parsing.olx import parse_olx
from ...plugins.payload_members import component_type as _component_type
from ...plugins.registry import Registry, default_registry
from ..plan import BackupMeta, RestorePlan
from ..reading import ReadState, read_ahead_work
from .docs import CollectionDoc, EntityDoc, PackageDoc
from .layout import ComponentFiles, V1Layout, classify

__all__ = ["KNOWN_FORMAT_VERSIONS", "read_v1"]

KNOWN_FORMAT_VERSIONS = frozenset({1})
_CHUNK = 64 * 1024
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class _State(ReadState):
    default_created: datetime | None = None
    """The archive's ``created_at``: the creation time of versions that carry none."""


def _hash_member(state: _State, member: str, *, olx: bool) -> tuple[str, int, tuple[bytes, Any] | None] | None:
    """Stream one media member: SHA-256, size and CRC (checked by the reader), after the size limits.

    A ``block.xml`` (``olx``) is also kept in memory while it streams (it is capped by
    ``max_xml_size`` first), then checked as strict UTF-8 and parsed as well-formed, DTD-free XML;
    its bytes and tree are returned for the type-specific checks.
    """
    limits = state.limits
    declared = state.reader.member(member).size  # the stream yields exactly this, or raises
    refusal = None
    if declared > limits.max_media_size:
        refusal = (f"media file is {declared} bytes, above the limit of {limits.max_media_size} bytes "
                   "(max_media_size; openedx-core's own limit is 50,000,000)")
    elif olx and declared > limits.max_xml_size:
        refusal = (f"block.xml is {declared} bytes, above the limit of {limits.max_xml_size} bytes for OLX "
                   "(max_xml_size)")
    if refusal is not None:
        state.tick()
        state.problem(member, "$", refusal)
        return None
    pieces: list[bytes] | None = [] if olx else None
    streamed = state.stream(member, keep=pieces)
    if streamed is None:
        return None
    sha, size, _ = streamed
    parsed = None
    if pieces is not None:
        data = b"".join(pieces)
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            state.problem(member, "$", f"block.xml is not valid UTF-8 (byte {exc.start}): {exc.reason}")
            return None
        root, problem = parse_olx(data)
        if problem is not None:
            state.problem(member, "$", problem)
            return None
        parsed = (data, root)
    return sha, size, parsed


def _read_package(state: _State, layout: V1Layout) -> tuple[BackupMeta, PackageRecord] | None:
    if layout.package is None:
        return None
    doc = state.load(layout.package, PackageDoc)
    if doc is None:
        return None
    meta, lp = doc.meta, doc.learning_package
    if meta.format_version not in KNOWN_FORMAT_VERSIONS:
        state.problem(layout.package, "$.meta.format_version",
                      f"unsupported format version {meta.format_version}; this reader knows "
                      f"{', '.join(map(str, sorted(KNOWN_FORMAT_VERSIONS)))}")
    state.default_created = meta.created_at
    info = BackupMeta("v1", meta.format_version, meta.created_at, meta.created_by or None,
                      meta.created_by_email or None, meta.origin_server or None)
    package = PackageRecord(lp.key, lp.title, lp.description, lp.created, lp.updated or lp.created)
    return info, package


def _pointers(state: _State, member: str, doc: EntityDoc) -> dict[str, Any] | None:
    """Draft/published pointers; both must name a version that the file carries."""
    numbers = [v.version_num for v in doc.version]
    ok = True
    for i, n in enumerate(numbers):
        if numbers.index(n) != i:
            state.problem(member, f"$.version[{i}].version_num", f"version {n} appears more than once")
            ok = False
    e = doc.entity
    draft = e.draft.version_num if e.draft is not None else None
    published = e.published.version_num if e.published is not None else None
    if e.draft is not None and draft is None:
        state.problem(member, "$.entity.draft", "[entity.draft] has no version_num")
        ok = False
    for name, pointer in (("draft", draft), ("published", published)):
        if pointer is not None and pointer not in numbers:
            state.problem(member, f"$.entity.{name}.version_num",
                          f"points at version {pointer}, but no [[version]] has version_num = {pointer}")
            ok = False
    if not ok:
        return None
    return {
        "draft": draft,
        "draft_deleted": e.draft is None and published is not None,
        "published": published,
    }


def _version_created(state: _State, created: datetime | None) -> datetime:
    # Without a readable package.toml there is no plan to fill; the epoch only keeps checking going.
    return created or state.default_created or _EPOCH


def _read_container(state: _State, member: str, plan: RestorePlan | None) -> None:
    doc = state.load(member, EntityDoc)
    if doc is None:
        return
    e = doc.entity
    kinds = list(e.container or {})
    if e.container is None:
        state.problem(member, "$.entity.container", "missing: a file directly in entities/ is a container")
        return
    if len(kinds) != 1 or kinds[0] not in CONTAINER_TYPES:
        state.problem(member, "$.entity.container",
                      f"must hold exactly one of {', '.join(CONTAINER_TYPES)}; found {kinds or 'nothing'}")
        return
    ctype = kinds[0]
    try:
        check_code(e.key)
    except ValueError as exc:
        state.problem(member, "$.entity.key", f"a container key is its code: {exc}")
        return
    pointers = _pointers(state, member, doc)
    versions = []
    for i, v in enumerate(doc.version):
        if v.container is None:
            state.problem(member, f"$.version[{i}].container", "missing: a container version lists its children")
            continue
        for j, child in enumerate(v.container.children):
            state.add_child(member, f"$.version[{i}].container.children[{j}]", ctype, child)
        versions.append(VersionRecord(
            number=v.version_num, title=v.title, created=_version_created(state, v.created),
            children=tuple(ChildRecord(c) for c in v.container.children),
        ))
    numbers = [v.version_num for v in doc.version]
    if not state.register(member, e.key, CONTAINER, ctype, numbers, key_path="$.entity.key") or pointers is None \
            or plan is None:
        return
    plan.counts[ctype] += 1
    plan.counts["versions"] += len(versions)
    plan.add_entity(EntityRecord(
        ref=e.key, kind=CONTAINER, namespace="", type=ctype, code=e.key, can_stand_alone=e.can_stand_alone,
        created=e.created, versions=tuple(sorted(versions, key=lambda v: v.number)), **pointers,
    ))


def _component_key(state: _State, member: str, key: str, files: ComponentFiles) -> str | None:
    parts = split_component_ref(key)
    if parts is None:
        state.problem(member, "$.entity.key", f"a component key has the form namespace:type:code; got {key!r}")
        return None
    namespace, ctype, code = parts
    if (namespace, ctype) != (files.namespace, files.type):
        state.problem(member, "$.entity.key",
                      f"key {key!r} does not match the folder entities/{files.namespace}/{files.type}/")
        return None
    try:
        return check_code(code)
    except ValueError as exc:
        state.problem(member, "$.entity.key", str(exc))
        return None


def _read_component(state: _State, files: ComponentFiles, plan: RestorePlan | None) -> None:
    member = files.toml
    doc = state.load(member, EntityDoc)
    if doc is None:  # still check the media, so that every problem is reported in one run
        for _, entries in sorted(files.versions().items()):
            for path, name in entries:
                _hash_member(state, name, olx=path == "block.xml")
        return
    e = doc.entity
    code = _component_key(state, member, e.key, files)
    if e.container is not None:
        state.problem(member, "$.entity.container", "a component file cannot describe a container")
    pointers = _pointers(state, member, doc)
    numbers = {v.version_num for v in doc.version}
    media: dict[int, list[MediaRecord]] = {}
    members: dict[int, dict[str, str]] = {}
    olx: dict[int, tuple[str, bytes, Any]] = {}
    for n, entries in sorted(files.versions().items()):
        if n not in numbers:
            for _, name in entries:
                state.problem(name, "$", f"belongs to no version: {member} has no version {n}")
            state.tick(len(entries))
            continue
        records = media.setdefault(n, [])
        for path, name in entries:
            problem = media_path_problem(path)
            if problem is not None:
                state.problem(name, "$", problem)
                state.tick()
                continue
            is_olx = path == OLX_PATH
            hashed = _hash_member(state, name, olx=is_olx)
            if hashed is None:
                continue
            sha, size, parsed = hashed
            if plan is not None and sha not in plan.blobs:
                plan.blobs[sha] = name
                plan.blob_bytes += size
            members.setdefault(n, {})[path] = name
            if parsed is not None:
                olx[n] = (name, *parsed)
            records.append(MediaRecord(path, sha, size, media_type_for(files.type, path), is_olx, not is_olx))
    if code is None or not state.register(member, e.key, COMPONENT, _component_type(files.namespace, files.type),
                                          sorted(numbers), key_path="$.entity.key"):
        return
    if pointers is None:
        return
    versions = tuple(sorted((
        VersionRecord(number=v.version_num, title=v.title, created=_version_created(state, v.created),
                      media=tuple(media.get(v.version_num, ())))
        for v in doc.version), key=lambda v: v.number))
    record = state.check_component(
        EntityRecord(ref=e.key, kind=COMPONENT, namespace=files.namespace, type=files.type, code=code,
                     can_stand_alone=e.can_stand_alone, created=e.created, versions=versions, **pointers),
        member, olx, members,
    )  # fmt: skip
    if plan is None:
        return
    plan.counts[f"{files.namespace}:{files.type}"] += 1
    plan.counts["versions"] += len(versions)
    plan.counts["media"] += sum(len(v.media) for v in versions)
    plan.add_entity(record)


def _read_collections(state: _State, layout: V1Layout, plan: RestorePlan | None) -> None:
    for member in layout.collections:
        doc = state.load(member, CollectionDoc)
        if doc is None:
            continue
        c = doc.collection
        if not state.register_collection(member, c.key, key_path="$.collection.key"):
            continue
        for i, ref in enumerate(c.entities):
            state.entity_exists(member, f"$.collection.entities[{i}]", ref)
        if plan is not None:
            created = c.created or _version_created(state, None)
            plan.collections.append(CollectionRecord(
                code=c.key, title=c.title, description=c.description, enabled=True,
                created=created, modified=created, members=tuple(sorted(set(c.entities))),
            ))


def _read_order(layout: V1Layout) -> list[str]:
    """The members :func:`read_v1` reads one by one, in the order it reads them (a second process reads
    them ahead): the containers, then each component's TOML and its media, version by version."""
    order = list(layout.containers)
    for files in layout.components.values():
        order.append(files.toml)
        for _, entries in sorted(files.versions().items()):
            order.extend(name for _, name in entries)
    return order


def read_v1(
    reader: ArchiveReader,
    *,
    limits: Limits = DEFAULT_LIMITS,
    progress: Callable[[int], None] | None = None,
    registry: Registry | None = None,
) -> RestorePlan:
    """Validate a v1 archive completely; return its plan or raise :class:`ArchiveInvalid` with every problem.

    ``progress`` is called with the number of members processed as they are. ``registry`` supplies the
    type-specific checks and the plugins (default: everything installed).
    """
    state = _State(reader, limits, registry or default_registry(), progress=progress)
    layout = classify(reader.names())
    state.problems.extend(layout.problems)
    head = _read_package(state, layout)
    plan = RestorePlan(meta=head[0], package=head[1]) if head is not None else None
    state.ahead = ahead = read_ahead(reader, _read_order(layout), read_ahead_work(limits))
    try:
        for member in layout.containers:
            _read_container(state, member, plan)
        for files in layout.components.values():
            _read_component(state, files, plan)
        ahead.close()
        state.ahead = None
        state.check_children()
        _read_collections(state, layout, plan)
        state.read_payloads(layout.payloads, plan, prefix=layout.prefix)
        state.tick(len(layout.payloads))
        plan = state.finish(plan)
        if layout.ignored:
            plan.notes.append(f"{len(layout.ignored)} member(s) outside entities/ and collections/ ignored: "
                              + ", ".join(layout.ignored[:5]))
        return plan
    except BaseException:
        ahead.close()
        if plan is not None:
            plan.close()
        raise


