"""The slips table: mistaken invocations of every subcommand end in one line (or one JSON object), exit 1 or 2,
no traceback, and every file involved byte-identical afterwards (no file created either)."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path

import pytest
from support.v1kit import make_zip, tiny_members

from lc_archive.cli import main

REF = "lib:Org:EXISTING"
S = "sqlite:///{store}"

# (id, argv with {placeholders}, expected exit status)
SLIPS: list[tuple[str, list[str], int]] = [
    # backup: outputs that are not ours, bad arguments, missing stores and packages
    ("backup-onto-own-store", ["backup", S, REF, "-o", "{store}"], 1),
    ("backup-onto-own-store-forced", ["backup", S, REF, "-o", "{store}", "--force"], 1),
    ("backup-onto-other-sqlite", ["backup", S, REF, "-o", "{other}", "--force"], 1),
    ("backup-onto-text-file", ["backup", S, REF, "-o", "{notes}"], 1),
    ("backup-onto-existing-archive", ["backup", S, REF, "-o", "{full}"], 1),
    ("backup-onto-directory", ["backup", S, REF, "-o", "{dir}", "--force"], 1),
    ("backup-onto-device", ["backup", S, REF, "-o", "/dev/null", "--force"], 1),
    ("backup-created-at-yesterday", ["backup", S, REF, "-o", "{new_zip}", "--created-at", "yesterday"], 2),
    ("backup-no-such-store", ["backup", "sqlite:///{tmp}/nosuch.db", REF, "-o", "{new_zip}"], 1),
    ("backup-no-such-package", ["backup", S, "lib:Org:NOPE", "-o", "{new_zip}"], 1),
    ("backup-empty-ref", ["backup", S, "", "-o", "{new_zip}"], 1),
    ("backup-unknown-format", ["backup", S, REF, "-o", "{new_zip}", "--format", "v3"], 2),
    ("backup-unknown-collection", ["backup", S, REF, "-o", "{new_zip}", "--collection", "nope"], 1),
    ("backup-missing-output", ["backup", S, REF], 2),
    ("backup-store-is-text", ["backup", "{notes}", REF, "-o", "{new_zip}"], 1),
    ("backup-into-missing-dir", ["backup", S, REF, "-o", "{tmp}/nosuchdir/x.zip"], 1),
    ("backup-unknown-protocol", ["backup", S, REF, "-o", "nosuchproto://bucket/x.zip"], 1),
    ("backup-bad-store-url", ["backup", "mysql://root@127.0.0.1:1/x", REF, "-o", "{new_zip}"], 1),
    ("backup-bad-schema-store", ["backup", "sqlite:///{odd}", REF, "-o", "{new_zip}"], 1),
    # restore: swapped arguments, stores that cannot be, refs that break the rule
    ("restore-swapped-url", ["restore", S, "{ok}"], 1),
    ("restore-swapped-paths", ["restore", "{store}", "sqlite:///{tmp}/new.db"], 1),
    ("restore-into-missing-dir", ["restore", "{ok}", "sqlite:///{tmp}/nonexistent/dir/x.db"], 1),
    ("restore-no-such-archive", ["restore", "{tmp}/nosuch.zip", "sqlite:///{tmp}/z.db"], 1),
    ("restore-existing-ref", ["restore", "{ok}", S, "--ref", REF], 1),
    ("restore-empty-ref", ["restore", "{ok}", "sqlite:///{tmp}/new.db", "--ref", ""], 2),
    ("restore-ref-with-space", ["restore", "{ok}", "sqlite:///{tmp}/new.db", "--ref", "lib:Org:A B"], 2),
    ("restore-ref-600-chars", ["restore", "{ok}", "sqlite:///{tmp}/new.db", "--ref", "x" * 600], 2),
    ("restore-ref-escape", ["restore", "{ok}", "sqlite:///{tmp}/new.db", "--ref", "lib:\x1b]0;pwned\x07:A"], 2),
    ("restore-into-text-file", ["restore", "{ok}", "{notes}", "--ref", "lib:Org:NEW"], 1),
    ("restore-into-directory", ["restore", "{ok}", "sqlite:///{dir}", "--ref", "lib:Org:NEW"], 1),
    ("restore-postgres-down", ["restore", "{ok}", "postgresql+psycopg://postgres@127.0.0.1:1/nosuchdb"], 1),
    ("restore-unsupported-db", ["restore", "{ok}", "mysql://root@127.0.0.1:1/x"], 1),
    ("restore-no-store", ["restore", "{ok}"], 2),
    ("restore-bad-limit", ["restore", "{ok}", "sqlite:///{tmp}/new.db", "--max-members", "lots"], 2),
    ("restore-bad-schema-store", ["restore", "{ok}", "sqlite:///{odd}", "--ref", "lib:Org:NEW"], 1),
    ("restore-strict-warnings", ["restore", "{warned}", "sqlite:///{tmp}/new.db", "--strict"], 1),
    # validate, verify, inspect
    ("validate-no-such-file", ["validate", "{tmp}/nosuch.zip"], 1),
    ("validate-a-store", ["validate", "{store}"], 1),
    ("validate-a-directory", ["validate", "{dir}"], 1),
    ("validate-no-argument", ["validate"], 2),
    ("validate-unknown-protocol", ["validate", "nosuchproto://bucket/x.zip"], 1),
    ("verify-no-such-file", ["verify", "{tmp}/nosuch.zip"], 1),
    ("verify-text-file", ["verify", "{notes}"], 1),
    ("inspect-negative-limit", ["inspect", "{ok}", "--limit", "-1"], 2),
    ("inspect-limit-not-number", ["inspect", "{ok}", "--limit", "ten"], 2),
    ("inspect-a-store", ["inspect", "{store}"], 1),
    # state, packages
    ("state-no-such-package", ["state", S, "lib:Org:NOPE"], 1),
    ("state-onto-other-store", ["state", S, REF, "-o", "{other}", "--force"], 1),
    ("state-onto-own-store", ["state", S, REF, "-o", "{store}", "--force"], 1),
    ("state-onto-text-file", ["state", S, REF, "-o", "{notes}"], 1),
    ("state-no-such-store", ["state", "sqlite:///{tmp}/nosuch.db", REF], 1),
    ("state-to-url", ["state", S, REF, "-o", "s3://bucket/state.json"], 2),
    ("packages-no-such-store", ["packages", "sqlite:///{tmp}/nosuch.db"], 1),
    ("packages-text-file", ["packages", "{notes}"], 1),
    ("packages-no-store", ["packages"], 2),
    ("packages-bad-schema", ["packages", "{odd}"], 1),
    # convert, diff
    ("convert-onto-store", ["convert", "{full}", "{store}", "--format", "v1", "--force"], 1),
    ("convert-onto-itself", ["convert", "{full}", "{full}", "--format", "v2", "--force"], 1),
    ("convert-onto-existing", ["convert", "{full}", "{ok}", "--format", "v1"], 1),
    ("convert-no-format", ["convert", "{full}", "{new_zip}"], 2),
    ("convert-no-such-input", ["convert", "{tmp}/nosuch.zip", "{new_zip}", "--format", "v1"], 1),
    ("convert-bad-created-at", ["convert", "{full}", "{new_zip}", "--format", "v1", "--created-at", "soon"], 2),
    ("diff-missing-archive", ["diff", "{ok}", "{tmp}/nosuch.zip"], 2),
    ("diff-one-argument", ["diff", "{ok}"], 2),
    ("diff-a-store", ["diff", "{ok}", "{store}"], 2),
    # plugins, backup-all, the parser itself
    ("plugins-unknown-flag", ["plugins", "--bogus"], 2),
    ("backup-all-no-such-store", ["backup-all", "sqlite:///{tmp}/nosuch.db", "{tmp}/site"], 1),
    ("backup-all-zero-jobs", ["backup-all", S, "{tmp}/site", "-j", "0"], 2),
    ("backup-all-unknown-format", ["backup-all", S, "{tmp}/site", "--format", "v3"], 2),
    ("backup-all-celery-no-broker", ["backup-all", S, "{tmp}/site", "--celery"], 1),
    ("packages-rename-bad-ref", ["rename", S, REF, "lib:Org:A B"], 2),
    ("rename-no-such-package", ["rename", S, "lib:Org:NOPE", "lib:Org:NEW"], 1),
    ("rename-missing-argument", ["rename", S, REF], 2),
    ("delete-no-such-package", ["delete", S, "lib:Org:NOPE", "--yes"], 1),
    ("delete-nobody-to-ask", ["delete", S, REF], 1),
    ("delete-no-such-store", ["delete", "sqlite:///{tmp}/nosuch.db", REF, "--yes"], 1),
    ("restore-into-no-such-package", ["restore", "{ok}", S, "--into", "lib:Org:NOPE"], 1),
    ("restore-preview-without-into", ["restore", "{ok}", S, "--preview"], 2),
    ("no-command", [], 2),
    ("unknown-command", ["restroe", "{ok}"], 2),
]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    """Every file the slips touch: two stores, archives, a text file, a directory, a store of an odd schema."""
    store = tmp_path / "store.db"
    ok = make_zip(tmp_path / "ok.zip", tiny_members())
    assert main(["restore", str(ok), str(store), "--ref", REF, "-q"]) == 0
    other = tmp_path / "other.db"
    assert main(["restore", str(ok), str(other), "--ref", "lib:Org:OTHER", "-q"]) == 0
    full = tmp_path / "full.zip"
    assert main(["backup", str(store), REF, "-o", str(full), "-q"]) == 0
    odd = tmp_path / "odd.db"
    odd.write_bytes(other.read_bytes())
    with sqlite3.connect(odd) as conn:
        conn.execute("UPDATE lc_meta SET value = 'two' WHERE key = 'schema_version'")
    conn.close()
    members = tiny_members()
    members["entities/xblock.v1/html/intro/component_versions/v1/block.xml"] = (
        '<html><img src="/static/gone.png"/></html>')
    warned = make_zip(tmp_path / "warned.zip", members)
    (tmp_path / "notes.txt").write_text("my notes\n")
    (tmp_path / "dir").mkdir()
    return {"tmp": str(tmp_path), "store": str(store), "other": str(other), "ok": str(ok), "full": str(full),
            "notes": str(tmp_path / "notes.txt"), "dir": str(tmp_path / "dir"), "new_zip": str(tmp_path / "new.zip"),
            "odd": str(odd), "warned": str(warned)}


def snapshot(root: Path) -> dict[str, str]:
    """Path -> SHA-256 (or 'dir') of everything under ``root``."""
    return {str(p.relative_to(root)): "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))}


def _argv(args: list[str], files: dict[str, str]) -> list[str]:
    return [a.replace("sqlite:///{store}", f"sqlite:///{files['store']}").format(**files) if "{" in a else a
            for a in args]


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
@pytest.mark.parametrize(("name", "args", "status"), SLIPS, ids=[s[0] for s in SLIPS])
def test_slip(name: str, args: list[str], status: int, as_json: bool, files: dict[str, str],
              capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LC_ARCHIVE_STORE", raising=False)
    for name_ in ("LC_ARCHIVE_BROKER_URL", "CELERY_BROKER_URL"):
        monkeypatch.delenv(name_, raising=False)
    root = Path(files["tmp"])
    before = snapshot(root)
    argv = _argv(args, files) + (["--json"] if as_json else [])
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == status, (argv, out, err)
    assert "Traceback" not in out + err
    if as_json:
        assert err == "", err
        data = json.loads(out)  # exactly one JSON document
        assert data["ok"] is False and data["exit"] == status
        assert data["error"] is not None or data["problems"] or data["warnings"], data
    else:
        lines = [line for line in (out + err).splitlines() if line.strip()]
        assert len(lines) == 1, (argv, out, err)
        assert "\x1b" not in out + err
    assert snapshot(root) == before, argv


def test_the_table_covers_every_subcommand() -> None:
    from lc_archive.cli.app import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    commands = set(sub.choices)  # type: ignore[arg-type]
    covered = {args[0] for _, args, _ in SLIPS if args}
    assert len(SLIPS) >= 40
    assert commands <= covered, commands - covered


def test_store_from_the_environment(files: dict[str, str], capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LC_ARCHIVE_STORE", f"sqlite:///{files['store']}")
    assert main(["packages", "--json"]) == 0
    assert [p["ref"] for p in json.loads(capsys.readouterr().out)["result"]["packages"]] == [REF]
    assert main(["backup", REF, "-o", files["new_zip"], "-q"]) == 0
    assert os.path.getsize(files["new_zip"]) > 0
