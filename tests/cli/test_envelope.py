"""Every command's ``--json`` is one envelope that validates against the published schema, and nothing an
archive or a store holds reaches the terminal unescaped (titles with escape sequences, bidi overrides)."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema
import pytest
from support.paths import REPO
from support.v1kit import make_zip, tiny_members

from lc_archive.cli import main

SCHEMA = json.loads((REPO / "docs" / "formats" / "cli-envelope.schema.json").read_text())
EVIL = "lib:Org:EVIL"
# ESC ]0; retitles the terminal, ESC [2J clears it, OSC 52 writes the clipboard, CSI as one C1 byte, RLO.
EVIL_TITLE_TOML = r"Evil \u001b]0;pwned\u0007 \u001b[2J \u001b]52;c;ZXZpbA==\u0007 \u009b31m \u202eTIDE"
EVIL_TITLE = "Evil \x1b]0;pwned\x07 \x1b[2J \x1b]52;c;ZXZpbA==\x07 \x9b31m \u202eTIDE"
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

INVOCATIONS: list[tuple[str, list[str], int]] = [
    ("validate", ["validate", "{evil}", "--allow-warnings"], 0),
    ("validate-refused", ["validate", "{evil}"], 1),
    ("verify", ["verify", "{v2}", "--allow-warnings"], 0),
    ("verify-refused", ["verify", "{v2}"], 1),
    ("inspect", ["inspect", "{evil}"], 0),
    ("restore", ["restore", "{evil}", "sqlite:///{out}.db", "--ref", "lib:Org:NEW"], 0),
    ("restore-dry-run", ["restore", "{evil}", "sqlite:///{out}.db", "--dry-run"], 0),
    ("restore-exists", ["restore", "{evil}", "{store}", "--ref", EVIL], 1),
    ("backup", ["backup", "{store}", EVIL, "-o", "{out}.zip"], 0),
    ("backup-v1", ["backup", "{store}", EVIL, "-o", "{out}.zip", "--format", "v1"], 0),
    ("backup-missing", ["backup", "{store}", "lib:Org:NOPE", "-o", "{out}.zip"], 1),
    ("state", ["state", "{store}", EVIL], 0),
    ("state-file", ["state", "{store}", EVIL, "-o", "{out}.json"], 0),
    ("packages", ["packages", "{store}"], 0),
    ("convert", ["convert", "{v2}", "{out}.zip", "--format", "v1"], 0),
    ("diff", ["diff", "{evil}", "{v2}"], 0),
    ("diff-full", ["diff", "{evil}", "{v2}", "--full"], 0),
    ("diff-different", ["diff", "{evil}", "{plain}"], 1),
    ("plugins", ["plugins"], 0),
    ("backup-all", ["backup-all", "{store}", "{out}-site", "-j", "1", "--local"], 0),
    ("usage", ["inspect", "{evil}", "--limit", "-1"], 2),
    ("rename-missing", ["rename", "{store}", "lib:Org:NOPE", "lib:Org:NEW"], 1),
    ("delete-missing", ["delete", "{store}", "lib:Org:NOPE", "--yes"], 1),
    ("restore-selection", ["restore", "{evil}", "sqlite:///{out}.db", "--entity", "unit-1", "--ref", "lib:Org:SEL"], 0),
    ("restore-into-preview", ["restore", "{evil}", "{store}", "--into", EVIL, "--preview"], 0),
]


def evil_members() -> dict[str, bytes | str]:
    """The tiny archive with escape sequences in titles and a bidi override in a missing static reference."""
    members = tiny_members()
    members["package.toml"] = str(members["package.toml"]).replace('title = "Tiny"', f'title = "{EVIL_TITLE_TOML}"')
    intro = "entities/xblock.v1/html/intro.toml"
    members[intro] = str(members[intro]).replace('title = "Intro"', f'title = "{EVIL_TITLE_TOML}"')
    members["entities/xblock.v1/html/outro/component_versions/v1/block.xml"] = (
        '<html><img src="/static/\u202egnp.exe"/></html>')
    members["collections/c1.toml"] = str(members["collections/c1.toml"]).replace(
        'title = "C c1"', f'title = "{EVIL_TITLE_TOML}"')
    return members


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("envelope")
    evil = make_zip(root / "evil.zip", evil_members())
    store = root / "store.db"
    assert main(["restore", str(evil), str(store), "--ref", EVIL, "-q"]) == 0
    assert main(["backup", str(store), EVIL, "-o", str(root / "evil-v2.zip"), "-q"]) == 0
    plain = make_zip(root / "plain.zip", tiny_members())
    return {"plain": str(plain), "evil": str(evil), "store": f"sqlite:///{store}", "v2": str(root / "evil-v2.zip"),
            "root": str(root)}


def _run(args: list[str], files: dict[str, str], out: str, as_json: bool,
         capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    argv = [a.format(**files, out=out) for a in args] + (["--json"] if as_json else [])
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(("name", "args", "status"), INVOCATIONS, ids=[i[0] for i in INVOCATIONS])
def test_json_is_one_valid_envelope(name: str, args: list[str], status: int, files: dict[str, str],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(args, files, f"{files['root']}/json-{name}", True, capsys)
    assert code == status, (out, err)
    assert err == ""
    data: dict[str, Any] = json.loads(out)
    jsonschema.validate(data, SCHEMA)
    assert data["command"] == args[0] and data["exit"] == status
    assert not UNSAFE.search(out), "raw control character in --json output"
    if name == "inspect":  # --json keeps the real value
        assert data["result"]["package"]["title"] == EVIL_TITLE
        assert any("\u202e" in w["message"] for w in data["warnings"])


@pytest.mark.parametrize(("name", "args", "status"), INVOCATIONS, ids=[i[0] for i in INVOCATIONS])
def test_nothing_reaches_the_terminal_raw(name: str, args: list[str], status: int, files: dict[str, str],
                                          capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("lc_archive.cli.output.stdout_is_terminal", lambda: True)
    code, out, err = _run(args, files, f"{files['root']}/text-{name}", False, capsys)
    assert code == status, (out, err)
    for stream in (out, err):
        found = UNSAFE.search(stream)
        assert found is None, f"{found.group()!r} reached the terminal raw: {stream!r}"
    if name == "inspect":
        assert "\\x1b]0;pwned\\x07" in out  # shown, escaped
    if name == "state":
        assert "\\u001b]0;pwned\\u0007" in out  # JSON: escaped the JSON way
