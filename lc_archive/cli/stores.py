"""Commands on stores: ``backup``, ``state`` (``packages``, ``delete``, ``rename``: :mod:`.packages`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..archive.locations import display
from ..errors import InvalidArgument
from ..text import json_safe
from . import output
from .args import store_url
from .output import progress
from .report import Report, loss_list, warning_problems

__all__ = ["cmd_backup", "cmd_state"]


def cmd_backup(args: argparse.Namespace) -> Report:
    """``lc-archive backup STORE REF -o ARCHIVE``."""
    from ..stores import open_store
    from ..usecases.backup import backup

    with open_store(store_url(args), create=False) as store, progress(args) as bars:
        result = backup(store, args.ref, args.output, format=args.format, created_at=args.created_at,
                        created_by=args.created_by, created_by_email=args.created_by_email,
                        origin_server=args.origin_server, progress=bars,
                        collections=args.collection or (), entities=args.entity or (),
                        directory_entries=args.directory_entries, overwrite=args.force)
    data = result.as_dict()
    data = {k: v for k, v in data.items() if k not in ("losses", "warnings")}
    return Report(result=data, summary=f"backed up {args.ref} to {data['path']}: {data['entities']} entities, "
                  f"{data['members']} members, {data['archive_bytes']:,} bytes in {data['wall_s']:.2f} s",
                  losses=loss_list(result.loss_counts, result.losses),
                  warnings=warning_problems(result.warning_counts, result.warnings))


def cmd_state(args: argparse.Namespace) -> Report:
    """``lc-archive state STORE REF``: the canonical content state as JSON (the envelope's ``result`` with
    ``--json``)."""
    import json

    from ..archive.atomic import atomic_output
    from ..archive.locations import is_url
    from ..archive.targets import check_target
    from ..stores import open_store
    from ..usecases.state import compute_state, state_json

    if args.output and is_url(args.output):
        raise InvalidArgument(f"state -o writes a local file, not {display(args.output)}")
    with open_store(store_url(args), create=False) as store:
        if args.output:
            check_target(args.output, force=args.force, kind="json", reading=store.local_files)
        with store.read(args.ref) as source:
            text = state_json(compute_state(source, media_types=args.media_types, all_versions=args.all_versions))
    if args.output:
        with atomic_output(Path(args.output)) as handle:
            handle.write(text.encode("utf-8"))
        return Report(result={"ref": args.ref, "path": args.output},
                      summary=f"wrote the state of {args.ref} to {args.output}")
    if args.json:
        return Report(result={"ref": args.ref, "state": json.loads(text)})
    # On a terminal no raw control character (DEL, C1, bidi) is shown: the same JSON values, escaped;
    # piped, the canonical bytes (the same as -o writes).
    sys.stdout.write(json_safe(text) if output.stdout_is_terminal() else text)
    return Report()
