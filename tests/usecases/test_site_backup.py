"""backup-all in local worker processes: one archive per package, an index, failures isolated and
reported, and a second run that changes nothing writes nothing."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path

import pytest
from support.sitekit import HOSTILE, site_store

from lc_archive.cli import main
from lc_archive.stores import open_store
from lc_archive.usecases.site_backup import SiteJob, archive_name, back_up_package, backup_site, plan_site_backup


def _index(prefix: Path) -> dict[str, dict[str, object]]:
    document = json.loads((prefix / "index.json").read_text("utf-8"))
    assert document["format"] == "lc-archive-site-index/1"
    return {e["ref"]: e for e in document["packages"]}


def test_archive_names_are_safe_readable_and_distinct() -> None:
    names = {archive_name(r) for r in ("lib:Org:A", "lib:Org:a", "lib/Org/A", "lib:Org:A ", "../../x", "ü:…")}
    assert len(names) == 6
    assert archive_name("lib:Org:LIB1").startswith("lib_Org_LIB1-") and archive_name("../../x").startswith("x-")
    assert all("/" not in n and ":" not in n and not n.startswith(".") for n in names)


def test_backup_all_isolates_failures_and_rewrites_nothing_the_second_time(tmp_path: Path) -> None:
    db = tmp_path / "site.db"
    refs = site_store(db)
    out = tmp_path / "out"
    first = backup_site(str(db), str(out), jobs=2)
    assert (first.packages, first.written, first.unchanged) == (5, 4, 0) and first.index_written
    assert [f["ref"] for f in first.failed] == [HOSTILE] and "evil.png" in first.failed[0]["error"]
    index = _index(out)
    assert sorted(index) == refs
    assert index[HOSTILE]["error"] and index[HOSTILE]["sha256"] is None
    for ref in refs:
        if ref == HOSTILE:
            continue
        entry = index[ref]
        archive = Path(str(entry["url"]))
        assert archive.parent == out and archive.name == archive_name(ref)
        assert hashlib.sha256(archive.read_bytes()).hexdigest() == entry["sha256"]
        assert archive.stat().st_size == entry["bytes"] and entry["error"] is None
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}

    second = backup_site(str(db), str(out), jobs=1)
    assert (second.written, second.unchanged, len(second.failed), second.index_written) == (0, 4, 1, False)
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == stamps  # nothing rewritten, index included

    # One package changes: only its archive (and the index) are written again.
    with open_store(db) as store, store.read("lib:Org:P1") as source:
        later = source.last_changed() + timedelta(minutes=1)
    with open_store(db) as store, store.author("lib:Org:P1", clock=lambda: later) as author:
        author.create_collection("new", "New")
    third = backup_site(str(db), str(out), jobs=1)
    assert (third.written, third.unchanged, third.index_written) == (1, 3, True)
    changed = {p.name for p in out.iterdir() if stamps.get(p.name) != p.stat().st_mtime_ns}
    assert changed == {"index.json", archive_name("lib:Org:P1")}
    assert not list(out.glob(".*"))  # no temporary file left anywhere


def test_a_change_without_a_time_is_still_caught_by_the_hash(tmp_path: Path) -> None:
    db = tmp_path / "site.db"
    site_store(db, sizes=(12,), hostile=False)
    out = tmp_path / "out"
    backup_site(str(db), str(out))
    # Soft-deleting a draft moves a pointer: the store records no time for it, the content changes.
    with open_store(db) as store:
        with store.read("lib:Org:P0") as source:
            victim = next(e.ref for e in source.iter_entities() if e.draft is not None and e.ref.startswith("xblock"))
        with store.author("lib:Org:P0") as author:
            author.soft_delete(victim)
    assert backup_site(str(db), str(out)).written == 1


def test_a_duplicated_job_leaves_one_archive(tmp_path: Path) -> None:
    db = tmp_path / "site.db"
    site_store(db, sizes=(30,), hostile=False)
    out = tmp_path / "out"
    [job] = plan_site_backup(str(db), str(out))
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(2) as pool:
        entries = list(pool.map(back_up_package, [job, SiteJob.from_dict(job.as_dict())]))
    assert [e["error"] for e in entries] == [None, None]
    assert entries[0]["sha256"] == entries[1]["sha256"]
    assert sorted(p.name for p in out.iterdir()) == [archive_name("lib:Org:P0")]


def test_the_cli_reports_failures_with_status_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "site.db"
    site_store(db, sizes=(6,))
    assert main(["backup-all", str(db), str(tmp_path / "out"), "-j", "1", "--json", "--local"]) == 1
    data = json.loads(capsys.readouterr().out)["result"]
    assert (data["packages"], data["written"], [f["ref"] for f in data["failed"]]) == (2, 1, [HOSTILE])
    assert main(["backup-all", str(db), str(tmp_path / "out"), "-j", "1", "-q", "--local",
                 "--package", "lib:Org:P0"]) == 0
    assert sorted(_index(tmp_path / "out")) == sorted(["lib:Org:P0", HOSTILE])  # the others' entries are kept
