"""Commands on archives: ``restore``, ``validate``, ``verify``, ``inspect``, ``convert``, ``diff``."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path
from typing import Any

from ..archive.locations import display
from .limits import limits_of
from .output import emit, notes_and_warnings, out, print_table, progress, table

__all__ = ["cmd_convert", "cmd_diff", "cmd_inspect", "cmd_restore", "cmd_validate", "cmd_verify"]


def cmd_restore(args: argparse.Namespace) -> int:
    """``lc-archive restore FILE STORE`` (``--into``, ``--entity``, ``--collection``: :mod:`.imports`)."""
    from .imports import cmd_import, wants_import

    if wants_import(args):
        return cmd_import(args)
    from ..stores import open_store
    from ..usecases.restore import restore

    limits = limits_of(args)
    with open_store(args.store) as store, progress(args) as bars:
        result = restore(args.file, store, ref=args.ref, user=args.user, dry_run=args.dry_run,
                         limits=limits, progress=bars, strict=args.strict)
    data = result.as_dict()

    def human() -> None:
        verb = "would restore" if args.dry_run else "restored"
        out().print(f"{verb} {display(args.file)} as {result.ref} (archive ref {result.archive_ref}): "
                    f"{data['entities']} entities, {data['versions']} versions, {data['media_files']} media files, "
                    f"{data['collections']} collections, {data['distinct_blobs']} distinct blobs "
                    f"in {data['wall_s']:.2f} s")
        notes_and_warnings(data)
    emit(args, data, human)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """``lc-archive validate FILE``."""
    from ..usecases.validate import validate

    with progress(args) as bars:
        summary = validate(args.file, limits=limits_of(args), progress=bars, strict=not args.allow_warnings).as_dict()

    def human() -> None:
        out().print(f"{display(args.file)}: valid {summary['format']} archive of {summary['package']['ref']} "
                    f"({summary['entities']} entities, {summary['versions']} versions, "
                    f"{summary['media_files']} media files, {summary['collections']} collections, "
                    f"{summary['plugin_payloads']} plugin payloads)")
        notes_and_warnings(summary)
    emit(args, {"ok": True, **summary}, human)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """``lc-archive verify FILE``."""
    from ..usecases.validate import verify

    with progress(args) as bars:
        summary = verify(args.file, limits=limits_of(args), progress=bars).as_dict()
    emit(args, {"ok": True, **summary},
         lambda: out().print(f"{display(args.file)}: verified {summary['format']} archive of "
                             f"{summary['package']['ref']}: "
                             + (f"{summary['verified_members']} members, {summary['verified_bytes']:,} bytes "
                                "match the manifest; " if "verified_members" in summary else
                                "no checksums in v1 (CRC-32 only); ")
                             + f"{summary['entities']} entities, {summary['versions']} versions valid"))
    return 0


def _score(r: dict[str, Any]) -> str:
    if r.get("is_scorable") is None:
        return ""
    if r["is_scorable"] and r.get("max_score") is not None:
        return f"{r['max_score']:g}"
    return "yes" if r["is_scorable"] else "no"


def cmd_inspect(args: argparse.Namespace) -> int:
    """``lc-archive inspect FILE``."""
    from ..usecases.validate import inspect

    summary = inspect(args.file, limits=limits_of(args)).as_dict()
    rows: list[dict[str, Any]] = summary["entity_list"]

    def human() -> None:
        out().print(f"{summary['package']['title']} ({summary['package']['ref']}), "
                    f"format {summary['format']}, made {summary['created_at']}"
                    + (f" by {summary['created_by']}" if summary["created_by"] else "")
                    + (f" on {summary['origin_server']}" if summary["origin_server"] else ""))
        out().print(f"{summary['entities']} entities: "
                    + ", ".join(f"{n} {t}" for t, n in summary["types"].items())
                    + f"; {summary['versions']} versions, {summary['media_files']} media files, "
                    f"{summary['distinct_blobs']} distinct blobs ({summary['blob_bytes']:,} bytes), "
                    f"{summary['collections']} collections")
        entities = table("entity", "type", "name", "score", "draft", "published", "versions", "media bytes")
        shown = rows[: args.limit] if args.limit else rows
        for r in shown:
            draft = "deleted" if r["draft_deleted"] else ("-" if r["draft"] is None else str(r["draft"]))
            # The OLX's display_name (derived, for components), else the version title.
            entities.add_row(r["ref"], r["type"], r.get("display_name") or r.get("title") or "", _score(r), draft,
                             "-" if r["published"] is None else str(r["published"]),
                             ",".join(map(str, r["versions"])), f"{r['media_bytes']:,}")
        print_table(entities)
        if args.limit and len(rows) > args.limit:
            out().print(f"... {len(rows) - args.limit} more (use --limit 0 for all)")
        for r in shown:
            if "files" in r:
                out().print(f"code library {r['ref']} ({len(r['files'])} files): " + ", ".join(r["files"][:20])
                            + (" ..." if len(r["files"]) > 20 else ""))
        notes_and_warnings(summary)
    emit(args, summary, human)
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    """``lc-archive convert IN OUT --format v1|v2``."""
    from ..usecases.convert import convert

    created_at = datetime.fromisoformat(args.created_at) if args.created_at else None
    with progress(args) as bars:
        result = convert(args.input, args.output, format=args.format, created_at=created_at,
                         limits=limits_of(args), progress=bars, directory_entries=args.directory_entries,
                         workdir=Path(args.workdir) if args.workdir else None)
    data = result.as_dict()

    def human() -> None:
        out().print(f"converted {display(args.input)} ({result.input_format}) to {display(args.output)} "
                    f"({result.format}): "
                    f"{result.entities} entities, {result.members} members, {result.archive_bytes:,} bytes "
                    f"in {result.wall_s:.2f} s")
        if not result.losses:
            out().print(f"  nothing lost: {result.format} carries everything the input held")
        for loss in result.losses:
            out().print(f"  lost: {loss.message}")
        for warning in result.warnings:
            out().print(f"  warning: {warning}")
    emit(args, data, human)
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    """``lc-archive diff A B``: 0 identical, 1 different (2 on errors, as diff(1))."""
    from ..usecases.diff import diff_archives, format_diff

    with progress(args) as bars:
        result = diff_archives(args.a, args.b, current_only=args.current_only, limits=limits_of(args),
                               progress=bars, workdir=Path(args.workdir) if args.workdir else None)

    def human() -> None:
        for line in format_diff(result):
            out().print(line)
    emit(args, result.as_dict(), human)
    return 0 if result.identical else 1
