"""Commands that manage a store's packages: ``packages``, ``delete``, ``rename``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from ..archive.locations import display
from ..errors import LcArchiveError
from .args import add_store_argument, store_url
from .output import add_row, print_table, table
from .report import Report

__all__ = ["add_package_commands", "cmd_delete", "cmd_packages", "cmd_rename", "human_size"]


def human_size(n: int) -> str:
    """Bytes as ``512 B``, ``3.4 KiB``, ``12.0 MiB``..."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{n} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def add_package_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    """The ``packages``, ``delete`` and ``rename`` sub-commands (``command``: the app's sub-command factory)."""
    ls = command("packages", "list the packages in a store: ref, title, counts, last change, size",
                 "packages:cmd_packages")
    add_store_argument(ls)
    d = command("delete", "delete a package and the blobs no other package uses", "packages:cmd_delete",
                description="Removes the package with everything it holds, in one transaction, and every "
                "blob no other package uses. Asks first unless --yes.")
    add_store_argument(d)
    d.add_argument("ref", metavar="REF", help="the package to delete, e.g. lib:Org:LIB1")
    d.add_argument("-y", "--yes", action="store_true", help="do not ask")
    rn = command("rename", "give a package another ref", "packages:cmd_rename")
    add_store_argument(rn)
    rn.add_argument("ref", metavar="REF", help="the package's ref now")
    rn.add_argument("new_ref", metavar="NEW_REF",
                    help="its new ref (at most 500 characters, no white space or control characters)")


def cmd_packages(args: argparse.Namespace) -> Report:
    """``lc-archive packages STORE``."""
    from ..stores import open_store
    from ..stores.updates import listed

    url = store_url(args)
    with open_store(url, create=False) as store:
        infos = listed(store).package_infos()

    def body() -> None:
        rows = table("ref", "title", "components", "containers", "collections", "versions", "last change", "size")
        for i in infos:
            add_row(rows, i.ref, i.title, f"{i.components:,}", f"{i.containers:,}", f"{i.collections:,}",
                    f"{i.versions:,}", i.as_dict()["last_changed"], human_size(i.size))
        print_table(rows)
    return Report(result={"packages": [i.as_dict() for i in infos]}, body=body,
                  summary=f"{len(infos)} package(s) in {display(url)}")


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        raise LcArchiveError("not deleting without --yes: nobody to ask (standard input is not a terminal)")
    from ..text import escape

    sys.stderr.write(f"{escape(question)} [y/N] ")
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def cmd_delete(args: argparse.Namespace) -> Report:
    """``lc-archive delete STORE REF [--yes]``."""
    from ..errors import PackageNotFound
    from ..stores import open_store
    from ..stores.updates import managed

    with open_store(store_url(args), create=False) as store:
        target = managed(store)
        if not args.yes:
            info = next((i for i in target.package_infos() if i.ref == args.ref), None)
            if info is None:
                raise PackageNotFound(args.ref)
            if not _confirm(f"delete {info.ref} ({info.title}: {info.components:,} components, {info.containers:,} "
                            f"containers, {info.versions:,} versions, {human_size(info.size)})?"):
                return Report(result={"ref": args.ref, "deleted": False}, summary=f"{args.ref} not deleted", exit=1)
        result = target.delete_package(args.ref)
    data: dict[str, Any] = {**result.as_dict(), "deleted": True}
    return Report(result=data, summary=f"deleted {result.ref}: {result.entities:,} entities, {result.versions:,} "
                  f"versions; freed {result.blobs_freed:,} blobs ({human_size(result.bytes_freed)}) no other "
                  "package used")


def cmd_rename(args: argparse.Namespace) -> Report:
    """``lc-archive rename STORE REF NEW_REF``."""
    from ..domain.syntax import check_ref
    from ..stores import open_store
    from ..stores.updates import managed

    check_ref(args.new_ref, what="new ref")  # bad usage (exit 2) before the store is opened
    with open_store(store_url(args), create=False) as store:
        managed(store).rename_package(args.ref, args.new_ref)
    return Report(result={"ref": args.new_ref, "was": args.ref}, summary=f"renamed {args.ref} to {args.new_ref}")
