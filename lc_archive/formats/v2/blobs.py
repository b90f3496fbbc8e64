"""Reading the blobs of a v2 archive: each streamed once through SHA-256 (checked against the manifest)
and a UTF-8 decoder; a blob used as ``block.xml`` is also parsed as OLX while it streams, and the
type-specific checks of the component read just before it run once its blobs have streamed.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ...errors import ArchiveInvalid
from ...parsing.olx import parse_olx
from ..reading import CHUNK
from .read_state import Blob, V2State

__all__ = ["check_late_olx", "finish_pending", "read_blob"]


def _check_olx(state: V2State, member: str, data: bytes, utf8: bool) -> Any:
    """Parse a blob used as block.xml (:func:`~..olx.parse_olx`); its tree, or None (blank, or a problem)."""
    if not utf8:
        state.problem(member, "$", "used as block.xml, but not valid UTF-8")
        return None
    root, problem = parse_olx(data)
    if problem is not None:
        state.problem(member, "$", f"used as block.xml: {problem}")
    return root


def _olx_too_big(state: V2State, member: str, declared: int) -> bool:
    if declared > state.limits.max_xml_size:
        state.problem(member, "$", f"used as block.xml, but {declared} bytes: above the limit of "
                                   f"{state.limits.max_xml_size} bytes for OLX (max_xml_size)")
        return True
    return False


def read_blob(state: V2State, member: str) -> None:
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
    olx = listed is not None and state.uses.olx_used(listed[1])
    if olx and _olx_too_big(state, member, declared):
        state.tick()
        return
    pieces: list[bytes] | None = [] if olx else None
    streamed = state.stream(member, utf8=True, keep=pieces)
    if streamed is None:
        return
    sha, size, utf8 = streamed
    first = state.blobs.find(sha)
    if first >= 0:
        state.problem(member, "$", f"holds the same bytes as {state.blobs.member(first)}; a v2 archive stores each "
                                   "blob once")
        return
    checked = pieces is not None and listed is not None and listed[1] == sha
    if checked:
        data = b"".join(pieces or ())
        root = _check_olx(state, member, data, utf8)
        pending = state.pending
        if pending is not None and sha in pending.olx_shas:
            pending.olx[sha] = (data, root)
    state.blobs.add(sha, Blob(member, size, utf8, olx_checked=checked))


def check_late_olx(state: V2State, sha: str, blob: Blob) -> None:
    """OLX check of a blob that came before the TOML that uses it as block.xml: read it again."""
    if _olx_too_big(state, blob.member, blob.size):
        return
    pieces: list[bytes] = []
    try:
        with state.reader.open(blob.member) as stream:
            while chunk := stream.read(CHUNK):
                pieces.append(chunk)
    except ArchiveInvalid as exc:  # pragma: no cover (it streamed fine a moment ago)
        state.problems.extend(exc.problems)
        return
    data = b"".join(pieces)
    if hashlib.sha256(data).hexdigest() != sha:  # pragma: no cover
        state.problem(blob.member, "$", "the member changed while it was being read")
        return
    _check_olx(state, blob.member, data, blob.utf8)


def finish_pending(state: V2State, *, at_end: bool = False) -> None:
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
            row = state.blobs.find(m.sha256)
            if row < 0:
                continue
            blob_member = state.blobs.member(row)
            members.setdefault(v.number, {})[m.path] = blob_member
            if m.path == "block.xml":
                parsed = pending.olx.get(m.sha256) or _parsed(state, blob_member, m.sha256)
                if parsed is not None:
                    olx[v.number] = (blob_member, *parsed)
    record = state.check_component(pending.record, pending.member, olx, members)
    if state.plan is not None:
        state.plan.add_entity(record)


_TREES = 4
"""Parsed ``block.xml`` blobs kept for the components that follow (a tree takes several times its text)."""


def _parsed(state: V2State, member: str, sha: str) -> tuple[bytes, Any] | None:
    """A block.xml blob streamed before this component's TOML: parsed once per archive while it stays among
    the last few used (:data:`_TREES`), however many versions and components use it."""
    trees = state.olx_trees
    if sha in trees:
        parsed = trees.pop(sha)
    else:
        parsed = _reread(state, member, sha)
        if len(trees) >= _TREES:
            trees.pop(next(iter(trees)))
    trees[sha] = parsed  # most recently used last
    return parsed


def _reread(state: V2State, member: str, sha: str) -> tuple[bytes, Any] | None:
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
