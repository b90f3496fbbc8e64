"""One ``--max-...`` flag per :class:`~lc_archive.archive.limits.Limits` field."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable

from ..archive.limits import DEFAULT_LIMITS, LIMIT_HELP, Limits, limit_unit, parse_limit

__all__ = ["add_limit_flags", "limits_of"]


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


def add_limit_flags(parser: argparse.ArgumentParser) -> None:
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


def limits_of(args: argparse.Namespace) -> Limits:
    """The Limits the command line asks for: the defaults with the given flags applied."""
    changes = {f.name: value for f in dataclasses.fields(Limits)
               if (value := getattr(args, f"limit_{f.name}", None)) is not None}
    return DEFAULT_LIMITS.replace(**changes) if changes else DEFAULT_LIMITS
