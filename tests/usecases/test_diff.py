"""lc-archive diff: archives of any format restored into scratch stores and compared entity by entity,
exit status like diff(1)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.conversion import REF, WHEN, conv_store

from lc_archive import backup
from lc_archive.cli import main
from lc_archive.domain import PayloadRecord
from lc_archive.plugins.payloads import render_payload
from lc_archive.stores import open_store
from lc_archive.synthetic import generate_library
from lc_archive.usecases.diff import diff_archives, diff_sources, format_diff
from lc_archive.usecases.state import compute_state


def _archive(tmp_path: Path, variant: str = "", fmt: str = "v2") -> Path:
    name = f"{variant or 'base'}.{fmt}"
    if (tmp_path / f"{name}.zip").exists():
        return tmp_path / f"{name}.zip"
    store = conv_store(tmp_path / f"{name}.db", v1_hostile=fmt == "v2", variant=variant)
    backup(store, REF, tmp_path / f"{name}.zip", format=fmt, created_at=WHEN)  # type: ignore[arg-type]
    store.close()
    return tmp_path / f"{name}.zip"


def test_identical_archives(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = _archive(tmp_path)
    store = conv_store(tmp_path / "again.db")  # the same content, authored again
    backup(store, REF, tmp_path / "again.zip", format="v2", created_at=datetime(2030, 1, 1, tzinfo=UTC))
    store.close()
    assert main(["diff", str(a), str(tmp_path / "again.zip")]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("identical")
    assert main(["diff", str(a), str(a), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)["result"]
    assert data["identical"] is True and data["a"]["format"] == "v2" and data["a"]["ref"] == REF
    assert set(data["counts"].values()) == {0}


def test_each_kind_of_change_is_reported_precisely(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = _archive(tmp_path)
    b = _archive(tmp_path, "package title media version removed collection payload")
    result = diff_archives(a, b)
    assert result.package == {"title": ["Conv", "Conv changed"]}
    assert result.entities_added == []
    assert result.entities_removed == ["xblock.v1:html:extra"]
    changed = {e["ref"]: e for e in result.entities_changed}
    assert changed["xblock.v1:html:intro"] == {
        "ref": "xblock.v1:html:intro",
        "versions_changed": [
            {"number": 1, "media_changed": {"static/a.png": {"sha256": [
                changed["xblock.v1:html:intro"]["versions_changed"][0]["media_changed"]["static/a.png"]["sha256"][0],
                changed["xblock.v1:html:intro"]["versions_changed"][0]["media_changed"]["static/a.png"]["sha256"][1],
            ]}}},
            {"number": 2, "fields": {"title": ["Intro 2", "Intro two"]}},
        ],
    }
    sha_a, sha_b = changed["xblock.v1:html:intro"]["versions_changed"][0]["media_changed"]["static/a.png"]["sha256"]
    assert sha_a != sha_b and len(sha_a) == len(sha_b) == 64
    assert changed["xblock.v1:problem:quiz"] == {
        "ref": "xblock.v1:problem:quiz", "fields": {"draft": [1, 2]}, "versions_added": [2]}
    assert set(changed) == {"xblock.v1:html:intro", "xblock.v1:problem:quiz"}
    assert result.collections_changed == [{"code": "c1", "fields": {"title": ["Coll 1", "Coll 1 (changed)"]},
                                           "members_added": ["xblock.v1:problem:quiz"]}]
    assert result.collections_added == result.collections_removed == []
    assert result.publish_log is None
    assert [(p["plugin"], p["entity"], list(p["fields"])) for p in result.payloads_changed] == [
        ("lcatest", None, ["sha256"])]
    assert result.counts() == {
        "package_fields": 1, "entities_added": 0, "entities_removed": 1, "entities_changed": 2,
        "collections_added": 0, "collections_removed": 0, "collections_changed": 1, "publish_log_events": 0,
        "payloads_added": 0, "payloads_removed": 0, "payloads_changed": 1}
    assert not result.identical

    # The human form names every difference; the exit status is 1.
    assert main(["diff", str(a), str(b)]) == 1
    out = capsys.readouterr().out
    assert "entity removed: xblock.v1:html:extra" in out
    assert "title 'Intro 2' -> 'Intro two'" in out
    assert f"media changed: static/a.png: sha256 {sha_a[:12]} -> {sha_b[:12]}" in out
    assert "versions added: 2" in out
    assert "package: title 'Conv' -> 'Conv changed'" in out
    assert "members added: xblock.v1:problem:quiz" in out
    assert "plugin payload changed: lcatest on the package: sha256 " in out


def test_single_changes_with_current_only(tmp_path: Path) -> None:
    """--current-only compares what 'state' shows: timestamps and history are not looked at."""
    a = _archive(tmp_path)
    for variant, check in [
        ("title", lambda r: r.entities_changed == [{"ref": "xblock.v1:html:intro", "versions_changed": [
            {"number": 2, "fields": {"title": ["Intro 2", "Intro two"]}}]}]),
        ("version", lambda r: r.entities_changed == [{"ref": "xblock.v1:problem:quiz", "fields": {"draft": [1, 2]},
                                                      "versions_added": [2]}]),
        ("removed", lambda r: r.entities_removed == ["xblock.v1:html:extra"] and not r.entities_changed),
        ("collection", lambda r: [c["code"] for c in r.collections_changed] == ["c1"]),
        # intro v1 is history (neither draft nor published): its media change is not in the state.
        ("media", lambda r: r.identical),
    ]:
        result = diff_archives(a, _archive(tmp_path, variant), current_only=True)
        assert check(result), (variant, format_diff(result))
        full = diff_archives(a, _archive(tmp_path, variant))
        assert not full.identical


def test_v1_and_v2_of_the_same_package(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'gen.db'}")
    generate_library(store, "lib:Org:GEN", components=60, seed=5)
    backup(store, "lib:Org:GEN", tmp_path / "g.v1.zip", format="v1", created_at=WHEN)
    backup(store, "lib:Org:GEN", tmp_path / "g.v2.zip", format="v2", created_at=WHEN)
    store.close()
    assert main(["diff", str(tmp_path / "g.v1.zip"), str(tmp_path / "g.v2.zip"), "--current-only", "-q"]) == 0
    assert "identical" in capsys.readouterr().out
    # Everything else v1 did not carry shows up without --current-only.
    assert main(["diff", str(tmp_path / "g.v1.zip"), str(tmp_path / "g.v2.zip"), "--json", "--full"]) == 1
    data = json.loads(capsys.readouterr().out)["result"]
    assert data["a"]["format"] == "v1" and data["b"]["format"] == "v2"
    assert data["counts"]["entities_changed"] > 0 and data["publish_log"]["a"] == 0
    assert any("versions_added" in e for e in data["entities"]["changed"])  # the history v1 dropped


def test_current_only_equals_comparing_states(tmp_path: Path) -> None:
    """diff --current-only finds a difference exactly when the default states differ."""
    stores = {v: conv_store(tmp_path / f"{v or 'base'}.db", variant=v) for v in ("", "media", "title")}
    with stores[""].read(REF) as base:
        for variant in ("", "media", "title"):
            with stores[variant].read(REF) as other:
                identical = diff_sources(base, other, current_only=True).identical
                assert identical == (compute_state(base) == compute_state(other)), variant
    for s in stores.values():
        s.close()


def test_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = _archive(tmp_path)
    assert main(["diff", str(a), str(tmp_path / "missing.zip")]) == 2
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04 not really")
    assert main(["diff", str(tmp_path / "bad.zip"), str(a), "-q"]) == 2
    capsys.readouterr()
    assert main(["diff", str(tmp_path / "bad.zip"), str(a), "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["ok"] is False
    assert main(["diff", str(a)]) == 2


def _payload(plugin: str, schema: int, data: dict[str, int], entity: str | None = None,
             version: int | None = None) -> PayloadRecord:
    return PayloadRecord(plugin, schema, render_payload(plugin, schema, data, entity=entity, version=version),
                         entity, version)


def test_plugin_payloads(tmp_path: Path) -> None:
    a, b = conv_store(tmp_path / "a.db"), conv_store(tmp_path / "b.db")
    with a.author(REF) as au:
        au.set_payload(_payload("tags", 1, {"p": 1}))
        au.set_payload(_payload("tags", 1, {"v": 1}, entity="xblock.v1:html:intro", version=1))
    with b.author(REF) as au:
        au.set_payload(_payload("tags", 1, {"p": 2}))
        au.set_payload(_payload("notes", 2, {"e": 1}, entity="unit-1"))
    with a.read(REF) as sa, b.read(REF) as sb:
        result = diff_sources(sa, sb)
        assert result.payloads_added == [{"plugin": "notes", "entity": "unit-1", "version": None}]
        assert result.payloads_removed == [{"plugin": "tags", "entity": "xblock.v1:html:intro", "version": 1}]
        assert [(p["plugin"], p["entity"], list(p["fields"])) for p in result.payloads_changed] == [
            ("tags", None, ["sha256"])]
        assert diff_sources(sa, sb, current_only=True).identical  # payloads are not in the state
        lines = format_diff(result)
        assert "plugin payload added: notes on unit-1" in lines
        assert "plugin payload removed: tags on xblock.v1:html:intro v1" in lines
    a.close()
    b.close()
