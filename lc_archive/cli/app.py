"""The ``lc-archive`` command line: backup, restore, validate, verify, inspect, state, packages, convert,
diff, plugins, backup-all.

Exit status: 0 success, 1 the archive or the store refused the operation (every problem is printed,
one per line, as ``member: field.path: message``; nothing is written), 2 bad usage, 130/143 interrupted
by SIGINT/SIGTERM (a restore is rolled back, a backup leaves no file; a second signal during that
cleanup is ignored). ``diff`` works like ``diff(1)``: 0 identical, 1 different, 2 an error (an
archive refused, a file missing, bad usage).

Every failure is one line on stderr (``lc-archive: ...``), or with ``--json`` the one JSON envelope
(:mod:`lc_archive.cli.report`) on stdout; no traceback ever reaches the user (``LC_ARCHIVE_DEBUG=1``
shows it). ``restore``, ``validate`` and ``inspect`` take one flag per
:class:`~lc_archive.archive.limits.Limits` field (``--max-members 5000``, ``--max-member-size 128MiB``,
...); ``lc-archive validate --help`` lists them.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from ..errors import ArchiveInvalid, InvalidArgument, LcArchiveError
from ..text import escape
from .args import STORE_ENV, add_common, add_store_argument, created_at_type, non_negative
from .imports import add_import_arguments
from .limits import add_limit_flags
from .output import line, render, write_json
from .packages import add_package_commands
from .report import Report, envelope

__all__ = ["build_parser", "main"]

class _UsageError(Exception):
    """argparse found bad usage (exit 2); carries the one line to show."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (``lc-archive CMD: error: ...``), handled by :func:`main`."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: error: {message} (see {self.prog} --help)")


class _Version(argparse.Action):
    """``--version``: the installed distribution's version, looked up only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help="print lc-archive's version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("lc-archive")
        except PackageNotFoundError:  # pragma: no cover (run from a source tree without metadata)
            found = "unknown"
        sys.stdout.write(f"lc-archive {found}\n")
        parser.exit()


def _command(spec: str) -> Callable[[argparse.Namespace], Report]:
    """The command function ``module:function`` of this package, imported now."""
    module, _, name = spec.partition(":")
    function: Callable[[argparse.Namespace], Report] = getattr(
        importlib.import_module(f"{__package__}.{module}"), name)
    return function


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command (the commands' modules are imported only to run one)."""
    p = _Parser(prog="lc-archive", description="Back up and restore Open edX Learning Core content libraries. "
                f"Every command takes --json (one JSON envelope on stdout); {STORE_ENV} is the default store.")
    p.add_argument("--version", action=_Version)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str, func: str, **kwargs: Any) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = sub.add_parser(name, help=help, description=kwargs.pop("description", help),
                                                         **kwargs)
        add_common(parser)
        parser.set_defaults(func=func)
        return parser

    b = command("backup", "write a package to an archive", "stores:cmd_backup",
                description="Write package REF of STORE to an archive (v2 by default). The archive is written to a "
                "temporary file and renamed when complete, with mode 0600 (it may hold private content) or the "
                "mode of the archive it replaces. An existing output is replaced only with --force; the store "
                "itself, any SQLite database and anything but a regular file are always refused.")
    add_store_argument(b)
    b.add_argument("ref", metavar="REF", help="package ref, e.g. lib:Org:LIB1")
    b.add_argument("-o", "--output", required=True, metavar="ARCHIVE",
                   help="archive to write: a path or a URL (s3://bucket/lib.zip)")
    b.add_argument("--force", action="store_true", help="replace an existing archive (or other non-SQLite file)")
    b.add_argument("--format", choices=["v1", "v2"], default="v2",
                   help="v2 (default): lc-archive's own, with full history, each blob once and a checksummed "
                        "manifest; v1: the archive openedx-core 1.x restores (draft and published versions only)")
    b.add_argument("--collection", action="append", metavar="CODE",
                   help="back up only this collection's members, their children and the code libraries they "
                        "use (repeatable)")
    b.add_argument("--entity", action="append", metavar="REF",
                   help="back up only this entity, its children and the code libraries it uses (repeatable)")
    b.add_argument("--created-at", type=created_at_type, metavar="TIME",
                   help="pin the backup timestamp (ISO 8601, e.g. 2024-05-01T12:00:00Z), for reproducible archives")
    b.add_argument("--created-by", metavar="USER", help="user name recorded as the archive's author")
    b.add_argument("--created-by-email", metavar="EMAIL", help="e-mail recorded with --created-by")
    b.add_argument("--origin-server", metavar="HOST", help="server name recorded in the archive")
    b.add_argument("--directory-entries", action="store_true",
                   help="v1: also write openedx-core's directory entries (its exact layout; not needed to "
                        "restore there)")

    r = command("restore", "restore an archive as a new package", "archives:cmd_restore",
                description="Validate ARCHIVE completely, then write it into STORE in one transaction. A refused, "
                "failed or dry-run restore creates no store file and changes no store.")
    r.add_argument("file", metavar="ARCHIVE", help="archive to restore: a path or a URL (s3://bucket/lib.zip)")
    add_store_argument(r, last=True)
    r.add_argument("--ref", help="ref of the new package (default: a staged lp-restore:... ref); at most 500 "
                   "characters, no white space or control characters")
    r.add_argument("--user", help="user name for the staged ref (default: the current user)")
    r.add_argument("--dry-run", action="store_true", help="validate and report; write nothing (not even a new store)")
    r.add_argument("--strict", action="store_true",
                   help="refuse warnings too (content openedx-core accepts but that is likely broken, such as an "
                        "OLX reference to a static file the version lacks); by default they are listed")
    add_import_arguments(r)
    add_limit_flags(r)

    v = command("validate", "check an archive completely; exit 1 on errors or warnings", "archives:cmd_validate",
                description="Check every member of ARCHIVE as a restore would (nothing is written). Exit 1 on any "
                "error, and on warnings unless --allow-warnings.")
    v.add_argument("file", metavar="ARCHIVE", help="archive to check: a path or a URL")
    v.add_argument("--allow-warnings", action="store_true",
                   help="list warnings (OLX references to missing static files...) but exit 0 for them")
    add_limit_flags(v)

    vf = command("verify", "check an archive's integrity (v2: every member against the manifest), then validate it",
                 "archives:cmd_verify",
                 description="Re-read every member and check it against the v2 manifest's SHA-256 (v1: CRC-32 "
                 "only), then validate the archive like 'validate': the same errors and warnings fail it "
                 "(--allow-warnings lets warnings pass).")
    vf.add_argument("file", metavar="ARCHIVE", help="archive to verify: a path or a URL")
    vf.add_argument("--allow-warnings", action="store_true", help="list warnings but exit 0 for them")
    add_limit_flags(vf)

    i = command("inspect", "show an archive's package, entities and sizes", "archives:cmd_inspect")
    i.add_argument("file", metavar="ARCHIVE", help="archive to show: a path or a URL")
    i.add_argument("--limit", type=non_negative, default=50, help="entities to list (default 50; 0: all)")
    add_limit_flags(i)

    s = command("state", "print a package's canonical content state (JSON)", "stores:cmd_state")
    add_store_argument(s)
    s.add_argument("ref", metavar="REF", help="package ref, e.g. lib:Org:LIB1")
    s.add_argument("--media-types", action="store_true", help="append ';type/subtype' to media hashes")
    s.add_argument("--all-versions", action="store_true",
                   help="everything the store holds but site identity: every version with times, authors, "
                        "media types and pins, disabled collections, the publish log, plugin payloads "
                        "(lc-archive's own format, not the peer's; --media-types is then implied)")
    s.add_argument("-o", "--output", metavar="FILE", help="write to a local file instead of stdout")
    s.add_argument("--force", action="store_true", help="replace an existing output file (never a SQLite database)")

    command("plugins", "list the installed serializers (lc-archive's own and plugins) and those that failed",
            "plugins:cmd_plugins")

    add_package_commands(command)

    c = command("convert", "convert an archive to v1 or v2 and report what the target format loses",
                "archives:cmd_convert",
                description="Validate IN completely, restore it into a temporary SQLite store and back "
                "that up to OUT. The output keeps IN's package ref and created_at (unless "
                "--created-at), so the same input always gives the same bytes.")
    c.add_argument("input", metavar="IN", help="archive to convert (v1 or v2): a path or a URL")
    c.add_argument("output", metavar="OUT", help="archive to write: a path or a URL")
    c.add_argument("--format", choices=["v1", "v2"], required=True, help="format of OUT")
    c.add_argument("--force", action="store_true", help="replace an existing OUT (never IN or a SQLite database)")
    c.add_argument("--created-at", type=created_at_type, metavar="TIME",
                   help="backup timestamp of OUT (ISO 8601; default: IN's own)")
    c.add_argument("--workdir", help="directory for the temporary store (default: the system temp dir)")
    c.add_argument("--directory-entries", action="store_true",
                   help="v1: also write openedx-core's directory entries (its exact layout)")
    add_limit_flags(c)

    d = command("diff", "compare two archives (v1 or v2); exit 0 identical, 1 different, 2 error",
                "archives:cmd_diff",
                description="Restore A and B into temporary SQLite stores and compare what both formats carry "
                "(--full: everything, including what one side's format cannot hold). Exit status like diff(1): "
                "0 identical, 1 different, 2 error.")
    d.add_argument("a", metavar="A", help="first archive: a path or a URL")
    d.add_argument("b", metavar="B", help="second archive: a path or a URL")
    scope = d.add_mutually_exclusive_group()
    scope.add_argument("--current-only", action="store_true",
                       help="compare only what 'state' shows: draft and published versions (title, media hashes, "
                            "children), enabled collections; the content v1 carries")
    scope.add_argument("--full", action="store_true",
                       help="compare everything, even history and times that one side's format cannot carry")
    d.add_argument("--workdir", help="directory for the temporary stores (default: the system temp dir)")
    add_limit_flags(d)
    d.set_defaults(error_status=2)

    ba = command("backup-all", "back up every package of a store, then write an index", "site:cmd_backup_all",
                 description="One archive per package under TARGET_PREFIX and TARGET_PREFIX/index.json; "
                 "an archive that would not change is not rewritten (a changed one is replaced); a failing "
                 "package is listed with its error (exit 1) and the others go on. Local worker processes, or "
                 "Celery workers when LC_ARCHIVE_BROKER_URL is set.")
    add_store_argument(ba)
    ba.add_argument("target_prefix", metavar="TARGET_PREFIX",
                    help="where the archives and index.json go: a directory or a URL (s3://bucket/site/)")
    ba.add_argument("-j", "--jobs", type=non_negative, default=os.cpu_count() or 1,
                    help="local worker processes (default: one per core)")
    ba.add_argument("--format", choices=["v1", "v2"], default="v2", help="archive format (default v2)")
    ba.add_argument("--package", action="append", metavar="REF", help="only this package (repeatable)")
    where = ba.add_mutually_exclusive_group()
    where.add_argument("--local", action="store_true", help="local worker processes even if a broker is configured")
    where.add_argument("--celery", action="store_true", help="Celery workers (LC_ARCHIVE_BROKER_URL must be set)")
    ba.add_argument("--timeout", type=float, default=None, help="with Celery: stop waiting after this many seconds")
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


def _one_line(text: str) -> str:
    return escape(" ".join(part.strip() for part in text.strip().splitlines() if part.strip()) or text)


def _os_message(exc: OSError) -> str:
    if exc.filename is not None and exc.strerror:
        return f"{exc.strerror}: {exc.filename}"
    return str(exc)


def _fail(args: argparse.Namespace | None, command: str | None, status: int, kind: str, message: str) -> int:
    """One line on stderr, or the envelope with ``error`` set; returns ``status``."""
    message = _one_line(message) if args is None or not args.json else message
    if args is not None and args.json:
        write_json(envelope(command, exit=status, error=(kind, message)))
    else:
        line(f"lc-archive: {message}", stderr=True)
    return status


def _refused(args: argparse.Namespace, exc: ArchiveInvalid, status: int) -> int:
    """An archive refused: one line for one problem; else a count line, every error, the warnings grouped by
    kind (all with ``-v``)."""
    omitted = [str(o) for o in exc.omitted]  # problems past the first 1,000: counted per kind
    if args.json:
        document = envelope(args.command, exit=status, problems=exc.problems, refused=True)
        document["notes"] = [*document["notes"], *omitted]
        write_json(document)
        return status
    if exc.count == 1:
        line(f"lc-archive: refused, nothing was written: {exc.problems[0]}", stderr=True)
        return status
    errors = [p for p in exc.problems if p.severity == "error"]
    warnings = [p for p in exc.problems if p.severity != "error"]
    split = f" ({len(errors)} error(s), {len(warnings)} warning(s))" if errors and warnings else (
        " (all warnings: --allow-warnings accepts them)" if not errors and args.command in ("validate", "verify")
        else "")
    line(f"{exc.count} problem(s){split}; nothing was written:", stderr=True)
    for problem in errors:
        line(problem, stderr=True)
    for text in omitted:
        line(text, stderr=True)
    render(argparse.Namespace(json=False, quiet=False, verbose=args.verbose, command=args.command),
           Report(warnings=warnings))
    return status


def _error_status(args: argparse.Namespace) -> int:
    """1 for a failed command; 2 for diff and an import preview, whose 1 means "different" (as diff(1))."""
    if getattr(args, "preview", False) or (getattr(args, "dry_run", False) and getattr(args, "into", None)):
        return 2
    status: int = getattr(args, "error_status", 1)
    return status


def _run(args: argparse.Namespace) -> int:
    error_status = _error_status(args)
    try:
        report = _command(args.func)(args)
        render(args, report)
        return report.exit
    except ArchiveInvalid as exc:
        return _refused(args, exc, error_status)
    except InvalidArgument as exc:
        return _fail(args, args.command, 2, type(exc).__name__, str(exc))
    except LcArchiveError as exc:
        return _fail(args, args.command, error_status, type(exc).__name__, str(exc))
    except OSError as exc:
        return _fail(args, args.command, error_status, type(exc).__name__, _os_message(exc))
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, _Interrupted) else signal.SIGINT
        message = f"interrupted by {signal.Signals(signum).name}; nothing was written"
        return _fail(args, args.command, 128 + signum, "Interrupted", message)
    except Exception as exc:  # a bug: still one line, never a traceback (LC_ARCHIVE_DEBUG=1 shows it)
        if os.environ.get("LC_ARCHIVE_DEBUG"):
            raise
        return _fail(args, args.command, error_status, "InternalError",
                     f"internal error ({type(exc).__name__}: {exc}); please report it "
                     "(LC_ARCHIVE_DEBUG=1 shows the traceback)")


def _guess_command(argv: Sequence[str]) -> str | None:
    names = {"backup", "restore", "validate", "verify", "inspect", "state", "plugins", "packages", "convert",
             "diff", "backup-all", "delete", "rename"}
    return next((a for a in argv if a in names), None)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(arguments)
    except _UsageError as exc:
        wants_json = "--json" in arguments
        return _fail(argparse.Namespace(json=wants_json) if wants_json else None, _guess_command(arguments), 2,
                     "UsageError", str(exc))
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
