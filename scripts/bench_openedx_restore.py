"""The restore half of ``make bench-openedx``: lc-archive's restore into openedx-core beside
openedx-core's own ``load_learning_package`` (``lp_load``), on the same archive, in the same run.

    python scripts/bench_openedx_restore.py --components 10000 [--seed 1] [--work DIR] [--out FILE]

1. The library: ``peer.py gen`` (openedx-core 1.15.2 in its own venv) makes N components, ``peer.py
   dump`` backs it up (kept in ``--work`` for later runs; ``--fresh`` makes them again); the peer's
   ``state`` of it is the reference.
2. openedx-core restores that archive (``peer.py load``: the operation's own time, Django start-up not
   included, and its process's peak RSS).
3. lc-archive restores the same archive into a fresh, migrated openedx-core SQLite database (the test
   settings, ``tests/openedx_settings.py``): ``lc-archive restore ZIP openedx: --ref ...`` as one whole
   process (start-up included), under GNU time (``bench_measure``). The peer's ``state`` of the result
   must equal the library's (soft-deleted drafts stay deleted).
4. The same into a fresh MariaDB database when ``LC_ARCHIVE_MYSQL_URL`` is set (state compared too).

Ratio: openedx-core's operation time over lc-archive's whole process. Targets: >= 10x, peak RSS <=
250 MiB. Writes one JSON report (``restore`` key, as ``bench_openedx.py`` embeds it) and prints a line
per figure. :func:`restore_half` is what ``scripts/bench_openedx.py`` calls with its own library.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_measure
from bench_peer import Peer, find_peer, machine_id

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TARGET_RATIO = 10.0
TARGET_RSS_MB = 250.0
BENCH_REF = "lib:Org:BENCH"


def _env(**extra: str) -> dict[str, str]:
    path = os.pathsep.join([str(REPO / "tests"), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "openedx_settings", "PYTHONPATH": path,
            "PYTHONDONTWRITEBYTECODE": "", **extra}  # fmt: skip


def _django(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([str(BIN / "python"), "-m", "django", *args], env=env, capture_output=True, text=True,
                          check=False)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"bench: django {' '.join(args)} failed:\n{done.stderr[-3000:]}")


def library(peer: Peer, work: Path, n: int, seed: int, *, fresh: bool) -> dict[str, Path]:
    """The peer's library (``db``), its archive (``zip``) and its state (``state``), made once."""
    cache = work / f"restore-N{n}-s{seed}"
    db, archive, state = cache / "peer.db", cache / "peer.zip", cache / "state-source.json"
    if fresh or not (db.exists() and archive.exists() and state.exists()):
        shutil.rmtree(cache, ignore_errors=True)
        cache.mkdir(parents=True)
        print(f"  peer: generating {n:,} components and backing them up ...", flush=True)
        peer.gen(n, seed, db)
        peer.dump(db, archive)
        peer.state(db, state)
    return {"db": db, "zip": archive, "state": state}


def _sqlite_template(work: Path) -> Path:
    template = work / "openedx-template.sqlite3"
    if not template.exists():
        partial = work / "openedx-template.partial"
        partial.unlink(missing_ok=True)
        _django(_env(LC_ARCHIVE_OPENEDX_SQLITE=str(partial)), "migrate", "-v0", "--no-input")
        partial.replace(template)
    return template


def _restore(archive: Path, env: dict[str, str]) -> dict[str, Any]:
    cmd = [str(BIN / "lc-archive"), "restore", str(archive), "openedx:", "--ref", BENCH_REF, "-q"]
    return dict(bench_measure.run(cmd, env=env, timeout=3600))


def _same_state(peer: Peer, lib: dict[str, Path], db: Path, work: Path) -> bool:
    out = work / "state-restored.json"
    peer.state(db, out, ref=BENCH_REF)
    return bool(json.loads(out.read_text()) == json.loads(lib["state"].read_text()))


def sqlite_restore(peer: Peer, lib: dict[str, Path], work: Path, repeats: int) -> dict[str, Any]:
    """lc-archive's restore into fresh SQLite databases, ``repeats`` times; state checked on the last."""
    runs, db = [], work / "restored.sqlite3"
    for _ in range(repeats):
        Peer.remove_db(db)
        shutil.copyfile(_sqlite_template(work), db)
        media = Path(f"{db}.media") / "private"
        runs.append(_restore(lib["zip"], _env(LC_ARCHIVE_OPENEDX_SQLITE=str(db), LC_ARCHIVE_OPENEDX_MEDIA=str(media))))
    return {**bench_measure.median_of(runs), "state_identical": _same_state(peer, lib, db, work), "all": runs}


def mysql_restore(peer_dir: Path, lib: dict[str, Path], work: Path, url: str) -> dict[str, Any]:
    """lc-archive's restore into a fresh MariaDB database (made, migrated, dropped here)."""
    import pymysql

    parts = urlsplit(url)
    name = f"lcbench_{os.getpid()}_{secrets.token_hex(3)}"
    admin = pymysql.connect(host=parts.hostname or "127.0.0.1", port=parts.port or 3306,
                            user=unquote(parts.username or "root"), password=unquote(parts.password or ""))
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    media = work / "mysql-media" / "private"
    shutil.rmtree(media.parent, ignore_errors=True)
    env = _env(LC_ARCHIVE_OPENEDX_DEFAULT="mysql", LC_ARCHIVE_OPENEDX_MYSQL_DB=name, LC_ARCHIVE_MYSQL_URL=url,
               LC_ARCHIVE_OPENEDX_MEDIA=str(media))
    try:
        _django(env, "migrate", "-v0", "--no-input")
        run = _restore(lib["zip"], env)
        code = ("import sys, json, django; sys.path.insert(0, sys.argv[1]); django.setup(); import peer; "
                "print(peer.state_json(peer.compute_state(sys.argv[2])))")
        done = subprocess.run([str(BIN / "python"), "-c", code, str(peer_dir), BENCH_REF], env=env,
                              capture_output=True, text=True, check=True)  # fmt: skip
        same = json.loads(done.stdout) == json.loads(lib["state"].read_text())
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()
    return {**run, "state_identical": same}


def restore_half(peer: Peer, work: Path, n: int, seed: int, *, lib: dict[str, Path] | None = None,
                 repeats: int = 1, fresh: bool = False, mysql: bool = True) -> dict[str, Any]:
    """The whole restore half: the report's ``restore`` section. ``lib`` is a library made already
    (``db``: the peer's SQLite file, ``zip``: openedx-core's archive of it); otherwise one is made."""
    work.mkdir(parents=True, exist_ok=True)
    if lib is None:
        lib = library(peer, work, n, seed, fresh=fresh)
    elif "state" not in lib:
        lib = {**lib, "state": work / "state-source.json"}
        peer.state(lib["db"], lib["state"])
    print("  openedx-core: load_learning_package ...", flush=True)
    theirs_db = work / "lp_load.sqlite3"
    theirs = peer.load(lib["zip"], theirs_db)
    Peer.remove_db(theirs_db)
    print("  lc-archive: restore into openedx-core (SQLite) ...", flush=True)
    ours = sqlite_restore(peer, lib, work, repeats)
    report: dict[str, Any] = {
        "components": n, "seed": seed, "archive_bytes": lib["zip"].stat().st_size, "peer": peer.version(),
        "lp_load": theirs, "lc_archive_sqlite": ours,
        "ratio": round(float(theirs["wall_s"]) / ours["wall_s"], 1) if theirs.get("wall_s") else None,
        "targets": {"ratio": TARGET_RATIO, "peak_rss_mb": TARGET_RSS_MB},
    }
    report["targets_met"] = bool(report["ratio"] and report["ratio"] >= TARGET_RATIO
                                 and ours["peak_rss_mb"] <= TARGET_RSS_MB and ours["state_identical"])
    url = os.environ.get("LC_ARCHIVE_MYSQL_URL")
    if url and mysql:
        print("  lc-archive: restore into openedx-core (MariaDB) ...", flush=True)
        report["lc_archive_mariadb"] = mysql_restore(peer.dir, lib, work, url)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--components", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--work", type=Path, default=REPO / "bench-out" / "openedx-work")
    parser.add_argument("--out", type=Path, default=REPO / "bench-out" / "openedx-restore.json")
    parser.add_argument("--fresh", action="store_true", help="generate the peer's library again")
    args = parser.parse_args()
    peer = find_peer()
    if peer is None:
        raise SystemExit("bench: no openedx-core peer (run ../shared/peer/setup.sh)")
    report = {"machine": machine_id(),
              "restore": restore_half(peer, args.work, args.components, args.seed, repeats=args.repeats,
                                      fresh=args.fresh)}  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    r = report["restore"]
    ours = r["lc_archive_sqlite"]
    print(f"restore N={args.components}: lp_load {r['lp_load'].get('wall_s')} s, lc-archive {ours['wall_s']} s "
          f"(x{r['ratio']}), peak RSS {ours['peak_rss_mb']} MiB, state identical {ours['state_identical']}")
    if "lc_archive_mariadb" in r:
        m = r["lc_archive_mariadb"]
        print(f"  MariaDB: {m['wall_s']} s, peak RSS {m['peak_rss_mb']} MiB, state identical {m['state_identical']}")
    print(f"report: {args.out}")


if __name__ == "__main__":
    main()
