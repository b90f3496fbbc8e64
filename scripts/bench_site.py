"""`make bench-site`: site-scale figures (issue 14) in one JSON report.

    python scripts/bench_site.py --out bench-out/site.json [--packages 500] [--components 10000] [--workdir DIR]

Services: Redis from ``LC_ARCHIVE_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``; a queue and key
prefix of its own), and moto's S3 server started here on 127.0.0.1 (``tests/support/services.py``).

1. **backup_all with Celery**: a SQLite store of ``--packages`` generated packages (sizes drawn
   uniformly from 10 to 500 components, seed 1), backed up to a fresh local directory by a real
   ``celery worker`` with 1, then 2 prefork processes: packages per second for each, the ratio, and the
   second run's rewrites (must be 0) and time. Then the same with 2 processes to the S3 server.
   **local** (part ``local``): the same store with ``lc-archive backup-all --local -j 1``, then ``-j 2``
   (spawned worker processes, no broker): wall time, CPU seconds and cores used, the ratio.
   Every run records the load average before and after it; the report has ``uptime`` at both ends.
2. **restore from S3**: a ``--components`` library backed up to S3, restored from ``s3://`` in a fresh
   process: wall time and peak RSS (``VmHWM``), beside a restore of the same archive from a local file.
3. **streamed export**: time to the first chunk of ``stream_backup`` at ``--components``, measured
   from the call in a process whose store is already open (as a Django view would be), the whole
   stream's time, and whether its bytes equal the file backup's.
4. **decision figures** (ADR 0009): the remote read cache (restore time and RSS for several block
   sizes and counts), direct multipart upload against upload-to-a-temporary-key + copy + delete, and
   ArchiveWriter against zipstream-ng writing to an unseekable output.

Timings on this shared 2-core machine are noisy: each figure is one run unless it says otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
BIG_REF = "lib:Org:BIG"
SEED = 1


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _uptime() -> str:
    """``uptime``'s line (the machine's load), to read every figure against."""
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


# -- child operations (one fresh process each) -------------------------------------------------------


def _child(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="bench_site.py --child")
    p.add_argument("op", choices=["restore", "ttfb"])
    p.add_argument("--archive", default="")
    p.add_argument("--store", required=True)
    p.add_argument("--read-block", type=int, default=0)
    p.add_argument("--read-blocks", type=int, default=0)
    args = p.parse_args(argv)
    from lc_archive.stores import open_store

    out: dict[str, Any] = {"op": args.op}
    if args.op == "restore":
        from lc_archive.archive import locations
        from lc_archive.usecases.restore import restore

        if args.read_block:
            locations.READ_BLOCK = args.read_block
        if args.read_blocks:
            locations.READ_BLOCKS = args.read_blocks
        with open_store(args.store) as store:
            started = time.perf_counter()
            result = restore(args.archive, store, ref="lib:Org:RESTORED", user="bench")
            out.update(wall_s=round(time.perf_counter() - started, 3), entities=result.archive.entities)
    else:
        from lc_archive.usecases.streaming import stream_backup

        with open_store(args.store, create=False) as store:
            store.package_refs()  # the connection is open, as in a running web process
            digest, size = hashlib.sha256(), 0
            started = time.perf_counter()
            chunks = stream_backup(store, BIG_REF)
            first = next(chunks)
            out["first_chunk_s"] = round(time.perf_counter() - started, 4)
            out["first_chunk_bytes"] = len(first)
            digest.update(first)
            size += len(first)
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
            out.update(stream_s=round(time.perf_counter() - started, 3), bytes=size, sha256=digest.hexdigest())
    out["peak_rss_mb"] = round(_peak_rss_mb(), 1)
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


def _run_child(*args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=REPO, env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"bench-site: child {args[0]} failed ({proc.returncode})")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


# -- 1. backup_all ------------------------------------------------------------------------------------


def _site_store(workdir: Path, packages: int) -> tuple[Path, int]:
    """The generated site store (reused when it exists with the same shape); returns (path, components)."""
    from lc_archive.stores import open_store
    from lc_archive.synthetic import generate_library

    rng = random.Random(SEED)
    sizes = [rng.randint(10, 500) for _ in range(packages)]
    path = workdir / f"site-{packages}-seed{SEED}.db"
    with open_store(path) as store:
        have = set(store.package_refs())
        for i, size in enumerate(sizes):
            ref = f"lib:Site:P{i:04d}"
            if ref not in have:
                generate_library(store, ref, components=size, seed=SEED * 100_000 + i)
    return path, sum(sizes)


def _tree_cpu_s(root: int) -> float:
    """CPU seconds (user + system) used so far by process ``root`` and its live descendants."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        tree.add(pid)
        todo.extend(child for child, parent in parents.items() if parent == pid and child not in tree)
    return sum(times.get(pid, 0.0) for pid in tree)


def _backup_all(db: Path, target: str, worker_pids: list[int]) -> dict[str, Any]:
    from lc_archive.tasks import backup_all

    cpu = sum(map(_tree_cpu_s, worker_pids))
    started = time.perf_counter()
    summary: dict[str, Any] = backup_all.delay(str(db), target).get(timeout=3600)
    summary["client_wall_s"] = round(time.perf_counter() - started, 3)
    summary["worker_cpu_s"] = round(sum(map(_tree_cpu_s, worker_pids)) - cpu, 1)
    summary["worker_cores_used"] = round(summary["worker_cpu_s"] / summary["client_wall_s"], 2)
    return summary


def _celery_runs(db: Path, workdir: Path, s3: Any, packages: int, *, with_s3: bool = True) -> dict[str, Any]:
    from support.services import celery_env, forget_celery_keys, running_worker

    from lc_archive.tasks.app import app, configure

    runs: dict[str, Any] = {}
    env = celery_env(s3.env)  # one queue and key prefix for every run: a client binds its queue once
    os.environ.update(env)
    configure(app)
    # (label, worker instances, processes per worker, to S3). Two instances of one process each get two
    # sessions, hence two shares of the CPU under the kernel's autogroup scheduling; one worker with two
    # processes gets one share (see the report's note).
    configs = [("local_dir_1_worker", 1, 1, False), ("local_dir_1_worker_2_processes", 1, 2, False),
               ("local_dir_2_workers", 2, 1, False)]
    for label, instances, per_worker, to_s3 in [*configs, *([("s3_2_workers", 2, 1, True)] if with_s3 else [])]:
        processes = instances * per_worker
        target = s3.url(f"site-{label}/") if to_s3 else str(workdir / f"out-{label}-{time.time_ns()}")
        log = workdir / f"worker-{label}.log"
        load_before = [round(x, 2) for x in os.getloadavg()]
        with running_worker(env, log, concurrency=per_worker, instances=instances) as worker:
            pids = [proc.pid for proc in worker.procs]
            first = _backup_all(db, target, pids)
            second = _backup_all(db, target, pids)
        runs[label] = {
            "worker_processes": processes, "worker_instances": instances,
            "target": "s3 (moto server)" if to_s3 else "local directory",
            "first_run_s": first["client_wall_s"], "packages_per_s": round(packages / first["client_wall_s"], 2),
            "written": first["written"], "failed": len(first["failed"]),
            "worker_cpu_s": first["worker_cpu_s"], "worker_cores_used": first["worker_cores_used"],
            "machine_load_1min": round(os.getloadavg()[0], 2), "load_before": load_before,
            "load_after": [round(x, 2) for x in os.getloadavg()],
            "second_run_s": second["client_wall_s"], "second_run_rewrites": second["written"],
            "second_run_unchanged": second["unchanged"], "second_run_index_written": second["index_written"],
        }
        print(f"  {label}: {runs[label]}", flush=True)
    forget_celery_keys(env)
    one = runs["local_dir_1_worker"]
    runs["ratio_2_over_1"] = round(runs["local_dir_2_workers"]["packages_per_s"] / one["packages_per_s"], 3)
    runs["ratio_2_processes_one_worker_over_1"] = round(
        runs["local_dir_1_worker_2_processes"]["packages_per_s"] / one["packages_per_s"], 3)
    return runs


def _local_runs(db: Path, workdir: Path, packages: int) -> dict[str, Any]:
    """``lc-archive backup-all --local -j N`` (spawned worker processes, no broker): wall time, CPU
    seconds of the command and its processes (``RUSAGE_CHILDREN``), the second run's rewrites."""
    import resource

    cli = [str(Path(sys.executable).parent / "lc-archive"), "backup-all", "--local", "--json", "-q"]
    runs: dict[str, Any] = {}
    for jobs in (1, 2):
        target = workdir / f"out-local-j{jobs}-{time.time_ns()}"
        load_before = [round(x, 2) for x in os.getloadavg()]
        timings = []
        for _ in range(2):  # the first run writes every archive, the second (nothing changed) none
            cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            proc = subprocess.run([*cli, "-j", str(jobs), str(db), str(target)], capture_output=True, text=True,
                                  check=False, cwd=REPO, env={**os.environ, "LC_ARCHIVE_BROKER_URL": ""})
            wall = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if proc.returncode != 0:
                sys.stderr.write(proc.stdout + proc.stderr)
                raise SystemExit(f"bench-site: backup-all -j {jobs} failed ({proc.returncode})")
            result = json.loads(proc.stdout)["result"]
            cpu_s = (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime)
            timings.append({"wall_s": round(wall, 3), "cpu_s": round(cpu_s, 1), "cores_used": round(cpu_s / wall, 2),
                            "written": result["written"]})
        first, second = timings
        runs[f"local_j{jobs}"] = {
            "jobs": jobs, "first_run_s": first["wall_s"], "packages_per_s": round(packages / first["wall_s"], 2),
            "written": first["written"], "cpu_s": first["cpu_s"], "cores_used": first["cores_used"],
            "second_run_s": second["wall_s"], "second_run_rewrites": second["written"],
            "load_before": load_before, "load_after": [round(x, 2) for x in os.getloadavg()]}
        print(f"  local -j {jobs}: {runs[f'local_j{jobs}']}", flush=True)
    runs["ratio_j2_over_j1"] = round(runs["local_j2"]["packages_per_s"] / runs["local_j1"]["packages_per_s"], 3)
    return runs


# -- 2./3. restore from S3 and streamed export ---------------------------------------------------------


def _big_library(workdir: Path, components: int) -> Path:
    from lc_archive.stores import open_store
    from lc_archive.synthetic import generate_library

    path = workdir / f"big-{components}.db"
    with open_store(path) as store:
        if BIG_REF not in store.package_refs():
            generate_library(store, BIG_REF, components=components, seed=SEED)
    return path


def _restore_and_stream(big: Path, workdir: Path, s3: Any) -> dict[str, Any]:
    from lc_archive.stores import open_store
    from lc_archive.usecases.backup import backup

    local = workdir / "big.zip"
    url = s3.url("big/lib.zip")
    with open_store(big) as store:
        backup(store, BIG_REF, local)
        started = time.perf_counter()
        backup(store, BIG_REF, url)
        upload_s = round(time.perf_counter() - started, 3)
    out: dict[str, Any] = {"archive_bytes": local.stat().st_size, "backup_to_s3_s": upload_s}

    def fresh_store() -> str:
        return str(Path(tempfile.mkdtemp(dir=workdir)) / "restored.db")

    out["restore_from_s3"] = _run_child("restore", "--archive", url, "--store", fresh_store())
    out["restore_from_file"] = _run_child("restore", "--archive", str(local), "--store", fresh_store())
    sweep = {}
    for block_mib, blocks in ((1, 8), (2, 4), (4, 2), (4, 4), (16, 2)):
        sweep[f"{block_mib}MiB x {blocks}"] = _run_child(
            "restore", "--archive", url, "--store", fresh_store(), "--read-block", str(block_mib << 20),
            "--read-blocks", str(blocks))
    out["read_block_sweep"] = sweep
    ttfb = _run_child("ttfb", "--store", str(big))
    ttfb["equals_file_backup"] = ttfb.pop("sha256") == hashlib.sha256(local.read_bytes()).hexdigest()
    out["stream"] = ttfb
    return out


# -- 4. decision figures -----------------------------------------------------------------------------


def _commit_strategies(s3: Any, size_mib: int = 100) -> dict[str, Any]:
    import fsspec

    fs = fsspec.filesystem("s3")
    block = os.urandom(1 << 20)
    out: dict[str, Any] = {"object_mib": size_mib}

    def upload(path: str) -> None:
        with fs.open(path, "wb", block_size=8 << 20) as handle:
            for _ in range(size_mib):
                handle.write(block)

    started = time.perf_counter()
    upload(f"{s3.bucket}/commit/direct.bin")
    out["direct_multipart_s"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    upload(f"{s3.bucket}/commit/.tmp.bin")
    fs.copy(f"{s3.bucket}/commit/.tmp.bin", f"{s3.bucket}/commit/copied.bin")
    fs.rm(f"{s3.bucket}/commit/.tmp.bin")
    out["temporary_key_copy_delete_s"] = round(time.perf_counter() - started, 3)
    parts = -(-size_mib // 8)
    out["requests_direct"] = parts + 2
    out["requests_temporary_copy"] = parts + 2 + 1 + 1
    return out


def _writers(entries: int = 20_000) -> dict[str, Any]:
    import zipstream

    from lc_archive.archive.zip_writer import ArchiveWriter

    when = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    bodies = [(f"entities/xblock.v1/html/c{i:05d}.toml", (f"[entity]\nkey = \"c{i}\"\n" * 8).encode())
              for i in range(entries)]

    class Sink(io.RawIOBase):
        def __init__(self) -> None:
            self.size = 0

        def writable(self) -> bool:
            return True

        def write(self, b: Any) -> int:
            self.size += len(b)
            return len(b)

    started = time.perf_counter()
    sink = Sink()
    writer = ArchiveWriter(sink, sizes_in_headers=True)
    for name, body in bodies:
        writer.add_bytes(name, body, when, compress=True)
    writer.close()
    ours = time.perf_counter() - started
    started = time.perf_counter()
    stream = zipstream.ZipStream(compress_type=zipstream.ZIP_DEFLATED)
    for name, body in bodies:
        stream.add(body, name)
    theirs_bytes = sum(len(chunk) for chunk in stream)
    theirs = time.perf_counter() - started
    return {"entries": entries, "archive_writer_s": round(ours, 3), "archive_writer_bytes": sink.size,
            "zipstream_ng_s": round(theirs, 3), "zipstream_ng_bytes": theirs_bytes,
            "zipstream_ng_over_archive_writer": round(theirs / ours, 2)}


# -- main ---------------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        return _child(argv[1:])
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--packages", type=int, default=500)
    p.add_argument("--components", type=int, default=10_000)
    p.add_argument("--out", default="bench-out/site.json")
    p.add_argument("--workdir", help="keep the generated stores here (reused by the next run)")
    p.add_argument("--no-s3-site", action="store_true", help="backup_all to local directories only")
    p.add_argument("--parts", default="backup_all,local,large,decisions",
                   help="comma-separated subset of: backup_all (Celery), local (backup-all -j 1 and -j 2), large, "
                        "decisions")
    args = p.parse_args(argv)
    parts = set(args.parts.split(","))
    os.environ.setdefault("LC_ARCHIVE_REDIS_URL", "redis://127.0.0.1:6379/0")
    from support.services import running_s3

    note = ("shared 2-core machine; one run per figure. The kernel schedules by session (autogroup): every "
            "process of one session shares one share of the CPU, so on a busy machine a worker's 2 processes "
            "get what 1 gets, and 2 workers (2 sessions) get 2 shares.")
    report: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "note": note,
                    "sched_autogroup": Path("/proc/sys/kernel/sched_autogroup_enabled").read_text().strip()},
        "started": datetime.now(UTC).isoformat(timespec="seconds"), "uptime_before": _uptime()}
    targets: dict[str, bool] = {}
    with contextlib.ExitStack() as stack:
        workdir = Path(args.workdir) if args.workdir else Path(stack.enter_context(
            tempfile.TemporaryDirectory(prefix="lc-archive-bench-site-")))
        workdir.mkdir(parents=True, exist_ok=True)
        s3 = stack.enter_context(running_s3())
        if parts & {"backup_all", "local"}:
            started = time.perf_counter()
            db, components = _site_store(workdir, args.packages)
            report["site"] = {"packages": args.packages, "components": components,
                              "generate_s": round(time.perf_counter() - started, 1)}
            print(f"site store: {report['site']}", flush=True)
        if "backup_all" in parts:
            runs = report["backup_all"] = _celery_runs(db, workdir, s3, args.packages, with_s3=not args.no_s3_site)
            targets["ratio_2_over_1 >= 1.6"] = runs["ratio_2_over_1"] >= 1.6
            targets["second_run_rewrites == 0"] = all(r["second_run_rewrites"] == 0 for r in runs.values()
                                                      if isinstance(r, dict))
        if "local" in parts:
            local = report["backup_all_local"] = _local_runs(db, workdir, args.packages)
            targets["local_ratio_j2_over_j1 >= 1.6"] = local["ratio_j2_over_j1"] >= 1.6
            targets["local_second_run_rewrites == 0"] = all(r["second_run_rewrites"] == 0 for r in local.values()
                                                            if isinstance(r, dict))
        if "large" in parts:
            big = _big_library(workdir, args.components)
            large = report["large_library"] = {"components": args.components,
                                               **_restore_and_stream(big, workdir, s3)}
            print(f"large library: {large}", flush=True)
            targets["restore_from_s3_peak_rss_mb < 200"] = large["restore_from_s3"]["peak_rss_mb"] < 200
            targets["stream_first_chunk_s < 1"] = large["stream"]["first_chunk_s"] < 1
            targets["stream_equals_file_backup"] = large["stream"]["equals_file_backup"]
        if "decisions" in parts:
            report["decisions"] = {"commit": _commit_strategies(s3), "writers": _writers()}
    report["uptime_after"] = _uptime()
    report["targets"] = targets
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report["targets"], indent=1))
    print(f"report: {out}")
    return 0 if all(report["targets"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
