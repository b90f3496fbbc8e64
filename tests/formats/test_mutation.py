"""Mutation testing: valid archives, damaged at random, must only ever fail with an ``LcArchiveError``.

Valid archives are mutated: the tiny one of ``v1kit``, ``testdata/sample-library.zip``, one with plugin
payloads and a code library, and a tiny v2 archive (whose ``manifest.json`` is rewritten to match, or
edited against the JSON rule: duplicate keys, NaN, depth, BOM, surrogates). The byte
mutations (flip, truncate, insert, delete, overwrite with a boundary integer, most of them aimed at ZIP
header fields) damage the container; the member mutations (drop, duplicate, rename, swap or replace
contents, edit TOML values and lines, replace OLX) rebuild a structurally valid ZIP that reaches the
v1 reader. Every mutated archive goes through :func:`lc_archive.usecases.restore.validate`; a fraction is also
restored into a copy of a store that already holds one package. The properties:

* only ``LcArchiveError`` subclasses escape (anything else fails the test: hypothesis shrinks it);
* validate and restore agree: an archive that validates restores, one that does not is refused by
  restore with the same problems;
* a refused restore leaves the store file byte-identical;
* what ``validate`` accepts also restores on PostgreSQL (``LC_ARCHIVE_PG_URL``), whose text columns
  refuse what SQLite takes (NUL, values longer than a column): one text rule for every store.

How many cases: ``LC_ARCHIVE_MUTATIONS`` if set, else 10,000 when ``CI`` is true, else 500; split
evenly over the four tests (two bases x two families), so ``pytest -n 2`` runs them in parallel.
Examples are derandomized (the same ones every run, for a given hypothesis version) and not stored.
"""

from __future__ import annotations

import importlib.util
import io
import os
import re
import shutil
import struct
import unicodedata
import uuid
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from support.files import sha, zip_bytes
from support.hostile.v2base import manifest_text, tiny_v2
from support.paths import REPO
from support.pg import database_on
from support.v1kit import tiny_members

from lc_archive import restore, validate
from lc_archive.archive import ArchiveReader
from lc_archive.errors import ArchiveInvalid, LcArchiveError
from lc_archive.stores import open_store

DEFLATED, STORED = zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED
EXISTING = "lib:Org:EXISTING"
TARGET = "lib:Mut:TARGET"


def _mutation_count() -> int:
    configured = os.environ.get("LC_ARCHIVE_MUTATIONS")
    if configured:
        return int(configured)
    return 10_000 if os.environ.get("CI", "").lower() in ("1", "true", "yes") else 500


MUTATIONS = _mutation_count()
TESTS = 8  # bases x families: each test runs an eighth
settings.register_profile(
    "lc-archive-mutation",
    max_examples=max(1, MUTATIONS // TESTS),
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example,
                           HealthCheck.filter_too_much],
)
PROFILE = settings.get_profile("lc-archive-mutation")  # applied per test, not loaded globally


# -- the valid bases -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Base:
    name: str
    data: bytes
    members: tuple[tuple[str, bytes], ...]  # in archive order, directories (name ending in '/') included
    strings: tuple[bytes, ...]  # every TOML string literal of the archive, quotes included: refs, titles...


def _base(name: str, data: bytes) -> Base:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = tuple((info.filename, archive.read(info)) for info in archive.infolist())
    strings = sorted({m for _, body in members for m in re.findall(rb'"[^"\n]*"', body)} | {b'""'})
    return Base(name, data, members, tuple(strings))


def _tiny() -> bytes:
    return zip_bytes({name: data.encode() if isinstance(data, str) else data for name, data in tiny_members().items()})


def _plugins() -> bytes:
    """A v1 archive with plugin payloads (tags, notes) and a code library, written by lc-archive."""
    import tempfile
    from datetime import UTC, datetime

    from lc_archive_tags import ObjectTag, TagsSerializer

    from lc_archive import backup
    from lc_archive.plugins.payloads import encode_payload
    from lc_archive.stores import open_store

    library = zip_bytes({"grader/__init__.py": b"def check(expect, ans):\n    return expect == ans\n"})
    with tempfile.TemporaryDirectory() as tmp, open_store(Path(tmp) / "s.db") as store:
        with store.author("lib:Mut:PLUG", create={"title": "Plugins"}) as a:
            lib = a.create_component("lc-archive.v1", "code_library", "grader")
            a.add_component_version(lib, {"python_lib.zip": library})
            quiz = a.create_component("xblock.v1", "problem", "quiz")
            a.add_component_version(quiz, {"block.xml": '<problem display_name="Q"><script type="loncapa/python">'
                                           "import grader</script><stringresponse answer='a'><textline/>"
                                           "</stringresponse></problem>"})
            a.publish()
            tag = ObjectTag(taxonomy="subject", value="Optics", lineage=("Physics", "Optics"))
            a.set_payload(encode_payload(TagsSerializer(), [tag], entity=quiz))
            a.set_payload(encode_payload(TagsSerializer(), [tag]))
        backup(store, "lib:Mut:PLUG", Path(tmp) / "a.zip", format="v1", created_at=datetime(2026, 1, 1, tzinfo=UTC))
        return (Path(tmp) / "a.zip").read_bytes()


BASES = {
    "tiny": _base("tiny", _tiny()),
    "sample": _base("sample", (REPO / "testdata" / "sample-library.zip").read_bytes()),
    "plugins": _base("plugins", _plugins()),
    "v2": _base("v2", tiny_v2().build()),  # manifest.json: the JSON rule; entity TOML: the text rule
}


def test_bases_are_valid() -> None:
    for base in BASES.values():
        validate(io.BytesIO(base.data))
        validate(io.BytesIO(pack(list(base.members), DEFLATED)))


# -- byte mutations --------------------------------------------------------------------------------------

SIGNATURES = (b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06", b"PK\x06\x06", b"PK\x06\x07", b"PK\x07\x08")
BOUNDARY_INTS = [0, 1, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x0800, 0x0008, 0x0001]


def _header_offsets(data: bytes) -> list[int]:
    found = []
    for signature in SIGNATURES:
        start = data.find(signature)
        while start >= 0:
            found.append(start)
            start = data.find(signature, start + 1)
    return sorted(found)


@st.composite
def positions(draw: st.DrawFn, data: bytes) -> int:
    """An offset into ``data``: uniform, or inside a header (a signature plus up to 46 bytes), or near the end."""
    size = len(data)
    if size == 0:
        return 0
    headers = _header_offsets(data)
    kind = draw(st.sampled_from(["any", "header", "header", "tail"] if headers else ["any", "tail"]))
    if kind == "header":
        return min(size - 1, draw(st.sampled_from(headers)) + draw(st.integers(0, 46)))
    if kind == "tail":
        return max(0, size - 1 - draw(st.integers(0, 64)))
    return draw(st.integers(0, size - 1))


@st.composite
def byte_mutation(draw: st.DrawFn, data: bytes) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(["flip", "flip", "truncate", "insert", "delete", "overwrite", "int"]))
    at = draw(positions(data))
    if kind == "flip":
        mask = draw(st.integers(1, 255))
        out = bytearray(data)
        if out:
            out[at] ^= mask
        return f"flip {at} ^{mask:#x}", bytes(out)
    if kind == "truncate":
        return f"truncate {at}", data[:at]
    if kind == "insert":
        extra = draw(st.binary(min_size=1, max_size=64) | st.sampled_from(SIGNATURES))
        return f"insert {at} {extra!r}", data[:at] + extra + data[at:]
    if kind == "delete":
        length = draw(st.integers(1, 64))
        return f"delete {at}+{length}", data[:at] + data[at + length:]
    if kind == "overwrite":
        extra = draw(st.binary(min_size=1, max_size=16))
        return f"overwrite {at} {extra!r}", data[:at] + extra + data[at + len(extra):]
    value = draw(st.sampled_from(BOUNDARY_INTS))
    width = draw(st.sampled_from([2, 4]))
    packed = struct.pack("<I" if width == 4 else "<H", value & (0xFFFFFFFF if width == 4 else 0xFFFF))
    return f"int {at} {value:#x}/{width}", data[:at] + packed + data[at + width:]


# -- member mutations ------------------------------------------------------------------------------------

Members = list[tuple[str | bytes, bytes]]

NASTY_DATETIMES = [
    b"0001-01-01T00:00:00+01:00", b"9999-12-31T23:59:59-01:00", b"0001-01-01T00:00:00Z", b"9999-12-31T23:59:59Z",
    b"0001-01-01", b"1979-05-27", b"1979-05-27T07:32:00", b"07:32:00", b"2025-01-01T00:00:00+23:59",
    b"2025-01-01 00:00:00Z", b"2025-02-30T00:00:00Z", b'"0001-01-01T00:00:00+05:00"', b'"2025-01-01"',
    b'"2025-01-01T00:00:00"', b'"not a date"', b'"9999-12-31T23:59:59-01:00"',
]
NASTY_INTEGERS = [
    b"0", b"-1", b"1", b"2", b"7", b"99", b"2147483647", b"2147483648", b"9223372036854775807",
    b"9223372036854775808", b"-9223372036854775809", b"1_000", b"0x10", b"1.0", b"1e400", b"nan", b"inf", b"-0.0",
    b'"1"', b"true",
]
NASTY_STRINGS = [
    b'""', b'" "', b'"\\u0000"', b'"a\\u0000b"', b'"a\\u202eb"', b'"line\\nbreak"', b'"tab\\there"', b'"\\u001b[31m"',
    b'"../../etc/passwd"', b'"/abs"', b'"a:b"', b'"a:b:c:d"', b'":::"', b'"lib:Org:TINY"', b'"lib:O:X\\u0000"',
    b"'''multi\nline'''", b'"' + b"a" * 600 + b'"', b'"' + b"b" * 20_000 + b'"', b'"\xff"', b'"\\ud800"',
    b'"\\U0010FFFF"', b'"\\uFEFF"', b'"caf\\u0065\\u0301"', b'"CAF\\u00c9"', b'"x\\u0085y"',
    b'"\\U00000000"', b'"' + b"u" * 151 + b'"', b'{ k = "\\u0000" }', b'"' + b"m" * 501 + b'"',  # issue 12, 4
]
NASTY_OTHER = [
    b"true", b"false", b"[]", b"{}", b"[1, [2, [3]]]", b'["x", 1]', b"{a = 1}", b"[" + b'"x", ' * 300 + b"]",
    b"[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]", b"\x00", b"= =", b"", b'["unit-1", "unit-1"]',
]
NASTY_VALUES = NASTY_DATETIMES + NASTY_INTEGERS + NASTY_STRINGS + NASTY_OTHER
_DATETIME = re.compile(rb"\d{4}-\d\d-\d\d")


def _values_like(value: bytes, strings: tuple[bytes, ...]) -> st.SearchStrategy[bytes]:
    """Replacements for a TOML value: mostly of its own kind (so they get past the type checks), some of any."""
    if _DATETIME.match(value):
        alike: st.SearchStrategy[bytes] = st.sampled_from(NASTY_DATETIMES)
    elif re.fullmatch(rb"-?\d+", value):
        alike = st.sampled_from(NASTY_INTEGERS) | st.integers(-(2**70), 2**70).map(lambda n: str(n).encode())
    elif value.startswith(b'"'):
        alike = st.sampled_from(NASTY_STRINGS) | st.sampled_from(strings) | st.text(max_size=20).map(
            lambda t: ('"' + t.replace("\\", "").replace('"', "") + '"').encode("utf-8", "surrogatepass"))
    else:
        alike = st.sampled_from(NASTY_OTHER) | st.sampled_from(strings)
    return st.one_of(alike, alike, alike, st.sampled_from(NASTY_VALUES))

NASTY_LINES = [
    b"[entity]", b"[entity.draft]", b"[entity.published]", b"[[version]]", b"[version.container]",
    b"[entity.container.unit]", b"[entity.container.section]", b"[collection]", b"[meta]", b"[learning_package]",
    b"version_num = 1", b"version_num = 99", b'key = "unit-1"', b"children = []", b'children = ["unit-1"]',
    b"entities = []", b'entities = ["nope"]', b"format_version = 2", b"can_stand_alone = false", b"x = 1",
    b"a.b.c.d.e = 1", b"\xef\xbb\xbf", b"[", b'title = "t"', b"created = 2025-01-01T00:00:00Z",
]
NASTY_XML = [
    b"", b" ", b"<html/>", b"<html>", b"</html>", b"<a><b></a></b>", b"<html/><html/>", b"<html>&nbsp;</html>",
    b"<html>&#0;</html>", b'<?xml version="1.0" encoding="UTF-16"?><html/>', b"\xef\xbb\xbf<html/>",
    b'<!DOCTYPE html [<!ENTITY a "b">]><html>&a;</html>', b'<html xmlns:xi="http://www.w3.org/2001/XInclude">'
    b'<xi:include href="file:///etc/passwd" parse="text"/></html>', b"<a>" * 300 + b"</a>" * 300,
    b'<problem display_name="\xff"/>', b"<?pi x?><html/>", b"<!-- c --><html/>",
    b"<?xml version='1.0' encoding='latin-1'?><html>\xc3\xa9</html>", b'<?xml version="1.0" encoding="utf-8"?><html/>',
]
NASTY_JSON = [  # issue 12, 5: edits of manifest.json (old, new)
    (b'"format_version": 2', b'"format_version": 2, "format_version": 2'),
    (b'"format_version": 2', b'"format_version": NaN'), (b'"size": ', b'"size": 1e999, "size": '),
    (b'"members": [', b'"members": [' + b"[" * 120),
    (b'{"name"', b'{"x": "\\ud800", "name"'), (b'{', b'\xef\xbb\xbf{'), (b'"sha256"', b'"sha256": "", "sha256"'),
]
TOML_VALUE = re.compile(rb"(?m)^([ \t]*[\w.\"'-]+[ \t]*=[ \t]*)(.*)$")


def _names(members: Members) -> list[str | bytes]:
    return [name for name, _ in members]


@st.composite
def new_name(draw: st.DrawFn, members: Members, old: str | bytes) -> str | bytes:
    """A replacement name: another member's, a case or Unicode variant, a traversal, another folder..."""
    text = old if isinstance(old, str) else old.decode("utf-8", "replace")
    parts = text.split("/")
    kind = draw(st.sampled_from(["other", "case", "nfd", "segment", "folder", "extension", "version", "text",
                                 "strip", "bytes"]))
    if kind == "other":
        return draw(st.sampled_from(_names(members)))
    if kind == "case":
        return text.upper() if text != text.upper() else text.lower()
    if kind == "nfd":
        return unicodedata.normalize("NFD", text.replace("e", "é", 1))
    if kind == "segment":
        at = draw(st.integers(0, len(parts)))
        piece = draw(st.sampled_from(["..", ".", "", "\\", "C:", "a:b", " ", "x\x00y", "\x1b", "v1", "static"]))
        return "/".join([*parts[:at], piece, *parts[at:]])
    if kind == "folder":
        at = draw(st.integers(0, max(0, len(parts) - 1)))
        piece = draw(st.sampled_from(["entities", "collections", "component_versions", "v2", "v0", "xblock.v1",
                                      "problem", "html", "static", "package.toml", "unit-1"]))
        return "/".join([*parts[:at], piece, *parts[at + 1:]])
    if kind == "extension":
        stem = text.rsplit(".", 1)[0]
        return stem + draw(st.sampled_from([".toml", ".xml", ".png", "", "/", ".TOML", ".toml/x"]))
    if kind == "version":
        return re.sub(r"/v\d+/", draw(st.sampled_from(["/v0/", "/v9/", "/v01/", "/v1/", "/V1/", "/v2147483648/"])),
                      text, count=1)
    if kind == "strip":
        return "/".join(parts[draw(st.integers(0, len(parts) - 1)):])
    if kind == "bytes":
        return draw(st.binary(min_size=0, max_size=40))
    return draw(st.text(alphabet="abc./\\:-_ é\x00", min_size=0, max_size=30))


@st.composite
def edit_toml(draw: st.DrawFn, body: bytes, strings: tuple[bytes, ...]) -> tuple[str, bytes]:
    values = list(TOML_VALUE.finditer(body))
    lines = body.split(b"\n")
    kind = draw(st.sampled_from(["value", "value", "value", "delete-line", "duplicate-line", "insert-line"]
                                if values else ["delete-line", "duplicate-line", "insert-line"]))
    if kind == "value":
        match = draw(st.sampled_from(values))
        value = draw(_values_like(match.group(2).strip(), strings))
        return f"value {match.group(1)!r} := {value[:60]!r}", body[:match.start(2)] + value + body[match.end(2):]
    at = draw(st.integers(0, max(0, len(lines) - 1)))
    if kind == "delete-line":
        return f"delete line {at}", b"\n".join(lines[:at] + lines[at + 1:])
    if kind == "duplicate-line":
        return f"duplicate line {at}", b"\n".join(lines[:at + 1] + lines[at:])
    line = draw(st.sampled_from(NASTY_LINES))
    return f"insert line {at} {line!r}", b"\n".join([*lines[:at], line, *lines[at:]])


@st.composite
def member_mutation(draw: st.DrawFn, members: Members, strings: tuple[bytes, ...]) -> tuple[str, Members]:
    files = [i for i, (name, _) in enumerate(members) if not _text(name).endswith("/")] or [0]
    tomls = [i for i in files if _text(members[i][0]).endswith(".toml")]
    xmls = [i for i in files if _text(members[i][0]).endswith(".xml")]
    kinds = ["drop", "duplicate", "rename", "rename", "swap", "content", "add"]
    kinds += ["toml"] * 6 if tomls else []
    kinds += ["xml"] * 2 if xmls else []
    kinds += ["json", "manifest"] if any(_text(n) == "manifest.json" for n, _ in members) else []
    kind = draw(st.sampled_from(kinds))
    out = list(members)
    if not out:
        return "add to empty", [("package.toml", draw(st.sampled_from(strings)))]
    i = draw(st.sampled_from(files))
    name, body = out[i]
    if kind == "drop":
        del out[i]
        return f"drop {name!r}", out
    if kind == "duplicate":
        other = draw(st.sampled_from(out))[1] if draw(st.booleans()) else body
        out.insert(draw(st.integers(0, len(out))), (name, other))
        return f"duplicate {name!r}", out
    if kind == "rename":
        renamed = draw(new_name(out, name))
        out[i] = (renamed, body)
        return f"rename {name!r} -> {renamed!r}", out
    if kind == "swap":
        j = draw(st.sampled_from(files))
        out[i], out[j] = (name, out[j][1]), (out[j][0], body)
        return f"swap {name!r} <-> {out[i][0]!r}", out
    if kind == "content":
        new = draw(st.binary(max_size=200) | st.sampled_from(NASTY_XML) | st.sampled_from(NASTY_LINES))
        out[i] = (name, new)
        return f"content {name!r} := {new[:60]!r}", out
    if kind == "add":
        added = draw(new_name(out, name))
        out.insert(draw(st.integers(0, len(out))), (added, draw(st.sampled_from([body, b"", b"x = 1", b"<html/>"]))))
        return f"add {added!r}", out
    if kind in ("json", "manifest"):
        at = next(k for k, (n, _) in enumerate(out) if _text(n) == "manifest.json")
        others = [(_text(n), b) for n, b in out if _text(n) != "manifest.json"]
        fresh = manifest_text(others).encode()  # a manifest that matches: the mutation reaches deep
        if kind == "json":
            old, new = draw(st.sampled_from(NASTY_JSON))
            fresh = fresh.replace(old, new, 1)
        out[at] = ("manifest.json", fresh)
        return f"{kind} manifest.json", out
    if kind == "toml":
        i = draw(st.sampled_from(tomls))
        name, body = out[i]
        what, edited = draw(edit_toml(body, strings))
        out[i] = (name, edited)
        return f"toml {name!r}: {what}", out
    i = draw(st.sampled_from(xmls))
    name, _ = out[i]
    new = draw(st.sampled_from(NASTY_XML))
    out[i] = (name, new)
    return f"xml {name!r} := {new[:60]!r}", out


def _text(name: str | bytes) -> str:
    return name if isinstance(name, str) else name.decode("utf-8", "replace")


_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_EOCD = struct.Struct("<IHHHHIIH")
_DEFLATED: dict[bytes, bytes] = {}  # member body -> raw deflate, shared by all examples


def _deflate(body: bytes) -> bytes:
    packed = _DEFLATED.get(body)
    if packed is None:
        compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
        packed = compressor.compress(body) + compressor.flush()
        if len(_DEFLATED) < 20_000:
            _DEFLATED[body] = packed
    return packed


def pack(members: Members, method: int) -> bytes:
    """``members`` as a plain, valid ZIP (any name allowed, duplicates included; zipcraft's layout, but faster)."""
    body = bytearray()
    central = bytearray()
    for name, data in members:
        raw = name.encode("utf-8", "surrogatepass") if isinstance(name, str) else name
        flags = 0 if raw.isascii() else 0x800
        payload = _deflate(data) if method == DEFLATED else data
        crc = zlib.crc32(data)
        is_dir = raw.endswith(b"/")
        attr = ((0o40755 << 16) | 0x10) if is_dir else (0o100644 << 16)
        central += _CENTRAL.pack(0x02014B50, 0x0314, 20, flags, method, 0, 0x5A21, crc, len(payload), len(data),
                                 len(raw), 0, 0, 0, 0, attr, len(body)) + raw
        body += _LOCAL.pack(0x04034B50, 20, flags, method, 0, 0x5A21, crc, len(payload), len(data), len(raw), 0)
        body += raw + payload
    count = len(members)
    return bytes(body + central + _EOCD.pack(0x06054B50, 0, 0, count, count, len(central), len(body), 0))


@st.composite
def mutated_bytes(draw: st.DrawFn, base: Base) -> tuple[list[str], bytes]:
    data = base.data
    steps = []
    for _ in range(draw(st.integers(1, 3))):
        what, data = draw(byte_mutation(data))
        steps.append(what)
    return steps, data


@st.composite
def mutated_members(draw: st.DrawFn, base: Base) -> tuple[list[str], bytes]:
    members: Members = list(base.members)
    steps = []
    for _ in range(draw(st.integers(1, 3))):
        what, members = draw(member_mutation(members, base.strings))
        steps.append(what)
    method = draw(st.sampled_from([DEFLATED, DEFLATED, DEFLATED, STORED]))
    data = pack(members, method)
    if draw(st.integers(0, 9)) == 0:  # now and then, damage the rebuilt container too
        what, data = draw(byte_mutation(data))
        steps.append(what)
    return steps, data


# -- the properties --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding one package, copied before each restore."""
    db = tmp_path_factory.mktemp("mutation-seed") / "seed.db"
    with open_store(f"sqlite:///{db}") as store:
        restore(io.BytesIO(BASES["tiny"].data), store, ref=EXISTING)
    return db


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mutation-work")


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str | None]:
    """A fresh PostgreSQL database for the module when ``LC_ARCHIVE_PG_URL`` is set (else None): every
    mutant ``validate`` accepts must restore there too (issue 12: one text rule for every store)."""
    base = os.environ.get("LC_ARCHIVE_PG_URL")
    if not base:
        yield None
        return
    with database_on(base, "lc_mut") as url:
        yield url




def check(data: bytes, restore_too: bool, seed: Path, work: Path, pg: str | None = None) -> None:
    """Only LcArchiveError may escape validate and restore; they agree; a refused restore writes nothing;
    what validate accepts restores on PostgreSQL too (when ``pg`` is given)."""
    problems: tuple[object, ...] | None = None
    refused: LcArchiveError | None = None
    try:
        validate(io.BytesIO(data), strict=True)  # strict like both restores below (validate's default is not)
    except LcArchiveError as exc:
        refused = exc
        problems = tuple(exc.problems) if isinstance(exc, ArchiveInvalid) else None
        note(f"validate: {type(exc).__name__}: {str(exc)[:500]}")
    if refused is None and pg is not None:
        with open_store(pg) as store:
            restore(io.BytesIO(data), store, ref=f"lib:Mut:{uuid.uuid4().hex}", strict=True)
    if not restore_too:
        return
    db = work / "store.db"
    shutil.copyfile(seed, db)
    before = sha(db)
    try:
        with open_store(f"sqlite:///{db}", create=False) as store:
            restore(io.BytesIO(data), store, ref=TARGET, strict=True)  # strict, like validate
    except LcArchiveError as exc:
        note(f"restore: {type(exc).__name__}: {str(exc)[:500]}")
        assert refused is not None, f"validate accepted the archive but restore refused it: {exc}"
        if problems is not None:
            assert isinstance(exc, ArchiveInvalid) and tuple(exc.problems) == problems
        assert sha(db) == before, "a refused restore changed the store"
        assert sorted(p.name for p in work.iterdir()) == ["store.db"]
        return
    assert refused is None, f"validate refused the archive but restore accepted it: {refused}"
    with open_store(f"sqlite:///{db}", create=False) as store:
        assert sorted(store.package_refs()) == sorted([EXISTING, TARGET])


def _runner(family: Callable[[Base], st.SearchStrategy[tuple[list[str], bytes]]]) -> Callable[..., None]:
    @PROFILE
    @given(data=st.data())
    def run(base_name: str, seed_store: Path, work_dir: Path, pg_url: str | None, data: st.DataObject) -> None:
        base = BASES[base_name]
        steps, archive = data.draw(family(base), label="mutation")
        note(f"{base_name}: {steps}")
        restore_every = 8 if base_name == "tiny" else 20
        check(archive, data.draw(st.integers(0, restore_every - 1), label="restore") == 0, seed_store, work_dir,
              pg_url)

    return run


_bytes_runner = _runner(mutated_bytes)
_members_runner = _runner(mutated_members)


@pytest.mark.parametrize("base_name", list(BASES))
def test_byte_mutations_only_raise_lc_archive_errors(base_name: str, seed_store: Path, work_dir: Path,
                                                     pg_url: str | None) -> None:
    _bytes_runner(base_name, seed_store, work_dir, pg_url)


@pytest.mark.parametrize("base_name", list(BASES))
def test_member_mutations_only_raise_lc_archive_errors(base_name: str, seed_store: Path, work_dir: Path,
                                                       pg_url: str | None) -> None:
    _members_runner(base_name, seed_store, work_dir, pg_url)


def test_the_mutations_reach_deep(seed_store: Path, work_dir: Path) -> None:
    """The member family must get past the ZIP pre-flight: some mutants are valid, many fail in v1 checks."""
    base = BASES["tiny"]
    reached = {"valid": 0, "zip": 0, "v1": 0}

    @settings(PROFILE, max_examples=200)
    @given(mutant=mutated_members(base))
    def sample(mutant: tuple[list[str], bytes]) -> None:
        try:
            ArchiveReader(io.BytesIO(mutant[1])).close()
        except LcArchiveError:
            reached["zip"] += 1
            return
        try:
            validate(io.BytesIO(mutant[1]))
            reached["valid"] += 1
        except LcArchiveError:
            reached["v1"] += 1

    sample()
    assert reached["valid"] > 0 and reached["v1"] > 50, reached


def test_fuzz_target_builds_its_corpus_and_checks_inputs(tmp_path: Path) -> None:
    """fuzz/fuzz_restore.py stays runnable: its corpus and dictionary build, and its check runs (no atheris)."""
    spec = importlib.util.spec_from_file_location("fuzz_restore", REPO / "fuzz" / "fuzz_restore.py")
    assert spec is not None and spec.loader is not None
    fuzz = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fuzz)
    corpus = tmp_path / "corpus"
    assert fuzz.make_corpus(corpus) == 0
    assert fuzz.make_dict(tmp_path / "zip.dict") == 0
    names = {p.name for p in corpus.iterdir()}
    assert {"tiny.zip", "sample-library.zip", "hostile-zip-slip.zip"} <= names and len(names) > 40
    fuzz._load()
    for name in ("tiny.zip", "sample-library.zip", "hostile-zip-slip.zip", "hostile-crc-mismatch.zip"):
        fuzz.TestOneInput((corpus / name).read_bytes())

