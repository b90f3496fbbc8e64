"""openedx-core 1.15.2 (the peer) for ``make bench``: generate, back up and restore the same library.

The peer runs through ``../shared/peer/peer.py`` in its own venv (``$LC_ARCHIVE_PEER_DIR`` and
``$LC_ARCHIVE_PEER_PYTHON``, as the tests find them). Its restore of 10,000 components takes about
five minutes, so its figures are cached in the bench's work directory (``peer-N<n>-s<seed>/figures.json``)
together with the library and archive they were measured on, and reused by a later run on the same
machine unless ``--fresh-peer`` is given. The report says, figure by figure, whether it was measured in
this run or reused (and when it was measured).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bench_measure

__all__ = ["Peer", "find_peer", "machine_id"]

REF = "lib:Org:LIB1"


def machine_id() -> dict[str, Any]:
    """What identifies this machine for reusing cached figures."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"host": platform.node(), "cpu": model, "cpus": os.cpu_count()}


class Peer:
    """Drives peer.py; every call is one measured process."""

    def __init__(self, directory: Path, python: Path) -> None:
        self.dir = directory
        self.python = python
        self.script = directory / "peer.py"

    def version(self) -> str:
        out = subprocess.run([str(self.python), "-c", "import importlib.metadata as m; "
                              "print(m.version('openedx-core'), m.version('Django'))"],
                             capture_output=True, text=True, check=True)
        core, django = out.stdout.split()
        return f"openedx-core {core}, Django {django}"

    def _run(self, *args: str, check: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
        """(peer.py's own JSON line, the whole-process figures)."""
        measured = bench_measure.run([str(self.python), str(self.script), *args], check=check, timeout=3600)
        lines = [line for line in measured.stdout.splitlines() if line.startswith("{")]
        own: dict[str, Any] = json.loads(lines[-1]) if lines else {}
        return own, dict(measured)

    def gen(self, n: int, seed: int, db: Path) -> dict[str, Any]:
        own, proc = self._run("gen", "--components", str(n), "--seed", str(seed), "--out-db", str(db))
        return {"wall_s": own.get("wall_s"), "process": proc, "stats": {k: v for k, v in own.items()
                                                                         if isinstance(v, int)}}

    def dump(self, db: Path, out: Path) -> dict[str, Any]:
        own, proc = self._run("dump", "--db", str(db), "--ref", REF, "--out", str(out))
        return {"wall_s": own["wall_s"], "peak_rss_mb": own["peak_rss_mb"], "archive_bytes": own["archive_bytes"],
                "zip_entries": own["zip_entries"], "entities": own["entities"], "process": proc}

    def load(self, archive: Path, db: Path) -> dict[str, Any]:
        own, proc = self._run("load", "--zip", str(archive), "--db", str(db), check=False)
        return {"status": own.get("status"), "wall_s": own.get("wall_s"), "peak_rss_mb": own.get("peak_rss_mb"),
                "errors": (own.get("errors") or "")[:2000] or None, "process": proc}

    def state(self, db: Path, out: Path, ref: str | None = REF) -> None:
        args = ["state", "--db", str(db), "--out", str(out)]
        if ref:
            args += ["--ref", ref]
        subprocess.run([str(self.python), str(self.script), *args], check=True, capture_output=True)

    @staticmethod
    def remove_db(db: Path) -> None:
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        shutil.rmtree(f"{db}.media", ignore_errors=True)

    def library(self, work: Path, n: int, seed: int, *, fresh: bool) -> dict[str, Any]:
        """The peer's library of ``n`` components, its archive and its backup and restore figures.

        Returns ``{"dir", "db", "zip", "figures"}``; figures carry ``measured_in_this_run`` and
        ``measured_at`` each.
        """
        cache = work / f"peer-N{n}-s{seed}"
        db, archive, figures_file = cache / "peer.db", cache / "peer.zip", cache / "figures.json"
        figures: dict[str, Any] = {}
        if not fresh and figures_file.exists():
            figures = json.loads(figures_file.read_text())
            if figures.get("machine") != machine_id() or figures.get("version") != self.version():
                figures = {}
        if not (db.exists() and archive.exists() and "dump" in figures):
            figures = {}
            shutil.rmtree(cache, ignore_errors=True)
        cache.mkdir(parents=True, exist_ok=True)
        figures.update(machine=machine_id(), version=self.version())
        for item in ("gen", "dump", "load", "state"):
            if item in figures:
                figures[item]["measured_in_this_run"] = False

        def now() -> str:
            return datetime.now(UTC).isoformat(timespec="seconds")

        def save() -> None:
            figures_file.write_text(json.dumps(figures, indent=1) + "\n")

        if "gen" not in figures:
            print(f"  peer: generating {n:,} components ...", flush=True)
            figures["gen"] = {**self.gen(n, seed, db), "measured_at": now(), "measured_in_this_run": True}
            save()
        if "dump" not in figures:
            print("  peer: backup (create_zip_file) ...", flush=True)
            figures["dump"] = {**self.dump(db, archive), "measured_at": now(), "measured_in_this_run": True}
            save()
        if "state" not in figures:
            self.state(db, cache / "state-source.json")
            figures["state"] = {"measured_at": now(), "measured_in_this_run": True}
            save()
        if "load" not in figures:
            print("  peer: restore (load_learning_package) ...", flush=True)
            dst = cache / "restored.db"
            figures["load"] = {**self.load(archive, dst), "measured_at": now(), "measured_in_this_run": True}
            if figures["load"]["status"] == "success":
                self.state(dst, cache / "state-restored.json", ref=None)
            self.remove_db(dst)
            save()
        return {"dir": cache, "db": db, "zip": archive, "figures": figures}

    def restores_identically(self, archive: Path, cache: Path) -> dict[str, Any]:
        """Whether the peer restores ``archive`` to the state it restores its own archive to.

        The verdict is cached by the archive's SHA-256 (the same bytes restore the same way).
        """
        with archive.open("rb") as f:
            sha = hashlib.file_digest(f, "sha256").hexdigest()
        known = cache / f"roundtrip-{sha[:16]}.json"
        if known.exists():
            return {**json.loads(known.read_text()), "measured_in_this_run": False}
        dst = cache / "check.db"
        try:
            load = self.load(archive, dst)
            if load["status"] != "success":
                return {"identical": False, "load": load, "measured_in_this_run": True}
            out = cache / "state-check.json"
            self.state(dst, out, ref=None)
            own = cache / "state-restored.json"
            identical = own.exists() and out.read_text() == own.read_text()
            verdict = {"identical": identical, "archive_sha256": sha, "peer_restore_s": load["wall_s"],
                       "measured_at": datetime.now(UTC).isoformat(timespec="seconds")}
            known.write_text(json.dumps(verdict) + "\n")
            return {**verdict, "measured_in_this_run": True}
        finally:
            self.remove_db(dst)


def find_peer() -> Peer | None:
    """The peer, when its folder and venv are here (else None: the report says so)."""
    repo = Path(__file__).resolve().parent.parent
    directory = Path(os.environ.get("LC_ARCHIVE_PEER_DIR") or repo.parent / "shared" / "peer")
    python = Path(os.environ.get("LC_ARCHIVE_PEER_PYTHON")
                  or Path(os.environ.get("TMPDIR", "/tmp")) / "peer-venv" / "bin" / "python")
    if (directory / "peer.py").is_file() and python.exists():
        return Peer(directory, python)
    return None
