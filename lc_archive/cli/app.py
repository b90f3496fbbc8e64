"""The ``lc-archive`` command line: backup, restore, validate, inspect, state, packages, convert, diff.

Exit status: 0 success, 1 the archive or the store refused the operation (every problem is printed,
one per line, as ``member: field.path: message``; nothing is written), 2 bad usage, 130/143 interrupted
by SIGINT/SIGTERM (a restore is rolled back, a backup leaves no file; a second signal during that
cleanup is ignored). ``diff`` works like ``diff(1)``: 0 identical, 1 different, 2 an error (an
archive refused, a file missing, bad usage).

``restore``, ``validate`` and ``inspect`` take one flag per :class:`~lc_archive.archive.limits.Limits`
field (``--max-members 5000``, ``--max-member-size 128MiB``, ...); ``lc-archive validate --help`` lists them.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..archive.limits import DEFAULT_LIMITS, LIMIT_HELP, Limits, limit_unit, parse_limit
from ..archive.zip_reader import ArchiveReader
from ..domain import entity_type
from ..errors import ArchiveInvalid, LcArchiveError
from ..formats.table import read_archive, verify_archive
from ..plugins.registry import default_registry
from ..progress import NULL_PROGRESS
from ..progress import Progress as ProgressProtocol
from ..stores import open_store
from ..usecases.backup import backup
from ..usecases.convert import convert
from ..usecases.diff import diff_archives, format_diff
from ..usecases.restore import restore, validate
from ..usecases.state import compute_state, state_json

__all__ = ["main"]

# User data (refs like lib:A:A, titles, TOML table names) is printed as-is: no markup, no emoji codes.
_err = Console(stderr=True, highlight=False, markup=False, emoji=False, soft_wrap=True)
_out = Console(highlight=False, markup=False, emoji=False, soft_wrap=True)


class _RichProgress:
    """Progress bars on stderr, one task per phase."""

    def __init__(self) -> None:
        self._bar = Progress(TextColumn("{task.description:>9}"), BarColumn(), MofNCompleteColumn(),
                             TimeElapsedColumn(), console=_err, transient=True)
        self._task: Any = None

    def __enter__(self) -> _RichProgress:
        self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()

    def phase(self, name: str, total: int | None) -> None:
        if self._task is not None:
            self._bar.update(self._task, visible=False)
        self._task = self._bar.add_task(name, total=total)

    def advance(self, n: int = 1) -> None:
        if self._task is not None:
            self._bar.advance(self._task, n)


def _progress(args: argparse.Namespace) -> Any:
    if args.json or args.quiet or not _err.is_terminal:
        class _Null:
            def __enter__(self) -> ProgressProtocol:
                return NULL_PROGRESS

            def __exit__(self, *exc: object) -> None:
                return None
        return _Null()
    return _RichProgress()


def _emit(args: argparse.Namespace, data: dict[str, Any], human: Callable[[], None]) -> None:
    if args.json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=1, default=str) + "\n")
    else:
        human()


def _cmd_backup(args: argparse.Namespace) -> int:
    created_at = datetime.fromisoformat(args.created_at) if args.created_at else None
    with open_store(args.store, create=False) as store, _progress(args) as progress:
        result = backup(store, args.ref, Path(args.output), format=args.format, created_at=created_at,
                        created_by=args.created_by, created_by_email=args.created_by_email,
                        origin_server=args.origin_server, progress=progress,
                        collections=args.collection or (), entities=args.entity or ())
    data = result.as_dict()
    def human() -> None:
        _out.print(f"backed up {args.ref} to {args.output}: {data['entities']} entities, "
                   f"{data['members']} members, {data['archive_bytes']:,} bytes in {data['wall_s']:.2f} s")
        for loss in data.get("losses", []):
            _out.print(f"  not carried by {args.format}: {loss}")
        for warning in data.get("warnings", []):
            _out.print(f"  warning: {warning}")
    _emit(args, data, human)
    return 0


def _cmd_restore(args: argparse.Namespace) -> int:
    limits = _limits(args)
    with open_store(args.store) as store, _progress(args) as progress:
        result = restore(args.file, store, ref=args.ref, user=args.user, dry_run=args.dry_run,
                         limits=limits, progress=progress, strict=args.strict)
    data = result.as_dict()
    def human() -> None:
        verb = "would restore" if args.dry_run else "restored"
        _out.print(f"{verb} {args.file} as {result.ref} (archive ref {result.archive_ref}): "
                   f"{data['entities']} entities, {data['versions']} versions, {data['media_files']} media files, "
                   f"{data['collections']} collections, {data['distinct_blobs']} distinct blobs "
                   f"in {data['wall_s']:.2f} s")
        _notes_and_warnings(data)
    _emit(args, data, human)
    return 0


def _print_table(table: Table) -> None:
    """A table at the terminal's width; piped to a file, wide enough not to squeeze refs and titles."""
    if _out.is_terminal:
        _out.print(table)
    else:
        Console(highlight=False, markup=False, emoji=False, width=200).print(table)


def _notes_and_warnings(summary: dict[str, Any]) -> None:
    for note in summary.get("notes", []):
        _out.print(f"note: {note}")
    for warning in summary.get("warnings", []):
        _err.print(f"{warning}")
    if summary.get("warning_count", 0) > len(summary.get("warnings", [])):
        _err.print(f"... {summary['warning_count'] - len(summary['warnings'])} more warning(s)")


def _cmd_validate(args: argparse.Namespace) -> int:
    limits = _limits(args)
    with _progress(args) as progress:
        summary = validate(args.file, limits=limits, progress=progress, strict=not args.allow_warnings)
    def human() -> None:
        _out.print(f"{args.file}: valid {summary['format']} archive of {summary['package']['ref']} "
                   f"({summary['entities']} entities, {summary['versions']} versions, "
                   f"{summary['media_files']} media files, {summary['collections']} collections, "
                   f"{summary['plugin_payloads']} plugin payloads)")
        _notes_and_warnings(summary)
    _emit(args, {"ok": True, **summary}, human)
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    limits = _limits(args)
    with _progress(args) as progress, ArchiveReader(args.file, limits=limits) as reader:
        progress.phase("verify", len(reader.names()))
        summary = verify_archive(reader, limits=limits, progress=progress.advance)
    _emit(args, {"ok": True, **summary},
          lambda: _out.print(f"{args.file}: verified {summary['format']} archive of {summary['package']['ref']}: "
                             + (f"{summary['verified_members']} members, {summary['verified_bytes']:,} bytes "
                                "match the manifest; " if "verified_members" in summary else
                                "no checksums in v1 (CRC-32 only); ")
                             + f"{summary['entities']} entities, {summary['versions']} versions valid"))
    return 0


def _cmd_inspect(args: argparse.Namespace) -> int:
    limits = _limits(args)
    with ArchiveReader(args.file, limits=limits) as reader, read_archive(reader, limits=limits) as plan:
        summary = plan.summary()
        rows: list[dict[str, Any]] = []
        for batch in plan.entity_batches():
            for e in batch:
                # Facts are derived from the OLX (never read from the archive): of the draft, else the latest.
                shown = e.version(e.draft) or (e.versions[-1] if e.versions else None)
                facts = shown.facts if shown is not None else None
                row: dict[str, Any] = {
                    "ref": e.ref, "type": entity_type(e.kind, e.namespace, e.type), "draft": e.draft,
                    "published": e.published, "draft_deleted": e.draft_deleted,
                    "versions": [v.number for v in e.versions],
                    "media_bytes": sum(m.size for v in e.versions for m in v.media),
                    "title": shown.title if shown is not None else None,
                }
                if facts is not None:
                    row.update(display_name=facts.display_name, is_scorable=facts.is_scorable,
                               max_score=facts.max_score)
                    if facts.files:
                        row["files"] = list(facts.files)
                rows.append(row)
    summary["entity_list"] = rows
    def human() -> None:
        _out.print(f"{summary['package']['title']} ({summary['package']['ref']}), "
                   f"format {summary['format']}, made {summary['created_at']}"
                   + (f" by {summary['created_by']}" if summary["created_by"] else "")
                   + (f" on {summary['origin_server']}" if summary["origin_server"] else ""))
        _out.print(f"{summary['entities']} entities: "
                   + ", ".join(f"{n} {t}" for t, n in summary["types"].items())
                   + f"; {summary['versions']} versions, {summary['media_files']} media files, "
                   f"{summary['distinct_blobs']} distinct blobs ({summary['blob_bytes']:,} bytes), "
                   f"{summary['collections']} collections")
        table = Table("entity", "type", "name", "score", "draft", "published", "versions", "media bytes")
        shown = rows[: args.limit] if args.limit else rows
        for r in shown:
            draft = "deleted" if r["draft_deleted"] else ("-" if r["draft"] is None else str(r["draft"]))
            score = "" if r.get("is_scorable") is None else (
                f"{r['max_score']:g}" if r["is_scorable"] and r.get("max_score") is not None else
                "yes" if r["is_scorable"] else "no")
            # The OLX's display_name (derived, for components), else the version title.
            table.add_row(r["ref"], r["type"], r.get("display_name") or r.get("title") or "", score, draft,
                          "-" if r["published"] is None else str(r["published"]),
                          ",".join(map(str, r["versions"])), f"{r['media_bytes']:,}")
        _print_table(table)
        if args.limit and len(rows) > args.limit:
            _out.print(f"... {len(rows) - args.limit} more (use --limit 0 for all)")
        for r in shown:
            if "files" in r:
                _out.print(f"code library {r['ref']} ({len(r['files'])} files): " + ", ".join(r["files"][:20])
                           + (" ..." if len(r["files"]) > 20 else ""))
        _notes_and_warnings(summary)
    _emit(args, summary, human)
    return 0


def _cmd_state(args: argparse.Namespace) -> int:
    with open_store(args.store, create=False) as store, store.read(args.ref) as source:
        text = state_json(compute_state(source, media_types=args.media_types, all_versions=args.all_versions))
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _cmd_convert(args: argparse.Namespace) -> int:
    limits = _limits(args)
    created_at = datetime.fromisoformat(args.created_at) if args.created_at else None
    with _progress(args) as progress:
        result = convert(Path(args.input), Path(args.output), format=args.format, created_at=created_at,
                         limits=limits, progress=progress,
                         workdir=Path(args.workdir) if args.workdir else None)
    data = result.as_dict()
    def human() -> None:
        _out.print(f"converted {args.input} ({result.input_format}) to {args.output} ({result.format}): "
                   f"{result.entities} entities, {result.members} members, {result.archive_bytes:,} bytes "
                   f"in {result.wall_s:.2f} s")
        if not result.losses:
            _out.print(f"  nothing lost: {result.format} carries everything the input held")
        for loss in result.losses:
            _out.print(f"  lost: {loss.message}")
        for warning in result.warnings:
            _out.print(f"  warning: {warning}")
    _emit(args, data, human)
    return 0


def _cmd_diff(args: argparse.Namespace) -> int:
    limits = _limits(args)
    with _progress(args) as progress:
        result = diff_archives(args.a, args.b, current_only=args.current_only, limits=limits, progress=progress,
                               workdir=Path(args.workdir) if args.workdir else None)
    def human() -> None:
        for line in format_diff(result):
            _out.print(line)
    _emit(args, result.as_dict(), human)
    return 0 if result.identical else 1


def _cmd_plugins(args: argparse.Namespace) -> int:
    registry = default_registry()
    entries = [dataclasses.asdict(e) for e in registry.entries()]
    failures = [dataclasses.asdict(f) for f in registry.failures]
    def human() -> None:
        table = Table("id", "kind", "schema", "distribution", "version", "entry point")
        for e in entries:
            table.add_row(e["id"], e["kind"], "" if e["schema_version"] is None else str(e["schema_version"]),
                          e["distribution"] or "", e["version"] or "", e["entry_point"] or "")
        _print_table(table)
        for f in failures:
            _err.print(f"not loaded: {f['name']} ({f['entry_point']}"
                       + (f", from {f['distribution']}" if f["distribution"] else "") + f"): {f['reason']}")
    _emit(args, {"serializers": entries, "failures": failures}, human)
    return 0


def _cmd_packages(args: argparse.Namespace) -> int:
    with open_store(args.store, create=False) as store:
        refs = store.package_refs()
    def human() -> None:
        for r in refs:
            _out.print(r)
    _emit(args, {"packages": refs}, human)
    return 0


def _human_size(n: int) -> str:
    units = (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10),
             ("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("kB", 10**3))
    for unit, size in units:
        if n >= size and n % size == 0:
            return f"{n // size}{unit}"
    return str(n)


def _limit_type(name: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            return parse_limit(name, text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return parse


def _add_limit_flags(parser: argparse.ArgumentParser) -> None:
    """One ``--max-...`` flag per Limits field; sizes take units (64MiB, 2GB), the rest whole numbers."""
    group = parser.add_argument_group(
        "limits", "refuse archives beyond these (defaults explained in docs/decisions/0002-limits.md); "
        "sizes take units: 64MiB, 2GB, 512k")
    for f in dataclasses.fields(Limits):
        default = getattr(DEFAULT_LIMITS, f.name)
        is_size = limit_unit(f.name) == "bytes"
        group.add_argument(f"--{f.name.replace('_', '-')}", dest=f"limit_{f.name}", type=_limit_type(f.name),
                           metavar="SIZE" if is_size else "N",
                           help=f"{LIMIT_HELP[f.name]} (default {_human_size(default) if is_size else default})")


def _limits(args: argparse.Namespace) -> Limits:
    """The Limits the command line asks for: the defaults with the given flags applied."""
    changes = {f.name: value for f in dataclasses.fields(Limits)
               if (value := getattr(args, f"limit_{f.name}", None)) is not None}
    return DEFAULT_LIMITS.replace(**changes) if changes else DEFAULT_LIMITS


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lc-archive", description="Back up and restore Open edX Learning Core "
                                "content libraries.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    common.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    sub = p.add_subparsers(dest="command", required=True)

    b = sub.add_parser("backup", parents=[common], help="write a package to an archive")
    b.add_argument("store", help="store URL (sqlite:///lib.db, postgresql+psycopg://...) or a SQLite path")
    b.add_argument("ref", help="package ref, e.g. lib:Org:LIB1")
    b.add_argument("-o", "--output", required=True, help="archive file to write (replaced atomically)")
    b.add_argument("--format", choices=["v1", "v2"], default="v2",
                   help="v2 (default): lc-archive's own, with full history, each blob once and a checksummed "
                        "manifest; v1: the archive openedx-core 1.x restores (draft and published versions only)")
    b.add_argument("--collection", action="append", metavar="CODE",
                   help="back up only this collection's members, their children and the code libraries they "
                        "use (repeatable)")
    b.add_argument("--entity", action="append", metavar="REF",
                   help="back up only this entity, its children and the code libraries it uses (repeatable)")
    b.add_argument("--created-at", help="pin the backup timestamp (ISO 8601), for reproducible archives")
    b.add_argument("--created-by", help="user name recorded as the archive's author")
    b.add_argument("--created-by-email", help="e-mail recorded with --created-by")
    b.add_argument("--origin-server", help="server name recorded in the archive")
    b.set_defaults(func=_cmd_backup)

    r = sub.add_parser("restore", parents=[common], help="restore an archive as a new package")
    r.add_argument("file")
    r.add_argument("store")
    r.add_argument("--ref", help="ref of the new package (default: a staged lp-restore:... ref)")
    r.add_argument("--user", help="user name for the staged ref (default: the current user)")
    r.add_argument("--dry-run", action="store_true", help="validate and report; write nothing")
    r.add_argument("--strict", action="store_true",
                   help="refuse warnings too (content openedx-core accepts but that is likely broken, such as an "
                        "OLX reference to a static file the version lacks); by default they are listed")
    _add_limit_flags(r)
    r.set_defaults(func=_cmd_restore)

    v = sub.add_parser("validate", parents=[common], help="check an archive completely; exit 1 on problems")
    v.add_argument("file")
    v.add_argument("--allow-warnings", action="store_true",
                   help="list warnings (OLX references to missing static files...) but exit 0 for them")
    _add_limit_flags(v)
    v.set_defaults(func=_cmd_validate)

    vf = sub.add_parser("verify", parents=[common],
                        help="re-read every member and check it against the manifest (v2), then validate")
    vf.add_argument("file")
    _add_limit_flags(vf)
    vf.set_defaults(func=_cmd_verify)

    i = sub.add_parser("inspect", parents=[common], help="show an archive's package, entities and sizes")
    i.add_argument("file")
    i.add_argument("--limit", type=int, default=50, help="entities to list (0: all)")
    _add_limit_flags(i)
    i.set_defaults(func=_cmd_inspect)

    s = sub.add_parser("state", help="print a package's canonical content state (JSON)")
    s.add_argument("store")
    s.add_argument("ref")
    s.add_argument("--media-types", action="store_true", help="append ';type/subtype' to media hashes")
    s.add_argument("--all-versions", action="store_true",
                   help="everything the store holds but site identity: every version with times, authors, "
                        "media types and pins, disabled collections, the publish log, plugin payloads "
                        "(lc-archive's own format, not the peer's; --media-types is then implied)")
    s.add_argument("-o", "--output", help="write to a file instead of stdout")
    s.set_defaults(func=_cmd_state)

    pl = sub.add_parser("plugins", parents=[common],
                        help="list the installed serializers (lc-archive's own and plugins) and those that failed")
    pl.set_defaults(func=_cmd_plugins)

    ls = sub.add_parser("packages", parents=[common], help="list the packages in a store")
    ls.add_argument("store")
    ls.set_defaults(func=_cmd_packages)

    c = sub.add_parser("convert", parents=[common],
                       help="convert an archive to v1 or v2 and report what the target format loses",
                       description="Validate IN completely, restore it into a temporary SQLite store and back "
                       "that up to OUT. The output keeps IN's package ref and created_at (unless "
                       "--created-at), so the same input always gives the same bytes.")
    c.add_argument("input", metavar="IN", help="archive to convert (v1 or v2)")
    c.add_argument("output", metavar="OUT", help="archive to write (replaced atomically)")
    c.add_argument("--format", choices=["v1", "v2"], required=True, help="format of OUT")
    c.add_argument("--created-at", help="backup timestamp of OUT (ISO 8601; default: IN's own)")
    c.add_argument("--workdir", help="directory for the temporary store (default: the system temp dir)")
    _add_limit_flags(c)
    c.set_defaults(func=_cmd_convert)

    d = sub.add_parser("diff", parents=[common], help="compare two archives (v1 or v2); exit 0 identical, "
                       "1 different, 2 error",
                       description="Restore A and B into temporary SQLite stores and compare them entity by "
                       "entity. Exit status like diff(1): 0 identical, 1 different, 2 error.")
    d.add_argument("a", metavar="A", help="first archive")
    d.add_argument("b", metavar="B", help="second archive")
    d.add_argument("--current-only", action="store_true",
                   help="compare only what 'state' shows: draft and published versions (title, media hashes, "
                        "children), enabled collections; the content v1 carries")
    d.add_argument("--workdir", help="directory for the temporary stores (default: the system temp dir)")
    _add_limit_flags(d)
    d.set_defaults(func=_cmd_diff, error_status=2)
    return p


class _Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived: unwinds like Ctrl-C, so every transaction and temporary file is cleaned up."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _on_signal(signum: int, frame: object) -> None:
    # Let the cleanup that this exception starts finish: a second signal is ignored (SIGKILL still works).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise _Interrupted(signum)


def _run(args: argparse.Namespace) -> int:
    error_status: int = getattr(args, "error_status", 1)  # diff: 2, as diff(1)
    try:
        code: int = args.func(args)
        return code
    except ArchiveInvalid as exc:
        if args.json:
            sys.stdout.write(json.dumps({"ok": False, "problems": [p.as_dict() for p in exc.problems]},
                                        ensure_ascii=False, indent=1) + "\n")
        else:
            _err.print(f"{len(exc.problems)} problem(s); nothing was written:", style="bold red", markup=False)
            for problem in exc.problems:
                sys.stderr.write(f"{problem}\n")
        return error_status
    except (LcArchiveError, OSError) as exc:
        if args.json:
            sys.stdout.write(json.dumps({"ok": False, "error": str(exc)}, ensure_ascii=False) + "\n")
        else:
            sys.stderr.write(f"lc-archive: {exc}\n")
        return error_status
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, _Interrupted) else signal.SIGINT
        message = f"interrupted by {signal.Signals(signum).name}; nothing was written"
        if args.json:
            sys.stdout.write(json.dumps({"ok": False, "error": message}) + "\n")
        else:
            sys.stderr.write(f"lc-archive: {message}\n")
        return 128 + signum


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    args = _parser().parse_args(argv)
    args.json = getattr(args, "json", False)
    args.quiet = getattr(args, "quiet", False)
    if threading.current_thread() is not threading.main_thread():
        return _run(args)
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    for signum in previous:
        signal.signal(signum, _on_signal)
    try:
        return _run(args)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
