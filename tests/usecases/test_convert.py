"""lc-archive convert: v1 <-> v2 through a scratch store, deterministic bytes, and a loss report that
lists exactly what the target format does not give back (checked against a diff of the stores)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.conversion import PLUGIN, REF, WHEN, conv_store

from lc_archive import backup, restore
from lc_archive.cli import main
from lc_archive.stores import open_store
from lc_archive.stores.sql import SqlStore
from lc_archive.synthetic import generate_library
from lc_archive.usecases.convert import convert
from lc_archive.usecases.diff import diff_archives
from lc_archive.usecases.scratch import open_archive_store
from lc_archive.usecases.state import compute_full_state, compute_state


def _full(path: Path) -> dict[str, object]:
    with open_archive_store(path) as (store, ref), store.read(ref) as source:
        return compute_full_state(source)


def _state(store: SqlStore, ref: str = REF) -> dict[str, object]:
    with store.read(ref) as source:
        return compute_state(source)


def test_v2_to_v1_loss_report_is_exact(tmp_path: Path) -> None:
    store = conv_store(tmp_path / "src.db")
    backup(store, REF, tmp_path / "a.zip", format="v2", created_at=WHEN)
    result = convert(tmp_path / "a.zip", tmp_path / "b.zip", format="v1")
    assert (result.input_format, result.format, result.ref, result.created_at) == ("v2", "v1", REF, WHEN)
    assert result.loss_counts == {
        "history": 3,  # intro v1, dead v1 (published deletion), gone v1 (soft-deleted, unpublished)
        "soft_deleted": 2,  # dead and gone come back as never versioned ("kept" is still published: kept)
        "published_deletions": 1,
        "version_times": 7,  # the written versions: intro 3 and 2, quiz, kept, extra, unit 2 and 1
        "version_authors": 7,
        "pins": 1,
        "entity_authors": 7,
        "disabled_collections": 1,
        "collection_authors": 2,
        "collection_modified": 1,  # c1 got members after it was made; "empty" never changed
        "publish_log": 2,
        "media_types": 1,  # static/notes.txt: text/x-custom
        "storage_modes": 1,  # static/t.txt stored as text
        "toml_media": 1,
        "version_payloads": 1,  # the one of intro v1
    }
    assert {loss.kind: loss.message for loss in result.losses}["version_payloads"] == (
        "1 plugin payloads of versions that v1 does not carry left out")
    assert all(loss.message.startswith(str(loss.count)) for loss in result.losses)
    assert any("openedx-core brings the draft back" in w for w in result.warnings)

    # What an lc-archive restore of the v1 output really lacks matches the report, item for item.
    d = diff_archives(tmp_path / "a.zip", tmp_path / "b.zip", current_only=False)
    changed = {e["ref"]: e for e in d.entities_changed}
    assert not d.entities_added and not d.entities_removed and not d.package
    assert sum(len(e.get("versions_removed", [])) for e in changed.values()) == 3
    assert sum(1 for e in changed.values() if "draft_deleted" in e.get("fields", {})) == 2
    assert sum(1 for e in changed.values() if "published_deleted" in e.get("fields", {})) == 1
    versions = [v for e in changed.values() for v in e.get("versions_changed", [])]
    assert sum(1 for v in versions if "created" in v.get("fields", {})) == 7
    assert sum(1 for v in versions if "created_by" in v.get("fields", {})) == 7
    assert sum(1 for e in changed.values() if "created_by" in e.get("fields", {})) == 7
    pins = [v["children"] for v in versions if "children" in v]
    assert len(pins) == 1 and [c["pinned"] for c in pins[0][0]] == [None, 1]
    assert [c["pinned"] for c in pins[0][1]] == [None, None]
    media = {p: f for v in versions for p, f in v.get("media_changed", {}).items()}
    assert media == {"static/notes.txt": {"media_type": ["text/x-custom", "text/plain"]},
                     "static/t.txt": {"has_text": [True, False], "has_file": [False, True]}}
    assert [p for v in versions for p in v.get("media_removed", [])] == ["static/conf.toml"]
    assert d.collections_removed == ["old"]
    assert {c["code"]: sorted(c["fields"]) for c in d.collections_changed} == {
        "c1": ["created_by", "modified"], "empty": ["created_by"]}
    assert d.publish_log == {"a": 2, "b": 0, "differing": 2, "first": 0}
    assert d.payloads_removed == [{"plugin": PLUGIN, "entity": "xblock.v1:html:intro", "version": 1}]
    assert not d.payloads_added and not d.payloads_changed


def test_v2_to_v1_keeps_the_default_state(tmp_path: Path) -> None:
    store = conv_store(tmp_path / "src.db", v1_hostile=False)
    generate_library(store, "lib:Org:GEN", components=60, seed=3)
    for ref, name in ((REF, "conv"), ("lib:Org:GEN", "gen")):
        backup(store, ref, tmp_path / f"{name}.v2.zip", format="v2", created_at=WHEN)
        result = convert(tmp_path / f"{name}.v2.zip", tmp_path / f"{name}.v1.zip", format="v1")
        assert "pins" not in result.loss_counts and "toml_media" not in result.loss_counts
        with open_store(f"sqlite:///{tmp_path / (name + '.db')}") as fresh:
            restore(tmp_path / f"{name}.v1.zip", fresh, ref=ref)
            assert _state(fresh, ref) == _state(store, ref)
    store.close()


def test_to_v2_loses_nothing_and_gives_the_same_bytes(tmp_path: Path) -> None:
    store = conv_store(tmp_path / "src.db")
    backup(store, REF, tmp_path / "a.zip", format="v2", created_at=WHEN)
    result = convert(tmp_path / "a.zip", tmp_path / "b.zip", format="v2")
    assert result.losses == [] and result.as_dict()["lossless"] is True
    assert (tmp_path / "b.zip").read_bytes() == (tmp_path / "a.zip").read_bytes()
    with store.read(REF) as source:
        assert _full(tmp_path / "b.zip") == compute_full_state(source)
    store.close()


def test_v1_v2_v1(tmp_path: Path) -> None:
    store = conv_store(tmp_path / "src.db")
    backup(store, REF, tmp_path / "x.v1.zip", format="v1", created_at=WHEN)
    # v1 -> v1 and v1 -> v2 -> v1 give the same bytes, and nothing is lost on the way.
    again = convert(tmp_path / "x.v1.zip", tmp_path / "y.v1.zip", format="v1")
    up = convert(tmp_path / "x.v1.zip", tmp_path / "x.v2.zip", format="v2")
    down = convert(tmp_path / "x.v2.zip", tmp_path / "z.v1.zip", format="v1")
    assert again.losses == [] and up.losses == [] and down.losses == []
    assert (tmp_path / "y.v1.zip").read_bytes() == (tmp_path / "z.v1.zip").read_bytes()
    # A v1 that went through lc-archive is a fixed point.
    convert(tmp_path / "y.v1.zip", tmp_path / "w.v1.zip", format="v1")
    assert (tmp_path / "w.v1.zip").read_bytes() == (tmp_path / "y.v1.zip").read_bytes()
    assert _full(tmp_path / "x.v1.zip") == _full(tmp_path / "x.v2.zip") == _full(tmp_path / "z.v1.zip")
    states = []
    for name in ("x.v1", "z.v1"):
        with open_store(f"sqlite:///{tmp_path / (name + '.db')}") as fresh:
            restore(tmp_path / f"{name}.zip", fresh, ref=REF)
            states.append(_state(fresh))
    assert states[0] == states[1]
    assert main(["diff", str(tmp_path / "x.v1.zip"), str(tmp_path / "z.v1.zip"), "--current-only", "-q"]) == 0
    assert main(["diff", str(tmp_path / "x.v1.zip"), str(tmp_path / "x.v2.zip"), "-q"]) == 0
    store.close()


def test_convert_is_deterministic(tmp_path: Path) -> None:
    store = conv_store(tmp_path / "src.db")
    backup(store, REF, tmp_path / "a.zip", format="v2", created_at=WHEN, created_by="bob")
    for fmt in ("v1", "v2"):
        convert(tmp_path / "a.zip", tmp_path / f"one.{fmt}.zip", format=fmt)  # type: ignore[arg-type]
        convert(tmp_path / "a.zip", tmp_path / f"two.{fmt}.zip", format=fmt)  # type: ignore[arg-type]
        assert (tmp_path / f"one.{fmt}.zip").read_bytes() == (tmp_path / f"two.{fmt}.zip").read_bytes()
    # created_at and created_by come from the input; --created-at pins another time.
    with open_archive_store(tmp_path / "one.v1.zip") as (scratch, _):
        assert scratch.restored.as_dict()["created_at"] == "2026-01-02T03:04:05Z"
        assert scratch.restored.archive.created_by == "bob"
    later = datetime(2027, 1, 1, tzinfo=UTC)
    result = convert(tmp_path / "one.v1.zip", tmp_path / "later.v1.zip", format="v1", created_at=later)
    assert result.created_at == later
    assert result.loss_counts == {"version_times": 7}  # the v1 input's versions were made at its created_at
    assert (tmp_path / "later.v1.zip").read_bytes() != (tmp_path / "one.v1.zip").read_bytes()
    store.close()


def test_cli_convert(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = conv_store(tmp_path / "src.db")
    backup(store, REF, tmp_path / "a.zip", format="v2", created_at=WHEN)
    store.close()
    assert main(["convert", str(tmp_path / "a.zip"), str(tmp_path / "b.zip"), "--format", "v1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)["result"]
    assert data["format"] == "v1" and data["input_format"] == "v2" and data["lossless"] is False
    assert data["loss_counts"]["history"] == 3 and data["loss_counts"]["publish_log"] == 2
    assert main(["convert", str(tmp_path / "b.zip"), str(tmp_path / "c.zip"), "--format", "v2", "-q"]) == 0
    out = capsys.readouterr().out
    assert "nothing lost" in out
    assert main(["convert", str(tmp_path / "a.zip"), str(tmp_path / "d.zip"), "--format", "v1",
                 "--created-at", "2030-01-01T00:00:00Z"]) == 0
    out = capsys.readouterr().out
    assert "not carried: 3 versions other than the draft and published ones not written" in out
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    assert main(["convert", str(tmp_path / "bad.zip"), str(tmp_path / "e.zip"), "--format", "v2", "-q"]) == 1
    assert not (tmp_path / "e.zip").exists()
    assert main(["convert", str(tmp_path / "a.zip"), str(tmp_path / "f.zip"), "--format", "v3"]) == 2


def test_v1_loss_report_counts_plugin_payloads(tmp_path: Path) -> None:
    """Payloads on the package, intro, intro v1 (history) and intro v3: only intro v1's is left out."""
    store = conv_store(tmp_path / "src.db")
    result = backup(store, REF, tmp_path / "a.zip", format="v1", created_at=WHEN, exact_losses=True)
    assert result.payloads == 3 and result.loss_counts["version_payloads"] == 1
    store.close()
