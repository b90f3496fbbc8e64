"""``lc-archive plugins``: the installed serializers, and the plugins that failed to load."""

from __future__ import annotations

import argparse
import dataclasses

from ..plugins.registry import default_registry
from .output import emit, err, print_table, table

__all__ = ["cmd_plugins"]


def cmd_plugins(args: argparse.Namespace) -> int:
    """``lc-archive plugins``."""
    registry = default_registry()
    entries = [dataclasses.asdict(e) for e in registry.entries()]
    failures = [dataclasses.asdict(f) for f in registry.failures]

    def human() -> None:
        rows = table("id", "kind", "schema", "distribution", "version", "entry point")
        for e in entries:
            rows.add_row(e["id"], e["kind"], "" if e["schema_version"] is None else str(e["schema_version"]),
                         e["distribution"] or "", e["version"] or "", e["entry_point"] or "")
        print_table(rows)
        for f in failures:
            err().print(f"not loaded: {f['name']} ({f['entry_point']}"
                        + (f", from {f['distribution']}" if f["distribution"] else "") + f"): {f['reason']}")
    emit(args, {"serializers": entries, "failures": failures}, human)
    return 0
