"""The canonical content state of a package: the JSON that ``lc-archive state`` prints.

It is the format defined by the peer harness (``../shared/peer/README.md``), so the state of a package
in an lc-archive store and in openedx-core compare byte for byte: package title and description, a
summary of counts, every entity's draft and published version (title, media hashes, children), and
the enabled collections. Site identity (package ref, ids, timestamps, authors) is left out.
"""

from __future__ import annotations

import json
from typing import Any

from .stores.base import PackageSource
from .stores.records import COMPONENT, EntityRecord, VersionRecord

__all__ = ["compute_state", "state_json"]


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


def entity_type(entity: EntityRecord) -> str:
    """``namespace:type`` for components, the container type for containers."""
    return f"{entity.namespace}:{entity.type}" if entity.kind == COMPONENT else entity.type


def compute_state(source: PackageSource, *, media_types: bool = False) -> dict[str, Any]:
    """The canonical state of the package behind ``source`` (streams entities, holds only the result)."""
    summary: dict[str, int] = {"entities": 0, "published": 0, "draft": 0, "draft_deleted": 0,
                               "unpublished_changes": 0}
    entities: dict[str, Any] = {}
    for e in source.iter_entities(history="current"):
        etype = entity_type(e)
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


def state_json(state: dict[str, Any]) -> str:
    """Serialize a state exactly as the peer does (sorted keys, indent 1, UTF-8, final newline)."""
    return json.dumps(state, sort_keys=True, ensure_ascii=False, indent=1) + "\n"
