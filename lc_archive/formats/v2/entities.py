"""Reading the TOML documents of a v2 archive: ``package.toml``, entities, collections, the publish log.

Each document is validated by its strict model (:mod:`.docs`) and checked on its own (versions in
ascending order, pointers naming present versions, media paths once per version, sizes); references
to other entities are collected and checked at the end (:meth:`~..reading.ReadState.check_children`,
:func:`.reader.check_references`).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from ...domain import (
    COMPONENT,
    CONTAINER,
    ChildRecord,
    CollectionRecord,
    EntityRecord,
    MediaRecord,
    PackageRecord,
    PublishLogEntry,
    PublishLogRecord,
    VersionRecord,
)
from ...errors import ArchiveInvalid, Problem
from ...parsing.documents import load_text_document
from ...parsing.safe_toml import TomlInvalid, decode_toml, split_at_headers
from ...plugins.payload_members import component_type as _component_type
from ..plan import BackupMeta
from .blob_index import media_at
from .docs import (
    FORMAT_VERSION,
    CollectionDoc,
    ComponentDoc,
    ComponentEntityTable,
    ContainerDoc,
    ContainerEntityTable,
    MediaTable,
    PackageDoc,
    PointerTable,
    PublishLogDoc,
)
from .layout import PACKAGE, PUBLISH_LOG
from .manifest import KNOWN_FORMAT_VERSIONS
from .read_state import Pending, V2RestorePlan, V2State

__all__ = ["read_collection", "read_component", "read_container", "read_package", "read_publish_log"]


def read_package(state: V2State) -> tuple[BackupMeta, V2RestorePlan] | None:
    if PACKAGE not in state.reader:
        state.problem(PACKAGE, "$", "missing: every archive starts with package.toml")
        return None
    doc = state.load(PACKAGE, PackageDoc, state.limits.max_toml_size)
    if doc is None:
        return None
    meta, lp = doc.meta, doc.learning_package
    if meta.format_version not in KNOWN_FORMAT_VERSIONS:
        state.problem(PACKAGE, "$.meta.format_version", f"unsupported format version {meta.format_version}; "
                                                        f"this reader knows {FORMAT_VERSION}")
    info = BackupMeta("v2", meta.format_version, meta.created_at, meta.created_by or None, None,
                      meta.origin_server or None)
    package = PackageRecord(lp.ref, lp.title, lp.description, lp.created, lp.updated)
    return info, V2RestorePlan(meta=info, package=package)


def _versions_in_order(state: V2State, member: str, numbers: list[int]) -> bool:
    ok = True
    previous = 0
    for i, n in enumerate(numbers):
        if n <= previous:
            state.problem(member, f"$.version[{i}].number", f"version {n} comes after version {previous}: "
                                                            "each version appears once, in ascending order")
            ok = False
        previous = max(previous, n)
    return ok


def _pointer(state: V2State, member: str, name: str, table: PointerTable | None, numbers: set[int]) -> bool:
    if table is not None and table.version is not None and table.version not in numbers:
        state.problem(member, f"$.entity.{name}.version",
                      f"names version {table.version}, but no [[version]] has number = {table.version}")
        return False
    return True


def _pointers(e: ComponentEntityTable | ContainerEntityTable) -> dict[str, Any]:
    d, p = e.draft, e.published
    return {
        "draft": d.version if d is not None else None,
        "draft_deleted": d is not None and d.deleted is True,
        "published": p.version if p is not None else None,
        "published_deleted": p is not None and p.deleted is True,
    }


def _check_versions(state: V2State, member: str, doc: ComponentDoc | ContainerDoc) -> tuple[list[int], bool]:
    """The entity's version numbers, and whether they ascend and both pointers name one of them."""
    numbers = [v.number for v in doc.version]
    present = set(numbers)
    ok = _versions_in_order(state, member, numbers)
    ok = _pointer(state, member, "draft", doc.entity.draft, present) and ok
    ok = _pointer(state, member, "published", doc.entity.published, present) and ok
    return numbers, ok


def _use(state: V2State, member: str, i: int, j: int, m: MediaTable) -> None:
    row = state.uses.note(m.sha256, member, i, j, m.size, text=m.text, olx=m.path == "block.xml")
    if row >= 0 and state.uses.size(row) != m.size:
        earlier = state.uses.use(row)
        state.problem(member, f"{media_at(i, j)}.size", f"blob {m.sha256} is {earlier.size} bytes in {earlier.member} "
                                                        f"{earlier.at}, but {m.size} here")


def read_component(state: V2State, member: str, plan: V2RestorePlan | None) -> None:
    doc = state.load(member, ComponentDoc, state.limits.max_toml_size)
    if doc is None:
        return
    e = doc.entity
    numbers, ok = _check_versions(state, member, doc)
    max_media = state.limits.max_media_size
    for i, v in enumerate(doc.version):
        paths: set[str] = set()
        for j, m in enumerate(v.media):
            at = f"$.version[{i}].media[{j}]"
            if m.path in paths:
                state.problem(member, f"{at}.path", f"media path {m.path!r} appears twice in version {v.number}")
                ok = False
            paths.add(m.path)
            if m.size > max_media:
                state.problem(member, f"{at}.size", f"media file of {m.size} bytes; the limit is {max_media}")
                ok = False
            _use(state, member, i, j, m)
    etype = _component_type(e.namespace, e.type)
    if not state.register(member, e.ref, COMPONENT, etype, numbers, key_path="$.entity.ref") or not ok \
            or plan is None:
        return
    versions = tuple(
        VersionRecord(
            number=v.number, title=v.title, created=v.created, created_by=v.created_by,
            media=tuple(MediaRecord(m.path, m.sha256, m.size, m.media_type, m.text, m.file) for m in v.media),
        )
        for v in doc.version
    )  # fmt: skip
    plan.counts[f"{e.namespace}:{e.type}"] += 1
    plan.counts["versions"] += len(versions)
    plan.counts["media"] += sum(len(v.media) for v in versions)
    record = EntityRecord(
        ref=e.ref, kind=COMPONENT, namespace=e.namespace, type=e.type, code=e.code,
        can_stand_alone=e.can_stand_alone, created=e.created, created_by=e.created_by, versions=versions,
        **_pointers(e),
    )  # fmt: skip
    state.pending = Pending(record, member, {m.sha256 for v in versions for m in v.media if m.path == "block.xml"})


def read_container(state: V2State, member: str, plan: V2RestorePlan | None) -> None:
    doc = state.load(member, ContainerDoc, state.limits.max_toml_size)
    if doc is None:
        return
    e = doc.entity
    numbers, ok = _check_versions(state, member, doc)
    for i, v in enumerate(doc.version):
        for j, c in enumerate(v.children):
            path = f"$.version[{i}].children[{j}]"
            state.add_child(member, f"{path}.ref", e.type, c.ref, pinned=c.pinned, pin_path=f"{path}.pinned")
    if not state.register(member, e.ref, CONTAINER, e.type, numbers, key_path="$.entity.ref") or not ok \
            or plan is None:
        return
    versions = tuple(
        VersionRecord(number=v.number, title=v.title, created=v.created, created_by=v.created_by,
                      children=tuple(ChildRecord(c.ref, c.pinned) for c in v.children))
        for v in doc.version
    )  # fmt: skip
    plan.counts[e.type] += 1
    plan.counts["versions"] += len(versions)
    plan.add_entity(EntityRecord(
        ref=e.ref, kind=CONTAINER, namespace="", type=e.type, code=e.code, can_stand_alone=e.can_stand_alone,
        created=e.created, created_by=e.created_by, versions=versions, **_pointers(e),
    ))  # fmt: skip


def read_collection(state: V2State, member: str, plan: V2RestorePlan | None) -> None:
    doc = state.load(member, CollectionDoc, state.limits.max_toml_size)
    if doc is None:
        return
    c = doc.collection
    if not state.register_collection(member, c.code, key_path="$.collection.code"):
        return
    listed: set[str] = set()
    for i, ref in enumerate(c.members):
        if ref in listed:
            state.problem(member, f"$.collection.members[{i}]", f"{ref!r} is listed twice")
        listed.add(ref)
        state.members.append((member, i, ref))
    if plan is not None:
        plan.collections.append(CollectionRecord(
            code=c.code, title=c.title, description=c.description, enabled=c.enabled, created=c.created,
            modified=c.modified, created_by=c.created_by, members=tuple(sorted(listed)),
        ))  # fmt: skip


_PIECE = 256 * 1024
"""Characters of ``publish_log.toml`` parsed at a time (whole ``[[publish]]`` sections)."""
_AT_LINE = re.compile(r"at line (\d+)")
_PUBLISH_INDEX = re.compile(r"^\$\.publish\[(\d+)\]")


def _in_document(problem: Problem, publishes_before: int, first_line: int) -> Problem:
    """A problem of one piece of the publish log, located in the whole document."""
    path = _PUBLISH_INDEX.sub(lambda m: f"$.publish[{int(m.group(1)) + publishes_before}]", problem.path)
    message = _AT_LINE.sub(lambda m: f"at line {int(m.group(1)) + first_line - 1}", problem.message)
    return Problem(problem.member, path, message, problem.severity)


def read_publish_log(state: V2State, plan: V2RestorePlan | None) -> None:
    """Read ``publish_log.toml`` in pieces of whole ``[[publish]]`` sections (it grows with the package:
    it is bounded by ``max_member_size``, not the TOML document limit), spooling each event to the plan
    and each change to the references checked at the end: memory holds one piece, never the log."""
    try:
        raw = state.reader.read_bytes(PUBLISH_LOG, max_size=state.limits.max_member_size)
    except ArchiveInvalid as exc:
        state.problems.extend(exc.problems)
        state.tick()
        return
    state.verify(PUBLISH_LOG, len(raw), hashlib.sha256(raw).hexdigest())
    state.tick()
    try:
        text = decode_toml(raw)
    except TomlInvalid as exc:
        state.problem(PUBLISH_LOG, "$", str(exc))
        return
    del raw
    before = 0  # publish events in the pieces already read
    for first_line, piece in split_at_headers(text, "publish", _PIECE):
        found: list[Problem] = []
        doc = load_text_document(PUBLISH_LOG, piece, PublishLogDoc, max_depth=state.limits.max_toml_depth,
                                 problems=found)
        state.problems.extend(_in_document(p, before, first_line) for p in found)
        if doc is None:
            before += piece.count("\n[[publish]]") + piece.startswith("[[publish]]")
            plan = None  # the log is incomplete: the archive is refused, nothing more to spool
            continue
        for i, p in enumerate(doc.publish, before):
            refs: set[str] = set()
            for j, c in enumerate(p.change):
                if c.ref in refs:
                    state.problem(PUBLISH_LOG, f"$.publish[{i}].change[{j}].ref",
                                  f"{c.ref!r} changes twice in one publish")
                refs.add(c.ref)
                state.changes.append((i, j, c.ref, c.old, c.new))
            if plan is not None:
                plan.add_publish(PublishLogRecord(p.published_at, p.published_by, p.message,
                                                  tuple(PublishLogEntry(c.ref, c.old, c.new) for c in p.change)))
        before += len(doc.publish)
