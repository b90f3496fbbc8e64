"""What a v1 archive cannot give back, counted once, for ``backup --format v1`` and ``convert``.

v1 keeps only the draft and published versions and has no place for pins, authors, version times,
media types, storage modes, disabled collections or the publish log (``docs/formats/v1.md`` §9). The v1
writer feeds every entity, collection and plugin payload it handles to one :class:`V1Losses`, which
counts, per kind, what an lc-archive restore of the archive would not give back: a value that a v1
reader rebuilds identically (a version time equal to the archive's ``created_at``, a media type equal
to the one readers derive from the file name) is not a loss. Content that v1 carries but openedx-core
1.15.2 restores differently is counted as a warning.

Versions other than the draft and published ones are counted exactly from the entity's whole history,
or from the number of versions the source says the entity has (:attr:`EntityRecord.version_count`, which
the SQL store gives when it reads the current versions only). Only a source that says neither makes the
count a lower bound (``at least``): the versions missing below the highest written one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from ...domain import (
    CONTAINER,
    OLX_PATH,
    CollectionRecord,
    EntityRecord,
    MediaRecord,
    VersionRecord,
    component_ref,
    media_type_for,
)

__all__ = ["LOSSES", "WARNINGS", "V1Losses"]

LOSSES: dict[str, str] = {
    "history": "{n} versions other than the draft and published ones not written",
    "soft_deleted": "{n} soft-deleted drafts of unpublished entities not carried "
    "(they come back as entities that never had a version)",
    "published_deletions": "{n} published deletions carried as 'never published'",
    "version_times": "{n} version creation times not carried (restored as the archive's created_at)",
    "version_authors": "{n} version authors not carried",
    "pins": "{n} pinned container children written unpinned (v1 has no pins)",
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
    "version_payloads": "{n} plugin payloads of versions that v1 does not carry left out",
}
"""Every kind of loss, as a sentence template (``{n}``: the count)."""

WARNINGS: dict[str, str] = {
    "revived": "{n} soft-deleted drafts of published entities: lc-archive restores them deleted, "
    "openedx-core brings the draft back",
    "version_dir_paths": "{n} media paths contain 'v<N>/' of their own version "
    "(openedx-core 1.15.2's reader shortens them)",
    "whitespace": "{n} titles or descriptions have leading/trailing whitespace (openedx-core trims it)",
    "blank_titles": "{n} package or collection titles are blank (openedx-core refuses to restore them)",
}
"""Content v1 carries but openedx-core 1.15.2 restores differently."""


class V1Losses:
    """Counts, per kind, what a v1 archive written at ``created_at`` loses (see the module docstring).

    ``complete_history`` says whether the entities passed in carry every version (exact ``history``)
    or only the written ones (a lower bound).
    """

    def __init__(self, created_at: datetime, *, complete_history: bool) -> None:
        self.created_at = created_at
        self.complete_history = complete_history
        self.history_exact = True
        """Whether the ``history`` count is exact: every entity came with its whole history or its version count."""
        self.counts: Counter[str] = Counter()
        self.warnings: Counter[str] = Counter()

    def entity(self, entity: EntityRecord, written: Sequence[VersionRecord]) -> None:
        """One entity, of which v1 writes the ``written`` versions."""
        counts = self.counts
        if entity.version_count is not None:
            counts["history"] += max(entity.version_count - len(written), 0)
        elif self.complete_history:
            counts["history"] += len(entity.versions) - len(written)
        else:
            self.history_exact = False
            highest = max([entity.draft or 0, entity.published or 0, *(v.number for v in entity.versions)])
            counts["history"] += max(highest - len(written), 0)
        # A v1 reader sets draft_deleted exactly when there is no draft but a published version.
        counts["soft_deleted"] += entity.draft_deleted != (entity.draft is None and entity.published is not None)
        self.warnings["revived"] += entity.draft is None and entity.draft_deleted and entity.published is not None
        counts["published_deletions"] += entity.published_deleted
        counts["entity_authors"] += entity.created_by is not None
        if entity.kind == CONTAINER:
            counts["container_codes"] += entity.code != entity.ref
        else:
            counts["component_refs"] += entity.ref != component_ref(entity.namespace, entity.type, entity.code)
        for version in written:
            counts["version_times"] += version.created != self.created_at
            counts["version_authors"] += version.created_by is not None
            counts["pins"] += sum(child.pinned is not None for child in version.children)
            for media in version.media:
                self._media(entity, version, media)

    def _media(self, entity: EntityRecord, version: VersionRecord, media: MediaRecord) -> None:
        self.warnings["version_dir_paths"] += f"v{version.number}/" in media.path
        if media.path.endswith(".toml"):
            self.counts["toml_media"] += 1  # left out altogether: its type and mode are not separate losses
            return
        is_olx = media.path == OLX_PATH
        self.counts["media_types"] += media.media_type != media_type_for(entity.type, media.path)
        self.counts["storage_modes"] += (media.has_text, media.has_file) != (is_olx, not is_olx)

    def collection(self, collection: CollectionRecord) -> bool:
        """One collection; whether v1 writes it (disabled ones are not)."""
        if not collection.enabled:
            self.counts["disabled_collections"] += 1
            return False
        self.counts["collection_authors"] += collection.created_by is not None
        self.counts["collection_modified"] += collection.modified != collection.created
        return True

    def loss_counts(self) -> dict[str, int]:
        """Kind -> count of every kind that lost something, in :data:`LOSSES` order."""
        return {k: n for k in LOSSES if (n := self.counts[k])}

    def warning_counts(self) -> dict[str, int]:
        """Kind -> count of every warning kind that applies, in :data:`WARNINGS` order."""
        return {k: n for k in WARNINGS if (n := self.warnings[k])}

    @staticmethod
    def sentence(kind: str, n: int, *, complete_history: bool = True) -> str:
        """The sentence for ``n`` losses of ``kind`` (``history`` is a lower bound without the whole history)."""
        text = LOSSES[kind].format(n=n)
        return text if kind != "history" or complete_history else f"at least {text}"
