"""lc-archive state --all-versions: everything a store holds but site identity, identical after
store -> v2 -> fresh store; the default state (the peer's format) is unchanged."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from support.v2kit import REF, WHEN, handmade_store

from lc_archive import backup, restore
from lc_archive.cli import main
from lc_archive.domain import PayloadRecord
from lc_archive.plugins.payloads import render_payload
from lc_archive.stores import open_store
from lc_archive.usecases.state import compute_full_state, compute_state, state_json


def test_v2_round_trip_keeps_the_full_state(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = handmade_store(tmp_path / "src.db")
    backup(store, REF, tmp_path / "full.zip", format="v2", created_at=WHEN)
    with open_store(f"sqlite:///{tmp_path / 'fresh.db'}") as fresh:
        restore(tmp_path / "full.zip", fresh, ref="lib:Other:COPY")
        with store.read(REF) as a, fresh.read("lib:Other:COPY") as b:
            before, after = compute_full_state(a), compute_full_state(b)
    assert after == before  # the package ref (site identity) is not part of it
    # What the state is about is really in it.
    assert before["summary"] == {"entities": 12, "versions": 17, "media": 25, "collections": 3,
                                 "disabled_collections": 1, "publish_events": 4, "plugin_payloads": 0}
    intro = before["entities"]["xblock.v1:html:intro"]
    assert [v["number"] for v in intro["versions"]] == [1, 2, 5, 6, 7]
    assert intro["created_by"] == "alice" and intro["versions"][-1]["created_by"] is None
    assert intro["versions"][1]["media"]["static/empty.txt"] == {
        "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "size": 0,
        "media_type": "text/x-custom", "has_text": False, "has_file": True}
    gone, dead = before["entities"]["xblock.v1:html:gone"], before["entities"]["xblock.v1:html:dead"]
    assert (gone["draft"], gone["draft_deleted"], gone["published"]) == (None, True, None)
    assert (dead["published"], dead["published_deleted"]) == (None, True)
    assert {"ref": "xblock.v1:problem:odd", "pinned": 1} in before["entities"]["unit-1"]["versions"][0]["children"]
    assert before["collections"]["old"]["enabled"] is False and before["collections"]["old"]["members"]
    assert [e["message"] for e in before["publish_log"]] == ["First — ñ", "Delete dead", "", "by nobody"]
    assert before["publish_log"][-1]["published_by"] is None
    assert before["publish_log"][1]["entries"] == [{"ref": "xblock.v1:html:dead", "old": 1, "new": None}]

    # The same through the command line, byte for byte.
    assert main(["state", f"sqlite:///{tmp_path / 'src.db'}", REF, "--all-versions", "-o",
                 str(tmp_path / "a.json")]) == 0
    assert capsys.readouterr().out.startswith("wrote the state of ")
    assert main(["state", f"sqlite:///{tmp_path / 'fresh.db'}", "lib:Other:COPY", "--all-versions"]) == 0
    printed = capsys.readouterr().out
    assert printed == (tmp_path / "a.json").read_text(encoding="utf-8") == state_json(before)
    assert json.loads(printed)["publish_log"] == before["publish_log"]
    store.close()


def test_the_default_state_is_unchanged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = handmade_store(tmp_path / "src.db")
    with store.read(REF) as source:
        default = compute_state(source)
        assert compute_state(source, all_versions=False) == default
        assert compute_state(source, all_versions=True) == compute_full_state(source)
    assert set(default) == {"package", "summary", "entities", "collections"}
    assert default["package"] == {"title": "Hand-made ✓", "description": 'd\n"q"'}
    assert "old" not in default["collections"]  # disabled collections stay out of the peer's format
    assert set(default["entities"]["xblock.v1:html:intro"]) == {"type", "can_stand_alone", "draft", "published"}
    assert main(["state", f"sqlite:///{tmp_path / 'src.db'}", REF]) == 0
    assert capsys.readouterr().out == state_json(default)
    store.close()


def test_full_state_lists_plugin_payloads(tmp_path: Path) -> None:
    store = handmade_store(tmp_path / "src.db")
    bodies = [render_payload("lcatest", 1, {"x": 1}, entity="xblock.v1:html:intro", version=2),
              render_payload("lcatest", 3, {})]
    with store.author(REF) as a:
        a.set_payload(PayloadRecord("lcatest", 1, bodies[0], entity="xblock.v1:html:intro", version=2))
        a.set_payload(PayloadRecord("lcatest", 3, bodies[1]))
    with store.read(REF) as source:
        state = compute_full_state(source)
    assert state["summary"]["plugin_payloads"] == 2
    assert state["plugin_payloads"] == [
        {"plugin": "lcatest", "entity": None, "version": None, "schema_version": 3,
         "sha256": hashlib.sha256(bodies[1]).hexdigest()},
        {"plugin": "lcatest", "entity": "xblock.v1:html:intro", "version": 2, "schema_version": 1,
         "sha256": hashlib.sha256(bodies[0]).hexdigest()},
    ]
    # ... and they survive a v2 round trip, byte for byte.
    backup(store, REF, tmp_path / "full.zip", format="v2", created_at=WHEN)
    with open_store(f"sqlite:///{tmp_path / 'fresh.db'}") as fresh:
        restore(tmp_path / "full.zip", fresh, ref=REF)
        with fresh.read(REF) as source:
            assert compute_full_state(source) == state
    store.close()
