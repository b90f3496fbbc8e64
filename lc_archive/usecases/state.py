"""The canonical content state of a package: the JSON that ``lc-archive state`` prints.

It is the format defined by the peer harness (``../shared/peer/README.md``), so the state of a package
in an lc-archive store and in openedx-core compare byte for byte: package title and description, a
summary of counts, every entity's draft and published version (title, media hashes, children), and
the enabled collections. Site identity (package ref, ids, timestamps, authors) is left out.

:func:`compute_full_state` (``compute_state(source, all_versions=True)``, ``lc-archive state
--all-versions``) is lc-archive's own, wider view: everything the store holds except site identity
(the package ref and database ids). Package times; every entity's kind, code, authors, times and
pointer states (soft-deleted drafts, published deletions); every version (history ``"all"``) with its
time, author, media (hash, size, media type, storage mode) and pinned children; every collection,
disabled ones included; the publish log in order; and plugin payloads (by SHA-256 of their bodies).
Two stores with equal full states hold the same package. Entities are streamed; the resulting dict is
held in memory (it grows with the package, blobs never enter it).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..domain import (
    COMPONENT,
    CollectionRecord,
    EntityRecord,
    PayloadRecord,
    PublishLogRecord,
    VersionRecord,
    entity_type,
    iso,
)
from ..stores.base import PackageSource

__all__ = [
    "collection_full_state",
    "compute_full_state",
    "compute_state",
    "entity_full_state",
    "payload_full_state",
    "publish_event_full_state",
    "state_json",
    "version_full_state",
]


def _side(entity: EntityRecord, version: VersionRecord | None, media_types: bool) -> dict[str, Any] | None:
    if version is None:
        return None
    out: dict[str, Any] = {"version_num": version.number, "title": version.title}
    if entity.kind == COMPONENT:
        out["media"] = {
            m.path: f"{m.sha256};{m.media_type}" if media_types else m.sha256 for m in version.media
        }
    else:
        out["children"] = [c.ref for c in version.children]
        if any(c.pinned is not None for c in version.children):
            out["children_pinned_versions"] = [c.pinned for c in version.children]
    return out


def compute_state(source: PackageSource, *, media_types: bool = False, all_versions: bool = False) -> dict[str, Any]:
    """The canonical state of the package behind ``source`` (streams entities, holds only the result).

    ``all_versions`` returns :func:`compute_full_state` instead (``media_types`` is then moot: the
    full state always carries them).
    """
    if all_versions:
        return compute_full_state(source)
    summary: dict[str, int] = {"entities": 0, "published": 0, "draft": 0, "draft_deleted": 0,
                               "unpublished_changes": 0}
    entities: dict[str, Any] = {}
    for e in source.iter_entities(history="current"):
        etype = entity_type(e.kind, e.namespace, e.type)
        d, p = e.version(e.draft), e.version(e.published)
        summary["entities"] += 1
        summary[etype] = summary.get(etype, 0) + 1
        summary["published"] += p is not None
        summary["draft"] += d is not None
        summary["draft_deleted"] += d is None and p is not None
        summary["unpublished_changes"] += d is not None and (p is None or p.number != d.number)
        entities[e.ref] = {
            "type": etype,
            "can_stand_alone": e.can_stand_alone,
            "draft": _side(e, d, media_types),
            "published": _side(e, p, media_types),
        }
    collections = {
        c.code: {"title": c.title, "description": c.description, "entities": sorted(c.members)}
        for c in source.iter_collections(include_disabled=False)
    }
    summary["collections"] = len(collections)
    return {
        "package": {"title": source.package.title, "description": source.package.description},
        "summary": summary,
        "entities": dict(sorted(entities.items())),
        "collections": dict(sorted(collections.items())),
    }


def version_full_state(entity: EntityRecord, version: VersionRecord) -> dict[str, Any]:
    """One version in the full state: number, title, time, author, and media or children."""
    out: dict[str, Any] = {"number": version.number, "title": version.title, "created": iso(version.created),
                           "created_by": version.created_by}
    if entity.kind == COMPONENT:
        out["media"] = {
            m.path: {"sha256": m.sha256, "size": m.size, "media_type": m.media_type, "has_text": m.has_text,
                     "has_file": m.has_file}
            for m in version.media
        }
    else:
        out["children"] = [{"ref": c.ref, "pinned": c.pinned} for c in version.children]
    return out


def entity_full_state(entity: EntityRecord) -> dict[str, Any]:
    """One entity in the full state, with every version it carries (ascending numbers)."""
    return {
        "kind": entity.kind,
        "type": entity_type(entity.kind, entity.namespace, entity.type),
        "code": entity.code,
        "can_stand_alone": entity.can_stand_alone,
        "created": iso(entity.created),
        "created_by": entity.created_by,
        "draft": entity.draft,
        "draft_deleted": entity.draft_deleted,
        "published": entity.published,
        "published_deleted": entity.published_deleted,
        "versions": [version_full_state(entity, v) for v in entity.versions],
    }


def collection_full_state(collection: CollectionRecord) -> dict[str, Any]:
    """One collection in the full state (disabled ones included, with their members)."""
    return {
        "title": collection.title,
        "description": collection.description,
        "enabled": collection.enabled,
        "created": iso(collection.created),
        "modified": iso(collection.modified),
        "created_by": collection.created_by,
        "members": sorted(collection.members),
    }


def publish_event_full_state(event: PublishLogRecord) -> dict[str, Any]:
    """One publish log event in the full state."""
    return {
        "published_at": iso(event.published_at),
        "published_by": event.published_by,
        "message": event.message,
        "entries": [{"ref": e.ref, "old": e.old, "new": e.new} for e in event.entries],
    }


def payload_full_state(payload: PayloadRecord) -> dict[str, Any]:
    """One plugin payload in the full state: its target, schema version and the SHA-256 of its body."""
    return {
        "plugin": payload.plugin,
        "entity": payload.entity,
        "version": payload.version,
        "schema_version": payload.schema_version,
        "sha256": hashlib.sha256(payload.body).hexdigest(),
    }


def compute_full_state(source: PackageSource) -> dict[str, Any]:
    """Everything the package behind ``source`` holds except site identity (see the module docstring).

    Entities stream a batch at a time (history ``"all"``); the result is held whole.
    """
    package = source.package
    summary: dict[str, int] = {"entities": 0, "versions": 0, "media": 0, "collections": 0,
                               "disabled_collections": 0, "publish_events": 0, "plugin_payloads": 0}
    entities: dict[str, Any] = {}
    for e in source.iter_entities(history="all"):
        summary["entities"] += 1
        summary["versions"] += len(e.versions)
        summary["media"] += sum(len(v.media) for v in e.versions)
        entities[e.ref] = entity_full_state(e)
    collections: dict[str, Any] = {}
    for c in source.iter_collections(include_disabled=True):
        summary["collections"] += 1
        summary["disabled_collections"] += not c.enabled
        collections[c.code] = collection_full_state(c)
    log = [publish_event_full_state(event) for event in source.iter_publish_log()]
    summary["publish_events"] = len(log)
    payloads = [payload_full_state(p) for p in source.iter_payloads()]
    summary["plugin_payloads"] = len(payloads)
    return {
        "package": {"title": package.title, "description": package.description, "created": iso(package.created),
                    "updated": iso(package.updated)},
        "summary": summary,
        "entities": dict(sorted(entities.items())),
        "collections": dict(sorted(collections.items())),
        "publish_log": log,
        "plugin_payloads": payloads,
    }


def state_json(state: dict[str, Any]) -> str:
    """Serialize a state exactly as the peer does (sorted keys, indent 1, UTF-8, final newline)."""
    return json.dumps(state, sort_keys=True, ensure_ascii=False, indent=1) + "\n"
