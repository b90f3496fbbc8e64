"""Read and verify a v2 archive (phase A of a restore) into a :class:`V2RestorePlan`.

Order (``docs/formats/v2.md`` §8): the manifest first (``manifest.json`` must be the last member and list
every other member exactly once, in archive order); then ``package.toml``; then every other member
once, in archive order, each streamed through SHA-256 and compared with the manifest: TOML documents
are parsed (depth-checked, then ``tomllib``) and validated, blobs are hashed and checked for UTF-8.
Then the cross-references: children exist, have the right kind and their pins name versions of
theirs; draft and published pointers name present versions; collection members and publish-log
changes name entities (and versions) of the archive; every media record's blob is in the archive
with the recorded size (UTF-8 when stored as text; well-formed, DTD-free XML when it is a
``block.xml``, as v1 checks OLX: :mod:`..olx`); every blob is used. Every problem is
collected as ``member: $.toml.path: message`` and raised once as :class:`ArchiveInvalid`.

The plan's entities are spooled to a temporary file in batches; memory holds one small index entry
per entity and per distinct blob, the manifest's name index, and the publish log.
"""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from ...archive.limits import DEFAULT_LIMITS, Limits
from ...archive.zip_reader import ArchiveReader
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
from ...parsing.documents import load_document
from ...parsing.olx import parse_olx
from ...parsing.safe_toml import TomlInvalid, parse_toml
from ...plugins.checks import check_component, child_problem
from ...plugins.payload_members import component_type as _component_type
from ...plugins.payload_members import entity_lookup, read_payload_members
from ...plugins.registry import Registry, default_registry
from ..plan import BackupMeta, RestorePlan, Spool
from .docs import (
    FORMAT,
    FORMAT_VERSION,
    CollectionDoc,
    ComponentDoc,
    ComponentEntityTable,
    ContainerDoc,
    ContainerEntityTable,
    ManifestDoc,
    ManifestMember,
    MediaTable,
    PackageDoc,
    PointerTable,
    PublishLogDoc,
    problems_from,
)
from .layout import MANIFEST, PACKAGE, PUBLISH_LOG, MemberKind, classify

__all__ = ["KNOWN_FORMAT_VERSIONS", "V2RestorePlan", "is_v2", "read_v2", "verify_v2"]

KNOWN_FORMAT_VERSIONS = frozenset({FORMAT_VERSION})
_CHUNK = 64 * 1024


@dataclass
class V2RestorePlan(RestorePlan):
    """A :class:`RestorePlan` that also says what was verified against the manifest."""

    verified_members: int = 0
    """Members read and checked against the manifest (``manifest.json`` included)."""
    verified_bytes: int = 0
    """Uncompressed bytes of those members."""

    def summary(self) -> dict[str, Any]:
        """The base summary, plus ``verified_members`` and ``verified_bytes``."""
        out = super().summary()
        out.update(verified_members=self.verified_members, verified_bytes=self.verified_bytes)
        return out


@dataclass(slots=True)
class _Seen:
    """One entity, for cross-reference checks: kind, type, where, and its version numbers."""

    kind: str
    type: str
    member: str
    versions: int | frozenset[int]
    """``n`` when the versions are exactly 1..n (the usual case), else the set of numbers."""

    def has(self, number: int) -> bool:
        v = self.versions
        return 1 <= number <= v if isinstance(v, int) else number in v


def _compact(numbers: list[int]) -> int | frozenset[int]:
    return len(numbers) if numbers == list(range(1, len(numbers) + 1)) else frozenset(numbers)


@dataclass(slots=True)
class _Use:
    """The first media record that uses a blob (and the first that stores it as text, or as OLX)."""

    member: str
    at: str
    size: int
    text_at: tuple[str, str] | None
    olx_at: tuple[str, str] | None


@dataclass(slots=True)
class _Blob:
    """What streaming a blob member found."""

    member: str
    size: int
    utf8: bool
    olx_checked: bool


@dataclass
class _Pending:
    """A component whose type-specific checks wait until the blobs that follow its TOML are streamed."""

    record: EntityRecord
    member: str
    olx_shas: set[str]
    olx: dict[str, tuple[bytes, Any]] = field(default_factory=dict)
    """sha256 -> bytes and parsed tree of this component's block.xml blobs, caught while they streamed."""


@dataclass
class _State:
    reader: ArchiveReader
    limits: Limits
    registry: Registry
    plan: V2RestorePlan | None = None
    progress: Callable[[int], None] | None = None
    problems: list[Problem] = field(default_factory=list)
    listed: dict[str, tuple[int, str]] | None = None
    """name -> (size, sha256) from manifest.json, or None when it is missing or unreadable."""
    seen: dict[str, _Seen] = field(default_factory=dict)
    children: list[tuple[str, int, int, str, str, int | None]] = field(default_factory=list)
    """(member, version index, child index, container type, child ref, pin), checked at the end."""
    members: list[tuple[str, int, str]] = field(default_factory=list)
    """(member, index, ref) of collection members, checked at the end."""
    changes: list[tuple[int, int, str, int | None, int | None]] = field(default_factory=list)
    """(publish index, change index, ref, old, new) of the publish log, checked at the end."""
    uses: dict[str, _Use] = field(default_factory=dict)
    blobs: dict[str, _Blob] = field(default_factory=dict)
    """sha256 -> the blob member holding it, and what streaming it found."""
    verified_members: int = 0
    verified_bytes: int = 0
    extensions: list[str] = field(default_factory=list)
    payloads: list[str] = field(default_factory=list)
    pending: _Pending | None = None
    late: Spool[tuple[EntityRecord, str]] = field(default_factory=Spool)
    """Components with a blob stored after a later entity (not in a writer's order), spooled to disk
    (a hostile order could make them all late): checked at the end."""

    def problem(self, member: str, path: str, message: str) -> None:
        self.problems.append(Problem(member, path, message))

    def tick(self) -> None:
        if self.progress is not None:
            self.progress(1)

    def verify(self, member: str, size: int, sha256: str) -> None:
        """Compare what a member holds with what the manifest says about it."""
        self.verified_members += 1
        self.verified_bytes += size
        expected = self.listed.get(member) if self.listed is not None else None
        if expected is None:  # not listed (already a problem), or no usable manifest
            return
        want_size, want_sha = expected
        if size != want_size:
            self.problem(member, "$", f"the member is {size} bytes, manifest.json says {want_size}")
        elif sha256 != want_sha:
            self.problem(member, "$", f"SHA-256 mismatch: the member hashes to {sha256}, manifest.json says {want_sha}")


# -- reading members ---------------------------------------------------------------------------------


def _load[M: BaseModel](state: _State, member: str, model: type[M], max_size: int) -> M | None:
    """Read one TOML member (verified against the manifest), parse it safely and validate it."""
    try:
        raw = state.reader.read_bytes(member, max_size=max_size)
    except ArchiveInvalid as exc:
        state.problems.extend(exc.problems)
        state.tick()
        return None
    state.verify(member, len(raw), hashlib.sha256(raw).hexdigest())
    state.tick()
    return load_document(member, raw, model, max_depth=state.limits.max_toml_depth, problems=state.problems)


def _stream(
    state: _State, member: str, *, utf8: bool, keep: list[bytes] | None = None
) -> tuple[str, int, bool] | None:
    """Stream one member through SHA-256 (and a UTF-8 check); ``(sha256, size, is UTF-8)``.

    ``keep``, if given, receives the chunks (for a block.xml, capped by ``max_xml_size`` first).
    """
    digest = hashlib.sha256()
    size = 0
    decoder = codecs.getincrementaldecoder("utf-8")("strict") if utf8 else None
    try:
        with state.reader.open(member) as stream:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                if keep is not None:
                    keep.append(chunk)
                if decoder is not None:
                    try:
                        decoder.decode(chunk)
                    except UnicodeDecodeError:
                        decoder = None
                        utf8 = False
        if decoder is not None:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8 = False
    except ArchiveInvalid as exc:
        state.problems.extend(exc.problems)
        return None
    finally:
        state.tick()
    sha = digest.hexdigest()
    state.verify(member, size, sha)
    return sha, size, utf8


def _read_manifest(state: _State, names: list[str]) -> None:
    reader = state.reader
    if MANIFEST not in reader:
        state.problem(MANIFEST, "$", "missing: a v2 archive ends with manifest.json, which lists every other member")
        return
    if names[-1] != MANIFEST:
        after = names[names.index(MANIFEST) + 1 :]
        state.problem(MANIFEST, "$", f"must be the last member, but {len(after)} member(s) follow it "
                                     f"(the first is {after[0]!r})")
    try:
        raw = reader.read_bytes(MANIFEST, max_size=state.limits.max_member_size)
    except ArchiveInvalid as exc:
        state.problems.extend(exc.problems)
        return
    finally:
        state.tick()
    state.verified_members += 1
    state.verified_bytes += len(raw)
    try:
        doc = ManifestDoc.model_validate_json(raw)
    except ValidationError as exc:
        state.problems.extend(problems_from(MANIFEST, exc))
        return
    finally:
        del raw  # the manifest grows with the package: free its text before the index is built
    if doc.format_version not in KNOWN_FORMAT_VERSIONS:
        state.problem(MANIFEST, "$.format_version", f"unsupported format version {doc.format_version}; "
                                                    f"this reader knows {FORMAT_VERSION}")
    listed: dict[str, tuple[int, str]] = {}
    entries: list[ManifestMember | None] = list(doc.members)
    doc.members.clear()
    for i in range(len(entries)):
        m, entries[i] = entries[i], None  # each model is freed as soon as it is indexed (lower peak)
        assert m is not None
        if m.name in listed:
            state.problem(MANIFEST, f"$.members[{i}].name", f"lists {m.name!r} more than once")
        elif m.name == MANIFEST:
            state.problem(MANIFEST, f"$.members[{i}].name", "lists itself; the manifest lists every other member")
        elif m.name not in reader:
            state.problem(MANIFEST, f"$.members[{i}].name", f"lists {m.name!r}, which is not in the archive")
        else:
            listed[m.name] = (m.size, m.sha256)
    del doc, entries
    archive_order = []
    for name in names:
        if name == MANIFEST or name.endswith("/"):
            continue
        if name in listed:
            archive_order.append(name)
        else:
            state.problem(name, "$", "not listed in manifest.json")
    listed_order = list(listed)
    if listed_order != archive_order:
        at = next((i for i, (a, b) in enumerate(zip(listed_order, archive_order, strict=False)) if a != b),
                  min(len(listed_order), len(archive_order)))
        found = repr(archive_order[at]) if at < len(archive_order) else "the end of the list"
        state.problem(MANIFEST, "$.members", "lists the members in another order than the archive holds them "
                                             f"(at position {at} the archive has {found})")
    state.listed = listed


def _read_package(state: _State) -> tuple[BackupMeta, V2RestorePlan] | None:
    if PACKAGE not in state.reader:
        state.problem(PACKAGE, "$", "missing: every archive starts with package.toml")
        return None
    doc = _load(state, PACKAGE, PackageDoc, state.limits.max_toml_size)
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


def _versions_in_order(state: _State, member: str, numbers: list[int]) -> bool:
    ok = True
    previous = 0
    for i, n in enumerate(numbers):
        if n <= previous:
            state.problem(member, f"$.version[{i}].number", f"version {n} comes after version {previous}: "
                                                            "each version appears once, in ascending order")
            ok = False
        previous = max(previous, n)
    return ok


def _pointer(state: _State, member: str, name: str, table: PointerTable | None, numbers: set[int]) -> bool:
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


def _check_versions(state: _State, member: str, doc: ComponentDoc | ContainerDoc) -> tuple[list[int], bool]:
    """The entity's version numbers, and whether they ascend and both pointers name one of them."""
    numbers = [v.number for v in doc.version]
    present = set(numbers)
    ok = _versions_in_order(state, member, numbers)
    ok = _pointer(state, member, "draft", doc.entity.draft, present) and ok
    ok = _pointer(state, member, "published", doc.entity.published, present) and ok
    return numbers, ok


def _register(state: _State, member: str, ref: str, kind: str, etype: str, *, numbers: list[int]) -> bool:
    first = state.seen.get(ref)
    if first is not None:
        state.problem(member, "$.entity.ref", f"entity {ref!r} is also defined in {first.member}")
        return False
    state.seen[ref] = _Seen(kind, etype, member, _compact(numbers))
    return True


def _use(state: _State, member: str, at: str, m: MediaTable) -> None:
    olx_at = (member, at) if m.path == "block.xml" else None
    use = state.uses.get(m.sha256)
    if use is None:
        state.uses[m.sha256] = _Use(member, at, m.size, (member, at) if m.text else None, olx_at)
        return
    if use.size != m.size:
        state.problem(member, f"{at}.size", f"blob {m.sha256} is {use.size} bytes in {use.member} {use.at}, "
                                            f"but {m.size} here")
    if m.text and use.text_at is None:
        use.text_at = (member, at)
    if olx_at is not None and use.olx_at is None:
        use.olx_at = olx_at


def _read_component(state: _State, member: str, plan: V2RestorePlan | None) -> None:
    doc = _load(state, member, ComponentDoc, state.limits.max_toml_size)
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
            _use(state, member, at, m)
    etype = _component_type(e.namespace, e.type)
    if not _register(state, member, e.ref, COMPONENT, etype, numbers=numbers) or not ok or plan is None:
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
    state.pending = _Pending(record, member, {m.sha256 for v in versions for m in v.media if m.path == "block.xml"})


def _read_container(state: _State, member: str, plan: V2RestorePlan | None) -> None:
    doc = _load(state, member, ContainerDoc, state.limits.max_toml_size)
    if doc is None:
        return
    e = doc.entity
    numbers, ok = _check_versions(state, member, doc)
    for i, v in enumerate(doc.version):
        for j, c in enumerate(v.children):
            state.children.append((member, i, j, e.type, c.ref, c.pinned))
    if not _register(state, member, e.ref, CONTAINER, e.type, numbers=numbers) or not ok or plan is None:
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


def _check_olx(state: _State, member: str, data: bytes, utf8: bool) -> Any:
    """Parse a blob used as block.xml (:func:`~..olx.parse_olx`); its tree, or None (blank, or a problem)."""
    if not utf8:
        state.problem(member, "$", "used as block.xml, but not valid UTF-8")
        return None
    root, problem = parse_olx(data)
    if problem is not None:
        state.problem(member, "$", f"used as block.xml: {problem}")
    return root


def _olx_too_big(state: _State, member: str, declared: int) -> bool:
    if declared > state.limits.max_xml_size:
        state.problem(member, "$", f"used as block.xml, but {declared} bytes: above the limit of "
                                   f"{state.limits.max_xml_size} bytes for OLX (max_xml_size)")
        return True
    return False


def _read_blob(state: _State, member: str) -> None:
    limits = state.limits
    declared = state.reader.member(member).size
    if declared > limits.max_media_size:
        state.problem(member, "$", f"media file of {declared} bytes, above the limit of {limits.max_media_size} "
                                   "bytes (max_media_size; openedx-core's own limit is 50,000,000)")
        state.tick()
        return
    # A blob used as block.xml is checked as OLX while it streams, when the entity TOML that uses it came
    # first (always, in a writer's order); otherwise it is checked at the end (see _check_late_olx).
    listed = state.listed.get(member) if state.listed is not None else None
    use = state.uses.get(listed[1]) if listed is not None else None
    olx = use is not None and use.olx_at is not None
    if olx and _olx_too_big(state, member, declared):
        state.tick()
        return
    pieces: list[bytes] | None = [] if olx else None
    streamed = _stream(state, member, utf8=True, keep=pieces)
    if streamed is None:
        return
    sha, size, utf8 = streamed
    if listed is not None and listed[1] == sha:
        sha = listed[1]  # one string for the manifest's index and the blob index
    first = state.blobs.get(sha)
    if first is not None:
        state.problem(member, "$", f"holds the same bytes as {first.member}; a v2 archive stores each blob once")
        return
    checked = pieces is not None and listed is not None and listed[1] == sha
    if checked:
        data = b"".join(pieces or ())
        root = _check_olx(state, member, data, utf8)
        pending = state.pending
        if pending is not None and sha in pending.olx_shas:
            pending.olx[sha] = (data, root)
    state.blobs[sha] = _Blob(member, size, utf8, olx_checked=checked)


def _check_late_olx(state: _State, sha: str, blob: _Blob) -> None:
    """OLX check of a blob that came before the TOML that uses it as block.xml: read it again."""
    if _olx_too_big(state, blob.member, blob.size):
        return
    pieces: list[bytes] = []
    try:
        with state.reader.open(blob.member) as stream:
            while chunk := stream.read(_CHUNK):
                pieces.append(chunk)
    except ArchiveInvalid as exc:  # pragma: no cover (it streamed fine a moment ago)
        state.problems.extend(exc.problems)
        return
    data = b"".join(pieces)
    if hashlib.sha256(data).hexdigest() != sha:  # pragma: no cover
        state.problem(blob.member, "$", "the member changed while it was being read")
        return
    _check_olx(state, blob.member, data, blob.utf8)


def _read_collection(state: _State, member: str, codes: dict[str, str], plan: V2RestorePlan | None) -> None:
    doc = _load(state, member, CollectionDoc, state.limits.max_toml_size)
    if doc is None:
        return
    c = doc.collection
    if c.code in codes:
        state.problem(member, "$.collection.code", f"collection {c.code!r} is also defined in {codes[c.code]}")
        return
    codes[c.code] = member
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


def _read_publish_log(state: _State, plan: V2RestorePlan | None) -> None:
    # The log grows with the package (one change per entity and publish), so it is bounded by the
    # per-member limit rather than the TOML document limit.
    doc = _load(state, PUBLISH_LOG, PublishLogDoc, state.limits.max_member_size)
    if doc is None:
        return
    records = []
    for i, p in enumerate(doc.publish):
        refs: set[str] = set()
        for j, c in enumerate(p.change):
            if c.ref in refs:
                state.problem(PUBLISH_LOG, f"$.publish[{i}].change[{j}].ref", f"{c.ref!r} changes twice in one publish")
            refs.add(c.ref)
            state.changes.append((i, j, c.ref, c.old, c.new))
        records.append(PublishLogRecord(p.published_at, p.published_by, p.message,
                                        tuple(PublishLogEntry(c.ref, c.old, c.new) for c in p.change)))
    if plan is not None:
        plan.publish_log = records


def _finish_pending(state: _State, *, at_end: bool = False) -> None:
    """Run the type-specific checks of the component read last, now that its blobs have streamed."""
    pending, state.pending = state.pending, None
    if pending is None:
        return
    if not at_end and any(m.sha256 not in state.blobs for v in pending.record.versions for m in v.media):
        pending.olx.clear()
        state.late.append((pending.record, pending.member))  # a blob comes later (or never: see the references)
        return
    olx: dict[int, tuple[str, bytes, Any]] = {}
    members: dict[int, dict[str, str]] = {}
    for v in pending.record.versions:
        for m in v.media:
            blob = state.blobs.get(m.sha256)
            if blob is None:
                continue
            members.setdefault(v.number, {})[m.path] = blob.member
            if m.path == "block.xml":
                parsed = pending.olx.get(m.sha256) or _reread(state, blob.member, m.sha256)
                if parsed is not None:
                    olx[v.number] = (blob.member, *parsed)
    record = check_component(pending.record, registry=state.registry, member=pending.member, olx=olx,
                             media_members=members, open_member=state.reader.open, limits=state.limits,
                             problems=state.problems)
    if state.plan is not None:
        state.plan.add_entity(record)


def _reread(state: _State, member: str, sha: str) -> tuple[bytes, Any] | None:
    """A block.xml blob read and parsed again (it was not streamed as this component's), or None if unusable."""
    if state.reader.member(member).size > state.limits.max_xml_size:
        return None
    try:
        data = state.reader.read_bytes(member, max_size=state.limits.max_xml_size)
    except ArchiveInvalid:
        return None
    if hashlib.sha256(data).hexdigest() != sha:
        return None
    root, problem = parse_olx(data)
    return None if problem is not None else (data, root)


def _on_payload_read(state: _State) -> Callable[[str, bytes], None]:
    def on_read(member: str, raw: bytes) -> None:
        state.verify(member, len(raw), hashlib.sha256(raw).hexdigest())
        state.tick()
    return on_read


# -- cross-references --------------------------------------------------------------------------------


def _check_references(state: _State) -> None:
    seen = state.seen
    for member, i, j, ctype, ref, pinned in state.children:
        path = f"$.version[{i}].children[{j}]"
        target = seen.get(ref)
        reason = None if target is None else child_problem(state.registry, ctype, target.kind, target.type)
        if target is None:
            state.problem(member, f"{path}.ref", f"no valid entity {ref!r} in this archive")
        elif reason is not None:
            kind = target.type if target.kind == CONTAINER else "component"
            state.problem(member, f"{path}.ref", f"{reason}; {ref!r} is a {kind}")
        elif pinned is not None and not target.has(pinned):
            state.problem(member, f"{path}.pinned", f"{ref!r} has no version {pinned}")
    for member, i, ref in state.members:
        if ref not in seen:
            state.problem(member, f"$.collection.members[{i}]", f"no valid entity {ref!r} in this archive")
    for i, j, ref, old, new in state.changes:
        path = f"$.publish[{i}].change[{j}]"
        target = seen.get(ref)
        if target is None:
            state.problem(PUBLISH_LOG, f"{path}.ref", f"no valid entity {ref!r} in this archive")
            continue
        for key, number in (("old", old), ("new", new)):
            if number is not None and not target.has(number):
                state.problem(PUBLISH_LOG, f"{path}.{key}", f"{ref!r} has no version {number}")
    for sha, use in state.uses.items():
        blob = state.blobs.get(sha)
        if blob is None:
            state.problem(use.member, f"{use.at}.sha256", f"no member of the archive holds blob {sha}")
            continue
        if blob.size != use.size:
            state.problem(use.member, f"{use.at}.size", f"the blob is {blob.size} bytes, not {use.size}")
        if use.text_at is not None and not blob.utf8:
            member, at = use.text_at
            state.problem(member, f"{at}.text", f"stored as text, but blob {sha} is not valid UTF-8")
        if use.olx_at is not None and not blob.olx_checked:
            _check_late_olx(state, sha, blob)
    for sha, blob in state.blobs.items():
        if sha not in state.uses:
            state.problem(blob.member, "$", "a blob that no media record uses")


# -- entry points ------------------------------------------------------------------------------------


def read_v2(
    reader: ArchiveReader,
    *,
    limits: Limits = DEFAULT_LIMITS,
    progress: Callable[[int], None] | None = None,
    registry: Registry | None = None,
) -> V2RestorePlan:
    """Verify and validate a v2 archive completely; return its plan or raise :class:`ArchiveInvalid`
    listing every problem. ``progress`` is called with ``1`` per member read (each is read once).
    ``registry`` supplies the type-specific checks and the plugins (default: everything installed)."""
    state = _State(reader, limits, registry or default_registry(), progress=progress)
    names = reader.names()
    _read_manifest(state, names)
    head = _read_package(state)
    plan = head[1] if head is not None else None
    state.plan = plan
    try:
        codes: dict[str, str] = {}
        has_log = False
        for name in names:
            kind = classify(name).kind
            if kind is not MemberKind.BLOB:
                _finish_pending(state)
            if kind is MemberKind.COMPONENT:
                _read_component(state, name, plan)
            elif kind is MemberKind.BLOB:
                _read_blob(state, name)
            elif kind is MemberKind.CONTAINER:
                _read_container(state, name, plan)
            elif kind is MemberKind.COLLECTION:
                _read_collection(state, name, codes, plan)
            elif kind is MemberKind.PUBLISH_LOG:
                has_log = True
                _read_publish_log(state, plan)
            elif kind is MemberKind.PAYLOAD:
                state.payloads.append(name)
            elif kind is MemberKind.EXTENSION:
                state.extensions.append(name)
                _stream(state, name, utf8=False)
            elif kind is MemberKind.DIRECTORY:
                state.problem(name, "$", "a directory entry: a v2 archive holds files only")
                state.tick()
            elif kind is MemberKind.UNKNOWN:
                state.problem(name, "$", "fits nowhere in the v2 layout (docs/formats/v2.md §2)")
                state.tick()
            # PACKAGE and MANIFEST are already read
        _finish_pending(state)
        for batch in state.late.batches():
            for record, member in batch:
                state.pending = _Pending(record, member, set())
                _finish_pending(state, at_end=True)
        state.late.close()
        if not has_log:
            state.problem(PUBLISH_LOG, "$", "missing: a v2 archive always has publish_log.toml "
                                            "(empty when nothing was published)")
        _check_references(state)
        read_payload_members(reader, state.payloads, limits=limits, registry=state.registry,
                             lookup=entity_lookup(state.seen, _Seen.has), plan=plan, problems=state.problems,
                             on_read=_on_payload_read(state))
        if plan is None or any(p.severity != "warning" for p in state.problems):
            raise ArchiveInvalid(state.problems)
        plan.add_warnings(state.problems)
        state.listed = None  # the biggest indexes go before the plan's own is built (lower peak)
        state.uses.clear()
        plan.blobs = {sha: blob.member for sha, blob in state.blobs.items()}
        plan.blob_bytes = sum(blob.size for blob in state.blobs.values())
        state.blobs.clear()
        plan.verified_members = state.verified_members
        plan.verified_bytes = state.verified_bytes
        if state.extensions:
            plan.notes.append(f"{len(state.extensions)} extension member(s) under x/ verified and ignored: "
                              + ", ".join(state.extensions[:5]))
        return plan
    except BaseException:
        if plan is not None:
            plan.close()
        raise


def verify_v2(
    reader: ArchiveReader,
    *,
    limits: Limits = DEFAULT_LIMITS,
    progress: Callable[[int], None] | None = None,
    registry: Registry | None = None,
) -> dict[str, Any]:
    """``lc-archive verify`` for v2: re-read every member, check it against the manifest and
    validate everything (:func:`read_v2`); return the summary or raise :class:`ArchiveInvalid`."""
    with read_v2(reader, limits=limits, progress=progress, registry=registry) as plan:
        return plan.summary()


def is_v2(reader: ArchiveReader, *, limits: Limits = DEFAULT_LIMITS) -> bool:
    """Whether the archive claims to be v2: its last member is ``manifest.json``, or its
    ``package.toml`` has ``[meta] format = "lc-archive"``. (A v1 archive has neither.)"""
    names = reader.names()
    if names and names[-1] == MANIFEST:
        return True
    if PACKAGE not in reader:
        return False
    try:
        data = parse_toml(reader.read_bytes(PACKAGE, max_size=limits.max_toml_size), max_depth=limits.max_toml_depth)
    except (ArchiveInvalid, TomlInvalid):
        return False
    meta = data.get("meta")
    return isinstance(meta, dict) and meta.get("format") == FORMAT
