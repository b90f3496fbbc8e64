"""`make bench`: lc-archive's commands, whole process by whole process, beside openedx-core 1.15.2.

    python scripts/bench.py [--sizes 200,2000,10000] [--repeats K] [--out bench-out/report.json]

For each size N:

1. **lc-archive on its own library**: ``lc_archive.synthetic`` generates N components with full history
   into a fresh SQLite store; then ``lc-archive backup`` (v1 and v2), ``restore`` of each archive into a
   fresh store, and ``validate`` of each, every one the real CLI in its own process, ``--repeats``
   times (medians and ranges reported). Each run: wall time, CPU time (all processes), cores used,
   peak RSS of the largest process and of the whole process tree. Then the *floors* on each archive
   (read and SHA-256 every member; parse every TOML, standard library only: ``bench_floor.py``), the
   archive sizes, and whether the restored stores' canonical states equal the source's.
2. **Against openedx-core, same library, same run** (when the peer is here and N <= ``--peer-max``):
   ``peer.py gen`` makes the library, ``create_zip_file`` backs it up, ``load_learning_package``
   restores that archive; lc-archive restores the *same* archive and backs the result up as v1.
   Ratios: openedx-core's operation time over lc-archive's whole process (its start-up included),
   and the v1 archive's bytes over openedx-core's. The restored state is compared with the peer's
   own view of its library. Peer figures are cached (see ``bench_peer.py``).
3. **PostgreSQL** (when ``LC_ARCHIVE_PG_URL`` is set, for N in ``--pg-sizes``): the same restores and
   backups into and from a fresh database on that server, beside the SQLite figures.

Plus start-up (``lc-archive --help``) and the restore of the shared 150-component archive. Writes one
JSON report and prints a table. Exit status 1 if a round trip is not exact or an archive is refused;
targets missed are reported (``--strict`` makes them fail the run too).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import uuid
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_measure
import bench_report
from bench_peer import REF, Peer, find_peer, machine_id

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CLI = str(BIN / "lc-archive")
CREATED_AT = "2025-06-01T00:00:00Z"  # pinned, so that archives of the same content are the same bytes


def _cli(*args: str, check: bool = True) -> bench_measure.Measured:
    measured = bench_measure.run([CLI, *args], check=check)
    if measured.stdout.lstrip().startswith("{"):
        data = json.loads(measured.stdout).get("result") or {}
        if "wall_s" in data:
            measured["op_wall_s"] = data["wall_s"]
    return measured


def _repeat(label: str, repeats: int, make: Any) -> dict[str, Any]:
    """Run ``make(k)`` ``repeats`` times; medians and ranges of its figures."""
    runs = [make(k) for k in range(repeats)]
    summary = bench_measure.median_of(runs)
    rng = summary.get("wall_s_range")
    shown = f" ({rng[0]:.2f}-{rng[1]:.2f})" if rng else ""
    print(f"  {label:<22} {summary['wall_s']:7.2f} s{shown}, {summary.get('cores', 0):.2f} cores, "
          f"peak {summary['peak_rss_mb']:.0f} MiB (tree {summary['tree_peak_rss_mb']:.0f})", flush=True)
    return summary


def _digest(path: Path) -> str:
    """SHA-256 of a file, read in chunks (this process stays small: see bench_measure)."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _fresh(path: Path) -> Path:
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def _archive_facts(path: Path) -> dict[str, Any]:
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
    return {"bytes": path.stat().st_size, "members": len(infos), "directories": sum(i.is_dir() for i in infos),
            "uncompressed_bytes": sum(i.file_size for i in infos)}


def _floors(archive: Path) -> dict[str, Any]:
    out = {}
    for mode in ("hash", "toml"):
        measured = bench_measure.run([sys.executable, str(REPO / "scripts" / "bench_floor.py"), mode, str(archive)])
        own = json.loads(measured.stdout)
        out[mode] = {"wall_s": measured["wall_s"], "op_wall_s": own["op_wall_s"], "members": own["members"],
                     "peak_rss_mb": measured["peak_rss_mb"]}
    return out


def _state(store: str, out: Path, *extra: str) -> str:
    """The digest of ``lc-archive state`` of a store (the text itself can be large)."""
    _cli("state", store, REF, "-o", str(out), "--force", *extra)
    return _digest(out)


def _own_library(work: Path, n: int, seed: int, repeats: int) -> dict[str, Any]:
    """Part 1: lc-archive's commands on its synthetic library (full history)."""
    src = _fresh(work / "source.db")
    gen = bench_measure.run([sys.executable, "-c", (
        "import json, sys; from lc_archive.stores import open_store; "
        "from lc_archive.synthetic import generate_library; "
        f"s = open_store(sys.argv[1]); print(json.dumps(generate_library(s, {REF!r}, components={n}, seed={seed}))); "
        "s.close()"), f"sqlite:///{src}"])
    stats = json.loads(gen.stdout)
    print(f"  generated {n:,} components: {stats.get('entities', '?')} entities in {gen['wall_s']:.1f} s", flush=True)
    commands: dict[str, Any] = {}
    archives: dict[str, Any] = {}
    checks: dict[str, Any] = {}
    for fmt in ("v1", "v2"):
        archive = work / f"lib-{fmt}.zip"

        def backup(k: int, fmt: str = fmt, archive: Path = archive) -> bench_measure.Measured:
            return _cli("backup", f"sqlite:///{src}", REF, "-o", str(archive), "--force", "--format", fmt,
                        "--created-at", CREATED_AT, "--json", "-q")

        commands[f"backup_{fmt}"] = _repeat(f"backup {fmt}", repeats, backup)
        archives[fmt] = _archive_facts(archive)

    for fmt in ("v1", "v2"):
        archive = work / f"lib-{fmt}.zip"

        def restore(k: int, fmt: str = fmt, archive: Path = archive) -> bench_measure.Measured:
            return _cli("restore", str(archive), f"sqlite:///{_fresh(work / f'restored-{fmt}.db')}", "--ref", REF,
                        "--json", "-q")

        commands[f"restore_{fmt}"] = _repeat(f"restore {fmt}", repeats, restore)

        def validate(k: int, archive: Path = archive) -> bench_measure.Measured:
            return _cli("validate", str(archive), "--allow-warnings", "--json", "-q")

        commands[f"validate_{fmt}"] = _repeat(f"validate {fmt}", repeats, validate)
        archives[fmt]["floors"] = _floors(archive)

    source_state = _state(f"sqlite:///{src}", work / "state-source.json")
    for fmt in ("v1", "v2"):
        got = _state(f"sqlite:///{work / f'restored-{fmt}.db'}", work / f"state-{fmt}.json")
        checks[f"restore_{fmt}_state_identical"] = got == source_state
    if n <= 10_000:  # every version, not just draft and published
        full = _state(f"sqlite:///{src}", work / "state-source-all.json", "--all-versions")
        got = _state(f"sqlite:///{work / 'restored-v2.db'}", work / "state-v2-all.json", "--all-versions")
        checks["restore_v2_all_versions_identical"] = got == full
    for fmt in ("v1", "v2"):
        again = work / f"again-{fmt}.zip"
        _cli("backup", f"sqlite:///{work / f'restored-{fmt}.db'}", REF, "-o", str(again), "--force", "--format", fmt,
             "--created-at", CREATED_AT, "--json", "-q")
        if fmt == "v2":
            checks["v2_rebackup_byte_identical"] = _digest(again) == _digest(work / "lib-v2.zip")
        again.unlink()
    for name in ("v1", "v2"):
        proc = _cli("validate", str(work / f"lib-{name}.zip"), "--allow-warnings", "--json", "-q", check=False)
        checks[f"validate_{name}_ok"] = proc["exit"] == 0
    return {"library": {"source": "lc_archive.synthetic", "seed": seed, "generate": {**gen, "stats": stats}},
            "commands": commands, "archives": archives, "checks": checks}


def _against_peer(peer: Peer, work: Path, n: int, seed: int, repeats: int, *, fresh: bool,
                  roundtrip: bool) -> dict[str, Any]:
    """Part 2: the peer's library, its archive, both tools' backup and restore of them."""
    lib = peer.library(work.parent, n, seed, fresh=fresh)
    figures = lib["figures"]
    peer_zip: Path = lib["zip"]
    restored = work / "from-peer.db"

    def restore(k: int) -> bench_measure.Measured:
        return _cli("restore", str(peer_zip), f"sqlite:///{_fresh(restored)}", "--ref", REF, "--json", "-q")

    ours = {"restore": _repeat("restore peer's v1", repeats, restore)}
    ours_zip = work / "from-peer-v1.zip"

    def backup(k: int) -> bench_measure.Measured:
        return _cli("backup", f"sqlite:///{restored}", REF, "-o", str(ours_zip), "--force", "--format", "v1",
                    "--created-at", CREATED_AT, "--json", "-q")

    ours["backup_v1"] = _repeat("backup of it, v1", repeats, backup)
    ours["archive"] = _archive_facts(ours_zip)
    got = _state(f"sqlite:///{restored}", work / "state-from-peer.json")
    checks: dict[str, Any] = {
        "restore_state_equals_peer_source": got == _digest(lib["dir"] / "state-source.json")}
    if roundtrip:
        print("  peer: restore of lc-archive's v1 archive ...", flush=True)
        checks["peer_restores_ours_identically"] = peer.restores_identically(ours_zip, lib["dir"])
    with zipfile.ZipFile(peer_zip) as z:
        infos = z.infolist()
    peer_archive = {"bytes": peer_zip.stat().st_size, "members": len(infos),
                    "directories": sum(i.is_dir() for i in infos)}
    return {"library": {"source": "peer.py gen", "seed": seed, "entities": figures["dump"].get("entities")},
            "openedx_core": {k: figures[k] for k in ("gen", "dump", "load") if k in figures}
            | {"archive": peer_archive, "version": figures["version"]},
            "lc_archive": ours, "checks": checks}


def _postgres(url: str, work: Path, repeats: int) -> dict[str, Any]:
    """Part 3: restores into and backups from a fresh PostgreSQL database (dropped afterwards)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"lc_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    out: dict[str, Any] = {}
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        db_url = base.set(database=name).render_as_string(hide_password=False)
        engine = create_engine(db_url, isolation_level="AUTOCOMMIT")

        def drop_packages() -> None:
            with engine.connect() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))

        for fmt in ("v1", "v2"):
            archive = work / f"lib-{fmt}.zip"

            def restore(k: int, archive: Path = archive) -> bench_measure.Measured:
                drop_packages()
                return _cli("restore", str(archive), db_url, "--ref", REF, "--json", "-q")

            out[f"restore_{fmt}"] = _repeat(f"restore {fmt} (PG)", repeats, restore)
            target = work / f"pg-{fmt}.zip"

            def backup(k: int, fmt: str = fmt, target: Path = target) -> bench_measure.Measured:
                return _cli("backup", db_url, REF, "-o", str(target), "--force", "--format", fmt,
                            "--created-at", CREATED_AT, "--json", "-q")

            out[f"backup_{fmt}"] = _repeat(f"backup {fmt} (PG)", repeats, backup)
            out[f"backup_{fmt}_same_bytes_as_sqlite"] = _digest(target) == _again_digest(work, fmt)
            target.unlink()
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return out


def _again_digest(work: Path, fmt: str) -> str:
    """A SQLite backup of the package the PostgreSQL one was restored from (same archive, same content)."""
    again = work / f"sqlite-again-{fmt}.zip"
    _cli("backup", f"sqlite:///{work / f'restored-{fmt}.db'}", REF, "-o", str(again), "--force", "--format", fmt,
         "--created-at", CREATED_AT, "--json", "-q")
    digest = _digest(again)
    again.unlink()
    return digest


def _small(work: Path, peer: Peer | None, repeats: int) -> dict[str, Any]:
    """Start-up and the shared 150-component archive."""
    out: dict[str, Any] = {"help": _repeat("lc-archive --help", max(repeats, 5), lambda k: _cli("--help"))}
    if peer is not None:
        archive = peer.dir / "archives" / "lib-N150-seed2.zip"
        if archive.exists():
            def restore(k: int) -> bench_measure.Measured:
                return _cli("restore", str(archive), f"sqlite:///{_fresh(work / 'small.db')}", "--ref", REF, "-q")

            out["restore_N150"] = _repeat("restore N=150 archive", max(repeats, 5), restore)
    return out


def _run(args: argparse.Namespace) -> int:
    work_root = Path(args.work).resolve()
    work_root.mkdir(parents=True, exist_ok=True)
    # An installed package has its bytecode compiled (pip does it); an editable checkout run with
    # PYTHONDONTWRITEBYTECODE=1 would compile every module from source in every measured process.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "lc_archive")], check=True,
                   stdout=subprocess.DEVNULL)
    peer = None if args.no_peer else find_peer()
    pg_url = os.environ.get("LC_ARCHIVE_PG_URL")
    report: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_id() | {"python": platform.python_version(), "platform": platform.platform()},
        "sizes": args.sizes, "seed": args.seed,
        "method": "each figure is one whole process, started fresh (lc_archive's bytecode compiled first, as an "
                  "installed package has it); medians over --repeats runs, ranges beside",
        "peer": peer.version() if peer else "absent (LC_ARCHIVE_PEER_DIR / LC_ARCHIVE_PEER_PYTHON)",
        "postgresql": "LC_ARCHIVE_PG_URL set" if pg_url else "absent (set LC_ARCHIVE_PG_URL)",
        "results": {},
    }
    print("start-up:", flush=True)
    small_dir = work_root / "small"
    small_dir.mkdir(exist_ok=True)
    report["startup"] = _small(small_dir, peer, args.repeats or 5)
    for n in args.sizes:
        repeats = args.repeats or (3 if n <= 2_000 else 2 if n <= 10_000 else 1)
        work = work_root / f"N{n}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        print(f"N = {n:,} ({repeats} run(s) each):", flush=True)
        result = _own_library(work, n, args.seed, repeats)
        if pg_url and n in args.pg_sizes:
            result["postgresql"] = _postgres(pg_url, work, repeats)
        if peer is not None and n <= args.peer_max:
            result["vs_openedx_core"] = _against_peer(peer, work, n, args.seed, repeats, fresh=args.fresh_peer,
                                                      roundtrip=n in args.peer_roundtrip)
        report["results"][str(n)] = result
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        _write(report, args.out)
    report["ratios"], report["targets"] = bench_report.evaluate(report)
    _write(report, args.out)
    bench_report.print_table(report)
    print(f"report: {args.out}")
    checks_ok = all(v if isinstance(v, bool) else v.get("identical", True)
                    for r in report["results"].values()
                    for part in (r, r.get("vs_openedx_core", {}))
                    for v in part.get("checks", {}).values())
    targets_ok = all(t["met"] is not False for t in report["targets"])
    return 0 if checks_ok and (targets_ok or not args.strict) else 1


def _write(report: dict[str, Any], out: str) -> None:
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _sizes(text: str) -> list[int]:
    return [int(s.replace("_", "")) for s in text.split(",") if s.strip()]


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the benchmark."""
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--sizes", type=_sizes, default=[200, 2_000, 10_000],
                   help="comma-separated N (default 200,2000,10000)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--repeats", type=int, default=0, help="runs per command (default: 3 up to N=2,000, 2 up to 10,000, "
                   "then 1)")
    p.add_argument("--out", default="bench-out/report.json")
    p.add_argument("--work", default="bench-out/work", help="work directory (the peer cache lives here)")
    p.add_argument("--keep", action="store_true", help="keep each size's stores and archives")
    p.add_argument("--no-peer", action="store_true", help="leave openedx-core out")
    p.add_argument("--fresh-peer", action="store_true", help="measure the peer again instead of reusing its figures")
    p.add_argument("--peer-max", type=int, default=10_000, help="largest N run with the peer (default 10,000)")
    p.add_argument("--peer-roundtrip", type=_sizes, default=[200, 2_000, 10_000],
                   help="sizes at which openedx-core also restores lc-archive's v1 archive")
    p.add_argument("--pg-sizes", type=_sizes, default=[10_000], help="sizes run on PostgreSQL too")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = p.parse_args(argv)
    return _run(args)


if __name__ == "__main__":
    sys.exit(main())
