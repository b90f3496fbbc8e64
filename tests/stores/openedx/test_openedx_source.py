"""Reading a package from openedx-core: every version, authors, pointers, pins, media, collections,
the publish log, on SQLite, MariaDB and PostgreSQL."""

from __future__ import annotations

import hashlib

from support.openedx_db import OpenedxDb
from support.openedx_library import PNG, build_library, html_olx

from lc_archive.stores import open_store


def test_reads_every_version_with_authors_and_pointers(openedx_db: OpenedxDb) -> None:
    build_library(components=4, versions=3)
    with open_store(openedx_db.store_url) as store, store.read("lib:Org:LIB1") as source:
        assert source.package.title == "Library One" and source.package.description == "A test library"
        assert source.entity_count() == 6
        entities = {e.ref: e for e in source.iter_entities(history="all", batch_size=2)}
        assert list(entities) == sorted(entities)
        c0 = entities["xblock.v1:html:c0"]
        assert (c0.kind, c0.namespace, c0.type, c0.code) == ("component", "xblock.v1", "html", "c0")
        assert [v.number for v in c0.versions] == [1, 2, 3, 4]
        assert [v.created_by for v in c0.versions] == ["ann", "bob", "bob", "ann"]
        assert c0.created_by == "ann" and entities["xblock.v1:html:c1"].created_by == "bob"
        assert (c0.draft, c0.published) == (4, 3)
        v2 = c0.version(2)
        assert v2 is not None
        media = {m.path: m for m in v2.media}
        assert media["block.xml"].sha256 == hashlib.sha256(html_olx("C0", "v2").encode()).hexdigest()
        assert media["block.xml"].has_text and not media["block.xml"].has_file
        assert media["static/pic.png"].sha256 == hashlib.sha256(PNG).hexdigest()
        assert (media["static/pic.png"].media_type, media["static/pic.png"].size) == ("image/png", len(PNG))
        with source.open_blob(media["static/pic.png"].sha256) as stream:
            assert stream.read() == PNG
        with source.open_blob(media["block.xml"].sha256) as stream:
            assert stream.read() == html_olx("C0", "v2").encode()
        c2, c3 = entities["xblock.v1:html:c2"], entities["xblock.v1:html:c3"]
        assert (c2.draft, c2.draft_deleted, c2.published) == (None, True, 3)  # soft-deleted, not published yet
        assert (c3.draft, c3.draft_deleted, c3.published, c3.published_deleted) == (None, True, None, True)
        u1 = entities["u1"]
        assert (u1.kind, u1.type, u1.code, u1.namespace) == ("container", "unit", "u1", "")
        assert [(c.ref, c.pinned) for c in u1.versions[0].children] == [
            ("xblock.v1:html:c0", None), ("xblock.v1:html:c1", 1)]
        assert entities["u2"].created_by is None
        current = {e.ref: e for e in source.iter_entities(history="current")}
        assert [v.number for v in current["xblock.v1:html:c0"].versions] == [3, 4]
        assert [v.number for v in current["xblock.v1:html:c3"].versions] == []


def test_reads_collections_and_the_publish_log(openedx_db: OpenedxDb) -> None:
    lib = build_library(components=4, versions=2)
    with open_store(openedx_db.store_url) as store, store.read(lib.ref) as source:
        cols = list(source.iter_collections())
        assert [(c.code, c.enabled, c.created_by, c.members) for c in cols] == [
            ("col1", True, "ann", ("xblock.v1:html:c0", "xblock.v1:html:c1")),
            ("col2", False, None, ("u1",)),
        ]
        assert [c.code for c in source.iter_collections(include_disabled=False)] == ["col1"]
        log = list(source.iter_publish_log())
        assert [(g.message, g.published_by) for g in log] == [("first", "ann"), ("second", "bob")]
        assert [(e.ref, e.old, e.new) for e in log[1].entries] == [("xblock.v1:html:c3", 2, None)]
        assert len(log[0].entries) == 6
        assert source.last_changed() >= max(g.published_at for g in log)
        assert list(source.iter_payloads()) == []


def test_last_change_includes_draft_changes_without_a_version(openedx_db: OpenedxDb) -> None:
    from openedx_content import api

    lib = build_library(components=2, versions=2)
    with open_store(openedx_db.store_url) as store:
        with store.read(lib.ref) as source:
            before = source.last_changed()
        api.soft_delete_draft(lib.components[0].id)  # a draft change log now, no new version
        with store.read(lib.ref) as source:
            after = source.last_changed()
    assert after > before and after.tzinfo is not None
