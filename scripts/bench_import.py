"""`make bench-import`: preview and import of an archive into an existing package (issue 15).

    python scripts/bench_import.py [--components 10000] [--changed 100] [--out bench-out/import.json]

1. ``lc_archive.synthetic`` generates N components into a SQLite store; it is backed up as A (v2).
2. A is restored as the target package REF into a fresh store (and, with ``LC_ARCHIVE_PG_URL`` set, into
   a fresh PostgreSQL database too); another store gets A as EDIT, where ``--changed`` live components
   get a new version with other OLX (the authoring API); EDIT is backed up as B.
   With ``--openedx``, A is also restored into a fresh, migrated openedx-core SQLite database (the
   test settings, ``tests/openedx_settings.py``) as REF, and the same import is measured there.
3. Measured, each as a whole process (wall, CPU, peak RSS: ``bench_measure``): ``restore B --into REF
   --preview`` and then the import itself.
4. Checked: the preview lists exactly the changed components, the import writes exactly that many
   versions (the report has the count from the result and from the store's version table before and
   after), and the target's ``state`` equals EDIT's.

Writes one JSON report; exit status 1 if a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_measure
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from lc_archive import backup, restore
from lc_archive.stores import SqlStore, open_store, schema
from lc_archive.synthetic import generate_library
from lc_archive.usecases.state import compute_state, state_json

SRC, REF, EDIT = "lib:Bench:SRC", "lib:Bench:REF", "lib:Bench:EDIT"
CLI = str(Path(sys.executable).parent / "lc-archive")
REPO = Path(__file__).resolve().parent.parent


def _versions(store: SqlStore) -> int:
    with store.transaction(write=False) as conn:
        return int(conn.execute(select(func.count()).select_from(schema.version)).scalar_one())


def _state(store: SqlStore, ref: str) -> str:
    with store.read(ref) as source:
        return state_json(compute_state(source))


def _edit(store: SqlStore, changed: int) -> list[str]:
    """Give ``changed`` live components, spread over the package, a new version with other OLX."""
    with store.read(EDIT) as source:
        live = [e.ref for e in source.iter_entities() if e.kind == "component" and e.draft is not None
                and e.type in ("html", "problem")]
    step = max(1, len(live) // changed)
    picked = live[::step][:changed]
    with store.author(EDIT, user="bench-editor") as author:
        for i, ref in enumerate(picked):
            kind = ref.split(":")[1]
            author.add_component_version(ref, {"block.xml": f"<{kind} display_name='edited {i}'>edited</{kind}>"},
                                         title=f"edited {i}")
    return picked


def _result(stdout: str) -> Any:
    """The command's own data, inside the CLI's JSON envelope or not."""
    data = json.loads(stdout)
    return data["result"] if "envelope" in data else data


def _pg_database(base: str) -> tuple[str, Any]:
    name = f"lc_bench_import_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return make_url(base).set(database=name).render_as_string(hide_password=False), drop


class _Target:
    """Where the import goes: a SQL store URL, or (``env`` set) an openedx-core database."""

    def __init__(self, url: str, env: dict[str, str] | None = None, db: Path | None = None) -> None:
        self.url, self.env, self.db = url, env, db

    def restore(self, archive: Path) -> None:
        if self.env is None:
            with open_store(self.url) as store:
                restore(archive, store, ref=REF)
        else:
            subprocess.run([CLI, "restore", str(archive), self.url, "--ref", REF, "-q"], env=self.env, check=True)

    def versions(self) -> int:
        if self.env is None:
            with open_store(self.url) as store:
                return _versions(store)
        with sqlite3.connect(str(self.db)) as conn:
            table = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE "
                                 "'%publishableentityversion'").fetchone()[0]
            return int(conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])

    def state(self) -> str:
        if self.env is None:
            with open_store(self.url) as store:
                return _state(store, REF)
        done = subprocess.run([CLI, "state", self.url, REF], env=self.env, check=True, capture_output=True, text=True)
        return done.stdout


def _openedx(work: Path) -> _Target:
    """A fresh, migrated openedx-core SQLite database with the tests' Django settings."""
    db = work / "openedx.sqlite3"
    path = os.pathsep.join([str(REPO / "tests"), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LC_ARCHIVE_OPENEDX_")}
    env.update({"DJANGO_SETTINGS_MODULE": "openedx_settings", "PYTHONPATH": path,
                "LC_ARCHIVE_OPENEDX_SQLITE": str(db), "LC_ARCHIVE_OPENEDX_MEDIA": f"{db}.media/private"})
    subprocess.run([sys.executable, "-m", "django", "migrate", "-v0", "--no-input"], env=env, check=True)
    return _Target("openedx:", env, db)


def _measure(target: _Target, archive: Path, picked: list[str], expected_state: str, a: Path) -> dict[str, Any]:
    target.restore(a)
    before = target.versions()
    preview = bench_measure.run([CLI, "restore", str(archive), target.url, "--into", REF, "--preview", "--json"],
                                env=target.env, check=False)
    plan = _result(preview.stdout)
    applied = bench_measure.run([CLI, "restore", str(archive), target.url, "--into", REF, "--json", "-q"],
                                env=target.env)
    result = _result(applied.stdout)
    after = target.versions()
    same = target.state().rstrip("\n") == expected_state.rstrip("\n")
    listed = sorted(c["ref"] for c in plan["entities"])
    out = {
        "preview": dict(preview), "import": dict(applied),
        "preview_exit": preview["exit"], "preview_listed": len(listed), "preview_counts": plan["counts"],
        "preview_lists_exactly_the_changed": listed == sorted(picked) and
        all(c["action"] == "changed" for c in plan["entities"]),
        "versions_written": result["written"]["versions"], "version_rows_added": after - before,
        "import_op_wall_s": result["wall_s"], "preview_op_wall_s": plan["wall_s"],
        "import_phases": result.get("phases"), "preview_phases": plan.get("phases"),
        "state_equals_edited": same,
    }
    out["ok"] = bool(out["preview_lists_exactly_the_changed"] and out["versions_written"] == len(picked)
                     == out["version_rows_added"] and same and preview["exit"] == 1)
    if target.env is not None:  # openedx-core: deleting the package afterwards is measured too
        deleted = bench_measure.run([CLI, "delete", target.url, REF, "--yes", "--json"], env=target.env)
        out["delete"], out["delete_result"] = dict(deleted), _result(deleted.stdout)
        out["ok"] = out["ok"] and target.versions() == 0
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; write the JSON report."""
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--components", type=int, default=10_000)
    p.add_argument("--changed", type=int, default=100)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", default="bench-out/import.json")
    p.add_argument("--work", default="bench-out/work-import")
    p.add_argument("--openedx", action="store_true", help="measure the import into openedx-core (SQLite) too")
    p.add_argument("--only-openedx", action="store_true", help="measure only the openedx-core case")
    args = p.parse_args(argv)
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    with open_store(work / "src.db") as src:
        generated = generate_library(src, SRC, components=args.components, seed=args.seed)
        backup(src, SRC, work / "a.zip", created_at=datetime(2025, 6, 1, tzinfo=UTC))
    with open_store(work / "edit.db") as editor:
        restore(work / "a.zip", editor, ref=EDIT)
        picked = _edit(editor, args.changed)
        backup(editor, EDIT, work / "b.zip", created_at=datetime(2025, 6, 2, tzinfo=UTC))
        expected = _state(editor, EDIT)
    report: dict[str, Any] = {
        "bench": "import", "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "load": os.getloadavg()},
        "components": args.components, "changed": len(picked), "generated": generated,
        "archive_bytes": (work / "b.zip").stat().st_size,
    }
    if not args.only_openedx:
        report["sqlite"] = _measure(_Target(f"sqlite:///{work / 'target.db'}"), work / "b.zip", picked, expected,
                                    work / "a.zip")
    base = os.environ.get("LC_ARCHIVE_PG_URL")
    if base and not args.only_openedx:
        url, drop = _pg_database(base)
        try:
            report["postgresql"] = _measure(_Target(url), work / "b.zip", picked, expected, work / "a.zip")
        finally:
            drop()
    if args.openedx or args.only_openedx:
        report["openedx_sqlite"] = _measure(_openedx(work), work / "b.zip", picked, expected, work / "a.zip")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    names = ("sqlite", "postgresql", "openedx_sqlite")
    for name in names:
        if name in report:
            r = report[name]
            gone = f", delete {r['delete']['wall_s']:.2f} s ({r['delete']['peak_rss_mb']} MiB)" if "delete" in r else ""
            print(f"{name}: preview {r['preview']['wall_s']:.2f} s ({r['preview']['peak_rss_mb']} MiB), import "
                  f"{r['import']['wall_s']:.2f} s ({r['import']['peak_rss_mb']} MiB), {r['versions_written']} "
                  f"versions written for {len(picked)} changed components{gone}, ok={r['ok']}")
    print(f"report: {out}")
    return 0 if all(report[n]["ok"] for n in names if n in report) else 1


if __name__ == "__main__":
    sys.exit(main())
