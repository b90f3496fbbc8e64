"""`make bench-openedx`: the openedx-core adapter beside openedx-core's own backup, in one JSON report.

    python scripts/bench_openedx.py --out bench-out/openedx.json [--components 10000] [--seed 1]
                                    [--repeat 1] [--workdir DIR] [--no-mysql]

1. **library**: ``../shared/peer/peer.py gen --components N`` makes a library in openedx-core 1.15.2
   itself, in SQLite (cached in the work directory by size and seed: generating 10,000 components takes
   minutes).
2. **backup** on SQLite: openedx-core's ``create_zip_file`` (what ``lp_dump`` runs) and the adapter's
   ``lc_archive.openedx.api.create_zip_file`` in v1 and v2, each in a fresh process of this venv with
   the same Django settings (``tests/openedx_settings.py``), timing only the call (as the peer's
   figures do); peak RSS is the process's ``VmHWM`` (Django's import baseline included). Speed-ups are
   lp_dump's time over the adapter's; the targets are >= 5x and <= 250 MiB.
3. **backup on MariaDB** (``LC_ARCHIVE_MYSQL_URL``, default ``mysql://root@127.0.0.1:3306/test``): the
   same three backups of the same library, loaded into a database of its own through the adapter's
   restore when it exists (otherwise reported as skipped).

4. **restore** (``bench_openedx_restore.py``): openedx-core's ``load_learning_package`` (``lp_load``) and
   the adapter's restore (``lc-archive restore ZIP openedx:``, one whole process) of lp_dump's archive of
   the same library, on SQLite (state checked with the peer's ``state``) and MariaDB; target >= 10x.
Timings on this shared 2-core machine are noisy: medians of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

REPO = Path(__file__).resolve().parent.parent
PEER_DIR = Path(os.environ.get("LC_ARCHIVE_PEER_DIR", REPO.parent / "shared" / "peer"))
_DEFAULT_PEER_PYTHON = Path(tempfile.gettempdir()) / "peer-venv" / "bin" / "python"
PEER_PYTHON = Path(os.environ.get("LC_ARCHIVE_PEER_PYTHON", _DEFAULT_PEER_PYTHON))
REF = "lib:Org:LIB1"
IMPLS = ("lp_dump", "v1", "v2")
TARGET_SPEEDUP = 5.0
TARGET_RSS_MIB = 250.0


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _django_env(extra: dict[str, str]) -> dict[str, str]:
    path = os.pathsep.join([str(REPO / "tests"), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LC_ARCHIVE_OPENEDX_")}
    return {**env, "DJANGO_SETTINGS_MODULE": "openedx_settings", "PYTHONPATH": path, **extra}


# -- child: one backup in a fresh process -------------------------------------------------------------


def _child(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="bench_openedx.py --child")
    p.add_argument("impl", choices=IMPLS)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    from lc_archive.stores.openedx.django_setup import ensure_django

    ensure_django()
    from django.db import connection

    connection.ensure_connection()
    baseline = _peak_rss_mb()
    if args.impl == "lp_dump":
        from openedx_content.api import create_zip_file as theirs

        started = time.perf_counter()
        theirs(REF, args.out)
    else:
        from lc_archive.openedx.api import create_zip_file

        started = time.perf_counter()
        create_zip_file(REF, args.out, format=args.impl)
    wall = time.perf_counter() - started
    out = {"impl": args.impl, "wall_s": round(wall, 3), "peak_rss_mb": round(_peak_rss_mb(), 1),
           "rss_before_mb": round(baseline, 1), "archive_bytes": Path(args.out).stat().st_size}
    with zipfile.ZipFile(args.out) as zf:
        out["zip_entries"] = len(zf.infolist())
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


def _run(cmd: list[str], env: dict[str, str] | None = None, timeout: float = 7200) -> dict[str, Any]:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=REPO, env=env, timeout=timeout)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit(f"bench-openedx: {' '.join(cmd[:4])} failed ({proc.returncode})")
    lines = [line for line in proc.stdout.strip().splitlines() if line.startswith("{")]
    result: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    return result


def _backups(env: dict[str, str], workdir: Path, repeat: int) -> dict[str, Any]:
    """Each implementation ``repeat`` times, interleaved, each in a fresh process; medians."""
    runs: dict[str, list[dict[str, Any]]] = {impl: [] for impl in IMPLS}
    for i in range(repeat):
        for impl in IMPLS:
            out = workdir / f"{impl}-{i}.zip"
            out.unlink(missing_ok=True)
            runs[impl].append(_run([sys.executable, __file__, "--child", impl, "--out", str(out)], env=env))
            print(f"  {impl} run {i + 1}: {runs[impl][-1]['wall_s']} s, {runs[impl][-1]['peak_rss_mb']} MiB",
                  flush=True)
    result: dict[str, Any] = {}
    for impl, items in runs.items():
        result[impl] = {
            "wall_s": statistics.median(r["wall_s"] for r in items),
            "wall_s_runs": [r["wall_s"] for r in items],
            "peak_rss_mb": max(r["peak_rss_mb"] for r in items),
            "rss_before_mb": items[-1]["rss_before_mb"],
            "archive_bytes": items[-1]["archive_bytes"],
            "zip_entries": items[-1]["zip_entries"],
        }
    base = result["lp_dump"]["wall_s"]
    for fmt in ("v1", "v2"):
        speedup = base / result[fmt]["wall_s"] if result[fmt]["wall_s"] else None
        result[f"speedup_{fmt}"] = round(speedup, 2) if speedup else None
        result[f"meets_targets_{fmt}"] = bool(speedup and speedup >= TARGET_SPEEDUP
                                              and result[fmt]["peak_rss_mb"] <= TARGET_RSS_MIB)
    return result


# -- the library ----------------------------------------------------------------------------------------


def _library(workdir: Path, components: int, seed: int) -> tuple[Path, dict[str, Any]]:
    db = workdir / f"gen-{components}-seed{seed}.sqlite3"
    info_path = db.with_suffix(".json")
    if not (db.exists() and info_path.exists()):
        print(f"generating {components} components in openedx-core (peer.py gen)...", flush=True)
        for stale in (db, Path(f"{db}.media")):
            shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink(missing_ok=True)
        info = _run([str(PEER_PYTHON), str(PEER_DIR / "peer.py"), "gen", "--components", str(components),
                     "--seed", str(seed), "--out-db", str(db)])
        info_path.write_text(json.dumps(info), encoding="utf-8")
    info = json.loads(info_path.read_text(encoding="utf-8"))
    return db, info


def _sqlite_env(db: Path) -> dict[str, str]:
    return _django_env({"LC_ARCHIVE_OPENEDX_SQLITE": str(db), "LC_ARCHIVE_OPENEDX_MEDIA": f"{db}.media/private"})


# -- MariaDB ----------------------------------------------------------------------------------------------


def _mysql_admin(url: str, statement: str) -> None:
    import pymysql

    parts = urlsplit(url)
    conn = pymysql.connect(host=parts.hostname or "127.0.0.1", port=parts.port or 3306,
                           user=unquote(parts.username or "root"), password=unquote(parts.password or ""))
    try:
        with conn.cursor() as cursor:
            cursor.execute(statement)
    finally:
        conn.close()


def _mariadb(workdir: Path, repeat: int) -> dict[str, Any]:
    if importlib.util.find_spec("lc_archive.stores.openedx.sink") is None:
        return {"skipped": "loading the library into MariaDB needs the adapter's restore (stores/openedx/sink.py)"}
    url = os.environ.get("LC_ARCHIVE_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")
    name = f"lcoedx_bench_{secrets.token_hex(3)}"
    media = workdir / "mariadb-media" / "private"
    shutil.rmtree(media.parent, ignore_errors=True)
    env = _django_env({"LC_ARCHIVE_MYSQL_URL": url, "LC_ARCHIVE_OPENEDX_DEFAULT": "mysql",
                       "LC_ARCHIVE_OPENEDX_MYSQL_DB": name, "LC_ARCHIVE_OPENEDX_MEDIA": str(media)})
    _mysql_admin(url, f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    try:
        _run([sys.executable, "-m", "django", "migrate", "-v0", "--no-input"], env=env)
        archive = workdir / "v2-0.zip"
        started = time.perf_counter()
        _run([sys.executable, "-m", "lc_archive", "restore", str(archive), "openedx:", "--ref", REF], env=env)
        loaded_s = round(time.perf_counter() - started, 1)
        mysql_dir = workdir / "mariadb"
        mysql_dir.mkdir(exist_ok=True)
        return {"database": name, "load_s": loaded_s, **_backups(env, mysql_dir, repeat)}
    finally:
        _mysql_admin(url, f"DROP DATABASE IF EXISTS `{name}`")


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        return _child(argv[1:])
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="bench-out/openedx.json")
    p.add_argument("--components", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--workdir", default=None, help="default: a folder in the temp dir, kept (the library is cached)")
    p.add_argument("--no-mysql", action="store_true", help="skip the MariaDB run")
    p.add_argument("--no-restore", action="store_true", help="skip the restore half")
    args = p.parse_args(argv)
    workdir = Path(args.workdir or Path(tempfile.gettempdir()) / "lc-archive-bench-openedx")
    workdir.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "started": datetime.now(tz=UTC).isoformat(),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "load_avg": os.getloadavg()},
        "targets": {"backup_speedup_min": TARGET_SPEEDUP, "peak_rss_mib_max": TARGET_RSS_MIB},
    }
    db, report["library"] = _library(workdir, args.components, args.seed)
    print(f"backups on SQLite ({args.repeat} run(s) each)...", flush=True)
    report["backup"] = {"sqlite": _backups(_sqlite_env(db), workdir, args.repeat)}
    if not args.no_mysql:
        print("backups on MariaDB...", flush=True)
        report["backup"]["mariadb"] = _mariadb(workdir, args.repeat)
    if not args.no_restore:
        from bench_openedx_restore import Peer, restore_half

        print("restores (lp_load, then the adapter on SQLite and MariaDB)...", flush=True)
        report["restore"] = restore_half(Peer(PEER_DIR, PEER_PYTHON), workdir / "restore", args.components,
                                         args.seed, lib={"db": db, "zip": workdir / "lp_dump-0.zip"},
                                         repeats=args.repeat, mysql=not args.no_mysql)  # fmt: skip
    report["machine"]["load_avg_end"] = os.getloadavg()
    out = Path(args.out)
    if out.exists():  # keep the other half's sections (the restore figures)
        previous = json.loads(out.read_text(encoding="utf-8"))
        report = {**previous, **report}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    sqlite = report["backup"]["sqlite"]
    print(f"SQLite: lp_dump {sqlite['lp_dump']['wall_s']} s; v1 {sqlite['v1']['wall_s']} s "
          f"(x{sqlite['speedup_v1']}), v2 {sqlite['v2']['wall_s']} s (x{sqlite['speedup_v2']}); peak RSS "
          f"v1 {sqlite['v1']['peak_rss_mb']} / v2 {sqlite['v2']['peak_rss_mb']} MiB -> {out}")
    if "restore" in report:
        r = report["restore"]
        ours = r["lc_archive_sqlite"]
        print(f"restore: lp_load {r['lp_load'].get('wall_s')} s; adapter {ours['wall_s']} s whole process "
              f"(x{r['ratio']}), peak RSS {ours['peak_rss_mb']} MiB, state identical {ours['state_identical']}"
              + (f"; MariaDB {r['lc_archive_mariadb']['wall_s']} s" if "lc_archive_mariadb" in r else ""))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    raise SystemExit(main(sys.argv[1:]))
