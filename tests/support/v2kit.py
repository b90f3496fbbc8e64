"""Helpers for the v2 tests: write an archive from a store, read it, replay a plan into a store
(phase B, through the restore use case's own ``write_plan``), snapshot a package's full state, and
rebuild archives member by member (with a correct manifest, or with the original one kept)."""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lc_archive.archive.zip_reader import ArchiveReader
from lc_archive.archive.zip_writer import ArchiveWriter, atomic_output, is_compressible
from lc_archive.domain import PackageRecord
from lc_archive.formats.plan import ArchiveSummary
from lc_archive.formats.v2 import V2RestorePlan, V2WriteStats, read_v2, write_v2
from lc_archive.formats.v2.manifest import ManifestedWriter
from lc_archive.stores import open_store
from lc_archive.stores.authoring import Author
from lc_archive.stores.base import Store
from lc_archive.stores.sql import SqlStore
from lc_archive.synthetic import SyntheticClock
from lc_archive.usecases.restore import write_plan

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
REF = "lib:Org:V2"
NS = "xblock.v1"
CHUNK = 64 * 1024


def backup_v2(store: Store, ref: str, path: Path, *, created_at: datetime = WHEN, **meta: Any) -> V2WriteStats:
    """What ``backup(..., format="v2")`` will do once the lead wires it in."""
    with store.read(ref) as source, atomic_output(path) as fileobj:
        writer = ArchiveWriter(fileobj)
        stats = write_v2(source, writer, created_at=created_at, **meta)
        writer.close()
    return stats


def replay(reader: ArchiveReader, plan: V2RestorePlan, store: Store, ref: str) -> None:
    """Phase B, exactly as a restore does it (blobs, entities, collections, publish log, payloads)."""
    p = plan.package
    write_plan(reader, plan, store, PackageRecord(ref, p.title, p.description, p.created, p.updated))


def restore_v2(path: Path, store: Store, ref: str) -> ArchiveSummary:
    """Phase A then phase B; returns the plan's summary."""
    with ArchiveReader(path) as reader, read_v2(reader) as plan:
        replay(reader, plan, store, ref)
        return plan.summary()


def snapshot(store: Store, ref: str) -> dict[str, Any]:
    """Everything a package holds: package fields, every version of every entity, all collections,
    the publish log, and the bytes (hashes) of every blob its media use."""
    with store.read(ref) as source:
        p = source.package
        entities = list(source.iter_entities(history="all", batch_size=37))
        shas = sorted({m.sha256 for e in entities for v in e.versions for m in v.media})
        blobs = {}
        for sha in shas:
            digest = hashlib.sha256()
            with source.open_blob(sha) as blob:
                while chunk := blob.read(CHUNK):
                    digest.update(chunk)
            blobs[sha] = digest.hexdigest()
        return {
            "package": (p.title, p.description, p.created, p.updated),
            "entities": entities,
            "collections": list(source.iter_collections(include_disabled=True)),
            "publish_log": list(source.iter_publish_log()),
            "blobs": blobs,
        }


@dataclass
class Member:
    name: str
    data: bytes
    compress: bool
    when: datetime


def members_of(path: Path) -> list[Member]:
    """Every member of an archive, in order, with its data and entry attributes."""
    out = []
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            out.append(Member(info.filename, z.read(info), info.compress_type == zipfile.ZIP_DEFLATED,
                              datetime(*info.date_time, tzinfo=UTC)))
    return out


def rebuild(path: Path, members: list[Member], *, manifest: str = "fresh") -> Path:
    """Write ``members`` to ``path``. ``manifest="fresh"``: drop any manifest.json and append a
    correct one; ``"keep"``: write the members exactly as given (manifest.json included, if any)."""
    with atomic_output(path) as fileobj:
        out = ArchiveWriter(fileobj)
        if manifest == "fresh":
            mw = ManifestedWriter(out)
            for m in members:
                if m.name != "manifest.json":
                    mw.add_bytes(m.name, m.data, m.when, compress=m.compress)
            mw.finish(WHEN)
        else:
            for m in members:
                out.add_bytes(m.name, m.data, m.when, compress=m.compress)
        out.close()
    return path


def replace_member(members: list[Member], name: str, data: bytes) -> list[Member]:
    """A copy of ``members`` with ``name``'s data replaced."""
    hits = [m for m in members if m.name == name]
    assert hits, name
    return [Member(m.name, data, m.compress, m.when) if m.name == name else m for m in members]


def add_member(members: list[Member], name: str, data: bytes) -> list[Member]:
    """A copy with a new member before manifest.json."""
    out = [m for m in members if m.name != "manifest.json"]
    out.append(Member(name, data, is_compressible(name), WHEN))
    out += [m for m in members if m.name == "manifest.json"]
    return out


def png(size: int, seed: int = 0) -> bytes:
    """Incompressible bytes behind a PNG signature (STORED, as real images are)."""
    out = bytearray(b"\x89PNG\r\n\x1a\n")
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def author_handmade(a: Author) -> None:
    """Every state v1 cannot carry, and names that need the writer's fallbacks."""
    # Versions with gaps, custom media types, text and file media, an empty file.
    html = a.create_component(NS, "html", "intro")
    a.add_component_version(html, {"block.xml": "<html>v1</html>", "static/a.png": png(300, 1)}, title="Intro")
    a.add_component_version(html, {"block.xml": "<html>v2</html>", "static/empty.txt": b""}, title="Intro 2",
                            media_types={"static/empty.txt": "text/x-custom"})
    a.add_component_version(html, {"static/a.png": None}, title="Intro 5", force_number=5)
    # Control characters, quotes and unicode in titles.
    odd = a.create_component(NS, "problem", "odd", can_stand_alone=False)
    a.add_component_version(odd, {"block.xml": "<problem/>"}, title='tab\t nl\n quote" bs\\ del\x7f \x01 — ñ 🎓')
    # Media paths the ZIP pre-flight would refuse as member names, and clashing ones.
    names = a.create_component(NS, "html", "names")
    a.add_component_version(names, {
        "block.xml": "<html/>",
        "static/a:b.png": png(50, 2),
        "static/Straße.txt": b"one",
        "static/STRASSE.txt": b"two",
        "static/e\u0301.txt": b"nfd",
        "static/ctl\x01.txt": b"ctl",
        "static/dir": b"a file",
        "static/dir/inner.txt": b"inside",
    }, title="Names")  # fmt: skip
    # Codes whose stems collide after case folding.
    s1 = a.create_component(NS, "html", "straße")
    a.add_component_version(s1, {"block.xml": "<html>sz</html>"}, title="sz")
    s2 = a.create_component(NS, "html", "strasse")
    a.add_component_version(s2, {"block.xml": "<html>ss</html>"}, title="ss")
    # Never had a version.
    a.create_component(NS, "video", "empty")
    # Soft-deleted, never published.
    gone = a.create_component(NS, "html", "gone")
    a.add_component_version(gone, {"block.xml": "<html>gone</html>"}, title="Gone")
    a.soft_delete(gone)
    # Will be published, then soft-deleted (still published), and one published deletion.
    kept = a.create_component(NS, "html", "kept")
    a.add_component_version(kept, {"block.xml": "<html>kept</html>"}, title="Kept")
    dead = a.create_component(NS, "html", "dead")
    a.add_component_version(dead, {"block.xml": "<html>dead</html>"}, title="Dead")
    # Containers with pins, a repeated child and an empty version.
    unit = a.create_container("unit", "unit-1")
    a.add_container_version(unit, [html, (odd, 1), s1, s1], title="Unit 1")
    a.add_container_version(unit, [], title="Unit 1 (empty)")
    a.add_container_version(unit, [(html, 2), kept, dead], title="Unit 1 again")
    sub = a.create_container("subsection", "sub-1", can_stand_alone=False)
    a.add_container_version(sub, [(unit, 1)], title="Sub")
    sec = a.create_container("section", "Sec-1")
    a.add_container_version(sec, [sub], title="Section")
    a.publish(message="First — ñ")
    a.soft_delete(kept)
    a.soft_delete(dead)
    a.publish(message="Delete dead", refs=[dead])
    a.add_component_version(html, {"block.xml": "<html>v6</html>"}, title="Intro 6")
    a.set_draft(html, 2)
    a.publish(message="", refs=[html])
    # Collections: enabled, empty, disabled (members kept).
    a.create_collection("c1", "Collection 1", description="first\nline")
    a.add_to_collection("c1", [html, unit, gone])
    a.create_collection("empty", "Empty")
    a.create_collection("old", "Old one")
    a.add_to_collection("old", [s1, s2])
    a.disable_collection("old")


def handmade_store(path: Path) -> SqlStore:
    """A fresh SQLite store at ``path`` holding the hand-made package ``REF``."""
    store = open_store(f"sqlite:///{path}")
    with store.author(REF, user="alice", create={"title": "Hand-made ✓", "description": "d\n\"q\""},
                      clock=SyntheticClock(datetime(2025, 5, 1, tzinfo=UTC), 61)) as a:
        author_handmade(a)
    with store.author(REF, user=None, clock=SyntheticClock(datetime(2025, 6, 1, tzinfo=UTC), 7)) as a:
        a.add_component_version("xblock.v1:html:intro", {"block.xml": "<html>anon</html>"}, title="Anonymous")
        a.publish(message="by nobody", refs=["xblock.v1:html:intro"])
    return store
