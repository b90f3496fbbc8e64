"""Compare two archives (v1 or v2, mixed allowed) or two stored packages: what was added, removed, changed.

Each archive is validated and restored into a scratch SQLite store
(:func:`~lc_archive.usecases.scratch.open_archive_store`); the two packages are then compared as the stores
hold them, by streaming both stores' entities in ref order with a merge join: one entity per side is
in memory at a time. The collections of one side and the plugin payload targets of one side (their
SHA-256, not their bodies) are held; the publish logs are streamed side by side. The differences found
are collected in the result, so its size grows with the number of differences, never with the package.

Two modes:

* the default compares everything the stores hold except site identity (package ref, ids), like
  ``lc-archive state --all-versions``: package times; per entity its kind, type, code,
  can_stand_alone, time, author and pointer states (draft, published, soft-deleted draft, published
  deletion); every version's title, time, author, media (SHA-256, size, media type, storage mode) and
  children with pins; every collection (disabled ones included, with times and author); the publish
  log; plugin payloads;
* ``current_only`` compares exactly what the default ``lc-archive state`` shows: package title and
  description; per entity its type, can_stand_alone and draft and published versions (number, title,
  media path -> SHA-256, children with pins); enabled collections (title, description, members). That
  is the content v1 carries (pins aside), so a v1 and a v2 archive of the same package compare equal.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from itertools import zip_longest
from pathlib import Path
from typing import Any

from ..archive.limits import DEFAULT_LIMITS, Limits
from ..archive.locations import display
from ..domain import CollectionRecord, EntityRecord, VersionRecord, entity_type, iso
from ..progress import NULL_PROGRESS, Progress
from ..stores.base import History, PackageSource, in_ref_order
from .scratch import open_archive_store
from .state import publish_event_full_state

__all__ = ["DiffResult", "diff_archives", "diff_sources", "format_diff"]

Pair = list[Any]
"""``[value in A, value in B]``."""


@dataclass
class DiffResult:
    """The differences between package A and package B (all lists sorted by ref, code or number).

    ``entities_changed`` holds one dict per changed entity: ``ref``, ``fields`` (``name -> [a, b]``),
    ``versions_added``/``versions_removed`` (numbers) and ``versions_changed`` (``number``, ``fields``,
    ``media_added``/``media_removed`` (paths), ``media_changed`` (``path -> {field: [a, b]}``) and
    ``children`` (``[a, b]`` lists of ``{"ref", "pinned"}``) when they differ).
    """

    current_only: bool
    a: dict[str, Any] = field(default_factory=dict)
    """What A is: ``path``/``format``/``ref`` for archives, ``ref`` for stored packages."""
    b: dict[str, Any] = field(default_factory=dict)
    package: dict[str, Pair] = field(default_factory=dict)
    entities_added: list[str] = field(default_factory=list)
    entities_removed: list[str] = field(default_factory=list)
    entities_changed: list[dict[str, Any]] = field(default_factory=list)
    collections_added: list[str] = field(default_factory=list)
    collections_removed: list[str] = field(default_factory=list)
    collections_changed: list[dict[str, Any]] = field(default_factory=list)
    publish_log: dict[str, Any] | None = None
    """None when equal, else ``a``/``b`` (event counts), ``differing`` (positions that differ) and ``first``."""
    payloads_added: list[dict[str, Any]] = field(default_factory=list)
    payloads_removed: list[dict[str, Any]] = field(default_factory=list)
    payloads_changed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        """True when no difference was found."""
        return not (self.package or self.entities_added or self.entities_removed or self.entities_changed
                    or self.collections_added or self.collections_removed or self.collections_changed
                    or self.publish_log or self.payloads_added or self.payloads_removed or self.payloads_changed)

    def counts(self) -> dict[str, int]:
        """How many differences of each kind."""
        return {
            "package_fields": len(self.package),
            "entities_added": len(self.entities_added),
            "entities_removed": len(self.entities_removed),
            "entities_changed": len(self.entities_changed),
            "collections_added": len(self.collections_added),
            "collections_removed": len(self.collections_removed),
            "collections_changed": len(self.collections_changed),
            "publish_log_events": 0 if self.publish_log is None else self.publish_log["differing"],
            "payloads_added": len(self.payloads_added),
            "payloads_removed": len(self.payloads_removed),
            "payloads_changed": len(self.payloads_changed),
        }

    def as_dict(self) -> dict[str, Any]:
        """The machine form used by ``--json``."""
        return {
            "identical": self.identical, "current_only": self.current_only, "a": self.a, "b": self.b,
            "counts": self.counts(), "package": self.package,
            "entities": {"added": self.entities_added, "removed": self.entities_removed,
                         "changed": self.entities_changed},
            "collections": {"added": self.collections_added, "removed": self.collections_removed,
                            "changed": self.collections_changed},
            "publish_log": self.publish_log,
            "plugin_payloads": {"added": self.payloads_added, "removed": self.payloads_removed,
                                "changed": self.payloads_changed},
        }


def _fields(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Pair]:
    return {k: [a[k], b[k]] for k in a if a[k] != b[k]}


def _entity_fields(e: EntityRecord, current_only: bool) -> dict[str, Any]:
    if current_only:
        return {"type": entity_type(e.kind, e.namespace, e.type), "can_stand_alone": e.can_stand_alone,
                "draft": e.draft, "published": e.published}
    return {"kind": e.kind, "type": entity_type(e.kind, e.namespace, e.type), "code": e.code,
            "can_stand_alone": e.can_stand_alone,
            "created": iso(e.created), "created_by": e.created_by, "draft": e.draft,
            "draft_deleted": e.draft_deleted, "published": e.published, "published_deleted": e.published_deleted}


def _version_fields(v: VersionRecord, current_only: bool) -> dict[str, Any]:
    if current_only:
        return {"title": v.title}
    return {"title": v.title, "created": iso(v.created), "created_by": v.created_by}


def _media(v: VersionRecord, current_only: bool) -> dict[str, dict[str, Any]]:
    if current_only:
        return {m.path: {"sha256": m.sha256} for m in v.media}
    return {m.path: {"sha256": m.sha256, "size": m.size, "media_type": m.media_type, "has_text": m.has_text,
                     "has_file": m.has_file} for m in v.media}


def _children(v: VersionRecord) -> list[dict[str, Any]]:
    return [{"ref": c.ref, "pinned": c.pinned} for c in v.children]


def _diff_version(a: VersionRecord, b: VersionRecord, current_only: bool) -> dict[str, Any] | None:
    out: dict[str, Any] = {"number": a.number}
    if fields := _fields(_version_fields(a, current_only), _version_fields(b, current_only)):
        out["fields"] = fields
    ma, mb = _media(a, current_only), _media(b, current_only)
    if added := sorted(mb.keys() - ma.keys()):
        out["media_added"] = added
    if removed := sorted(ma.keys() - mb.keys()):
        out["media_removed"] = removed
    if changed := {p: f for p in sorted(ma.keys() & mb.keys()) if (f := _fields(ma[p], mb[p]))}:
        out["media_changed"] = changed
    ca, cb = _children(a), _children(b)
    if ca != cb:
        out["children"] = [ca, cb]
    return out if len(out) > 1 else None


def _diff_entity(a: EntityRecord, b: EntityRecord, current_only: bool) -> dict[str, Any] | None:
    out: dict[str, Any] = {"ref": a.ref}
    if fields := _fields(_entity_fields(a, current_only), _entity_fields(b, current_only)):
        out["fields"] = fields
    va, vb = {v.number: v for v in a.versions}, {v.number: v for v in b.versions}
    if added := sorted(vb.keys() - va.keys()):
        out["versions_added"] = added
    if removed := sorted(va.keys() - vb.keys()):
        out["versions_removed"] = removed
    changed = [d for n in sorted(va.keys() & vb.keys()) if (d := _diff_version(va[n], vb[n], current_only))]
    if changed:
        out["versions_changed"] = changed
    return out if len(out) > 1 else None


def _diff_entities(sa: PackageSource, sb: PackageSource, result: DiffResult, progress: Progress) -> None:
    history: History = "current" if result.current_only else "all"
    ia = in_ref_order(sa.iter_entities(history=history), "store A")
    ib = in_ref_order(sb.iter_entities(history=history), "store B")
    ea, eb = next(ia, None), next(ib, None)
    while ea is not None or eb is not None:
        if eb is None or (ea is not None and ea.ref < eb.ref):
            assert ea is not None
            result.entities_removed.append(ea.ref)
            ea = next(ia, None)
        elif ea is None or eb.ref < ea.ref:
            result.entities_added.append(eb.ref)
            eb = next(ib, None)
        else:
            if (d := _diff_entity(ea, eb, result.current_only)) is not None:
                result.entities_changed.append(d)
            ea, eb = next(ia, None), next(ib, None)
        progress.advance()


def _collection_fields(c: CollectionRecord, current_only: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"title": c.title, "description": c.description}
    if not current_only:
        out |= {"enabled": c.enabled, "created": iso(c.created), "modified": iso(c.modified),
                "created_by": c.created_by}
    return out


def _diff_collections(sa: PackageSource, sb: PackageSource, result: DiffResult) -> None:
    include_disabled = not result.current_only
    held = {c.code: c for c in sa.iter_collections(include_disabled=include_disabled)}
    seen: set[str] = set()
    for cb in sb.iter_collections(include_disabled=include_disabled):
        seen.add(cb.code)
        ca = held.get(cb.code)
        if ca is None:
            result.collections_added.append(cb.code)
            continue
        out: dict[str, Any] = {"code": cb.code}
        if fields := _fields(_collection_fields(ca, result.current_only), _collection_fields(cb, result.current_only)):
            out["fields"] = fields
        ma, mb = set(ca.members), set(cb.members)
        if added := sorted(mb - ma):
            out["members_added"] = added
        if removed := sorted(ma - mb):
            out["members_removed"] = removed
        if len(out) > 1:
            result.collections_changed.append(out)
    result.collections_removed = sorted(held.keys() - seen)
    result.collections_added.sort()
    result.collections_changed.sort(key=lambda c: str(c["code"]))


def _diff_publish_log(sa: PackageSource, sb: PackageSource, result: DiffResult) -> None:
    count_a = count_b = differing = 0
    first: int | None = None
    for i, (ea, eb) in enumerate(zip_longest(sa.iter_publish_log(), sb.iter_publish_log())):
        count_a += ea is not None
        count_b += eb is not None
        if ea is None or eb is None or publish_event_full_state(ea) != publish_event_full_state(eb):
            differing += 1
            first = i if first is None else first
    if differing:
        result.publish_log = {"a": count_a, "b": count_b, "differing": differing, "first": first}


def _payload_key(plugin: str, entity: str | None, version: int | None) -> tuple[str, str, int]:
    return (plugin, entity or "", version or 0)


def _diff_payloads(sa: PackageSource, sb: PackageSource, result: DiffResult) -> None:
    held: dict[tuple[str, str, int], tuple[dict[str, Any], int, str]] = {}
    for p in sa.iter_payloads():
        target = {"plugin": p.plugin, "entity": p.entity, "version": p.version}
        held[_payload_key(p.plugin, p.entity, p.version)] = (target, p.schema_version,
                                                            hashlib.sha256(p.body).hexdigest())
    seen: set[tuple[str, str, int]] = set()
    for p in sb.iter_payloads():
        key = _payload_key(p.plugin, p.entity, p.version)
        seen.add(key)
        target = {"plugin": p.plugin, "entity": p.entity, "version": p.version}
        mine = held.get(key)
        if mine is None:
            result.payloads_added.append(target)
            continue
        fields = _fields({"schema_version": mine[1], "sha256": mine[2]},
                         {"schema_version": p.schema_version, "sha256": hashlib.sha256(p.body).hexdigest()})
        if fields:
            result.payloads_changed.append({**target, "fields": fields})
    result.payloads_removed = [held[k][0] for k in sorted(held.keys() - seen)]
    result.payloads_added.sort(key=lambda t: _payload_key(t["plugin"], t["entity"], t["version"]))
    result.payloads_changed.sort(key=lambda t: _payload_key(t["plugin"], t["entity"], t["version"]))


def diff_sources(sa: PackageSource, sb: PackageSource, *, current_only: bool = False,
                 progress: Progress = NULL_PROGRESS) -> DiffResult:
    """Compare two stored packages (see the module docstring for what each mode compares)."""
    result = DiffResult(current_only, a={"ref": sa.package.ref}, b={"ref": sb.package.ref})
    pa, pb = sa.package, sb.package
    package_a: dict[str, Any] = {"title": pa.title, "description": pa.description}
    package_b: dict[str, Any] = {"title": pb.title, "description": pb.description}
    if not current_only:
        package_a |= {"created": iso(pa.created), "updated": iso(pa.updated)}
        package_b |= {"created": iso(pb.created), "updated": iso(pb.updated)}
    result.package = _fields(package_a, package_b)
    progress.phase("compare", max(sa.entity_count(), sb.entity_count()))
    _diff_entities(sa, sb, result, progress)
    _diff_collections(sa, sb, result)
    if not current_only:
        _diff_publish_log(sa, sb, result)
        _diff_payloads(sa, sb, result)
    return result


def diff_archives(
    a: str | Path,
    b: str | Path,
    *,
    current_only: bool | None = None,
    limits: Limits = DEFAULT_LIMITS,
    workdir: Path | None = None,
    progress: Progress = NULL_PROGRESS,
) -> DiffResult:
    """Compare archives ``a`` and ``b`` (each v1 or v2): restore each into a scratch store, then compare.

    Both are validated completely first (``ArchiveInvalid`` lists every problem of the first bad one).
    ``current_only`` None (the default) compares what both formats carry: everything for two v2
    archives, the current content when either is v1 (whose history and times a reader makes up).
    """
    with (open_archive_store(a, limits=limits, workdir=workdir, progress=progress) as (store_a, ref_a),
          open_archive_store(b, limits=limits, workdir=workdir, progress=progress) as (store_b, ref_b),
          store_a.read(ref_a) as sa, store_b.read(ref_b) as sb):
        if current_only is None:
            current_only = "v1" in (store_a.restored.archive.format, store_b.restored.archive.format)
        result = diff_sources(sa, sb, current_only=current_only, progress=progress)
        result.a = {"path": display(a), "format": store_a.restored.archive.format, "ref": ref_a}
        result.b = {"path": display(b), "format": store_b.restored.archive.format, "ref": ref_b}
        return result


def _short(value: Any) -> str:
    if isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value):
        return value[:12]  # a SHA-256
    return repr(value)


def _pairs(fields: dict[str, Pair]) -> str:
    return ", ".join(f"{k} {_short(a)} -> {_short(b)}" for k, (a, b) in fields.items())


def _children_text(children: list[dict[str, Any]]) -> str:
    return "[" + ", ".join(c["ref"] + (f"@{c['pinned']}" if c["pinned"] is not None else "")
                           for c in children) + "]"


def format_diff(result: DiffResult) -> list[str]:
    """The human form: one line per difference (indented under its entity or collection)."""
    def side(s: dict[str, Any]) -> str:
        if "path" in s:
            return f"{s['path']} ({s['format']}, {s['ref']})"
        return str(s.get("ref"))
    lines = [f"A: {side(result.a)}", f"B: {side(result.b)}",
             "compared: " + ("draft and published versions (what 'state' shows)" if result.current_only
                             else "everything (every version, the publish log, plugin payloads)")]
    if result.package:
        lines.append(f"package: {_pairs(result.package)}")
    lines += [f"entity added: {r}" for r in result.entities_added]
    lines += [f"entity removed: {r}" for r in result.entities_removed]
    for e in result.entities_changed:
        lines.append(f"entity changed: {e['ref']}")
        if "fields" in e:
            lines.append(f"  {_pairs(e['fields'])}")
        if "versions_added" in e:
            lines.append("  versions added: " + ", ".join(map(str, e["versions_added"])))
        if "versions_removed" in e:
            lines.append("  versions removed: " + ", ".join(map(str, e["versions_removed"])))
        for v in e.get("versions_changed", []):
            lines.append(f"  version {v['number']} changed:")
            if "fields" in v:
                lines.append(f"    {_pairs(v['fields'])}")
            lines += [f"    media added: {p}" for p in v.get("media_added", [])]
            lines += [f"    media removed: {p}" for p in v.get("media_removed", [])]
            lines += [f"    media changed: {p}: {_pairs(f)}" for p, f in v.get("media_changed", {}).items()]
            if "children" in v:
                a, b = v["children"]
                lines.append(f"    children {_children_text(a)} -> {_children_text(b)}")
    lines += [f"collection added: {c}" for c in result.collections_added]
    lines += [f"collection removed: {c}" for c in result.collections_removed]
    for c in result.collections_changed:
        lines.append(f"collection changed: {c['code']}")
        if "fields" in c:
            lines.append(f"  {_pairs(c['fields'])}")
        if "members_added" in c:
            lines.append("  members added: " + ", ".join(c["members_added"]))
        if "members_removed" in c:
            lines.append("  members removed: " + ", ".join(c["members_removed"]))
    if result.publish_log is not None:
        log = result.publish_log
        lines.append(f"publish log: {log['a']} events -> {log['b']} events, {log['differing']} positions differ "
                     f"(first: event {log['first'] + 1})")

    def target(t: dict[str, Any]) -> str:
        if t["entity"] is None:
            return f"{t['plugin']} on the package"
        where = t["entity"] + ("" if t["version"] is None else f" v{t['version']}")
        return f"{t['plugin']} on {where}"
    lines += [f"plugin payload added: {target(t)}" for t in result.payloads_added]
    lines += [f"plugin payload removed: {target(t)}" for t in result.payloads_removed]
    lines += [f"plugin payload changed: {target(t)}: {_pairs(t['fields'])}" for t in result.payloads_changed]
    if result.identical:
        lines.append("identical")
    else:
        counts = {k: n for k, n in result.counts().items() if n}
        lines.append("differ: " + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts.items()))
    return lines
