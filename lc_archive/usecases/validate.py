"""Check an archive without a store: ``validate`` (everything), ``verify`` (against its checksums too)
and ``inspect`` (what it holds, entity by entity).

All three run phase A of a restore (the archive's format reads and checks every member, see
:mod:`lc_archive.formats`) and write nothing. They differ in what they report: ``validate`` the
summary (and, by default, it refuses warnings too), ``verify`` the summary with what was checked against
the format's checksums (every member of a v2 archive against its manifest; v1 has none), ``inspect``
the summary and one row per entity with the facts its serializer derived from the OLX.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from ..archive.limits import DEFAULT_LIMITS, Limits
from ..archive.zip_reader import ArchiveReader
from ..domain import EntityRecord, entity_type
from ..errors import ArchiveInvalid, Problem
from ..formats.plan import ArchiveSummary, RestorePlan
from ..formats.table import detect, read_archive
from ..plugins.registry import Registry
from ..progress import NULL_PROGRESS, Progress

__all__ = ["EntityRow", "InspectResult", "inspect", "read_plan", "refuse_warnings", "validate", "verify"]

Archive = str | Path | BinaryIO


def read_plan(reader: ArchiveReader, limits: Limits, progress: Progress, registry: Registry | None,
              phase: str = "validate") -> RestorePlan:
    """Phase A: the archive's restore plan (``ArchiveInvalid`` listing every problem)."""
    progress.phase(phase, len(reader.names()))
    return read_archive(reader, limits=limits, progress=progress.advance, registry=registry)


def refuse_warnings(plan: RestorePlan | ArchiveSummary, strict: bool) -> None:
    """With ``strict``, warnings refuse the archive like errors (``ArchiveInvalid`` listing them)."""
    if strict and plan.warning_count:
        problems = list(plan.warnings)
        if plan.warning_count > len(problems):
            problems.append(Problem("*", "$", f"... and {plan.warning_count - len(problems)} more warning(s)",
                                    "warning", "not-kept"))
        raise ArchiveInvalid(problems)


def validate(
    archive: Archive,
    *,
    limits: Limits = DEFAULT_LIMITS,
    progress: Progress = NULL_PROGRESS,
    registry: Registry | None = None,
    strict: bool = False,
) -> ArchiveSummary:
    """Check an archive completely without a store; return its summary or raise ``ArchiveInvalid``.

    Warnings (an OLX reference to a static asset the version lacks...) are listed in the summary, as
    :func:`~lc_archive.usecases.restore.restore` lists them; ``strict=True`` refuses them too (the
    ``lc-archive validate`` command does, unless ``--allow-warnings``).
    """
    with ArchiveReader(archive, limits=limits) as reader, read_plan(reader, limits, progress, registry) as plan:
        refuse_warnings(plan, strict)
        return plan.summary()


def verify(
    archive: Archive,
    *,
    limits: Limits = DEFAULT_LIMITS,
    progress: Progress = NULL_PROGRESS,
    registry: Registry | None = None,
    strict: bool = False,
) -> ArchiveSummary:
    """Re-read every member and check it against the format's checksums, then validate everything.

    v2: every member against the manifest's size and SHA-256 (``verified_members``,
    ``verified_bytes``); v1 carries no checksums (``checksums`` says so), only the ZIP CRCs. Like
    :func:`validate`, warnings are listed and ``strict=True`` refuses them too.
    ``ArchiveInvalid`` lists every problem.
    """
    with ArchiveReader(archive, limits=limits) as reader:
        progress.phase("verify", len(reader.names()))
        fmt = detect(reader, limits=limits)
        summary = fmt.verify(reader, limits=limits, progress=progress.advance, registry=registry)
    refuse_warnings(summary, strict)
    return summary


@dataclass(frozen=True)
class EntityRow:
    """One entity as ``inspect`` shows it: the draft's (else the latest version's) title and facts."""

    ref: str
    type: str
    draft: int | None
    published: int | None
    draft_deleted: bool
    versions: list[int]
    media_bytes: int
    title: str | None
    display_name: str | None = None
    is_scorable: bool | None = None
    max_score: float | None = None
    files: list[str] | None = None
    has_facts: bool = False

    @classmethod
    def of(cls, e: EntityRecord) -> EntityRow:
        """The row of one entity record (facts are derived from the OLX, never read from the archive)."""
        shown = e.version(e.draft) or (e.versions[-1] if e.versions else None)
        facts = shown.facts if shown is not None else None
        row = cls(e.ref, entity_type(e.kind, e.namespace, e.type), e.draft, e.published, e.draft_deleted,
                  [v.number for v in e.versions], sum(m.size for v in e.versions for m in v.media),
                  shown.title if shown is not None else None)
        if facts is None:
            return row
        return cls(row.ref, row.type, row.draft, row.published, row.draft_deleted, row.versions, row.media_bytes,
                   row.title, facts.display_name, facts.is_scorable, facts.max_score,
                   list(facts.files) if facts.files else None, True)

    def as_dict(self) -> dict[str, Any]:
        """The machine form used by ``--json``."""
        out: dict[str, Any] = {"ref": self.ref, "type": self.type, "draft": self.draft, "published": self.published,
                               "draft_deleted": self.draft_deleted, "versions": list(self.versions),
                               "media_bytes": self.media_bytes, "title": self.title}
        if self.has_facts:
            out.update(display_name=self.display_name, is_scorable=self.is_scorable, max_score=self.max_score)
            if self.files:
                out["files"] = list(self.files)
        return out


@dataclass(frozen=True)
class InspectResult:
    """What ``inspect`` found: the archive's summary and every entity."""

    archive: ArchiveSummary
    entities: list[EntityRow] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The machine form used by ``--json``: the summary, plus ``entity_list``."""
        return {**self.archive.as_dict(), "entity_list": [row.as_dict() for row in self.entities]}


def inspect(
    archive: Archive,
    *,
    limits: Limits = DEFAULT_LIMITS,
    progress: Progress = NULL_PROGRESS,
    registry: Registry | None = None,
) -> InspectResult:
    """Validate an archive (warnings listed, not refused) and list its entities with their facts."""
    with ArchiveReader(archive, limits=limits) as reader, read_plan(reader, limits, progress, registry) as plan:
        rows = [EntityRow.of(e) for batch in plan.entity_batches() for e in batch]
        return InspectResult(plan.summary(), rows)
