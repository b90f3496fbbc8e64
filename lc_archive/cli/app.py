"""The ``lc-archive`` command line: backup, restore, validate, inspect, state, packages, convert, diff,
backup-all.

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
import importlib
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence

from ..errors import ArchiveInvalid, LcArchiveError
from .imports import add_import_arguments
from .limits import add_limit_flags
from .output import err
from .packages import add_package_commands

__all__ = ["build_parser", "main"]


def _command(spec: str) -> Callable[[argparse.Namespace], int]:
    """The command function ``module:function`` of this package, imported now."""
    module, _, name = spec.partition(":")
    function: Callable[[argparse.Namespace], int] = getattr(importlib.import_module(f"{__package__}.{module}"), name)
    return function


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command (the commands' modules are imported only to run one)."""
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
    b.add_argument("--directory-entries", action="store_true",
                   help="v1: also write openedx-core's directory entries (its exact layout; not needed to "
                        "restore there)")
    b.set_defaults(func="stores:cmd_backup")

    r = sub.add_parser("restore", parents=[common], help="restore an archive as a new package")
    r.add_argument("file")
    r.add_argument("store")
    r.add_argument("--ref", help="ref of the new package (default: a staged lp-restore:... ref)")
    r.add_argument("--user", help="user name for the staged ref (default: the current user)")
    r.add_argument("--dry-run", action="store_true", help="validate and report; write nothing")
    r.add_argument("--strict", action="store_true",
                   help="refuse warnings too (content openedx-core accepts but that is likely broken, such as an "
                        "OLX reference to a static file the version lacks); by default they are listed")
    add_import_arguments(r)
    add_limit_flags(r)
    r.set_defaults(func="archives:cmd_restore")

    v = sub.add_parser("validate", parents=[common], help="check an archive completely; exit 1 on problems")
    v.add_argument("file")
    v.add_argument("--allow-warnings", action="store_true",
                   help="list warnings (OLX references to missing static files...) but exit 0 for them")
    add_limit_flags(v)
    v.set_defaults(func="archives:cmd_validate")

    vf = sub.add_parser("verify", parents=[common],
                        help="re-read every member and check it against the manifest (v2), then validate")
    vf.add_argument("file")
    add_limit_flags(vf)
    vf.set_defaults(func="archives:cmd_verify")

    i = sub.add_parser("inspect", parents=[common], help="show an archive's package, entities and sizes")
    i.add_argument("file")
    i.add_argument("--limit", type=int, default=50, help="entities to list (0: all)")
    add_limit_flags(i)
    i.set_defaults(func="archives:cmd_inspect")

    s = sub.add_parser("state", help="print a package's canonical content state (JSON)")
    s.add_argument("store")
    s.add_argument("ref")
    s.add_argument("--media-types", action="store_true", help="append ';type/subtype' to media hashes")
    s.add_argument("--all-versions", action="store_true",
                   help="everything the store holds but site identity: every version with times, authors, "
                        "media types and pins, disabled collections, the publish log, plugin payloads "
                        "(lc-archive's own format, not the peer's; --media-types is then implied)")
    s.add_argument("-o", "--output", help="write to a file instead of stdout")
    s.set_defaults(func="stores:cmd_state")

    pl = sub.add_parser("plugins", parents=[common],
                        help="list the installed serializers (lc-archive's own and plugins) and those that failed")
    pl.set_defaults(func="plugins:cmd_plugins")

    add_package_commands(sub, common)

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
    c.add_argument("--directory-entries", action="store_true",
                   help="v1: also write openedx-core's directory entries (its exact layout)")
    add_limit_flags(c)
    c.set_defaults(func="archives:cmd_convert")

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
    add_limit_flags(d)
    d.set_defaults(func="archives:cmd_diff", error_status=2)

    ba = sub.add_parser("backup-all", parents=[common], help="back up every package of a store, then write an index",
                        description="One archive per package under TARGET_PREFIX and TARGET_PREFIX/index.json; "
                        "an archive that would not change is not rewritten; a failing package is listed with its "
                        "error (exit 1) and the others go on. Local worker processes, or Celery workers when "
                        "LC_ARCHIVE_BROKER_URL is set.")
    ba.add_argument("store", help="store URL (sqlite:///lib.db, postgresql+psycopg://...)")
    ba.add_argument("target_prefix", metavar="TARGET_PREFIX",
                    help="where the archives and index.json go: a directory or a URL (s3://bucket/site/)")
    ba.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                    help="local worker processes (default: one per core)")
    ba.add_argument("--format", default="v2", help="archive format (default v2)")
    ba.add_argument("--package", action="append", metavar="REF", help="only this package (repeatable)")
    where = ba.add_mutually_exclusive_group()
    where.add_argument("--local", action="store_true", help="local worker processes even if a broker is configured")
    where.add_argument("--celery", action="store_true", help="Celery workers (LC_ARCHIVE_BROKER_URL must be set)")
    ba.add_argument("--timeout", type=float, default=None, help="with Celery: stop waiting after this many seconds")
    ba.set_defaults(func="site:cmd_backup_all")
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


def _error_status(args: argparse.Namespace) -> int:
    """1 for a failed command; 2 for diff and an import preview, whose 1 means "different" (as diff(1))."""
    if getattr(args, "preview", False) or (getattr(args, "dry_run", False) and getattr(args, "into", None)):
        return 2
    status: int = getattr(args, "error_status", 1)
    return status


def _run(args: argparse.Namespace) -> int:
    try:
        code: int = _command(args.func)(args)
        return code
    except ArchiveInvalid as exc:
        if args.json:
            sys.stdout.write(json.dumps({"ok": False, "problems": [p.as_dict() for p in exc.problems]},
                                        ensure_ascii=False, indent=1) + "\n")
        else:
            err().print(f"{len(exc.problems)} problem(s); nothing was written:", style="bold red", markup=False)
            for problem in exc.problems:
                sys.stderr.write(f"{problem}\n")
        return _error_status(args)
    except (LcArchiveError, OSError) as exc:
        if args.json:
            sys.stdout.write(json.dumps({"ok": False, "error": str(exc)}, ensure_ascii=False) + "\n")
        else:
            sys.stderr.write(f"lc-archive: {exc}\n")
        return _error_status(args)
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
    args = build_parser().parse_args(argv)
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
