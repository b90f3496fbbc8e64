"""``lc-archive plugins``: the installed serializers, and the plugins that failed to load."""

from __future__ import annotations

import argparse
import dataclasses

from ..plugins.registry import default_registry
from .output import add_row, line, print_table, table
from .report import Report

__all__ = ["cmd_plugins"]


def cmd_plugins(args: argparse.Namespace) -> Report:
    """``lc-archive plugins``."""
    registry = default_registry()
    entries = [dataclasses.asdict(e) for e in registry.entries()]
    failures = [dataclasses.asdict(f) for f in registry.failures]

    def body() -> None:
        rows = table("id", "kind", "schema", "distribution", "version", "entry point")
        for e in entries:
            add_row(rows, e["id"], e["kind"], "" if e["schema_version"] is None else str(e["schema_version"]),
                    e["distribution"] or "", e["version"] or "", e["entry_point"] or "")
        print_table(rows)
        for f in failures:
            line(f"not loaded: {f['name']} ({f['entry_point']}"
                 + (f", from {f['distribution']}" if f["distribution"] else "") + f"): {f['reason']}",
                 stderr=True)
    return Report(result={"serializers": entries, "failures": failures}, body=body,
                  summary=f"{len(entries)} serializer(s)" + (f", {len(failures)} plugin(s) failed to load"
                                                           if failures else ""))
