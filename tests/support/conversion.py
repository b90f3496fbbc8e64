"""A small package holding every kind of data v1 loses, for the convert and diff tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from lc_archive.domain import PayloadRecord
from lc_archive.plugins.payloads import render_payload
from lc_archive.stores import open_store
from lc_archive.stores.sql import SqlStore
from lc_archive.synthetic import SyntheticClock
from support.v2kit import png

REF = "lib:Org:CONV"
NS = "xblock.v1"
WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
PLUGIN = "lcatest"


def conv_store(path: Path, *, v1_hostile: bool = True, variant: str = "") -> SqlStore:
    """A small package with every kind of data v1 loses (``v1_hostile``: also pins and a ``.toml`` file).

    ``variant`` makes the small changes test_diff looks for (the rest stays byte for byte the same).
    """
    store = open_store(f"sqlite:///{path}")
    title = "Conv changed" if "package" in variant else "Conv"
    with store.author(REF, user="alice", create={"title": title, "description": "d"},
                      clock=SyntheticClock(datetime(2025, 5, 1, tzinfo=UTC), 61)) as a:
        intro = a.create_component(NS, "html", "intro")
        a.add_component_version(intro, {"block.xml": "<html>1</html>",
                                        "static/a.png": png(300, 2 if "media" in variant else 1)}, title="Intro 1")
        a.add_component_version(intro, {"block.xml": "<html>2</html>", "static/a.png": None},
                                title="Intro two" if "title" in variant else "Intro 2")
        quiz = a.create_component(NS, "problem", "quiz")
        a.add_component_version(quiz, {"block.xml": "<problem/>",
                                       **({"static/conf.toml": b"x = 1\n"} if v1_hostile else {})}, title="Quiz")
        kept = a.create_component(NS, "html", "kept")
        a.add_component_version(kept, {"block.xml": "<html>k</html>"}, title="Kept")
        dead = a.create_component(NS, "html", "dead")
        a.add_component_version(dead, {"block.xml": "<html>d</html>"}, title="Dead")
        unit = a.create_container("unit", "unit-1")
        a.add_container_version(unit, [intro, (quiz, 1) if v1_hostile else quiz], title="Unit 1")
        a.publish(message="First")
        a.add_component_version(intro, {"block.xml": "<html>3</html>", "static/notes.txt": b"n",
                                        "static/t.txt": "text"}, title="Intro 3",
                                media_types={"static/notes.txt": "text/x-custom"})
        a.add_container_version(unit, [intro, quiz, kept], title="Unit 1b")
        a.soft_delete(kept)
        a.soft_delete(dead)
        a.publish(message="Delete dead", refs=[dead])
        gone = a.create_component(NS, "html", "gone")
        a.add_component_version(gone, {"block.xml": "<html>g</html>"}, title="Gone")
        a.soft_delete(gone)
        a.create_collection("c1", "Coll 1 (changed)" if "collection" in variant else "Coll 1")
        a.add_to_collection("c1", [intro, unit, *([quiz] if "collection" in variant else [])])
        a.create_collection("empty", "Empty")
        a.create_collection("old", "Old")
        a.disable_collection("old")
        # Plugin payloads (of a plugin that is not installed: kept byte for byte) on every scope.
        for entity, version, data in [(None, None, {"p": 2 if "payload" in variant else 1}),
                                      (intro, None, {"e": 1}), (intro, 1, {"v": 1}), (intro, 3, {"v": 3})]:
            body = render_payload(PLUGIN, 1, data, entity=entity, version=version)
            a.set_payload(PayloadRecord(PLUGIN, 1, body, entity, version))
        # Last, so that leaving them out does not move the synthetic clock for anything else.
        if "removed" not in variant:
            extra = a.create_component(NS, "html", "extra")
            a.add_component_version(extra, {"block.xml": "<html>x</html>"}, title="Extra")
        if "version" in variant:
            a.add_component_version(quiz, {"block.xml": "<problem>2</problem>"}, title="Quiz 2")
    return store
