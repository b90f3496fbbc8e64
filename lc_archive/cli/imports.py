"""``restore --into REF`` (import into an existing package) and ``restore --entity/--collection``
(selective restore), on top of the ``restore`` command."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import InvalidArgument
from .args import store_url
from .limits import limits_of
from .output import line, progress
from .report import Report

__all__ = ["add_import_arguments", "cmd_import", "wants_import"]


def add_import_arguments(r: argparse.ArgumentParser) -> None:
    """The import and selection flags of ``restore``."""
    g = r.add_argument_group("import into an existing package (docs/decisions/0014-import-into-existing-package.md)")
    g.add_argument("--into", metavar="REF",
                   help="bring the archive into this existing package as new versions (matched by ref; unchanged "
                        "entities are left alone)")
    g.add_argument("--preview", action="store_true",
                   help="with --into: print what would change, entity by entity, and write nothing; exit 0 nothing "
                        "to change, 1 changes or conflicts, 2 an error (like diff)")
    g.add_argument("--expect", metavar="PLAN_ID",
                   help="with --into: apply only if the plan is the one a preview printed (its plan id)")
    g.add_argument("--delete-missing", action="store_true",
                   help="with --into: soft-delete entities (and disable collections, remove members) the archive "
                        "lacks; by default they are kept")
    g.add_argument("--publish", action="store_true",
                   help="with --into: publish what the import changed (one publish-log event naming the archive)")
    side = g.add_mutually_exclusive_group()
    side.add_argument("--theirs", action="store_const", const="theirs", dest="resolve",
                      help="with --into: resolve conflicts with the archive's content")
    side.add_argument("--ours", action="store_const", const="ours", dest="resolve",
                      help="with --into: resolve conflicts by keeping the package's content")
    s = r.add_argument_group("selective restore (new or existing package)")
    s.add_argument("--entity", action="append", metavar="REF",
                   help="restore only this entity, its children at their pinned versions and the code libraries it "
                        "uses (repeatable)")
    s.add_argument("--collection", action="append", metavar="CODE",
                   help="restore only this collection, its members' closure likewise (repeatable)")
    r.add_argument("--workdir", help="directory for the temporary copy of the archive (default: the system temp dir)")


def wants_import(args: argparse.Namespace) -> bool:
    """Whether a ``restore`` is an import or a selective restore (handled here)."""
    if not args.into:
        used = [flag for flag, on in (("--preview", args.preview), ("--expect", args.expect),
                                      ("--delete-missing", args.delete_missing), ("--publish", args.publish),
                                      ("--theirs/--ours", args.resolve)) if on]
        if used:
            raise InvalidArgument(f"{', '.join(used)} only go with --into REF")
    elif args.ref:
        raise InvalidArgument("--into imports into an existing package; --ref names a new one: use one of them")
    return bool(args.into or args.entity or args.collection)


def cmd_import(args: argparse.Namespace) -> Report:
    """``restore FILE STORE --into REF [--preview]`` or ``restore ... --entity/--collection``."""
    from ..archive.locations import display
    from ..stores import open_store

    workdir = Path(args.workdir) if args.workdir else None
    with open_store(store_url(args), create=not args.into) as store, progress(args) as bars:
        if not args.into:
            from ..usecases.import_apply import restore_selection

            data = restore_selection(args.file, store, args.ref, entities=args.entity or (),
                                     collections=args.collection or (), limits=limits_of(args), workdir=workdir,
                                     progress=bars, user=args.user)
            return Report(result=data, summary=f"restored a selection of {display(args.file)} as {data['ref']}: "
                          f"{data['entities_added']} entities, {data['versions']} versions, {data['blobs']} blobs "
                          f"in {data['wall_s']:.2f} s")
        from ..usecases.import_apply import import_archive
        from ..usecases.import_plan import ImportConflict

        try:
            result = import_archive(args.file, store, args.into, preview=args.preview or args.dry_run,
                                    delete_missing=args.delete_missing, resolve=args.resolve, publish=args.publish,
                                    entities=args.entity or (), collections=args.collection or (),
                                    expect=args.expect, user=args.user, limits=limits_of(args), workdir=workdir,
                                    progress=bars)
        except ImportConflict as exc:
            for change in exc.plan.unresolved if not args.json else ():
                line(f"conflict: {change.ref} ({change.type}): changed in the package and in the archive "
                     f"since version {change.details.get('common_version')}", stderr=True)
            raise
    plan = result.plan
    data = result.as_dict()
    counts = plan.counts()

    def body() -> None:
        from ..usecases.import_plan import describe

        for change in plan.entities:
            line(describe(change))
        for c in plan.collections:
            members = [f"{k.replace('_', ' ')}: {', '.join(v)}" for k, v in c.details.items()
                       if k.startswith("members_")]
            line(f"{c.action} collection {c.code}" + (f": {'; '.join(members)}" if members else ""))
        for p in plan.payloads:
            plugin, entity, version = p.target
            where = "the package" if entity is None else entity + ("" if version is None else f" v{version}")
            line(f"{p.action} plugin payload {plugin} on {where}")
    verb = "would import" if result.preview else "imported"
    what = ", ".join(f"{counts[k]} {k}" for k in ("added", "changed", "deleted", "conflict", "collections",
                                                  "payloads") if counts[k])
    summary = (f"{verb} {display(args.file)} into {plan.into}: {what or 'nothing to change'}; "
               f"{counts['unchanged']} unchanged, {counts['missing']} not in the archive (kept)"
               + (f"; plan {plan.plan_id}" if result.preview else
                  f"; {result.written['versions']} versions written") + f" in {result.wall_s:.2f} s")
    changed = bool(plan.changes or plan.unresolved)
    return Report(result=data, body=body, summary=summary, exit=1 if result.preview and changed else 0)
