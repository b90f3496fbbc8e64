"""Commands on archives: ``restore``, ``validate``, ``verify``, ``inspect``, ``convert``, ``diff``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..archive.locations import display
from .args import store_url
from .limits import limits_of
from .output import add_row, line, print_table, progress, table
from .report import Loss, Report, warning_problems

if TYPE_CHECKING:
    from ..formats.plan import ArchiveSummary

__all__ = ["cmd_convert", "cmd_diff", "cmd_inspect", "cmd_restore", "cmd_validate", "cmd_verify"]


def _counts(data: dict[str, Any]) -> str:
    return (f"{data['entities']} entities, {data['versions']} versions, {data['media_files']} media files, "
            f"{data['collections']} collections")


def _summary_report(summary: ArchiveSummary, result: dict[str, Any], text: str, **kwargs: Any) -> Report:
    """A report whose warnings and notes are the archive summary's (the result keeps only their count)."""
    result = {k: v for k, v in result.items() if k not in ("warnings", "notes")}
    return Report(result=result, summary=text, warnings=list(summary.warnings), warning_count=summary.warning_count,
                  notes=list(summary.notes), **kwargs)


def cmd_restore(args: argparse.Namespace) -> Report:
    """``lc-archive restore ARCHIVE STORE`` (``--into``, ``--entity``, ``--collection``: :mod:`.imports`)."""
    from ..usecases.restore import restore
    from .imports import cmd_import, wants_import

    if wants_import(args):
        return cmd_import(args)

    url = store_url(args)
    with progress(args) as bars:
        result = restore(args.file, url, ref=args.ref, user=args.user, dry_run=args.dry_run,
                         limits=limits_of(args), progress=bars, strict=args.strict)
    data = result.as_dict()
    verb = "would restore" if args.dry_run else "restored"
    warned = f", {result.archive.warning_count} warning(s)" if result.archive.warning_count else ""
    return _summary_report(result.archive, data,
                           f"{verb} {display(args.file)} as {result.ref} (archive ref {result.archive_ref}): "
                           f"{_counts(data)}, {data['distinct_blobs']} distinct blobs{warned} "
                           f"in {data['wall_s']:.2f} s")


def cmd_validate(args: argparse.Namespace) -> Report:
    """``lc-archive validate ARCHIVE``."""
    from ..usecases.validate import validate

    with progress(args) as bars:
        summary = validate(args.file, limits=limits_of(args), progress=bars, strict=not args.allow_warnings)
    data = summary.as_dict()
    warned = f"; {summary.warning_count} warning(s) allowed" if summary.warning_count else ""
    return _summary_report(summary, data,
                           f"{display(args.file)}: valid {data['format']} archive of {data['package']['ref']} "
                           f"({_counts(data)}, {data['plugin_payloads']} plugin payloads){warned}")


def cmd_verify(args: argparse.Namespace) -> Report:
    """``lc-archive verify ARCHIVE``: integrity against the manifest, then the same checks as validate."""
    from ..usecases.validate import verify

    with progress(args) as bars:
        summary = verify(args.file, limits=limits_of(args), progress=bars, strict=not args.allow_warnings)
    data = summary.as_dict()
    checked = (f"{data['verified_members']} members, {data['verified_bytes']:,} bytes match the manifest; "
               if "verified_members" in data else "no checksums in v1 (CRC-32 only); ")
    return _summary_report(summary, data, f"{display(args.file)}: verified {data['format']} archive of "
                           f"{data['package']['ref']}: {checked}{data['entities']} entities, "
                           f"{data['versions']} versions valid")


def _score(r: dict[str, Any]) -> str:
    if r.get("is_scorable") is None:
        return ""
    if r["is_scorable"] and r.get("max_score") is not None:
        return f"{r['max_score']:g}"
    return "yes" if r["is_scorable"] else "no"


def cmd_inspect(args: argparse.Namespace) -> Report:
    """``lc-archive inspect ARCHIVE``."""
    from ..usecases.validate import inspect

    result = inspect(args.file, limits=limits_of(args))
    summary = result.as_dict()
    rows: list[dict[str, Any]] = summary["entity_list"]

    def body() -> None:
        line(f"{summary['package']['title']} ({summary['package']['ref']}), "
             f"format {summary['format']}, made {summary['created_at']}"
             + (f" by {summary['created_by']}" if summary["created_by"] else "")
             + (f" on {summary['origin_server']}" if summary["origin_server"] else ""))
        entities = table("entity", "type", "name", "score", "draft", "published", "versions", "media bytes")
        shown = rows[: args.limit] if args.limit else rows
        for r in shown:
            draft = "deleted" if r["draft_deleted"] else ("-" if r["draft"] is None else str(r["draft"]))
            # The OLX's display_name (derived, for components), else the version title.
            add_row(entities, r["ref"], r["type"], r.get("display_name") or r.get("title") or "", _score(r), draft,
                    "-" if r["published"] is None else str(r["published"]),
                    ",".join(map(str, r["versions"])), f"{r['media_bytes']:,}")
        print_table(entities)
        if args.limit and len(rows) > args.limit:
            line(f"... {len(rows) - args.limit} more (use --limit 0 for all)")
        for r in shown:
            if "files" in r:
                line(f"code library {r['ref']} ({len(r['files'])} files): " + ", ".join(r["files"][:20])
                     + (" ..." if len(r["files"]) > 20 else ""))
    text = (f"{summary['entities']} entities: " + ", ".join(f"{n} {t}" for t, n in summary["types"].items())
            + f"; {summary['versions']} versions, {summary['media_files']} media files, "
            f"{summary['distinct_blobs']} distinct blobs ({summary['blob_bytes']:,} bytes), "
            f"{summary['collections']} collections")
    return _summary_report(result.archive, summary, text, body=body)


def cmd_convert(args: argparse.Namespace) -> Report:
    """``lc-archive convert IN OUT --format v1|v2``."""
    from ..usecases.convert import convert

    with progress(args) as bars:
        result = convert(args.input, args.output, format=args.format, created_at=args.created_at,
                         limits=limits_of(args), progress=bars, directory_entries=args.directory_entries,
                         workdir=Path(args.workdir) if args.workdir else None, overwrite=args.force)
    data = result.as_dict()
    data = {k: v for k, v in data.items() if k not in ("losses", "warnings")}
    lost = (f"; nothing lost: {result.format} carries everything the input held" if not result.losses
            else f"; {len(result.losses)} kind(s) of data not carried")
    return Report(result=data, summary=f"converted {display(args.input)} ({result.input_format}) to "
                  f"{display(args.output)} ({result.format}): {result.entities} entities, {result.members} members, "
                  f"{result.archive_bytes:,} bytes in {result.wall_s:.2f} s{lost}",
                  losses=[Loss(x.kind, x.count, x.message) for x in result.losses],
                  warnings=warning_problems(result.warning_counts, result.warnings))


def cmd_diff(args: argparse.Namespace) -> Report:
    """``lc-archive diff A B``: 0 identical, 1 different (2 on errors, as diff(1))."""
    from ..usecases.diff import diff_archives, format_diff

    scope = True if args.current_only else (False if args.full else None)
    with progress(args) as bars:
        result = diff_archives(args.a, args.b, current_only=scope, limits=limits_of(args),
                               progress=bars, workdir=Path(args.workdir) if args.workdir else None)
    lines = [text for text in format_diff(result) if text != "identical"]

    def body() -> None:
        for text in lines:
            line(text)
    found = sum(result.counts().values())
    summary = "identical" if result.identical else f"different: {found} difference(s)"
    return Report(result=result.as_dict(), summary=summary, body=body,
                  exit=0 if result.identical else 1)
