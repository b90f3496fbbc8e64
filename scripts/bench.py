"""`make bench`: lc-archive backup and restore against openedx-core 1.15.2's measured figures.

    python scripts/bench.py --components 10000 --seed 1 --out bench-out/report.json [--repeats 1] [--keep DIR]

1. Generates the synthetic library (``lc_archive.synthetic``, the same shape as ``peer.py gen``) in a
   fresh SQLite store, in its own process (timed, but not part of the comparison).
2. Runs ``backup`` (format v1) and ``restore`` (into a fresh store) ``--repeats`` times each, every
   run in its own process (this script re-invoked with ``--child``). The child measures the
   operation's wall time itself and reports its peak RSS (``VmHWM`` from ``/proc/self/status``,
   else ``ru_maxrss``); the parent measures the process wall time and counts the archive's members.
3. Checks that ``lc-archive state`` of the source and of the restored package are identical (prints
   a diff summary if not) and that ``lc-archive validate`` accepts the archive.
4. Writes a JSON report with those numbers, openedx-core's figures for the same N (from
   ``../shared/peer/README.md``), the speed-up ratios and the targets, and prints a short table.

Exit status: 0 when the round trip is exact and the archive valid (targets missed are reported but
do not fail the run; ``--strict`` makes them fail it too), 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
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

REPO = Path(__file__).resolve().parent.parent
REF = "lib:Org:LIB1"

# openedx-core 1.15.2 on the peer machine (../shared/peer/README.md): median of 3 runs, 10,000 one run.
# MB for archives are 10^6 bytes; RSS figures are MiB (ru_maxrss / 1024), Django baseline included.
# static_bytes: the bytes of the archive's static files (members under .../static/), measured on
# `peer.py gen --seed 1` + `dump` archives (same archive sizes as the README's). They are random
# images that do not compress, ~80 % of an archive, so `archive_size_ratio_same_static` compares
# archive sizes as if both libraries held the peer's static bytes.
PEER: dict[int, dict[str, float]] = {
    200: {"entities": 238, "backup_s": 0.73, "backup_peak_rss_mb": 62, "restore_s": 5.1,
          "restore_peak_rss_mb": 65, "archive_bytes": 2.95e6, "zip_entries": 1526, "static_bytes": 2_235_919},
    1000: {"entities": 1192, "backup_s": 4.27, "backup_peak_rss_mb": 80, "restore_s": 29.3,
           "restore_peak_rss_mb": 84, "archive_bytes": 22.7e6, "zip_entries": 7535, "static_bytes": 19_156_341},
    5000: {"entities": 5915, "backup_s": 21.2, "backup_peak_rss_mb": 162, "restore_s": 141.6,
           "restore_peak_rss_mb": 178, "archive_bytes": 82.5e6, "zip_entries": 37290, "static_bytes": 65_101_274},
    10000: {"entities": 11857, "backup_s": 36.5, "backup_peak_rss_mb": 263, "restore_s": 294.7,
            "restore_peak_rss_mb": 295, "archive_bytes": 164.7e6, "zip_entries": 74183,
            "static_bytes": 130_014_735},
}  # fmt: skip

TARGETS = {
    "restore_speedup": (">=", 40.0),
    "backup_speedup": (">=", 15.0),
    "backup_peak_rss_mb": ("<=", 200.0),
    "restore_peak_rss_mb": ("<=", 200.0),
    "archive_size_ratio": ("<=", 0.9),
}


# ---------------------------------------------------------------------------------------------------
# Child side: one operation in a fresh process, result as JSON on stdout
# ---------------------------------------------------------------------------------------------------


def _peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (VmHWM on Linux, else ru_maxrss)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def _child(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="bench.py --child")
    p.add_argument("op", choices=["generate", "backup", "backup-v2", "restore"])
    p.add_argument("--store", required=True)
    p.add_argument("--archive")
    p.add_argument("--components", type=int, default=0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--profile", default="default")
    args = p.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from lc_archive import backup, restore
    from lc_archive.stores import open_store
    from lc_archive.synthetic import generate_library

    rss_before = _peak_rss_mb()
    out: dict[str, Any] = {"op": args.op}
    store = open_store(f"sqlite:///{args.store}")
    try:
        started = time.perf_counter()
        if args.op == "generate":
            out["stats"] = generate_library(store, REF, components=args.components, seed=args.seed,
                                            profile=args.profile)
        elif args.op in ("backup", "backup-v2"):
            result = backup(store, REF, args.archive, format="v2" if args.op == "backup-v2" else "v1")
            out.update(entities=result.entities, losses=result.losses)
        else:
            restored = restore(args.archive, store, ref=REF, user="bench")
            out.update(entities=restored.archive.entities, versions=restored.archive.versions)
        out["wall_s"] = round(time.perf_counter() - started, 3)
    finally:
        store.close()
    out.update(peak_rss_mb=round(_peak_rss_mb(), 1), rss_before_mb=round(rss_before, 1))
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


# ---------------------------------------------------------------------------------------------------
# Parent side
# ---------------------------------------------------------------------------------------------------


def _run_child(*args: str) -> dict[str, Any]:
    """Run one measured operation in a fresh interpreter; add its process wall time."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", *args]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=REPO)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"bench: `{args[0]}` failed with exit status {proc.returncode}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_wall_s"] = round(wall, 3)
    return result


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lc_archive", *args], capture_output=True, text=True,
                          check=False, cwd=REPO)


def _zip_counts(path: Path) -> dict[str, int]:
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
    return {
        "zip_members": len(infos),
        "zip_files": sum(1 for i in infos if not i.is_dir()),
        "zip_dirs": sum(1 for i in infos if i.is_dir()),
        "zip_uncompressed_bytes": sum(i.file_size for i in infos),
        "zip_static_bytes": sum(i.file_size for i in infos if not i.is_dir() and "/static/" in i.filename),
        "zip_static_stored_bytes": sum(i.compress_size for i in infos
                                       if not i.is_dir() and "/static/" in i.filename),
    }


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return round(float(statistics.median(float(r[key]) for r in runs)), 3)


def _state_diff(a: dict[str, Any], b: dict[str, Any], examples: int = 5) -> dict[str, Any]:
    """A short summary of how two canonical states differ."""
    out: dict[str, Any] = {}
    if a.get("package") != b.get("package"):
        out["package"] = {"source": a.get("package"), "restored": b.get("package")}
    sa, sb = a.get("summary", {}), b.get("summary", {})
    summary = {k: [sa.get(k), sb.get(k)] for k in sorted(set(sa) | set(sb)) if sa.get(k) != sb.get(k)}
    if summary:
        out["summary"] = summary
    for section in ("entities", "collections"):
        ea, eb = a.get(section, {}), b.get(section, {})
        only_a, only_b = sorted(set(ea) - set(eb)), sorted(set(eb) - set(ea))
        changed = sorted(k for k in set(ea) & set(eb) if ea[k] != eb[k])
        if only_a or only_b or changed:
            details: dict[str, Any] = {"missing": len(only_a), "extra": len(only_b), "changed": len(changed),
                                       "missing_examples": only_a[:examples], "extra_examples": only_b[:examples]}
            details["changed_examples"] = {
                k: {f: [ea[k].get(f), eb[k].get(f)] for f in sorted(set(ea[k]) | set(eb[k]))
                    if ea[k].get(f) != eb[k].get(f)}
                for k in changed[:examples]
            }
            out[section] = details
    return out


def _peer_reference(n: int) -> dict[str, Any]:
    """openedx-core's figures for ``n`` components; scaled linearly from the nearest size if not measured."""
    if n in PEER:
        return {"components": n, "measured": True, **PEER[n]}
    nearest = min(PEER, key=lambda k: abs(k - n))
    factor = n / nearest
    scaled = {k: (v if k.endswith("peak_rss_mb") else round(v * factor, 3)) for k, v in PEER[nearest].items()}
    return {"components": n, "measured": False, "scaled_from": nearest, **scaled}


def _ratios(ours: dict[str, Any], peer: dict[str, Any]) -> dict[str, float | None]:
    def ratio(num: float | None, den: float | None) -> float | None:
        return round(num / den, 2) if num and den else None

    b = ours["backup"]
    same_static = None
    if peer.get("static_bytes"):
        same_static = b["archive_bytes"] - b["zip_static_stored_bytes"] + peer["static_bytes"]

    return {
        "backup_speedup": ratio(peer["backup_s"], ours["backup"]["wall_s"]),
        "restore_speedup": ratio(peer["restore_s"], ours["restore"]["wall_s"]),
        "backup_speedup_process": ratio(peer["backup_s"], ours["backup"]["process_wall_s"]),
        "restore_speedup_process": ratio(peer["restore_s"], ours["restore"]["process_wall_s"]),
        "archive_size_ratio": ratio(ours["backup"]["archive_bytes"], peer["archive_bytes"]),
        "archive_size_ratio_same_static": ratio(same_static, peer["archive_bytes"]) if same_static else None,
        "zip_entries_ratio": ratio(ours["backup"]["zip_members"], peer["zip_entries"]),
        "backup_peak_rss_ratio": ratio(ours["backup"]["peak_rss_mb"], peer["backup_peak_rss_mb"]),
        "restore_peak_rss_ratio": ratio(ours["restore"]["peak_rss_mb"], peer["restore_peak_rss_mb"]),
    }


def _targets(ours: dict[str, Any], ratios: dict[str, float | None]) -> dict[str, dict[str, Any]]:
    values: dict[str, float | None] = {
        "restore_speedup": ratios["restore_speedup"],
        "backup_speedup": ratios["backup_speedup"],
        "backup_peak_rss_mb": ours["backup"]["peak_rss_mb"],
        "restore_peak_rss_mb": ours["restore"]["peak_rss_mb"],
        "archive_size_ratio": ratios["archive_size_ratio"],
    }
    out = {}
    for name, (op, limit) in TARGETS.items():
        value = values[name]
        met = value is not None and (value >= limit if op == ">=" else value <= limit)
        out[name] = {"target": f"{op} {limit:g}", "value": value, "met": met}
    return out


def _print_table(report: dict[str, Any]) -> None:
    ours, peer, ratios = report["lc_archive"], report["openedx_core"], report["ratios"]
    b, r = ours["backup"], ours["restore"]
    rows = [
        ("backup wall s (op)", f"{b['wall_s']:.2f}", f"{peer['backup_s']:.2f}", ratios["backup_speedup"], "x faster"),
        ("backup wall s (process)", f"{b['process_wall_s']:.2f}", "-", ratios["backup_speedup_process"], "x faster"),
        ("restore wall s (op)", f"{r['wall_s']:.2f}", f"{peer['restore_s']:.1f}", ratios["restore_speedup"],
         "x faster"),
        ("restore wall s (process)", f"{r['process_wall_s']:.2f}", "-", ratios["restore_speedup_process"],
         "x faster"),
        ("backup peak RSS MiB", f"{b['peak_rss_mb']:.0f}", f"{peer['backup_peak_rss_mb']:.0f}",
         ratios["backup_peak_rss_ratio"], "x"),
        ("restore peak RSS MiB", f"{r['peak_rss_mb']:.0f}", f"{peer['restore_peak_rss_mb']:.0f}",
         ratios["restore_peak_rss_ratio"], "x"),
        ("archive MB", f"{b['archive_bytes'] / 1e6:.1f}", f"{peer['archive_bytes'] / 1e6:.1f}",
         ratios["archive_size_ratio"], "x"),
        ("zip entries", f"{b['zip_members']:,}", f"{peer['zip_entries']:,.0f}", ratios["zip_entries_ratio"], "x"),
    ]
    if ratios["archive_size_ratio_same_static"] is not None:
        rows.insert(-1, ("archive MB, peer's static", "", "", ratios["archive_size_ratio_same_static"], "x"))
        rows.insert(-1, ("static MB (random images)", f"{b['zip_static_bytes'] / 1e6:.1f}",
                         f"{peer['static_bytes'] / 1e6:.1f}", None, "x"))
    n = report["components"]
    ref = "" if peer["measured"] else f" (peer scaled from N={peer['scaled_from']:,})"
    print(f"\nN = {n:,} components, {ours['generate']['stats']['entities']:,} entities{ref}")
    print(f"{'':26} {'lc-archive':>12} {'openedx-core':>13} {'ratio':>8}")
    for label, mine, theirs, ratio, _unit in rows:
        shown = "-" if ratio is None else f"{ratio:g}x"
        print(f"{label:26} {mine:>12} {theirs:>13} {shown:>8}")
    print("targets: " + ", ".join(f"{k} {v['target']}: {'met' if v['met'] else 'MISSED'} ({v['value']})"
                                  for k, v in report["targets"].items()))
    st = report["state"]
    print(f"round trip state: {'identical' if st['identical'] else 'DIFFERENT'}; "
          f"archive valid: {report['validate']['ok']}")


def _run(args: argparse.Namespace) -> int:
    keep = Path(args.keep).resolve() if args.keep else None
    work = keep or Path(tempfile.mkdtemp(prefix="lc-bench-"))
    if keep and keep.exists() and any(keep.iterdir()):
        if not (keep / "source.db").exists():
            raise SystemExit(f"bench: --keep {keep} is not empty and not a previous bench directory")
        shutil.rmtree(keep)
    work.mkdir(parents=True, exist_ok=True)
    try:
        src = work / "source.db"
        print(f"generating {args.components:,} components (seed {args.seed}, profile {args.profile}) ...",
              flush=True)
        gen = _run_child("generate", "--store", str(src), "--components", str(args.components),
                         "--seed", str(args.seed), "--profile", args.profile)
        gen["db_bytes"] = src.stat().st_size
        print(f"  {gen['wall_s']:.2f} s, {gen['stats']['entities']:,} entities, db {gen['db_bytes'] / 1e6:.1f} MB",
              flush=True)

        archive = work / "library.zip"
        backups = []
        for k in range(args.repeats):
            out = work / f"backup-{k}.zip"
            run = _run_child("backup", "--store", str(src), "--archive", str(out))
            run["archive_bytes"] = out.stat().st_size
            backups.append(run)
            print(f"  backup  run {k + 1}: {run['wall_s']:.2f} s (process {run['process_wall_s']:.2f} s), "
                  f"peak {run['peak_rss_mb']:.0f} MiB, {run['archive_bytes'] / 1e6:.1f} MB", flush=True)
            if k == 0:
                out.replace(archive)
            else:
                out.unlink()
        counts = _zip_counts(archive)

        # The same library in format v2: full history (every version), each blob once, a manifest.
        v2_archive = work / "library-v2.zip"
        v2 = _run_child("backup-v2", "--store", str(src), "--archive", str(v2_archive))
        v2.update(archive_bytes=v2_archive.stat().st_size, zip_members=len(zipfile.ZipFile(v2_archive).namelist()))
        print(f"  backup v2 (full history): {v2['wall_s']:.2f} s, peak {v2['peak_rss_mb']:.0f} MiB, "
              f"{v2['archive_bytes'] / 1e6:.1f} MB, {v2['zip_members']:,} members", flush=True)
        v2_restored = work / "restored-v2.db"
        v2r = _run_child("restore", "--store", str(v2_restored), "--archive", str(v2_archive))
        v2.update(restore_wall_s=v2r["wall_s"], restore_peak_rss_mb=v2r["peak_rss_mb"])
        print(f"  restore v2: {v2r['wall_s']:.2f} s, peak {v2r['peak_rss_mb']:.0f} MiB", flush=True)
        v2_restored.unlink()

        restores = []
        for k in range(args.repeats):
            dst = work / f"restored-{k}.db"
            run = _run_child("restore", "--store", str(dst), "--archive", str(archive))
            restores.append(run)
            print(f"  restore run {k + 1}: {run['wall_s']:.2f} s (process {run['process_wall_s']:.2f} s), "
                  f"peak {run['peak_rss_mb']:.0f} MiB", flush=True)
            if k > 0:
                dst.unlink()

        started = time.perf_counter()
        # The generated library, like openedx-core's generator, has dangling /static/figure.png references:
        # warnings, which validate lists (and counts) but does not fail on with --allow-warnings.
        proc = _cli("validate", str(archive), "--json", "--allow-warnings")
        validate: dict[str, Any] = {"ok": proc.returncode == 0, "wall_s": round(time.perf_counter() - started, 3)}
        if proc.returncode == 0:
            validate["warnings"] = json.loads(proc.stdout).get("warning_count", 0)
        if proc.returncode != 0:
            validate["output"] = (proc.stdout + proc.stderr)[-4000:]
            print(f"validate FAILED:\n{validate['output']}", file=sys.stderr)

        states = []
        for name, db in (("source", src), ("restored", work / "restored-0.db")):
            path = work / f"state-{name}.json"
            proc = _cli("state", f"sqlite:///{db}", REF, "-o", str(path))
            if proc.returncode != 0:
                sys.stderr.write(proc.stdout + proc.stderr)
                raise SystemExit(f"bench: `lc-archive state` of the {name} store failed")
            states.append(path.read_text(encoding="utf-8"))
        identical = states[0] == states[1]
        state: dict[str, Any] = {"identical": identical, "lines": len(states[0].splitlines())}
        if not identical:
            state["diff"] = _state_diff(json.loads(states[0]), json.loads(states[1]))
            print("round trip state DIFFERS:\n" + json.dumps(state["diff"], ensure_ascii=False, indent=1),
                  file=sys.stderr)

        ours: dict[str, Any] = {
            "generate": gen,
            "backup": {
                "wall_s": _median(backups, "wall_s"), "process_wall_s": _median(backups, "process_wall_s"),
                "peak_rss_mb": max(r["peak_rss_mb"] for r in backups),
                "archive_bytes": backups[0]["archive_bytes"], **counts,
                "entities": backups[0]["entities"], "losses": backups[0]["losses"], "runs": backups,
            },
            "restore": {
                "wall_s": _median(restores, "wall_s"), "process_wall_s": _median(restores, "process_wall_s"),
                "peak_rss_mb": max(r["peak_rss_mb"] for r in restores), "runs": restores,
            },
            "v2": v2,
        }  # fmt: skip
        peer = _peer_reference(args.components)
        ratios = _ratios(ours, peer)
        report: dict[str, Any] = {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "components": args.components, "seed": args.seed, "profile": args.profile, "repeats": args.repeats,
            "machine": {"python": platform.python_version(), "platform": platform.platform(),
                        "cpus": os.cpu_count()},
            "lc_archive": ours, "openedx_core": peer, "ratios": ratios, "targets": _targets(ours, ratios),
            "validate": validate, "state": state, "work_dir": str(work) if keep else None,
        }  # fmt: skip
        out_path = Path(args.out)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        _print_table(report)
        print(f"report: {out_path}")
        ok = identical and validate["ok"]
        if args.strict:
            ok = ok and all(t["met"] for t in report["targets"].values())
        return 0 if ok else 1
    finally:
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments; ``--child OP ...`` runs one measured operation (internal)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        return _child(argv[1:])
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--components", type=int, default=10_000, help="library size (default: %(default)s)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--profile", choices=["default", "unicode"], default="default")
    p.add_argument("--out", default="bench-out/report.json", help="JSON report (default: %(default)s)")
    p.add_argument("--repeats", type=int, default=1, help="backup and restore runs each (median reported)")
    p.add_argument("--keep", help="work in this directory (emptied first) and keep the stores and archive")
    p.add_argument("--strict", action="store_true", help="exit 1 when a performance target is missed")
    args = p.parse_args(argv)
    if args.repeats < 1 or args.components < 1:
        p.error("--repeats and --components must be >= 1")
    return _run(args)


if __name__ == "__main__":
    sys.exit(main())
