"""The openedx updater against openedx-core's own API: the same import (two new entities, new versions of
a component with a file, of a component, of a unit, a soft delete under a unit, a collection overwritten
and one created, a publish that also publishes an unpinned child as a dependency) applied to the same
package in two fresh databases, once through openedx-core's authoring API and once through
:class:`~lc_archive.stores.openedx.updater.OpenedxUpdater`, gives the same rows in every openedx-core
table, ignoring primary keys and UUIDs (foreign keys compared by natural key)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from support.openedx_db import OpenedxDb, any_user, open_db
from support.openedx_replay import replay_import
from support.openedx_rows import table_rows, version_ids

from lc_archive.domain import (
    ChildRecord,
    CollectionRecord,
    EntityRecord,
    MediaRecord,
    PackageRecord,
    PublishLogEntry,
    PublishLogRecord,
    VersionRecord,
)
from lc_archive.stores.openedx.sink import open_sink
from lc_archive.stores.openedx.updater import open_updater
from lc_archive.stores.updates import NewVersion

T0 = datetime(2025, 2, 1, 8, 0, tzinfo=UTC)
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
XML = "application/vnd.openedx.xblock.v1.html+xml"
C = "xblock.v1:html:"
REF = "lib:Org:IMPORTED"


def _t(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


class _Blobs(dict[str, bytes]):
    def media(self, path: str, data: bytes, mime: str, *, text: bool, file: bool) -> MediaRecord:
        sha = hashlib.sha256(data).hexdigest()
        self[sha] = data
        return MediaRecord(path, sha, len(data), mime, has_text=text, has_file=file)

    def xml(self, code: str, n: int) -> MediaRecord:
        return self.media("block.xml", f'<html display_name="{code}">{n}</html>'.encode(), XML, text=True, file=False)

    def png(self, n: int) -> MediaRecord:
        return self.media("static/fig.png", b"\x89PNG" + bytes([n]) * 200, "image/png", text=False, file=True)


def _component(blobs: _Blobs, code: str, n: int, *, draft: int, published: int | None, png: bool = False
               ) -> EntityRecord:
    versions = tuple(VersionRecord(v, f"{code} v{v}", _t(10 * v), "ann",
                                   (blobs.xml(code, v), *((blobs.png(v),) if png else ())))
                     for v in range(1, n + 1))
    return EntityRecord(C + code, "component", "xblock.v1", "html", code, True, _t(1), "ann", versions,
                        draft=draft, published=published)


def _container(kind: str, code: str, children: list[tuple[str, int | None]], *, published: int | None
               ) -> EntityRecord:
    v = VersionRecord(1, f"{code} v1", _t(100), "bob", children=tuple(ChildRecord(r, p) for r, p in children))
    return EntityRecord(code, "container", "", kind, code, kind != "unit", _t(2), "bob", (v,), draft=1,
                        published=published)


def _base(blobs: _Blobs) -> tuple[list[EntityRecord], list[CollectionRecord], list[PublishLogRecord]]:
    entities = [
        _component(blobs, "c1", 2, draft=2, published=2, png=True),
        _component(blobs, "c2", 1, draft=1, published=1),
        _component(blobs, "c3", 1, draft=1, published=1),
        _component(blobs, "c4", 2, draft=2, published=1),
        _container("unit", "u1", [(C + "c1", None), (C + "c2", None)], published=1),
        _container("unit", "u2", [(C + "c3", None), (C + "c4", 1)], published=1),
        _container("subsection", "s1", [("u1", None), ("u2", None)], published=1),
    ]
    first = tuple(PublishLogEntry(e.ref, None, e.published) for e in entities)
    events = [PublishLogRecord(_t(200), "ann", "first", first)]
    collections = [CollectionRecord("col-a", "A", "", True, _t(5), _t(300), "ann", (C + "c1", "u1")),
                   CollectionRecord("col-b", "B", "", False, _t(6), _t(301), "bob", (C + "c2",))]
    return entities, collections, events


def _import(blobs: _Blobs) -> dict[str, Any]:
    c9 = _component(blobs, "c9", 2, draft=2, published=None)
    u9 = _container("unit", "u9", [(C + "c9", None), (C + "c1", 1)], published=None)
    versions = [
        (C + "c1", VersionRecord(3, "c1 v3", _t(600), "bob", (blobs.xml("c1", 3), blobs.png(1)))),
        (C + "c2", VersionRecord(2, "c2 renamed", _t(601), "ghost", (blobs.xml("c2", 1),))),
        ("u2", VersionRecord(2, "u2 v2", _t(602), "bob", children=(ChildRecord(C + "c3"), ChildRecord(C + "c9")))),
    ]
    collections = [CollectionRecord("col-a", "A2", "changed", True, _t(5), _t(700), "ann", (C + "c1", C + "c9")),
                   CollectionRecord("col-c", "C", "new", True, _t(650), _t(651), "bob", ("u9",))]
    return {"added": [c9, u9], "versions": versions, "deleted": [C + "c3"], "collections": collections,
            # c9 is published only as a dependency of u9 and u2 (not direct)
            "publish": [C + "c1", C + "c2", C + "c3", "u2", "u9"]}


def _users() -> None:
    for name in ("ann", "bob", "importer"):
        any_user(name)


def _base_package(db: OpenedxDb, blobs: _Blobs) -> None:
    entities, collections, events = _base(blobs)
    _users()
    with open_sink(PackageRecord(REF, "Imported", "", _t(0), _t(0)), using=db.alias, user="importer",
                   now=_t(400)) as sink:
        for data in blobs.values():
            sink.put_blob([data])
        sink.add_entities(entities)
        sink.add_collections(collections)
        sink.add_publish_log(events)


def test_updater_rows_equal_openedx_core_api_rows(
    openedx_sqlite: OpenedxDb, tmp_path: Path, openedx_servers: dict[str, Any]
) -> None:
    blobs = _Blobs()
    _base_package(openedx_sqlite, blobs)
    change = _import(blobs)
    replay_import(REF, change["added"], change["versions"], change["deleted"], change["collections"],
                  change["publish"], blobs, importer="importer", now=NOW, message="import of b.zip")
    api_rows, api_versions = table_rows(), version_ids()

    written = open_db("sqlite", tmp_path / "bulk", openedx_servers)
    _base_package(written, blobs)
    with open_updater(REF, using=written.alias, user="importer", now=NOW) as updater:
        for data in blobs.values():
            updater.put_blob([data[:5], data[5:]])
        updater.add_entities(change["added"])
        updater.add_versions(NewVersion(ref, v) for ref, v in change["versions"])
        updater.soft_delete(change["deleted"])
        updater.put_collections(change["collections"])
        published = updater.publish(change["publish"], PublishLogRecord(NOW, "importer", "import of b.zip"))
        updater.touch(NOW)
    assert published == 6  # the five asked for and c9, a dependency
    bulk_rows, bulk_versions = table_rows(), version_ids()

    assert bulk_versions == api_versions  # the dependency hashes are made of version ids
    records = api_rows["PublishLogRecord"]
    assert any("'direct', False" in r and "c9" in r for r in records), "no dependency was published"
    assert len(api_rows["DraftChangeLog"]) == 2 and len(api_rows["PublishLog"]) == 2
    assert sorted(bulk_rows) == sorted(api_rows)
    for table, rows in api_rows.items():
        assert bulk_rows[table] == rows, table
