"""The work budget (``docs/decisions/0002-limits.md``): small archives that ask for huge work stay cheap.

Every case of ``tests/support/hostile/amplification.py`` (at most 5 MB, within the default limits)
is validated and then restored into a fresh SQLite store by a child process of its own, whose address
space is capped at 2 GiB (``RLIMIT_AS``: a regression fails here with a ``MemoryError`` instead of
swapping the machine). The child reports its own peak resident memory (``VmHWM``: unlike
``ru_maxrss`` it is not inherited from this process) and the CPU time it and its children used. The
budget: peak RSS at most 512 MiB and at most 60 CPU seconds per command; valid cases are accepted,
invalid ones refused with a report of at most ``MAX_LISTED_PROBLEMS`` lines plus counts.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support.hostile.amplification import Amplified, cases
from support.paths import REPO

from lc_archive.errors import MAX_LISTED_PROBLEMS

CASES = cases()
PEAK_MIB = 512
CPU_SECONDS = 60
ARCHIVE_BYTES = 5_000_000

_CHILD = textwrap.dedent("""
    import json, resource, sys, tempfile

    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
    from lc_archive import restore, validate
    from lc_archive.errors import ArchiveInvalid
    from lc_archive.stores import open_store

    def usage():
        me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        with open("/proc/self/status") as status:
            peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
        return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime, peak // 1024

    archive = sys.argv[1]
    report = {}
    for command in ("validate", "restore"):
        cpu_before, _ = usage()
        outcome = {"ok": True}
        try:
            if command == "validate":
                validate(archive)
            else:
                with tempfile.TemporaryDirectory() as folder, open_store(f"sqlite:///{folder}/s.db") as store:
                    restore(archive, store, ref="lib:Budget:CASE", strict=True)
        except ArchiveInvalid as exc:
            outcome = {"ok": False, "listed": len(exc.problems), "count": exc.count,
                       "report": [str(p) for p in exc.problems] + [str(o) for o in exc.omitted]}
        cpu_after, peak = usage()
        report[command] = {**outcome, "cpu_s": round(cpu_after - cpu_before, 1), "peak_mib": peak}
    print(json.dumps(report))
""")


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("amplification")


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_small_archive_huge_work_stays_within_the_budget(case: Amplified, archives: Path) -> None:
    path = archives / f"{case.name}.zip"
    path.write_bytes(case.build())
    assert path.stat().st_size <= ARCHIVE_BYTES, "the amplification cases are small archives"
    out = subprocess.run([sys.executable, "-c", _CHILD, str(path)], cwd=REPO, capture_output=True, text=True,
                         check=False, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout)
    for command, result in report.items():
        where = f"{case.name}: {command}: {result.get('cpu_s')} CPU s, {result.get('peak_mib')} MiB"
        assert result["peak_mib"] <= PEAK_MIB, where
        assert result["cpu_s"] <= CPU_SECONDS, where
        if case.valid:
            assert result["ok"], f"{where}: refused: {result.get('report', [])[:5]}"
            continue
        assert not result["ok"], f"{where}: accepted"
        assert result["listed"] <= MAX_LISTED_PROBLEMS, where
        assert len(result["report"]) <= MAX_LISTED_PROBLEMS + 100, where
        assert any(case.fragment in line for line in result["report"]), (where, result["report"][:5])
    print(f"{case.name}: " + "; ".join(f"{c} {r['cpu_s']} CPU s, {r['peak_mib']} MiB" for c, r in report.items()))
