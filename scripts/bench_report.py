"""Ratios, targets and the printed table of ``make bench`` (see ``bench.py``)."""

from __future__ import annotations

from typing import Any

__all__ = ["evaluate", "print_table"]


def _ratio(num: float | None, den: float | None) -> float | None:
    return round(num / den, 2) if num and den else None


def _ratios_for(result: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    cmds = result["commands"]
    out["restore_v2_over_v1"] = _ratio(cmds["restore_v2"]["wall_s"], cmds["restore_v1"]["wall_s"])
    for fmt in ("v1", "v2"):
        floor = result["archives"][fmt]["floors"]["hash"]["wall_s"]
        out[f"restore_{fmt}_over_hash_floor"] = _ratio(cmds[f"restore_{fmt}"]["wall_s"], floor)
    peer = result.get("vs_openedx_core")
    if peer:
        theirs, ours = peer["openedx_core"], peer["lc_archive"]
        load, dump = theirs.get("load", {}), theirs["dump"]
        if load.get("status") == "success":
            out["restore_speedup"] = _ratio(load["wall_s"], ours["restore"]["wall_s"])
            out["restore_speedup_op"] = _ratio(load["wall_s"], ours["restore"].get("op_wall_s"))
        out["backup_v1_speedup"] = _ratio(dump["wall_s"], ours["backup_v1"]["wall_s"])
        out["backup_v1_speedup_op"] = _ratio(dump["wall_s"], ours["backup_v1"].get("op_wall_s"))
        out["v1_bytes_over_peer"] = round(ours["archive"]["bytes"] / theirs["archive"]["bytes"], 3)
    pg = result.get("postgresql")
    if pg:
        for key in ("restore_v1", "restore_v2", "backup_v1", "backup_v2"):
            out[f"pg_{key}_over_sqlite"] = _ratio(pg[key]["wall_s"], cmds[key]["wall_s"])
    return out


def _target(name: str, value: float | bool | None, op: str, limit: float | bool) -> dict[str, Any]:
    if value is None:
        met = None
    elif op == "==":
        met = value == limit
    else:
        met = value >= limit if op == ">=" else value < limit if op == "<" else value <= limit
    return {"target": name, "value": value, "want": f"{op} {limit}", "met": met}


def evaluate(report: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Per-size ratios and the issue's targets (``met`` None when the size was not run)."""
    ratios = {n: _ratios_for(r) for n, r in report["results"].items()}
    targets = []
    small = report.get("startup", {})
    targets.append(_target("lc-archive --help, s", small.get("help", {}).get("wall_s"), "<", 0.25))
    targets.append(_target("restore of lib-N150-seed2.zip, s", small.get("restore_N150", {}).get("wall_s"), "<", 0.6))
    for n, restore, backup in (("2000", 40, 12), ("10000", 60, 20)):
        r = ratios.get(n, {})
        targets.append(_target(f"N={n} restore speed-up vs openedx-core", r.get("restore_speedup"), ">=", restore))
        targets.append(_target(f"N={n} backup v1 speed-up vs openedx-core", r.get("backup_v1_speedup"), ">=", backup))
    r10 = report["results"].get("10000", {})
    targets.append(_target("N=10000 v1 bytes / openedx-core's", ratios.get("10000", {}).get("v1_bytes_over_peer"),
                           "<=", 0.90))
    rt = r10.get("vs_openedx_core", {}).get("checks", {}).get("peer_restores_ours_identically")
    targets.append(_target("N=10000 openedx-core restores our v1 identically",
                           None if rt is None else bool(rt.get("identical")), "==", True))
    big = report["results"].get("100000")
    for cmd in ("backup_v1", "backup_v2", "restore_v1", "restore_v2"):
        value = big["commands"][cmd]["tree_peak_rss_mb"] if big else None
        targets.append(_target(f"N=100000 {cmd} peak RSS MiB", value, "<=", 200))
    targets.append(_target("N=100000 restore v2 / restore v1", ratios.get("100000", {}).get("restore_v2_over_v1"),
                           "<=", 1.3))
    for key in ("restore_v1", "restore_v2", "backup_v1", "backup_v2"):
        targets.append(_target(f"N=10000 PostgreSQL {key} / SQLite",
                               ratios.get("10000", {}).get(f"pg_{key}_over_sqlite"), "<=", 2.0))
    return ratios, targets


def print_table(report: dict[str, Any]) -> None:
    """A short human summary of the report."""
    startup = report.get("startup", {})
    for key, label in (("help", "lc-archive --help"), ("restore_N150", "restore N=150 archive")):
        if key in startup:
            print(f"{label:<28} {startup[key]['wall_s']:.3f} s")
    for n, result in report["results"].items():
        print(f"\nN = {int(n):,}")
        print(f"{'command':<14} {'wall s':>8} {'cores':>6} {'peak MiB':>9} {'tree MiB':>9}")
        for name, c in result["commands"].items():
            print(f"{name:<14} {c['wall_s']:8.2f} {c.get('cores', 0):6.2f} {c['peak_rss_mb']:9.0f} "
                  f"{c['tree_peak_rss_mb']:9.0f}")
        for fmt, a in result["archives"].items():
            f = a["floors"]
            print(f"archive {fmt}: {a['bytes'] / 1e6:.1f} MB, {a['members']:,} members; floors: hash "
                  f"{f['hash']['wall_s']:.2f} s, toml {f['toml']['wall_s']:.2f} s")
        pg = result.get("postgresql")
        if pg:
            for key in ("restore_v1", "restore_v2", "backup_v1", "backup_v2"):
                print(f"PostgreSQL {key:<11} {pg[key]['wall_s']:8.2f} s")
        peer = result.get("vs_openedx_core")
        if peer:
            theirs, ours = peer["openedx_core"], peer["lc_archive"]
            cached = [k for k in ("dump", "load") if k in theirs and not theirs[k].get("measured_in_this_run")]
            note = f" (reused from an earlier run: {', '.join(cached)})" if cached else ""
            print(f"vs openedx-core{note}: restore {theirs.get('load', {}).get('wall_s')} s vs "
                  f"{ours['restore']['wall_s']:.2f} s; backup {theirs['dump']['wall_s']} s vs "
                  f"{ours['backup_v1']['wall_s']:.2f} s; bytes {theirs['archive']['bytes']:,} vs "
                  f"{ours['archive']['bytes']:,}")
        print("ratios: " + ", ".join(f"{k} {v}" for k, v in report["ratios"][n].items() if v is not None))
        checks = {**result["checks"], **(peer or {}).get("checks", {})}
        print("checks: " + ", ".join(f"{k} {v if isinstance(v, bool) else v.get('identical')}"
                                     for k, v in checks.items()))
    print("\ntargets:")
    for t in report["targets"]:
        verdict = {True: "met", False: "MISSED", None: "not run"}[t["met"]]
        print(f"  {t['target']:<48} {t['want']:>8}: {verdict} ({t['value']})")
