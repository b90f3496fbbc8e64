"""Reading what the CLI prints on a refusal (see ``lc_archive.cli.app``)."""

from __future__ import annotations

import re

__all__ = ["ONE_PROBLEM", "refusal_lines"]

ONE_PROBLEM = "lc-archive: refused, nothing was written: "
_HEADER = re.compile(r"^(\d+) problem\(s\)( \(.*\))?; nothing was written:$")


def refusal_lines(err: str) -> list[str]:
    """The ``member: path: message`` lines of a refusal: the one line of a single problem (its prefix
    removed), or the lines after the count header."""
    lines = err.splitlines()
    assert lines, "nothing was printed on stderr"
    if len(lines) == 1 and lines[0].startswith(ONE_PROBLEM):
        return [lines[0].removeprefix(ONE_PROBLEM)]
    header = _HEADER.match(lines[0])
    assert header, f"expected '<n> problem(s); nothing was written:', got {lines[0]!r} (full stderr: {err!r})"
    assert len(lines) - 1 == int(header.group(1)), err
    return lines[1:]
