"""Class 1 of issue 12: small archives that ask for huge work.

Each case is a v2 archive of at most a few MB (every limit respected: member sizes, ratios, counts)
whose *work* is out of proportion: a publish log of tens of MB, thousands of versions that all use one
``block.xml`` or one ``python_lib.zip``, problem scripts and code-library modules that are costly to
parse and repeated, a manifest listing hundreds of thousands of absent members. Some are valid (they
must be accepted within the work budget of ``docs/decisions/0002-limits.md``), some invalid (refused
within it, with a report of bounded size). :func:`cases` lists them as :class:`Amplified` records;
``tests/formats/test_budget.py`` runs each in a child process and checks its peak memory and time.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from .v2base import CREATED, V2, blob_name, collection_toml, component_toml, package_toml, publish_log_toml

__all__ = ["Amplified", "cases", "code_library_zip"]

MIB = 1 << 20


@dataclass(frozen=True)
class Amplified:
    """An archive whose work is out of proportion to its size, and what validating it must give."""

    name: str
    build: Callable[[], bytes]
    valid: bool
    """True: validate and restore accept it; False: they refuse it."""
    fragment: str = ""
    """For an invalid case: text the report must contain."""
    threat: str = ""


_VOCABULARY = [
    "".join("etaoinshrdlucmfw"[(v >> (4 * k)) & 15] for k in range(3 + v % 6))
    for v in (int.from_bytes(hashlib.sha256(i.to_bytes(4, "little")).digest()[:8], "little") for i in range(4096))
]


def _words(n: int, seed: int) -> str:
    """``n`` pseudo-random words (text that compresses like prose, about 3:1 to 5:1)."""
    return " ".join(_VOCABULARY[(seed * 2654435761 + k * 40503) % 4093] for k in range(n))


def _html_package(components: int, versions: int, olx: bytes, *, type: str = "html") -> V2:
    """``components`` components of ``versions`` versions each, every version using the same ``olx``."""
    archive = V2().set("package.toml", package_toml())
    refs = []
    for c in range(components):
        code = f"c{c:04d}"
        refs.append(f"xblock.v1:{type}:{code}")
        archive.set(f"entities/xblock.v1/{type}/{code}.toml",
                    component_toml("xblock.v1", type, code, [{"block.xml": olx}] * versions))
        if c == 0:
            archive.set(blob_name(f"xblock.v1/{type}/{code}", 1, "block.xml"), olx)
    archive.set("collections/all.toml", collection_toml("all", refs))
    return archive.set("publish_log.toml", publish_log_toml([]))


def _shared_block_xml() -> bytes:
    """288 KB-class archive: 24 components x 3,000 versions, all using one 2 MB problem block.xml."""
    body = "".join(f'<p>{_words(6, i)}</p><stringresponse answer="{i}"><textline/></stringresponse>'
                   for i in range(12_000))
    olx = f'<problem display_name="Shared">{body}</problem>'.encode()
    return _html_package(24, 3_000, olx, type="problem").build()


def _costly_script() -> bytes:
    """Problem scripts that are slow to parse (a 900 KB expression), repeated in every version."""
    script = "x = (" + " + ".join(f"a{i} * (b{i} - {i})" for i in range(50_000)) + ")\nimport numpy\n"
    olx = f'<problem><script type="loncapa/python">{script}</script></problem>'.encode()
    return _html_package(12, 2_000, olx, type="problem").build()


def code_library_zip(files: dict[str, bytes]) -> bytes:
    """A ``python_lib.zip`` holding ``files`` (deflated, fixed dates)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0)), data)
    return out.getvalue()


def _costly_code_library() -> bytes:
    """One python_lib.zip of costly modules (deep expressions, long constant tables) in 3,000 versions of
    each of 8 code-library components."""
    modules = {f"grader/m{k}.py": ("T = [" + ", ".join(f"({i}, {i}.5, 'k{i}')" for i in range(30_000)) + "]\n"
                                   + "def f(x):\n    return " + " + ".join(f"x*{i}" for i in range(900)) + "\n"
                                   ).encode() for k in range(4)}
    modules["grader/__init__.py"] = b"from .m0 import f\n"
    lib = code_library_zip(modules)
    archive = V2().set("package.toml", package_toml())
    for c in range(8):
        code = f"lib{c}"
        archive.set(f"entities/lc-archive.v1/code_library/{code}.toml",
                    component_toml("lc-archive.v1", "code_library", code, [{"python_lib.zip": lib}] * 3_000)
                    .replace('media_type = "application/octet-stream"', 'media_type = "application/zip"'))
        if c == 0:
            archive.set(blob_name(f"lc-archive.v1/code_library/{code}", 1, "python_lib.zip"), lib)
    return archive.set("publish_log.toml", publish_log_toml([])).build()


def _uncompilable_in_budget() -> bytes:
    """A 700 KB module (an f-string of 300,000 placeholders, 3 KB compressed) that takes CPython over
    10 s to compile: refused by the per-file CPU cap."""
    lib = code_library_zip({"grader/__init__.py": b"", "grader/slow.py": b'x = f"' + b"{a}" * 300_000 + b'"\n'})
    archive = V2().set("package.toml", package_toml())
    archive.set("entities/lc-archive.v1/code_library/slow.toml",
                component_toml("lc-archive.v1", "code_library", "slow", [{"python_lib.zip": lib}])
                .replace('media_type = "application/octet-stream"', 'media_type = "application/zip"'))
    archive.set(blob_name("lc-archive.v1/code_library/slow", 1, "python_lib.zip"), lib)
    return archive.set("publish_log.toml", publish_log_toml([])).build()


def _large_publish_log() -> bytes:
    """A 55 MB publish log (330,000 publishes) over a tiny package: about 4.5 MB compressed."""
    olx = b"<html><p>hi</p></html>"
    archive = _html_package(2, 3, olx)
    refs = ["xblock.v1:html:c0000", "xblock.v1:html:c0001"]
    lines = []
    for i in range(330_000):
        lines.append(f"[[publish]]\npublished_at = {CREATED}\nmessage = {json.dumps(_words(3, i))}\n\n"
                     f"[[publish.change]]\nref = \"{refs[i % 2]}\"\nold = {1 + i % 2}\nnew = {2 + i % 2}\n\n")
    return archive.set("publish_log.toml", "".join(lines)).build()


def _absent_members() -> bytes:
    """A manifest listing 540,000 members the archive does not hold (55 MB of JSON, 1.5 MB compressed)."""
    digest = hashlib.sha256(b"absent").hexdigest()
    absent = ",".join(f'{{"name":"x/{i:06x}","size":1,"sha256":"{digest}"}}' for i in range(540_000))

    def edit(text: str) -> str:
        return text.replace('"members": [\n', '"members": [\n' + absent + ",\n", 1)

    return V2().set("package.toml", package_toml()).set("publish_log.toml", "").build(edit)


def cases() -> list[Amplified]:
    """Class 1, amplification, in a fixed order."""
    return [
        Amplified("shared-block-xml", _shared_block_xml, True,
                  threat="issue 12 / 1: 288 KB archive whose versions share one block.xml"),
        Amplified("costly-problem-scripts", _costly_script, True,
                  threat="issue 12 / 1: problem scripts costly to parse, repeated in every version"),
        Amplified("costly-code-library", _costly_code_library, True,
                  threat="issue 12 / 1: code-library modules costly to compile, repeated in every version"),
        Amplified("uncompilable-in-budget", _uncompilable_in_budget, False, "too costly to compile",
                  threat="issue 12 / 1: a code-library module costly to compile (per-file CPU cap)"),
        Amplified("large-publish-log", _large_publish_log, True,
                  threat="issue 12 / 1: 4.5 MB archive with a large publish log"),
        Amplified("absent-members", _absent_members, False, "which is not in the archive",
                  threat="issue 12 / 1: a manifest listing 540,000 absent members"),
    ]
