"""Convert an archive to another format (v1 <-> v2), reporting exactly what the target format loses.

The input is validated completely and restored into a scratch SQLite store
(:func:`~lc_archive.scratch.open_archive_store`), which is then backed up with
:func:`~lc_archive.backup.backup`. Memory stays bounded: entities stream from the scratch store a
batch at a time and blobs are streamed, never held.

The output keeps the input's package ref and the input's own ``created_at``, ``created_by`` and
``origin_server`` (unless ``created_at`` is given), so converting is deterministic: the same input
always gives the same bytes.

**Loss report.** v2 carries everything a store holds; a conversion to v2 loses nothing (plugin
payloads the writer did not write are the only thing checked). For v1, the scratch store is walked
once (history ``"all"``) and each kind of data that an lc-archive restore of the v1 output would
not give back is counted, precisely: a value that v1 rebuilds identically (a version time equal to
the output's ``created_at``, a media type equal to the one readers derive, a collection never
modified...) is not a loss. The kinds are listed in :data:`V1_LOSSES`. Content that v1 carries but
openedx-core mangles is reported as warnings, with the v1 writer's own warnings.
"""

from __future__ import annotations

import re
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from .archive.limits import DEFAULT_LIMITS, Limits
from .backup import backup
from .model.types import to_utc
from .progress import NULL_PROGRESS, Progress
from .scratch import open_archive_store
from .serializers.v1 import writer as v1_writer
from .serializers.v1.media_types import guess_media_type, olx_media_type
from .serializers.v1.toml_render import written_versions
from .state import iso
from .stores.base import PackageSource
from .stores.records import CONTAINER, EntityRecord, MediaRecord

__all__ = ["V1_LOSSES", "ConvertResult", "Loss", "convert", "v1_losses"]

Format = Literal["v1", "v2"]

V1_LOSSES: dict[str, str] = {
    "history": "{n} versions other than the draft and published ones not written",
    "soft_deleted": "{n} soft-deleted drafts of unpublished entities not carried "
    "(they come back as entities that never had a version)",
    "published_deletions": "{n} published deletions carried as 'never published'",
    "version_times": "{n} version creation times not carried (restored as the archive's created_at)",
    "version_authors": "{n} version authors not carried",
    "pins": "{n} pinned container children written unpinned",
    "container_codes": "{n} container codes differ from their ref (v1 restores the ref as the code)",
    "component_refs": "{n} component refs are not '<namespace>:<type>:<code>' (v1 readers parse the ref)",
    "entity_authors": "{n} entity authors not carried",
    "disabled_collections": "{n} disabled collections not written",
    "collection_authors": "{n} collection authors not carried",
    "collection_modified": "{n} collection modification times not carried (restored equal to created)",
    "publish_log": "{n} publish log events not written",
    "media_types": "{n} media types not carried (readers re-derive them from the file name)",
    "storage_modes": "{n} media text/file storage modes not carried",
    "toml_media": "{n} media files ending in '.toml' left out (openedx-core 1.15.2's reader crashes on them)",
    "plugin_payloads": "{n} plugin payloads not written",
}
"""Every kind of v1 loss the report counts, as a sentence template."""

_PAYLOADS_OF_DROPPED = " ({m} of them belong to versions v1 does not write)"
_REVIVED = ("{n} soft-deleted drafts of published entities: lc-archive restores them deleted, "
            "openedx-core brings the draft back")

# The v1 writer's own loss kinds that the report above counts itself, more precisely.
_COVERED = frozenset({"history", "version_metadata", "pins", "soft_deleted", "published_deletions",
                      "container_codes", "component_refs", "disabled_collections", "publish_log",
                      "media_types", "storage_modes", "toml_media", "version_payloads"})


@dataclass(frozen=True)
class Loss:
    """One kind of data the output does not carry: ``count`` items of ``kind``."""

    kind: str
    count: int
    message: str

    def as_dict(self) -> dict[str, Any]:
        """The machine form used by ``--json``."""
        return {"kind": self.kind, "count": self.count, "message": self.message}


@dataclass(frozen=True)
class ConvertResult:
    """What a conversion wrote and lost."""

    source: Path
    output: Path
    input_format: str
    format: str
    ref: str
    created_at: datetime
    entities: int
    members: int
    archive_bytes: int
    wall_s: float
    losses: list[Loss] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    writer_losses: list[str] = field(default_factory=list)
    """The backup writer's own loss sentences (:attr:`BackupResult.losses`), for reference."""

    @property
    def loss_counts(self) -> dict[str, int]:
        """``kind -> count`` of every loss."""
        return {loss.kind: loss.count for loss in self.losses}

    def as_dict(self) -> dict[str, Any]:
        """The machine form used by ``--json``."""
        return {"source": str(self.source), "output": str(self.output), "input_format": self.input_format,
                "format": self.format, "ref": self.ref, "created_at": iso(self.created_at),
                "entities": self.entities, "members": self.members, "archive_bytes": self.archive_bytes,
                "wall_s": round(self.wall_s, 3), "lossless": not self.losses,
                "losses": [loss.as_dict() for loss in self.losses], "loss_counts": self.loss_counts,
                "warnings": self.warnings, "writer_losses": self.writer_losses}


def _media_losses(entity: EntityRecord, media: MediaRecord, counts: Counter[str]) -> None:
    if media.path.endswith(".toml"):
        counts["toml_media"] += 1  # left out altogether: its type and mode are not separate losses
        return
    is_olx = media.path == "block.xml"
    derived = olx_media_type(entity.type) if is_olx else guess_media_type(media.path)
    counts["media_types"] += media.media_type != derived
    counts["storage_modes"] += (media.has_text, media.has_file) != (is_olx, not is_olx)


def _entity_losses(entity: EntityRecord, created_at: datetime, counts: Counter[str],
                   warnings: Counter[str]) -> set[int]:
    """Count what v1 loses of one entity; return the numbers of the versions it writes."""
    written = written_versions(entity)
    counts["history"] += len(entity.versions) - len(written)
    # The v1 reader sets draft_deleted exactly when there is no draft but a published version.
    counts["soft_deleted"] += entity.draft_deleted != (entity.draft is None and entity.published is not None)
    warnings["revived"] += entity.draft is None and entity.draft_deleted and entity.published is not None
    counts["published_deletions"] += entity.published_deleted
    counts["entity_authors"] += entity.created_by is not None
    if entity.kind == CONTAINER:
        counts["container_codes"] += entity.code != entity.ref
    else:
        counts["component_refs"] += entity.ref != f"{entity.namespace}:{entity.type}:{entity.code}"
    for version in written:
        counts["version_times"] += version.created != created_at
        counts["version_authors"] += version.created_by is not None
        counts["pins"] += sum(child.pinned is not None for child in version.children)
        for media in version.media:
            _media_losses(entity, media, counts)
    return {v.number for v in written}


def v1_losses(source: PackageSource, *, created_at: datetime,
              payloads_written: int | None = None) -> tuple[list[Loss], list[str]]:
    """What an lc-archive restore of a v1 backup of ``source`` (made at ``created_at``) would not give back.

    Returns ``(losses, warnings)``; losses in :data:`V1_LOSSES` order, only non-zero kinds.
    ``payloads_written`` is how many plugin payloads the archive holds (None: as many as v1 can
    carry, that is all but those of versions v1 does not write). Streams entities; holds only the
    targets of version-scoped plugin payloads.
    """
    created_at = to_utc(created_at)
    counts: Counter[str] = Counter()
    warnings: Counter[str] = Counter()
    total_payloads = 0
    version_payloads: dict[str, Counter[int]] = {}
    for payload in source.iter_payloads():
        total_payloads += 1
        if payload.entity is not None and payload.version is not None:
            version_payloads.setdefault(payload.entity, Counter())[payload.version] += 1
    dropped_payloads = 0
    for entity in source.iter_entities(history="all"):
        kept = _entity_losses(entity, created_at, counts, warnings)
        if (targets := version_payloads.get(entity.ref)) is not None:
            dropped_payloads += sum(n for number, n in targets.items() if number not in kept)
    for collection in source.iter_collections(include_disabled=True):
        if not collection.enabled:
            counts["disabled_collections"] += 1
            continue
        counts["collection_authors"] += collection.created_by is not None
        counts["collection_modified"] += collection.modified != collection.created
    counts["publish_log"] += sum(1 for _ in source.iter_publish_log())
    written = total_payloads - dropped_payloads if payloads_written is None else payloads_written
    counts["plugin_payloads"] += max(total_payloads - written, 0)
    losses = []
    for kind, template in V1_LOSSES.items():
        if n := counts[kind]:
            message = template.format(n=n)
            if kind == "plugin_payloads" and 0 < dropped_payloads <= n:
                message += _PAYLOADS_OF_DROPPED.format(m=dropped_payloads)
            losses.append(Loss(kind, n, message))
    notes = [_REVIVED.format(n=warnings["revived"])] if warnings["revived"] else []
    return losses, notes


def _payload_members(path: Path) -> int:
    """Plugin payload members (``plugins/<plugin>/...json``) in an archive this process just wrote."""
    with zipfile.ZipFile(path) as z:
        return sum(1 for name in z.namelist()
                   if name.startswith("plugins/") and name.endswith(".json") and name.count("/") >= 2)


def _writer_loss_kinds(sentences: list[str]) -> list[tuple[str | None, str]]:
    """Map the v1 writer's sentences back to its loss kinds (None: a sentence this module does not know)."""
    templates = getattr(v1_writer, "_LOSSES", {})
    patterns = [(kind, re.compile(re.escape(t).replace(re.escape("{n}"), r"\d+") + r"\Z"))
                for kind, t in templates.items()]
    out: list[tuple[str | None, str]] = []
    for sentence in sentences:
        kind = next((k for k, p in patterns if p.match(sentence)), None)
        out.append((kind, sentence))
    return out


def convert(
    src: str | Path,
    dst: str | Path,
    *,
    format: Format,
    created_at: datetime | None = None,
    limits: Limits = DEFAULT_LIMITS,
    progress: Progress = NULL_PROGRESS,
    workdir: Path | None = None,
) -> ConvertResult:
    """Write archive ``src`` (v1 or v2) to ``dst`` in ``format``; return what was written and lost.

    ``src`` is validated completely first (``ArchiveInvalid`` lists every problem; nothing is
    written). ``created_at`` defaults to ``src``'s own, so the output is reproducible. ``dst`` is
    replaced atomically. The scratch store lives under ``workdir`` (default: the system temp dir).
    """
    started = time.perf_counter()
    source_path, output = Path(src), Path(dst)
    with open_archive_store(source_path, limits=limits, workdir=workdir, progress=progress) as (store, ref):
        summary = store.restored.summary
        when = to_utc(created_at) if created_at is not None else datetime.fromisoformat(summary["created_at"])
        result = backup(store, ref, output, format=format, created_at=when,
                        created_by=summary.get("created_by"), origin_server=summary.get("origin_server"),
                        progress=progress)
        payloads = _payload_members(output)
        with store.read(ref) as source:
            if format == "v1":
                losses, warnings = v1_losses(source, created_at=when, payloads_written=payloads)
            else:
                total = sum(1 for _ in source.iter_payloads())
                losses = ([Loss("plugin_payloads", total - payloads,
                                V1_LOSSES["plugin_payloads"].format(n=total - payloads))]
                          if total > payloads else [])
                warnings = []
    if format == "v1":
        # Anything the v1 writer reports that this module does not count itself is passed on as is.
        for kind, sentence in _writer_loss_kinds(result.losses):
            if kind not in _COVERED:
                count = int(m.group()) if (m := re.search(r"\d+", sentence)) else 0
                losses.append(Loss(kind or "writer", count, sentence))
    else:
        losses += [Loss("writer", int(m.group()) if (m := re.search(r"\d+", s)) else 0, s) for s in result.losses]
    return ConvertResult(source_path, output, summary["format"], format, ref, when, result.entities,
                         result.members, result.archive_bytes, time.perf_counter() - started, losses,
                         warnings + list(result.warnings), list(result.losses))
