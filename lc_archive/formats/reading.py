"""The reading kit both archive readers share: state, problem collection, the entity index,
cross-reference checks, hashing while streaming, plugin payloads and the finish.

A reader (phase A of a restore) reads every member once and collects every problem as
``member: $.toml.path: message``; nothing is raised until the end. :class:`ReadState` holds what any
format's reader needs for that: the archive, the limits, the serializer registry, the problems, a
small index of the entities accepted so far (:class:`SeenEntity`, for cross-references) and the
container children to check once every entity is known. Subclasses add what their format needs.
"""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel

from ..archive.limits import Limits
from ..archive.read_ahead import ReadAhead
from ..archive.zip_reader import ArchiveReader
from ..domain import CONTAINER, EntityRecord
from ..errors import ArchiveInvalid, Problem, ProblemList
from ..parsing.documents import load_document, parse_document_text, validate_document
from ..parsing.safe_toml import decode_toml
from ..plugins.checks import CheckMemo, check_component, child_problem
from ..plugins.payload_members import entity_lookup, read_payload_members
from ..plugins.registry import Registry
from .plan import RestorePlan, Spool
from .seen import SeenEntity, SeenIndex, compact_numbers

__all__ = ["BLOB", "CHUNK", "TOML", "ChildRef", "ReadState", "SeenEntity", "compact_numbers", "read_ahead_work",
           "stream_member"]

CHUNK = 64 * 1024
"""Bytes read from a member per step while streaming it."""


def stream_member(reader: ArchiveReader, member: str, *, utf8: bool, keep: list[bytes] | None,
                  keep_max: int | None = None) -> tuple[str, int, bool]:
    """Stream one member through SHA-256 (and, with ``utf8``, a strict UTF-8 decoder): ``(sha256, size,
    is UTF-8)``; :class:`ArchiveInvalid` if it cannot be read. ``keep`` receives the chunks, unless the
    member turns out longer than ``keep_max`` (``keep`` is then emptied)."""
    digest = hashlib.sha256()
    size = 0
    decoder = codecs.getincrementaldecoder("utf-8")("strict") if utf8 else None
    with reader.open(member) as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if keep is not None:
                keep.append(chunk)
                if keep_max is not None and size > keep_max:
                    keep.clear()
                    keep = None
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
    return digest.hexdigest(), size, utf8


TOML = "toml"
"""What :func:`read_member_ahead` gives for a TOML member: ``(TOML, size, sha256, document, maybe NUL)``."""
BLOB = "blob"
"""What :func:`read_member_ahead` gives for any other member: ``(BLOB, sha256, size, is UTF-8, bytes or None)``."""
_KEEP_AHEAD = 256 * 1024
"""A ``block.xml`` read ahead comes with its bytes up to this size (the readers parse it)."""
_KEPT = "/block.xml"
"""The members whose bytes the readers keep (as both formats' writers name them)."""


def read_ahead_work(limits: Limits) -> Callable[[ArchiveReader, str], tuple[Any, ...] | None]:
    """What the second process does with each member (:mod:`~lc_archive.archive.read_ahead`): read it,
    hash it and, for a ``.toml`` member, parse it, exactly as :meth:`ReadState.load` and
    :meth:`ReadState.stream` would; None when that fails (the reader then meets the problem itself)."""
    def work(reader: ArchiveReader, name: str) -> tuple[Any, ...] | None:
        if name.endswith(".toml"):
            raw = reader.read_bytes(name, max_size=limits.max_toml_size)
            document, maybe_nul = parse_document_text(decode_toml(raw), max_depth=limits.max_toml_depth)
            return TOML, len(raw), hashlib.sha256(raw).hexdigest(), document, maybe_nul
        pieces: list[bytes] | None = [] if name.endswith(_KEPT) else None
        sha, size, utf8 = stream_member(reader, name, utf8=True, keep=pieces, keep_max=_KEEP_AHEAD)
        data = None if pieces is None or (size and not pieces) else b"".join(pieces)  # emptied past _KEEP_AHEAD
        return BLOB, sha, size, utf8, data
    return work


@dataclass(slots=True)
class ChildRef:
    """A container child to check once every entity is known."""

    member: str
    ref_path: str
    """Where the child's ref is in the container's document."""
    container_type: str
    ref: str
    pinned: int | None = None
    pin_path: str | None = None


@dataclass
class ReadState:
    """What a reader knows while it reads one archive (see the module docstring)."""

    reader: ArchiveReader
    limits: Limits
    registry: Registry
    progress: Callable[[int], None] | None = None
    problems: ProblemList = field(default_factory=ProblemList)
    """Every problem found: the first ones whole, the rest counted per kind (bounded memory)."""
    seen: SeenIndex = field(default_factory=SeenIndex)
    children: Spool[tuple[str, str, str, str, int | None, str | None]] = field(default_factory=Spool)
    """Container children (:class:`ChildRef` fields, as tuples: they pickle five times faster), checked
    once every entity is known; spooled to disk (some 400,000 at 100,000 components, each a few strings)."""
    collections: dict[str, str] = field(default_factory=dict)
    """Collection code -> the member that defines it."""
    check_memo: CheckMemo = field(default_factory=dict)
    """Serializer results by content, so that versions sharing members are checked once."""
    ahead: ReadAhead | None = None
    """Members read ahead by a second process (:func:`read_ahead_work`), when there is one."""

    def problem(self, member: str, path: str, message: str) -> None:
        """Collect one error."""
        self.problems.append(Problem(member, path, message))

    def tick(self, n: int = 1) -> None:
        """``n`` more members are done (progress)."""
        if self.progress is not None:
            self.progress(n)

    checksums: ClassVar[bool] = False
    """Whether the format checks every member against checksums (:meth:`verify` is then called)."""

    def verify(self, member: str, size: int, sha256: str) -> None:
        """A member was read whole: ``size`` bytes hashing to ``sha256`` (formats with checksums check)."""

    # -- reading members ---------------------------------------------------------------------------

    def load[M: BaseModel](self, member: str, model: type[M], max_size: int | None = None) -> M | None:
        """Read one TOML member (at most ``max_size`` bytes, default ``max_toml_size``), parse it safely
        and validate it as ``model``; None (problems collected) when it is not valid."""
        limit = self.limits.max_toml_size if max_size is None else max_size
        ahead = self.ahead.take(member) if self.ahead is not None else None
        if ahead is not None and ahead[0] == TOML and ahead[1] <= limit:  # read and parsed by the other core
            _, size, sha, document, maybe_nul = ahead
            if self.checksums:
                self.verify(member, size, sha)
            self.tick()
            return validate_document(member, document, model, maybe_nul=maybe_nul, problems=self.problems)
        try:
            raw = self.reader.read_bytes(member, max_size=limit)
        except ArchiveInvalid as exc:
            self.problems.extend(exc.problems)
            self.tick()
            return None
        if self.checksums:
            self.verify(member, len(raw), hashlib.sha256(raw).hexdigest())
        self.tick()
        return load_document(member, raw, model, max_depth=self.limits.max_toml_depth, problems=self.problems)

    def stream(self, member: str, *, utf8: bool = False, keep: list[bytes] | None = None
               ) -> tuple[str, int, bool] | None:
        """Stream one member through SHA-256 (and, with ``utf8``, a strict UTF-8 decoder); return
        ``(sha256, size, is UTF-8)`` or None (problems collected). ``keep`` receives the chunks.

        The reader's member stream checks the size and the CRC-32 as it goes (see
        :meth:`~lc_archive.archive.zip_reader.ArchiveReader.open`).
        """
        ahead = self.ahead.take(member) if self.ahead is not None else None
        if ahead is not None and ahead[0] == BLOB and (keep is None or ahead[4] is not None):
            _, sha, size, is_utf8, data = ahead  # streamed by the other core
            if keep is not None:
                keep.append(data)
            self.tick()
            self.verify(member, size, sha)
            return sha, size, utf8 and is_utf8
        try:
            sha, size, utf8 = stream_member(self.reader, member, utf8=utf8, keep=keep)
        except ArchiveInvalid as exc:
            self.problems.extend(exc.problems)
            return None
        finally:
            self.tick()
        self.verify(member, size, sha)
        return sha, size, utf8

    # -- the entity index and cross-references -----------------------------------------------------

    def register(self, member: str, ref: str, kind: str, type: str, numbers: Iterable[int], *,
                 key_path: str) -> bool:
        """Index an entity (``False`` and a problem at ``key_path`` if ``ref`` is taken already)."""
        first = self.seen.get(ref)
        if first is not None:
            self.problem(member, key_path, f"entity {ref!r} is also defined in {first.member}")
            return False
        self.seen.add(ref, kind, type, member, compact_numbers(numbers))
        return True

    def register_collection(self, member: str, code: str, *, key_path: str) -> bool:
        """Index a collection (``False`` and a problem at ``key_path`` if ``code`` is taken already)."""
        first = self.collections.get(code)
        if first is not None:
            self.problem(member, key_path, f"collection {code!r} is also defined in {first}")
            return False
        self.collections[code] = member
        return True

    def entity_exists(self, member: str, path: str, ref: str) -> SeenEntity | None:
        """The indexed entity ``ref``, or None and a problem at ``path``."""
        target = self.seen.get(ref)
        if target is None:
            self.problem(member, path, f"no valid entity {ref!r} in this archive")
        return target

    def add_child(self, member: str, ref_path: str, container_type: str, ref: str, *, pinned: int | None = None,
                  pin_path: str | None = None) -> None:
        """A container child (see :class:`ChildRef`), checked by :meth:`check_children`."""
        self.children.append((member, ref_path, container_type, ref, pinned, pin_path))

    def check_children(self) -> None:
        """Every container child names an entity of the archive, of the kind its container holds
        (the container's serializer decides), and a pin names one of its versions."""
        for batch in self.children.batches():
            for c in batch:
                self._check_child(ChildRef(*c))
        self.children.close()

    def _check_child(self, c: ChildRef) -> None:
        target = self.entity_exists(c.member, c.ref_path, c.ref)
        if target is None:
            return
        reason = child_problem(self.registry, c.container_type, target.kind, target.type)
        if reason is not None:
            kind = target.type if target.kind == CONTAINER else "component"
            self.problem(c.member, c.ref_path, f"{reason}; {c.ref!r} is a {kind}")
        elif c.pinned is not None and not target.has(c.pinned):
            self.problem(c.member, c.pin_path or c.ref_path, f"{c.ref!r} has no version {c.pinned}")

    # -- the second validation layer ---------------------------------------------------------------

    def check_component(self, record: EntityRecord, member: str, olx: Mapping[int, tuple[str, bytes, Any]],
                        media_members: Mapping[int, Mapping[str, str]]) -> EntityRecord:
        """The component's serializer checks every version; the record comes back with its facts."""
        return check_component(record, registry=self.registry, member=member, olx=olx, media_members=media_members,
                               open_member=self.reader.open, limits=self.limits, problems=self.problems,
                               memo=self.check_memo)

    def read_payloads(self, members: Iterable[str], plan: RestorePlan | None, *, prefix: str = "",
                      on_read: Callable[[str, bytes], None] | None = None) -> None:
        """Read and check the plugin payload members (their targets must be indexed entities)."""
        notes = read_payload_members(
            self.reader, members, prefix=prefix, limits=self.limits, registry=self.registry,
            lookup=entity_lookup(self.seen.get, SeenEntity.has), add=plan.add_payload if plan is not None else None,
            problems=self.problems, on_read=on_read,
        )  # fmt: skip
        if plan is not None:
            plan.notes.extend(notes)

    # -- the end -----------------------------------------------------------------------------------

    def finish[P: RestorePlan](self, plan: P | None) -> P:
        """The plan, with the warnings found; :class:`ArchiveInvalid` listing every problem if any is an
        error (or if there is no plan: the package could not be read)."""
        if plan is None or self.problems.errors:
            raise ArchiveInvalid(self.problems)
        plan.add_warnings(self.problems, self.problems.total)
        return plan

