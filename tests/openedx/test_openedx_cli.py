"""Every store command of the CLI on a live openedx-core database (``openedx:``), and ``diff`` on the
archives it makes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from support.openedx_db import OpenedxDb
from support.openedx_library import build_library


def _cli(db: OpenedxDb, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "lc_archive", *args]
    return subprocess.run(cmd, env=db.env(), capture_output=True, text=True, check=False)


def test_store_commands_work_on_openedx(openedx_sqlite: OpenedxDb, tmp_path: Path) -> None:
    lib = build_library(components=4, versions=3)
    url = openedx_sqlite.store_url
    listed = _cli(openedx_sqlite, "packages", url, "--json")
    assert listed.returncode == 0, listed.stderr
    assert [p["ref"] for p in json.loads(listed.stdout)["result"]["packages"]] == [lib.ref]
    v1, v2 = tmp_path / "lib.v1.zip", tmp_path / "lib.v2.zip"
    for fmt, path in (("v1", v1), ("v2", v2)):
        done = _cli(openedx_sqlite, "backup", url, lib.ref, "-o", str(path), "--format", fmt)
        assert done.returncode == 0, done.stderr
    state = _cli(openedx_sqlite, "state", url, lib.ref, "--all-versions")
    assert state.returncode == 0, state.stderr
    assert json.loads(state.stdout)["summary"]["publish_events"] == 2
    lost = _cli(openedx_sqlite, "diff", str(v1), str(v2), "--current-only")  # v1 carries no pins
    assert lost.returncode == 1, lost.stdout + lost.stderr
    assert "[xblock.v1:html:c0, xblock.v1:html:c1] -> [xblock.v1:html:c0, xblock.v1:html:c1@1]" in lost.stdout
    assert "differ: 1 entities changed" in lost.stdout
    again = tmp_path / "again.v2.zip"
    assert _cli(openedx_sqlite, "backup", url, lib.ref, "-o", str(again)).returncode == 0
    assert again.read_bytes() == v2.read_bytes()  # the archive's time is the content's: same bytes
    assert _cli(openedx_sqlite, "diff", str(v2), str(again)).returncode == 0
    site = _cli(openedx_sqlite, "backup-all", url, str(tmp_path / "site"), "-j", "1")
    assert site.returncode == 0, site.stderr
    assert (tmp_path / "site" / "index.json").exists()
    missing = _cli(openedx_sqlite, "backup", url, "lib:Org:NOPE", "-o", str(tmp_path / "x.zip"))
    assert missing.returncode != 0 and "lib:Org:NOPE" in missing.stderr and "Traceback" not in missing.stderr
