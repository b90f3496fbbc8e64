"""The Celery tasks with a real worker process (2 prefork processes) over the Redis server, writing to
a real S3-compatible server: backup_all fans out, isolates a failing package, indexes, and rewrites
nothing the second time; backup_package and restore_archive report progress and round-trip."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.services import S3, Worker, celery_env, environment, forget_celery_keys, running_worker
from support.sitekit import HOSTILE, site_store

from lc_archive.cli import main
from lc_archive.stores import open_store
from lc_archive.synthetic import generate_library
from lc_archive.usecases.site_backup import archive_name

pytestmark = pytest.mark.xdist_group("celery")


@pytest.fixture(scope="module")
def worker(s3: S3, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    env = celery_env(s3.env)
    log = tmp_path_factory.mktemp("celery") / "worker.log"
    with running_worker(env, log, concurrency=2) as running, environment(env):
        running.apply()
        yield running
    forget_celery_keys(env)


def test_backup_all_fans_out_isolates_a_failure_and_rewrites_nothing_the_second_time(
        worker: Worker, s3: S3, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from lc_archive.tasks import backup_all

    db = tmp_path / "site.db"
    refs = site_store(db, sizes=(8, 20, 3, 30, 12, 5))
    prefix = s3.url("site/")
    first = backup_all.delay(str(db), prefix).get(timeout=120)
    assert (first["packages"], first["written"], first["unchanged"]) == (7, 6, 0)
    assert [f["ref"] for f in first["failed"]] == [HOSTILE] and first["index_written"]
    body = s3.client().get_object(Bucket=s3.bucket, Key="site/index.json")["Body"].read()
    index = {e["ref"]: e for e in json.loads(body)["packages"]}
    assert sorted(index) == refs and "evil.png" in index[HOSTILE]["error"]
    objects = s3.keys("site/")
    for ref in refs:
        key = "site/" + archive_name(ref)
        if ref == HOSTILE:
            assert key not in objects
            continue
        data = s3.client().get_object(Bucket=s3.bucket, Key=key)["Body"].read()
        assert hashlib.sha256(data).hexdigest() == index[ref]["sha256"] and len(data) == index[ref]["bytes"]
    assert s3.open_uploads("site/") == []
    # The work was spread over both worker processes.
    log = worker.log.read_text(errors="replace")
    assert "ForkPoolWorker-1" in log and "ForkPoolWorker-2" in log

    # The second run through the CLI, which sends it to the workers because a broker is configured.
    capsys.readouterr()
    assert main(["backup-all", str(db), prefix, "--json", "--timeout", "120"]) == 1  # the failure again
    second = json.loads(capsys.readouterr().out)["result"]
    assert (second["written"], second["unchanged"], second["index_written"]) == (0, 6, False)
    after = s3.keys("site/")
    assert {k: (o["ETag"], o["LastModified"]) for k, o in after.items()} == \
        {k: (o["ETag"], o["LastModified"]) for k, o in objects.items()}


def test_a_duplicated_package_task_leaves_one_object(worker: Worker, s3: S3, tmp_path: Path) -> None:
    from lc_archive.tasks import site_package
    from lc_archive.usecases.site_backup import plan_site_backup

    db = tmp_path / "site.db"
    site_store(db, sizes=(60,), hostile=False)
    [job] = plan_site_backup(str(db), s3.url("dup/"))
    results = [site_package.delay(job.as_dict()) for _ in range(2)]  # delivered twice, run at once
    entries = [r.get(timeout=60) for r in results]
    assert all(e["sha256"] == entries[0]["sha256"] for e in entries if e["error"] is None)
    assert any(e["error"] is None for e in entries)
    assert list(s3.keys("dup/")) == ["dup/" + archive_name("lib:Org:P0")]
    assert s3.open_uploads("dup/") == []


def test_backup_and_restore_tasks_report_progress(worker: Worker, s3: S3, tmp_path: Path) -> None:
    from lc_archive.tasks import backup_package, restore_archive

    db = tmp_path / "lib.db"
    with open_store(db) as store:
        generate_library(store, "lib:Org:BIG", components=1500, seed=7)
    url = s3.url("tasks/big.zip")
    result = backup_package.delay(f"sqlite:///{db}", "lib:Org:BIG", url, "v2")
    seen = set()
    while not result.ready():
        meta = result.backend.get_task_meta(result.id)  # state and info from one read: the task may end between two
        if meta["status"] == "PROGRESS":
            seen.add((meta["result"]["phase"], meta["result"]["total"]))
        time.sleep(0.02)
    summary = result.get(timeout=60)
    assert ("backup", summary["entities"]) in seen
    assert summary["path"] == url and len(summary["sha256"]) == 64
    restored = restore_archive.delay(url, f"sqlite:///{tmp_path / 'back.db'}", "lib:Org:BACK").get(timeout=120)
    assert restored["ref"] == "lib:Org:BACK" and restored["entities"] == summary["entities"]
