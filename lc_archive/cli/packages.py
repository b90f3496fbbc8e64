"""Commands that manage a store's packages: ``packages``, ``delete``, ``rename``."""

from __future__ import annotations

import argparse
import sys

from ..errors import LcArchiveError
from .output import emit, out, print_table, table

__all__ = ["add_package_commands", "cmd_delete", "cmd_packages", "cmd_rename", "human_size"]


def human_size(n: int) -> str:
    """Bytes as ``512 B``, ``3.4 KiB``, ``12.0 MiB``..."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{n} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def add_package_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser],
                         common: argparse.ArgumentParser) -> None:
    """The ``packages``, ``delete`` and ``rename`` sub-commands."""
    ls = sub.add_parser("packages", parents=[common],
                        help="list the packages in a store: ref, title, counts, last change, size")
    ls.add_argument("store")
    ls.set_defaults(func="packages:cmd_packages")
    d = sub.add_parser("delete", parents=[common], help="delete a package and the blobs no other package uses",
                       description="Removes the package with everything it holds, in one transaction, and every "
                       "blob no other package uses. Asks first unless --yes.")
    d.add_argument("store")
    d.add_argument("ref")
    d.add_argument("-y", "--yes", action="store_true", help="do not ask")
    d.set_defaults(func="packages:cmd_delete")
    rn = sub.add_parser("rename", parents=[common], help="give a package another ref")
    rn.add_argument("store")
    rn.add_argument("ref")
    rn.add_argument("new_ref", metavar="NEW_REF")
    rn.set_defaults(func="packages:cmd_rename")


def cmd_packages(args: argparse.Namespace) -> int:
    """``lc-archive packages STORE``."""
    from ..stores import open_store
    from ..stores.updates import managed

    with open_store(args.store, create=False) as store:
        infos = managed(store).package_infos()

    def human() -> None:
        rows = table("ref", "title", "components", "containers", "collections", "versions", "last change", "size")
        for i in infos:
            rows.add_row(i.ref, i.title, f"{i.components:,}", f"{i.containers:,}", f"{i.collections:,}",
                         f"{i.versions:,}", i.as_dict()["last_changed"], human_size(i.size))
        print_table(rows)
        out().print(f"{len(infos)} package(s)")
    emit(args, {"packages": [i.as_dict() for i in infos]}, human)
    return 0


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        raise LcArchiveError("not deleting without --yes: nobody to ask (standard input is not a terminal)")
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def cmd_delete(args: argparse.Namespace) -> int:
    """``lc-archive delete STORE REF [--yes]``."""
    from ..errors import PackageNotFound
    from ..stores import open_store
    from ..stores.updates import managed

    with open_store(args.store, create=False) as store:
        target = managed(store)
        if not args.yes:
            info = next((i for i in target.package_infos() if i.ref == args.ref), None)
            if info is None:
                raise PackageNotFound(args.ref)
            if not _confirm(f"delete {info.ref} ({info.title}: {info.components:,} components, {info.containers:,} "
                            f"containers, {info.versions:,} versions, {human_size(info.size)})?"):
                emit(args, {"ref": args.ref, "deleted": False},
                     lambda: out().print(f"{args.ref} not deleted"))
                return 1
        result = target.delete_package(args.ref)
    data = {**result.as_dict(), "deleted": True}
    emit(args, data, lambda: out().print(
        f"deleted {result.ref}: {result.entities:,} entities, {result.versions:,} versions; freed "
        f"{result.blobs_freed:,} blobs ({human_size(result.bytes_freed)}) no other package used"))
    return 0


def cmd_rename(args: argparse.Namespace) -> int:
    """``lc-archive rename STORE REF NEW_REF``."""
    from ..stores import open_store
    from ..stores.updates import managed

    with open_store(args.store, create=False) as store:
        managed(store).rename_package(args.ref, args.new_ref)
    emit(args, {"ref": args.new_ref, "was": args.ref}, lambda: out().print(f"renamed {args.ref} to {args.new_ref}"))
    return 0
