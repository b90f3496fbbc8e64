"""`make demo`: the main job end to end on the embedded SQLite store, with the sample library.

Runs the real CLI (`python -m lc_archive ...`) and prints each command and what it did:
list the installed serializers, restore the sample archive (format v1, as openedx-core writes it)
into a fresh store, inspect it, back it up again (format v2, full history), verify and validate the
backup, restore it into a second store and check both stores hold the same content (every version),
then convert the backup to v1 (with its loss report) and diff it against the v2 backup.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path


def run(*args: str, capture: bool = False) -> str:
    cmd = [sys.executable, "-m", "lc_archive", *args]
    print(f"\n$ lc-archive {shlex.join(args)}", flush=True)
    proc = subprocess.run(cmd, text=True, capture_output=capture, check=False)
    if proc.returncode != 0:
        if capture:
            sys.stderr.write(proc.stdout + proc.stderr)
        sys.exit(f"demo: `lc-archive {args[0]}` failed with exit status {proc.returncode}")
    return proc.stdout if capture else ""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--sample", default="testdata/sample-library.zip")
    p.add_argument("--work", default="out/demo")
    args = p.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    store1, store2 = f"sqlite:///{work / 'store.db'}", f"sqlite:///{work / 'copy.db'}"
    backup_zip = work / "backup.zip"
    ref = "lib:Demo:SAMPLE"

    run("plugins")
    run("restore", args.sample, store1, "--ref", ref)
    run("inspect", args.sample, "--limit", "20")
    run("backup", store1, ref, "-o", str(backup_zip), "--created-by", "demo")
    run("verify", str(backup_zip))
    run("validate", str(backup_zip))
    run("restore", str(backup_zip), store2, "--ref", ref)
    first = run("state", store1, ref, capture=True)
    second = run("state", store2, ref, capture=True)
    if first != second or run("state", store1, ref, "--all-versions", capture=True) != run(
            "state", store2, ref, "--all-versions", capture=True):
        sys.exit("demo: the two stores differ (this is a bug)")
    v1_zip = work / "backup-v1.zip"
    run("convert", str(backup_zip), str(v1_zip), "--format", "v1")
    run("diff", str(backup_zip), str(v1_zip), "--current-only")
    (work / "state.json").write_text(first, encoding="utf-8")
    print(f"\ndemo: both stores hold identical content ({len(first.splitlines())} lines of state in "
          f"{work / 'state.json'}); archive {backup_zip} is {backup_zip.stat().st_size:,} bytes.")


if __name__ == "__main__":
    main()
