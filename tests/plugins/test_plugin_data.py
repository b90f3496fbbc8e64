"""Plugin data end to end (issue 3): payloads travel byte for byte without their plugin, upgrade with it,
broken plugins never stop a backup or restore, and validate names every problem."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Literal

import pytest
from lc_archive_notes import NotesSerializer
from lc_archive_tags import ObjectTag, TagsSerializer
from support.paths import REPO
from support.plugin_package import INTRO, NOTES, QUIZ, REF, TAGS, WHEN, build, payload_members, payloads_of

from lc_archive import backup, restore
from lc_archive.cli import main
from lc_archive.domain import PayloadRecord
from lc_archive.plugins.payloads import decode_payload, encode_payload, render_payload
from lc_archive.plugins.registry import Registry, builtin_registry, default_registry
from lc_archive.stores import open_store


@pytest.mark.parametrize("fmt", ["v1", "v2"])
def test_payload_bytes_survive_a_registry_without_the_plugin(fmt: Literal["v1", "v2"], tmp_path: Path) -> None:
    with build(tmp_path / "a.db") as store:
        backup(store, REF, tmp_path / "a.zip", format=fmt, created_at=WHEN)
    first = payload_members(tmp_path / "a.zip")
    # v1 carries the draft/published version 2 only: the notes on version 1 are a reported loss there.
    assert len(first) == (3 if fmt == "v1" else 4), sorted(first)

    bare = builtin_registry()
    assert bare.plugin("tags") is None and bare.plugin("notes") is None
    with open_store(tmp_path / "b.db") as store:
        result = restore(tmp_path / "a.zip", store, ref=REF, registry=bare)
        assert any("tags" in note and "not installed" in note for note in result.archive.notes)
        backup(store, REF, tmp_path / "b.zip", format=fmt, created_at=WHEN)
    assert payload_members(tmp_path / "b.zip") == first  # same names, same bytes

    with open_store(tmp_path / "c.db") as store:  # the plugins are back: typed records again
        restore(tmp_path / "b.zip", store, ref=REF, registry=default_registry())
        records = {(p.plugin, p.entity, p.version): p for p in payloads_of(store, REF)}
    assert decode_payload(TagsSerializer(), records[("tags", QUIZ, None)]) == TAGS
    assert decode_payload(TagsSerializer(), records[("tags", None, None)]) == TAGS[:1]
    assert decode_payload(NotesSerializer(), records[("notes", QUIZ, 2)]) == NOTES


def test_v1_backup_reports_the_payloads_of_versions_it_drops(tmp_path: Path) -> None:
    with build(tmp_path / "a.db") as store:
        result = backup(store, REF, tmp_path / "a.zip", format="v1", created_at=WHEN)
    assert "1 plugin payloads of versions that v1 does not carry left out" in result.losses


def test_notes_schema_1_restores_through_the_upgrade(tmp_path: Path) -> None:
    old = render_payload("notes", 1, {"notes": [{"author": "bob", "text": "Old note", "pinned": True}]}, entity=QUIZ)
    with build(tmp_path / "a.db") as store:
        with store.author(REF) as author:
            author.set_payload(PayloadRecord("notes", 1, old, QUIZ))
        backup(store, REF, tmp_path / "a.zip", format="v2", created_at=WHEN)
    assert old in payload_members(tmp_path / "a.zip").values()
    with open_store(tmp_path / "b.db") as store:
        restore(tmp_path / "a.zip", store, ref=REF)
        record = next(p for p in payloads_of(store, REF) if (p.plugin, p.entity, p.version) == ("notes", QUIZ, None))
    assert record.schema_version == NotesSerializer.schema_version == 2
    doc = json.loads(record.body)
    assert doc["schema_version"] == 2
    assert doc["data"]["notes"][0]["body"] == "Old note" and doc["data"]["notes"][0]["pinned"] is True  # kept
    assert decode_payload(NotesSerializer(), record)[0].body == "Old note"


def test_broken_plugins_are_reported_and_the_rest_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "raises_on_import.py").write_text("raise RuntimeError('this plugin is broken')\n")
    (tmp_path / "half_done.py").write_text(
        "from typing import ClassVar\n"
        "from pydantic import BaseModel\n"
        "from lc_archive.plugins.contract import PluginSerializer\n"
        "class Data(BaseModel):\n    x: int = 0\n"
        "class HalfDone(PluginSerializer):\n"
        "    id: ClassVar[str] = 'plugin:half'\n    name: ClassVar[str] = 'half'\n"
        "    schema_version: ClassVar[int] = 1\n    model = Data\n"
        "    def dump(self, records):\n        return Data()\n")  # no load()
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = builtin_registry()
    registry.register(TagsSerializer)
    registry.load_entry_points([
        EntryPoint("plugin:broken", "raises_on_import:Broken", "lc_archive.serializers"),
        EntryPoint("plugin:half", "half_done:HalfDone", "lc_archive.serializers"),
    ])
    failures = {f.name: f for f in registry.failures}
    assert "this plugin is broken" in failures["plugin:broken"].reason
    assert failures["plugin:broken"].entry_point == "raises_on_import:Broken"
    assert "load" in failures["plugin:half"].reason
    assert registry.plugin("half") is None and registry.plugin("tags") is not None
    with build(tmp_path / "a.db") as store:
        backup(store, REF, tmp_path / "a.zip", format="v2", created_at=WHEN)
    with open_store(tmp_path / "b.db") as store:
        result = restore(tmp_path / "a.zip", store, ref=REF, registry=registry)
        assert result.archive.plugin_payloads == 4
        assert len(payloads_of(store, REF)) == 4


def test_cli_lists_plugins_and_survives_a_broken_distribution(tmp_path: Path) -> None:
    site = tmp_path / "site"
    dist = site / "broken_plugin-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[lc_archive.serializers]\nplugin:broken = broken_plugin_mod:Nope\n")
    (site / "broken_plugin_mod.py").write_text("import this_module_does_not_exist\n")
    with build(tmp_path / "a.db"):
        pass
    env = {**os.environ, "PYTHONPATH": str(site)}
    run = [sys.executable, "-m", "lc_archive"]
    listed = subprocess.run([*run, "plugins", "--json"], capture_output=True, text=True, env=env, check=False)
    assert listed.returncode == 0, listed.stderr
    data = json.loads(listed.stdout)["result"]
    ids = {e["id"]: e for e in data["serializers"]}
    assert ids["plugin:tags"]["distribution"] == "lc-archive-tags" and ids["plugin:tags"]["schema_version"] == 2
    assert ids["xblock.v1:problem"]["distribution"] == "lc-archive"
    broken = next(f for f in data["failures"] if f["name"] == "plugin:broken")
    assert broken["distribution"] == "broken-plugin" and "this_module_does_not_exist" in broken["reason"]
    out = tmp_path / "a.zip"
    done = subprocess.run([*run, "backup", str(tmp_path / "a.db"), REF, "-o", str(out), "-q"],
                          capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    done = subprocess.run([*run, "restore", str(out), str(tmp_path / "b.db"), "--ref", REF, "-q"],
                          capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr


def _validate(archive: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["validate", str(archive), *extra])
    return code, capsys.readouterr().err


def _rewrite(archive: Path, member_suffix: str, data: bytes) -> Path:
    """A copy of a v1 archive with one member's bytes replaced (v1 has no manifest to update)."""
    out = archive.with_name("bad-" + archive.name)
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(out, "w") as dst:
        hit = 0
        for info in src.infolist():
            body = src.read(info)
            if info.filename.endswith(member_suffix):
                body, hit = data, hit + 1
            dst.writestr(info, body)
    assert hit == 1
    return out


def test_validate_lists_olx_asset_and_payload_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with build(tmp_path / "a.db", html='<html><![CDATA[<img src="/static/missing.png"/>]]></html>') as store:
        backup(store, REF, tmp_path / "a.zip", format="v1", created_at=WHEN)
    code, err = _validate(tmp_path / "a.zip", capsys)
    assert code == 1
    assert ("entities/xblock.v1/html/intro/component_versions/v1/block.xml: $: warning: references "
            "/static/missing.png, but version 1 has no static/missing.png") in err
    code, _ = _validate(tmp_path / "a.zip", capsys, "--allow-warnings")
    assert code == 0

    bad_olx = _rewrite(tmp_path / "a.zip", "quiz-1/component_versions/v2/block.xml", b"<problem><p>open</problem>")
    code, err = _validate(bad_olx, capsys)
    assert code == 1 and "quiz-1/component_versions/v2/block.xml: $: not well-formed XML" in err

    wrong = render_payload("tags", 2, {"tags": [{"taxonomy": "subject", "value": "", "lineage": ["Physics"]}]},
                           entity=QUIZ)
    bad_payload = _rewrite(tmp_path / "a.zip", "plugins/tags/xblock.v1/problem/quiz-1.json", wrong)
    code, err = _validate(bad_payload, capsys)
    assert code == 1 and "plugins/tags/xblock.v1/problem/quiz-1.json: $.data.tags[0].value" in err
    # Without the plugin the same payload is only checked structurally, and kept.
    with open_store(tmp_path / "b.db") as store:
        restore(bad_payload, store, ref=REF, registry=builtin_registry())


def test_inspect_shows_olx_facts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with build(tmp_path / "a.db") as store:
        backup(store, REF, tmp_path / "a.zip", format="v2", created_at=WHEN)
    assert main(["inspect", str(tmp_path / "a.zip"), "--json"]) == 0
    rows = {r["ref"]: r for r in json.loads(capsys.readouterr().out)["result"]["entity_list"]}
    assert rows[QUIZ]["display_name"] == "Quiz 2"
    assert rows[QUIZ]["is_scorable"] is True and rows[QUIZ]["max_score"] == 2.0
    assert rows[INTRO]["display_name"] == "Intro" and rows[INTRO]["is_scorable"] is False


def test_registry_instances_are_isolated() -> None:
    one, two = Registry(), Registry()
    one.register(TagsSerializer)
    assert one.plugin("tags") is not None and two.plugin("tags") is None



@pytest.mark.peer
@pytest.mark.xdist_group("peer")
def test_openedx_core_restores_our_v1_archive_with_plugin_data(peer_dir: Path, peer_python: Path,
                                                                 tmp_path: Path) -> None:
    from support.peer import PEER_REF
    from support.peer import peer_restore as _peer_restore

    fixture = peer_dir / "fixtures" / "library_backup.zip"
    with open_store(tmp_path / "ours.db") as store:
        restore(fixture, store, ref=PEER_REF)
        with store.read(PEER_REF) as source:
            refs = [e.ref for e in source.iter_entities()]
        with store.author(PEER_REF) as author:
            author.set_payload(encode_payload(TagsSerializer(), TAGS))
            for ref in refs[:5]:
                author.set_payload(encode_payload(TagsSerializer(), TAGS, entity=ref))
                author.set_payload(encode_payload(NotesSerializer(), NOTES, entity=ref))
        result = backup(store, PEER_REF, tmp_path / "ours.zip", format="v1", created_at=WHEN)
    assert len(payload_members(tmp_path / "ours.zip")) == 11
    assert not any("payload" in loss for loss in result.losses)
    got = _peer_restore(peer_dir, peer_python, tmp_path / "ours.zip", tmp_path / "peer.sqlite3")
    assert got["status"] == "success", got["errors"]
    expected = json.loads((peer_dir / "fixtures" / "library_backup.restored.state.json").read_text("utf-8"))
    assert got["state"] == expected


def test_spec_example_is_what_the_tags_plugin_writes() -> None:
    """docs/formats/payloads.md's payload example is real output, byte for byte."""
    spec = (REPO / "docs" / "formats" / "payloads.md").read_text("utf-8")
    example = spec.split("<!-- example: tags-payload -->\n```json\n", 1)[1].split("```", 1)[0]
    tag = ObjectTag(taxonomy="subject", value="Physics", lineage=("Science", "Physics"))
    record = encode_payload(TagsSerializer(), [tag], entity="xblock.v1:problem:quiz-1")
    assert record.body.decode("utf-8") == example


def test_a_changed_payload_member_fails_verify_and_restore(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A flipped byte (CRC error) or a rewritten payload (valid CRC, stale manifest): verify and restore
    refuse, naming the member, and write nothing."""
    with build(tmp_path / "a.db") as store:
        backup(store, REF, tmp_path / "a.zip", format="v2", created_at=WHEN)
    name = "plugins/tags/xblock.v1/problem/quiz-1.json"
    with zipfile.ZipFile(tmp_path / "a.zip") as z:
        info = z.getinfo(name)
    data = bytearray((tmp_path / "a.zip").read_bytes())
    data[info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + info.compress_size // 2] ^= 0xFF
    (tmp_path / "flipped.zip").write_bytes(bytes(data))
    rewritten = tmp_path / "rewritten.zip"
    with zipfile.ZipFile(tmp_path / "a.zip") as src, zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item)
            dst.writestr(item, body.replace(b"Physics", b"Chemistry") if item.filename == name else body)
    for bad in (tmp_path / "flipped.zip", rewritten):
        assert main(["verify", str(bad)]) == 1
        assert f"{name}: $:" in capsys.readouterr().err
        assert main(["restore", str(bad), str(tmp_path / "t.db"), "--ref", REF]) == 1
        assert name in capsys.readouterr().err
        with open_store(tmp_path / "t.db") as target:
            assert target.package_refs() == []


def test_v2_blobs_stored_after_later_entities_are_still_checked(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """A v2 archive in another order than a writer's (every blob moved to the end, before the publish log):
    the type-specific checks still run, from the spooled 'late' components, with the same facts and warnings."""
    from support.v2kit import members_of, rebuild

    with build(tmp_path / "a.db", html='<html><![CDATA[<img src="/static/gone.png"/>]]></html>') as store:
        backup(store, REF, tmp_path / "a.zip", format="v2", created_at=WHEN)
    members = members_of(tmp_path / "a.zip")
    blobs = [m for m in members if m.name.startswith("entities/") and m.name.count("/") >= 5]
    rest = [m for m in members if m not in blobs]
    at = next(i for i, m in enumerate(rest) if m.name == "publish_log.toml")
    moved = rebuild(tmp_path / "moved.zip", [*rest[:at], *blobs, *rest[at:]])
    for archive in (tmp_path / "a.zip", moved):
        code = main(["validate", str(archive), "--json"])
        out = json.loads(capsys.readouterr().out)
        assert code == 1 and any("references /static/gone.png" in p["message"] for p in out["warnings"])
        assert main(["inspect", str(archive), "--json"]) == 0
        rows = {r["ref"]: r for r in json.loads(capsys.readouterr().out)["result"]["entity_list"]}
        assert rows[QUIZ]["display_name"] == "Quiz 2" and rows[QUIZ]["max_score"] == 2.0


def test_hostile_payload_members_are_all_reported(tmp_path: Path) -> None:
    """Every payload problem of one archive is reported at once, each on its member and path."""
    from lc_archive import validate
    from lc_archive.errors import ArchiveInvalid

    with build(tmp_path / "a.db") as store:
        backup(store, REF, tmp_path / "a.zip", format="v1", created_at=WHEN)
    tag = {"tags": [{"taxonomy": "t", "value": "v", "lineage": ["v"]}]}
    extra = {
        "plugins/tags/nope.json": render_payload("tags", 2, tag, entity="xblock.v1:html:nope"),
        "plugins/tags/v9.json": render_payload("tags", 2, tag, entity=QUIZ, version=9),
        "plugins/tags/again.json": render_payload("tags", 2, tag, entity=QUIZ),
        "plugins/notes/misplaced.json": render_payload("tags", 2, tag, entity=INTRO),
        "plugins/tags/deep.json": b'{"data": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        "plugins/tags/dup.json": b'{"plugin": "tags", "plugin": "tags", "schema_version": 2, "data": {}}',
        "plugins/readme.txt": b"not a payload",
    }
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(tmp_path / "a.zip") as src, zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        for name, body in extra.items():
            dst.writestr(name, body)
    with pytest.raises(ArchiveInvalid) as caught:
        validate(bad)
    found = {(p.member, p.path) for p in caught.value.problems}
    for member, path in [("plugins/tags/nope.json", "$.entity"), ("plugins/tags/v9.json", "$.version"),
                         ("plugins/tags/again.json", "$"), ("plugins/notes/misplaced.json", "$.plugin"),
                         ("plugins/tags/deep.json", "$"), ("plugins/readme.txt", "$")]:
        assert (member, path) in found, (member, path, sorted(found))
    assert any(p.member == "plugins/tags/dup.json" and "plugin" in p.path + p.message
               for p in caught.value.problems)


def test_restore_lists_warnings_and_strict_refuses_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with build(tmp_path / "a.db", html='<html><![CDATA[<img src="/static/gone.png"/>]]></html>') as store:
        backup(store, REF, tmp_path / "a.zip", created_at=WHEN)
    assert main(["restore", str(tmp_path / "a.zip"), str(tmp_path / "s.db"), "--ref", REF, "--strict"]) == 1
    assert "warning: references /static/gone.png" in capsys.readouterr().err
    with open_store(tmp_path / "s.db") as target:
        assert target.package_refs() == []
    assert main(["restore", str(tmp_path / "a.zip"), str(tmp_path / "s.db"), "--ref", REF, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["warning_count"] == 1 and "references /static/gone.png" in data["warnings"][0]["message"]
