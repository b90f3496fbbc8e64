"""A small library for import tests, the edits the issue names, and store helpers (file hash, row counts)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from lc_archive import backup, restore
from lc_archive.domain import PayloadRecord
from lc_archive.stores import SqlStore, open_store, schema
from lc_archive.synthetic import SyntheticClock
from lc_archive.usecases.state import compute_state, state_json

SRC = "lib:Org:SRC"
REF = "lib:Org:REF"
EDIT = "lib:Org:EDIT"
HTML = [f"xblock.v1:html:h{i}" for i in range(6)]
PROBLEM = "xblock.v1:problem:p0"
NEW = "xblock.v1:html:fresh"
START = datetime(2025, 5, 1, tzinfo=UTC)


def make_source(path: Path) -> SqlStore:
    """Six html components (one with an image), a problem, two units (one pinning), a subsection, a
    collection; published once, then one draft edit."""
    store = open_store(f"sqlite:///{path}")
    with store.author(SRC, user="alice", create={"title": "Source", "description": "d"},
                      clock=SyntheticClock(START, 60)) as a:
        for ref in (*HTML, PROBLEM):
            ns, type_, code = ref.split(":")
            a.create_component(ns, type_, code)
            a.add_component_version(ref, {"block.xml": f"<{type_} display_name='{code}'>v1</{type_}>"}, title=code)
        a.add_component_version(HTML[0], {"static/pic.png": b"\x89PNG one"}, title="h0 with pic")
        a.create_container("unit", "u1")
        a.add_container_version("u1", [HTML[0], HTML[1], HTML[2]], title="Unit 1")
        a.create_container("unit", "u2")
        a.add_container_version("u2", [HTML[3], (HTML[4], 1), PROBLEM], title="Unit 2")
        a.create_container("subsection", "s1")
        a.add_container_version("s1", ["u1", "u2"], title="Sub 1")
        a.create_collection("col", "Collection")
        a.add_to_collection("col", [HTML[0], "u2"])
        a.publish(message="first")
        a.set_payload(note(HTML[4]))
        a.add_component_version(HTML[5], {"block.xml": "<html display_name='h5'>v2</html>"}, title="h5 again")
    return store


def note(entity: str | None, text: str | None = None, *, version: int | None = None) -> PayloadRecord:
    """A plugin payload on the package, one entity or one version (the example notes plugin's envelope)."""
    doc: dict[str, Any] = {"data": {"note": text or f"on {entity}"}, "plugin": "acme-notes", "schema_version": 1}
    if entity is not None:
        doc["entity"] = entity
    if version is not None:
        doc["version"] = version
    body = (json.dumps(doc, sort_keys=True, indent=2) + "\n").encode()
    return PayloadRecord("acme-notes", 1, body, entity, version)


def clock(hour: int) -> SyntheticClock:
    """A clock for edits, later than the source's."""
    return SyntheticClock(datetime(2025, 6, 1, hour, tzinfo=UTC), 30)


def edit_five(store: SqlStore, ref: str, *, user: str = "bob") -> None:
    """The issue's edit: three components changed, one added, one deleted."""
    with store.author(ref, user=user, clock=clock(1)) as a:
        a.add_component_version(HTML[1], {"block.xml": "<html display_name='h1'>edited</html>"}, title="h1")
        a.add_component_version(HTML[2], {"static/new.png": b"\x89PNG new"}, title="h2")
        a.add_component_version(PROBLEM, {"block.xml": "<problem display_name='p0'>v2</problem>"}, title="p0 v2")
        a.create_component("xblock.v1", "html", "fresh")
        a.add_component_version(NEW, {"block.xml": "<html display_name='fresh'>new</html>"}, title="Fresh")
        a.soft_delete(HTML[3])


def archive_of(store: SqlStore, ref: str, path: Path, **kwargs: Any) -> Path:
    backup(store, ref, path, **kwargs)
    return path


def state(store: SqlStore, ref: str, **kwargs: Any) -> dict[str, Any]:
    with store.read(ref) as source:
        result: dict[str, Any] = json.loads(state_json(compute_state(source, **kwargs)))
        return result


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def counts(store: SqlStore) -> dict[str, int]:
    """Rows per table."""
    with store.transaction(write=False) as conn:
        return {t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                for t in schema.metadata.sorted_tables}


def versions(store: SqlStore, ref: str) -> dict[str, list[int]]:
    with store.read(ref) as source:
        return {e.ref: [v.number for v in e.versions] for e in source.iter_entities(history="all")}


def snapshot(store: SqlStore) -> Any:
    """What must not change when an operation fails: the SQLite file's bytes, or on PostgreSQL the row
    counts and every package's full state."""
    database = store.engine.url.database
    if store.dialect == "sqlite" and database:
        return file_hash(Path(database))
    return counts(store), {ref: state(store, ref, all_versions=True) for ref in store.package_refs()}


def setup_pair(tmp_path: Path, target_url: str | None = None) -> tuple[SqlStore, SqlStore, Path]:
    """``target`` holds A restored as REF; ``editor`` holds A restored as EDIT. Returns them and A."""
    src = make_source(tmp_path / "src.db")
    a = archive_of(src, SRC, tmp_path / "a.zip")
    src.close()
    target = open_store(target_url or f"sqlite:///{tmp_path / 'target.db'}")
    restore(a, target, ref=REF)
    editor = open_store(f"sqlite:///{tmp_path / 'editor.db'}")
    restore(a, editor, ref=EDIT)
    return target, editor, a
