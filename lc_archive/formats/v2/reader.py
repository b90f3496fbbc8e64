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

import hashlib
from collections.abc import Callable

from ...archive.limits import DEFAULT_LIMITS, Limits
from ...archive.read_ahead import read_ahead
from ...archive.zip_reader import ArchiveReader
from ...plugins.registry import Registry, default_registry
from ..plan import ArchiveSummary
from ..reading import read_ahead_work
from .blob_index import StoredBlobs, Uses
from .blobs import check_late_olx, finish_pending, read_blob
from .detect import is_v2
from .entities import read_collection, read_component, read_container, read_package, read_publish_log
from .layout import PUBLISH_LOG, MemberKind, classify
from .manifest import KNOWN_FORMAT_VERSIONS, read_manifest
from .read_state import Pending, V2RestorePlan, V2State

__all__ = ["KNOWN_FORMAT_VERSIONS", "V2RestorePlan", "check_references", "is_v2", "read_v2", "verify_v2"]


_READ_IN_ORDER = frozenset({MemberKind.COMPONENT, MemberKind.BLOB, MemberKind.CONTAINER, MemberKind.COLLECTION,
                            MemberKind.EXTENSION})
"""The members the loop of :func:`read_v2` reads, in archive order (a second process reads them ahead)."""


def _on_payload_read(state: V2State) -> Callable[[str, bytes], None]:
    def on_read(member: str, raw: bytes) -> None:
        state.verify(member, len(raw), hashlib.sha256(raw).hexdigest())
        state.tick()
    return on_read


# -- cross-references --------------------------------------------------------------------------------


def check_references(state: V2State) -> None:
    """Children, collection members and publish-log changes name entities (and versions) of the archive;
    every media record's blob is there with its size (UTF-8 when stored as text, well-formed OLX when a
    ``block.xml``), and every blob is used."""
    state.check_children()
    for member, i, ref in state.members:
        state.entity_exists(member, f"$.collection.members[{i}]", ref)
    for batch in state.changes.batches():
        for i, j, ref, old, new in batch:
            path = f"$.publish[{i}].change[{j}]"
            target = state.entity_exists(PUBLISH_LOG, f"{path}.ref", ref)
            if target is None:
                continue
            for key, number in (("old", old), ("new", new)):
                if number is not None and not target.has(number):
                    state.problem(PUBLISH_LOG, f"{path}.{key}", f"{ref!r} has no version {number}")
    state.changes.close()
    uses, blobs = state.uses, state.blobs
    for row, sha in uses.rows():
        found = blobs.find(sha)
        if found < 0:
            use = uses.use(row)
            state.problem(use.member, f"{use.at}.sha256", f"no member of the archive holds blob {sha}")
            continue
        blob = blobs.blob(found)
        if blob.size != uses.size(row):
            use = uses.use(row)
            state.problem(use.member, f"{use.at}.size", f"the blob is {blob.size} bytes, not {use.size}")
        if not blob.utf8 and uses.wants_text(row):
            member, at = uses.use(row).text_at or ("", "")
            state.problem(member, f"{at}.text", f"stored as text, but blob {sha} is not valid UTF-8")
        if not blob.olx_checked and uses.wants_olx(row):
            check_late_olx(state, sha, blob)
    for row, sha in blobs.rows():
        if sha not in uses:
            state.problem(blobs.member(row), "$", "a blob that no media record uses")


# -- entry points -----------------------------------------------------------------------------------


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
    state = V2State(reader, limits, registry or default_registry(), progress)
    names = reader.names()
    read_manifest(state, names)
    head = read_package(state)
    plan = head[1] if head is not None else None
    state.plan = plan
    kinds = [classify(name).kind for name in names]
    in_order = [name for name, kind in zip(names, kinds, strict=True) if kind in _READ_IN_ORDER]
    state.ahead = ahead = read_ahead(reader, in_order, read_ahead_work(limits))
    try:
        has_log = False
        for name, kind in zip(names, kinds, strict=True):
            if kind is not MemberKind.BLOB:
                finish_pending(state)
            if kind is MemberKind.COMPONENT:
                read_component(state, name, plan)
            elif kind is MemberKind.BLOB:
                read_blob(state, name)
            elif kind is MemberKind.CONTAINER:
                read_container(state, name, plan)
            elif kind is MemberKind.COLLECTION:
                read_collection(state, name, plan)
            elif kind is MemberKind.PUBLISH_LOG:
                has_log = True
                read_publish_log(state, plan)
            elif kind is MemberKind.PAYLOAD:
                state.payloads.append(name)
            elif kind is MemberKind.EXTENSION:
                state.extensions.append(name)
                state.stream(name, utf8=False)
            elif kind is MemberKind.DIRECTORY:
                state.problem(name, "$", "a directory entry: a v2 archive holds files only")
                state.tick()
            elif kind is MemberKind.UNKNOWN:
                state.problem(name, "$", "fits nowhere in the v2 layout (docs/formats/v2.md §2)")
                state.tick()
            # PACKAGE and MANIFEST are already read
        ahead.close()
        state.ahead = None
        del kinds, in_order
        finish_pending(state)
        for batch in state.late.batches():
            for record, member in batch:
                state.pending = Pending(record, member, set())
                finish_pending(state, at_end=True)
        state.late.close()
        if not has_log:
            state.problem(PUBLISH_LOG, "$", "missing: a v2 archive always has publish_log.toml "
                                            "(empty when nothing was published)")
        check_references(state)
        state.read_payloads(state.payloads, plan, on_read=_on_payload_read(state))
        plan = state.finish(plan)
        state.listed = None  # the biggest indexes go before the plan's own is built (lower peak)
        state.uses = Uses()
        plan.blobs = state.blobs.members()  # the blob index's table and names, taken over
        plan.blob_bytes = state.blobs.total_size()
        state.blobs = StoredBlobs()
        plan.verified_members = state.verified_members
        plan.verified_bytes = state.verified_bytes
        if state.extensions:
            plan.notes.append(f"{len(state.extensions)} extension member(s) under x/ verified and ignored: "
                              + ", ".join(state.extensions[:5]))
        return plan
    except BaseException:
        ahead.close()
        if plan is not None:
            plan.close()
        raise


def verify_v2(
    reader: ArchiveReader,
    *,
    limits: Limits = DEFAULT_LIMITS,
    progress: Callable[[int], None] | None = None,
    registry: Registry | None = None,
) -> ArchiveSummary:
    """``lc-archive verify`` for v2: re-read every member, check it against the manifest and
    validate everything (:func:`read_v2`); return the summary or raise :class:`ArchiveInvalid`."""
    with read_v2(reader, limits=limits, progress=progress, registry=registry) as plan:
        return plan.summary()
