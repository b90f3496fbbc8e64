"""Commands on stores: ``backup``, ``state`` (``packages``, ``delete``, ``rename``: :mod:`.packages`)."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from ..stores import open_store
from ..usecases.backup import backup
from ..usecases.state import compute_state, state_json
from .output import emit, out, progress

__all__ = ["cmd_backup", "cmd_state"]


def cmd_backup(args: argparse.Namespace) -> int:
    """``lc-archive backup STORE REF -o FILE``."""
    created_at = datetime.fromisoformat(args.created_at) if args.created_at else None
    with open_store(args.store, create=False) as store, progress(args) as bars:
        result = backup(store, args.ref, args.output, format=args.format, created_at=created_at,
                        created_by=args.created_by, created_by_email=args.created_by_email,
                        origin_server=args.origin_server, progress=bars,
                        collections=args.collection or (), entities=args.entity or (),
                        directory_entries=args.directory_entries)
    data = result.as_dict()

    def human() -> None:
        out().print(f"backed up {args.ref} to {data['path']}: {data['entities']} entities, "
                    f"{data['members']} members, {data['archive_bytes']:,} bytes in {data['wall_s']:.2f} s")
        for loss in data.get("losses", []):
            out().print(f"  not carried by {args.format}: {loss}")
        for warning in data.get("warnings", []):
            out().print(f"  warning: {warning}")
    emit(args, data, human)
    return 0


def cmd_state(args: argparse.Namespace) -> int:
    """``lc-archive state STORE REF``: the canonical content state as JSON."""
    with open_store(args.store, create=False) as store, store.read(args.ref) as source:
        text = state_json(compute_state(source, media_types=args.media_types, all_versions=args.all_versions))
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0
