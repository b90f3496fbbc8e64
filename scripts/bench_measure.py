"""Measure one command as a whole process: wall time, CPU time, peak RSS (one process and its tree).

Used by ``scripts/bench.py``; every measurement is its own process, started fresh.

* ``wall_s``: a monotonic clock read just before the start and just after the child is reaped;
* ``cpu_s``: user + system seconds of the child and every descendant it waited for (``wait4``);
  ``cores`` is ``cpu_s / wall_s`` (how many of the machine's cores the command kept busy);
* ``peak_rss_mb``: the kernel's peak resident set size of the largest single process (``ru_maxrss``),
  read by ``/usr/bin/time`` (GNU time), which starts the command: a child started straight from this
  (large) Python process would inherit its high-water mark through ``vfork``/``exec`` and report it;
* ``tree_peak_rss_mb``: the largest sum of the resident sets of the child and its descendants, sampled
  every 10 ms from ``/proc`` (equal to ``peak_rss_mb`` for a single process, up to sampling).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["Measured", "median_of", "run"]

_SAMPLE_S = 0.01
_TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else None
_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


class Measured(dict[str, Any]):
    """One run's figures (a dict, so it goes into the JSON report as it is); ``stdout`` kept aside."""

    stdout: str = ""
    stderr: str = ""


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            continue
    return out


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * _PAGE_KB
    except (OSError, IndexError, ValueError):
        return 0


class _TreeSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = 0
        self.max_procs = 1
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            pids = _descendants(self.pid)
            self.max_procs = max(self.max_procs, len(pids))
            self.peak_kb = max(self.peak_kb, sum(_rss_kb(p) for p in pids))
            self._halt.wait(_SAMPLE_S)

    def stop(self) -> None:
        self._halt.set()
        self.join()


def run(cmd: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: str | Path | None = None,
        check: bool = True, timeout: float | None = None) -> Measured:
    """Run ``cmd`` once (stdin empty, output captured to temporary files) and measure it."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(prefix="lc-bench-time-") as timed:
        argv = [*((_TIME, "-f", "%U %S %M", "-o", timed.name) if _TIME else ()), *cmd]
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=full_env, cwd=cwd)
        sampler = _TreeSampler(proc.pid)
        sampler.start()
        deadline = None if timeout is None else started + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG if deadline else 0)
            if pid:
                break
            if deadline is not None and time.perf_counter() > deadline:
                proc.kill()
                deadline = None
            time.sleep(0.005)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        sampler.stop()
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
        cpu, peak_kb = usage.ru_utime + usage.ru_stime, usage.ru_maxrss
        fields = Path(timed.name).read_text().split() if _TIME else []
        if len(fields) >= 3 and fields[-3].replace(".", "").isdigit():  # "Command exited ..." may come first
            cpu, peak_kb = float(fields[-3]) + float(fields[-2]), int(fields[-1])
    result = Measured(
        wall_s=round(wall, 3), cpu_s=round(cpu, 3), cores=round(cpu / wall, 2) if wall else None,
        peak_rss_mb=round(peak_kb / 1024, 1),
        tree_peak_rss_mb=round(max(sampler.peak_kb, peak_kb) / 1024, 1),
        processes=sampler.max_procs, exit=proc.returncode,
    )
    result.stdout, result.stderr = stdout, stderr
    if check and proc.returncode != 0:
        raise SystemExit(f"bench: {' '.join(map(str, cmd))!r} failed with exit status {proc.returncode}:\n"
                         f"{(stdout + stderr)[-4000:]}")
    return result


def median_of(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Medians of the numeric figures of several runs, their range, and the runs themselves."""
    out: dict[str, Any] = {}
    for key in ("wall_s", "cpu_s", "cores", "peak_rss_mb", "tree_peak_rss_mb", "op_wall_s"):
        values = [float(r[key]) for r in runs if r.get(key) is not None]
        if values:
            out[key] = round(statistics.median(values), 3)
            if len(values) > 1:
                out[f"{key}_range"] = [round(min(values), 3), round(max(values), 3)]
    out["processes"] = max(int(r.get("processes", 1)) for r in runs)
    out["runs"] = len(runs)
    return out
