"""Build the hostile-archive set: small archives that each carry one attack or defect.

One module per class of attack; each has ``cases()``, a list of :class:`~.base.Case` (the archive's
builder, the member its refusal must name and a fragment of the message):

========================  ====================================================================
:mod:`.names`             A: member names and paths (zip slip, collisions, control characters)
:mod:`.entries`           B: entry types, encodings of member data, headers that lie
:mod:`.zip_bombs`         C: bombs (sizes, ratios, counts, overlaps, nested archives)
:mod:`.structure`         D and E52: package structure, format versions, the entity graph
:mod:`.toml`              E: TOML content
:mod:`.olx`               F: XML (entities, DTDs, nesting, encodings)
:mod:`.json_rule`         issue 12, 5: every JSON member under one rule; OLX declared non-UTF-8
:mod:`.store_text`        issue 12, 4: values one store holds and another refuses (NUL, lengths)
========================  ====================================================================

Class 1 of issue 12, amplification (:mod:`.amplification`: small archives that ask for huge work),
is not a list of refusals but of :class:`~.amplification.Amplified` cases, valid or not, that must
stay within the work budget; ``tests/formats/test_budget.py`` runs them under a memory cap.

``tests/formats/test_hostile.py`` restores and validates every one through the CLI and checks the
refusal, and that the store is left untouched.

Usage::

    python tests/support/hostile OUTDIR      # writes OUTDIR/<case>.zip and OUTDIR/expected.json

or, from Python, ``hostile_cases()`` (a list of :class:`Case`) and ``write_cases(outdir)``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from . import entries, json_rule, names, olx, store_text, structure, toml, zip_bombs
from .base import ARCHIVE, GIB, MIB, V2, Case, crafted
from .bombs import crc32_zeros, deflated_zeros

__all__ = ["ARCHIVE", "GIB", "MIB", "V2", "Case", "crafted", "crc32_zeros", "deflated_zeros", "hostile_cases",
           "main", "write_cases"]

_CLASSES = (names, entries, zip_bombs, structure, toml, olx, json_rule, store_text)


def hostile_cases() -> list[Case]:
    """Every hostile case, class by class in a fixed order (names are unique and safe as file names)."""
    cases = [case for module in _CLASSES for case in module.cases()]
    names_seen = [case.name for case in cases]
    assert len(names_seen) == len(set(names_seen)), "case names must be unique"
    return cases


def write_cases(outdir: Path, cases: Sequence[Case] | None = None) -> dict[str, dict[str, object]]:
    """Write every case's archive to ``outdir/<name>.zip`` and ``outdir/expected.json``; return the latter."""
    outdir.mkdir(parents=True, exist_ok=True)
    expected: dict[str, dict[str, object]] = {}
    for case in hostile_cases() if cases is None else cases:
        (outdir / f"{case.name}.zip").write_bytes(case.build())
        expected[case.name] = case.expected()
    (outdir / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return expected


def main(argv: Sequence[str] | None = None) -> int:
    """``python tests/support/hostile OUTDIR``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: python tests/support/hostile OUTDIR", file=sys.stderr)
        return 2
    outdir = Path(args[0])
    expected = write_cases(outdir)
    size = sum((outdir / f"{name}.zip").stat().st_size for name in expected)
    print(f"wrote {len(expected)} hostile archives ({size:,} bytes) and expected.json to {outdir}")
    return 0
