"""Code libraries: the nested-zip inspection and the ``lc-archive.v1:code_library`` serializer.

Hostile zips are real: written with :mod:`zipfile` where it can express the attack, byte by byte with
``zipcraft`` where it cannot (lying headers, a member that inflates to 1 GiB).
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import time
import zipfile
import zlib
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import BinaryIO, Literal

import pytest
from support.files import zip_bytes
from support.zipcraft import DEFLATED, Entry, build

from lc_archive import backup, restore
from lc_archive.archive.limits import DEFAULT_LIMITS, Limits
from lc_archive.archive.nested_zip import inspect_nested_zip, is_importable_source
from lc_archive.archive.zip_reader import ArchiveReader
from lc_archive.errors import ArchiveInvalid, Problem
from lc_archive.plugins.builtin.code_library import (
    CODE_LIBRARY_MEDIA,
    CODE_LIBRARY_NAMESPACE,
    CODE_LIBRARY_TYPE,
    CodeLibraryComponent,
    file_path,
    provided_modules,
)
from lc_archive.plugins.contract import ComponentVersionView, Issue
from lc_archive.stores import open_store
from lc_archive.stores.sql import SqlStore

REF = "lc-archive.v1:code_library:graders"
ENTITY_MEMBER = "entities/lc-archive.v1/code_library/graders.toml"
ZIP_MEMBER = "entities/lc-archive.v1/code_library/graders/component_versions/v1/python_lib.zip"

GOOD = {
    "lib/__init__.py": b"",
    "mitxgraders/__init__.py": b"from mitxgraders.helpers import *\n",
    "mitxgraders/helpers.py": b"def grade(expect, ans):\n    return {'ok': expect == ans}\n",
}


def make_zip(entries: Mapping[str | zipfile.ZipInfo, bytes]) -> bytes:
    """A python_lib.zip, DEFLATEd, every entry dated 1980 (the same bytes every time)."""
    return zip_bytes({name if isinstance(name, zipfile.ZipInfo) else zipfile.ZipInfo(name): data
                      for name, data in entries.items()})


def view(media: Mapping[str, bytes], *, limits: Limits = DEFAULT_LIMITS,
         opener: Callable[[str], AbstractContextManager[BinaryIO]] | None = None) -> ComponentVersionView:
    members = {path: f"entities/lc-archive.v1/code_library/graders/component_versions/v1/{path}" for path in media}

    def open_media(path: str) -> AbstractContextManager[BinaryIO]:
        return io.BytesIO(media[path])

    olx = media.get("block.xml")
    return ComponentVersionView(
        ref=REF, namespace=CODE_LIBRARY_NAMESPACE, type=CODE_LIBRARY_TYPE, number=1, member=ENTITY_MEMBER,
        olx=olx, olx_member=members["block.xml"] if olx is not None else None, media=members,
        open_media=opener or open_media, limits=limits,
    )  # fmt: skip


def check(zip_bytes: bytes, *, limits: Limits = DEFAULT_LIMITS) -> tuple[tuple[str, ...], tuple[Issue, ...]]:
    result = CodeLibraryComponent().check_version(view({CODE_LIBRARY_MEDIA: zip_bytes}, limits=limits))
    assert result.facts is not None
    return result.facts.files, result.issues


def only_issue(issues: tuple[Issue, ...]) -> Issue:
    assert len(issues) == 1, issues
    issue = issues[0]
    assert issue.member == ZIP_MEMBER
    assert issue.severity == "error"
    assert issue.message.startswith("python_lib.zip: ")
    return issue


# -- a good library ---------------------------------------------------------------------------------------


def test_good_library_lists_files_and_modules() -> None:
    files, issues = check(make_zip({**GOOD, "mitxgraders/": b""}))
    assert issues == ()
    assert files == ("lib/__init__.py", "mitxgraders/__init__.py", "mitxgraders/helpers.py")
    assert provided_modules(files) == {"lib", "mitxgraders"}


def test_serializer_identity_and_olx_facts() -> None:
    serializer = CodeLibraryComponent()
    assert serializer.id == "lc-archive.v1:code_library" == f"{CODE_LIBRARY_NAMESPACE}:{CODE_LIBRARY_TYPE}"
    assert serializer.kind == "component"
    facts = serializer.facts(b"<problem/>")
    assert (facts.display_name, facts.files, facts.imports) == (None, (), ())


def test_provided_modules_rules() -> None:
    files = ["top.py", "pkg/__init__.py", "nsp/deep/mod.py", "data/table.csv", "__MACOSX/evil.py",
             "__MACOSX/pkg/._x.py", ".hidden.py", "pkg2/.cache/x.py", "my-lib/x.py", "README.md", "x.pyc"]
    assert provided_modules(files) == {"top", "pkg", "nsp"}
    assert provided_modules([]) == frozenset()


def test_macos_resource_forks_are_listed_not_compiled() -> None:
    files, issues = check(make_zip({**GOOD, "__MACOSX/mitxgraders/._helpers.py": b"\x00\x05\x16\x07\xff\xfe"}))
    assert issues == ()
    assert "__MACOSX/mitxgraders/._helpers.py" in files
    assert not is_importable_source("__MACOSX/mitxgraders/._helpers.py")
    assert provided_modules(files) == {"lib", "mitxgraders"}


def test_a_zip_inside_is_a_plain_file() -> None:
    inner = make_zip({"../escape.py": b"print 'py2'\n"})  # would be refused twice if it were opened
    files, issues = check(make_zip({**GOOD, "vendor/inner.zip": inner}))
    assert issues == ()
    assert "vendor/inner.zip" in files


def test_utf8_bom_and_python3_syntax_accepted() -> None:
    files, issues = check(make_zip({"m.py": "\ufeffname = 'é'\nmatch name:\n    case _: pass\n".encode()}))
    assert (files, issues) == (("m.py",), ())


# -- media of the version ---------------------------------------------------------------------------------


def test_other_media_and_block_xml_are_errors() -> None:
    result = CodeLibraryComponent().check_version(view({
        CODE_LIBRARY_MEDIA: make_zip(GOOD), "block.xml": b"<problem/>", "static/x.png": b"\x89PNG"}))
    assert len(result.issues) == 1
    issue = result.issues[0]
    assert issue.member == ENTITY_MEMBER and issue.path == "$"
    assert "'block.xml', 'static/x.png'" in issue.message and "only python_lib.zip" in issue.message
    assert result.facts is not None and len(result.facts.files) == 3  # the zip is still checked


def test_missing_zip_is_an_error() -> None:
    result = CodeLibraryComponent().check_version(view({"static/python_lib.zip": make_zip(GOOD)}))
    messages = sorted(i.message for i in result.issues)
    assert len(messages) == 2
    assert "only python_lib.zip; it also has 'static/python_lib.zip'" in messages[0]
    assert "needs a python_lib.zip media file" in messages[1]
    assert all(i.member == ENTITY_MEMBER for i in result.issues)


def test_outer_member_corruption_is_an_issue() -> None:
    class Corrupt(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
            raise ArchiveInvalid([Problem(ZIP_MEMBER, "$", "CRC-32 mismatch")])

    result = CodeLibraryComponent().check_version(
        view({CODE_LIBRARY_MEDIA: b""}, opener=lambda path: io.BufferedReader(Corrupt())))
    issue = only_issue(result.issues)
    assert issue.path == "$"
    assert issue.message == "python_lib.zip: cannot be read: CRC-32 mismatch"


# -- hostile zips ------------------------------------------------------------------------------------------


def test_not_a_zip() -> None:
    files, issues = check(b"this is not a zip file at all, just some text that is long enough")
    issue = only_issue(issues)
    assert (files, issue.path) == ((), "$")
    assert "not a ZIP archive" in issue.message


def test_empty_file_is_not_a_zip() -> None:
    issue = only_issue(check(b"")[1])
    assert "not a ZIP archive" in issue.message


@pytest.mark.parametrize(("name", "reason"), [
    ("../evil.py", "'..' path component (path traversal)"),
    ("lib/../../evil.py", "'..' path component (path traversal)"),
    ("/etc/evil.py", "absolute path"),
    ("lib\\evil.py", "backslash in the name"),
    ("C:/evil.py", "drive-letter path"),
])  # fmt: skip
def test_escaping_names_are_refused(name: str, reason: str) -> None:
    files, issues = check(make_zip({"ok.py": b"x = 1\n", zipfile.ZipInfo(name): b"x = 1\n"}))
    assert files == ()
    issue = next(i for i in issues if reason in i.message)
    assert issue.member == ZIP_MEMBER
    assert issue.message == f"python_lib.zip: member {name!r}: {reason}"
    assert issue.path == file_path(name)


def test_symlink_is_refused() -> None:
    link = zipfile.ZipInfo("mitxgraders/secrets.py")
    link.create_system = 3
    link.external_attr = 0o120777 << 16
    issue = only_issue(check(make_zip({**GOOD, link: b"/etc/passwd"}))[1])
    assert issue.path == '$.files["mitxgraders/secrets.py"]'
    assert "'mitxgraders/secrets.py'" in issue.message and "symbolic link" in issue.message


def test_encrypted_member_is_refused() -> None:
    data = build([Entry("lib/x.py", b"x = 1\n", flags=0x1)]).data
    issue = only_issue(check(data)[1])
    assert "'lib/x.py'" in issue.message and "encrypted" in issue.message


def test_too_many_members() -> None:
    data = make_zip({f"m{i}.py": b"x = 1\n" for i in range(6)})
    issue = only_issue(check(data, limits=DEFAULT_LIMITS.replace(max_members=5))[1])
    assert issue.path == "$"
    assert "6 entries, above the limit of 5" in issue.message


def _gigabyte_of_zeros() -> tuple[bytes, int, int]:
    """A raw deflate stream of 1 GiB of zeros (about 1 MB), its CRC-32 and size, made in well under a second:
    after a full flush the compressor's output for the next 1 MiB of zeros is the same bytes again."""
    size = 1 << 30
    chunk = bytes(1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    compressor.compress(chunk)
    first = compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert block == first
    crc = 0
    for _ in range(size // len(chunk)):
        crc = zlib.crc32(chunk, crc)
    stream = block * (size // len(chunk)) + compressor.flush()
    assert len(zlib.decompressobj(-15).decompress(stream[:100_000], 1 << 20)) == 1 << 20  # it really inflates
    return stream, crc, size


def test_gigabyte_member_is_refused_without_inflating() -> None:
    stream, crc, size = _gigabyte_of_zeros()
    data = build([Entry("lib/__init__.py", b""),
                  Entry("lib/table.dat", method=DEFLATED, payload=stream, crc=crc, size=size)]).data
    started = time.perf_counter()
    files, issues = check(data)
    assert time.perf_counter() - started < 2  # inflating 1 GiB takes longer than that
    assert files == ()
    on_member = [i.message for i in issues if i.path == '$.files["lib/table.dat"]']
    ratio = (f"python_lib.zip: member 'lib/table.dat': declared compression ratio of {size // len(stream)}:1 "
             f"(1073741824 bytes from {len(stream)}) is above the limit of 200:1 (possible zip bomb)")
    assert sorted(on_member) == [ratio, "python_lib.zip: member 'lib/table.dat': declared size of 1073741824 bytes "
                                        "is above the per-member limit of 67108864 bytes"]
    on_zip = [i.message for i in issues if i.path == "$"]
    assert len(on_zip) == 1 and "declared total compression ratio" in on_zip[0]
    # With a per-member limit that lets it through, the ratio still refuses it unread.
    issues = check(data, limits=DEFAULT_LIMITS.replace(max_member_size=2 << 30, max_media_size=2 << 30))[1]
    assert [i.message for i in issues if "lib/table.dat" in i.message] == [ratio]


@pytest.mark.parametrize("name", ["lib/liar.py", "lib/liar.dat"])
def test_header_that_lies_about_size(name: str) -> None:
    content = b"x = 1\n" * 1000
    data = build([Entry("lib/__init__.py", b""),
                  Entry(name, content, method=DEFLATED, size=12, crc=zlib.crc32(content[:12]))]).data
    files, issues = check(data)
    assert "lib/__init__.py" in files and name in files
    issue = only_issue(issues)
    assert issue.path == file_path(name)
    assert issue.message == f"python_lib.zip: member {name!r}: data inflates past its declared size of 12 bytes"


def test_crc_mismatch_in_a_data_file() -> None:
    data = build([Entry("lib/__init__.py", b""), Entry("lib/data.bin", b"payload", crc=0x12345678)]).data
    issue = only_issue(check(data)[1])
    assert "'lib/data.bin'" in issue.message and "CRC-32 mismatch" in issue.message


def test_python_that_does_not_parse() -> None:
    zip_bytes = make_zip({**GOOD, "mitxgraders/old.py": b"import sys\nprint 'hello'\n",
                          "lib/broken.py": b"def f(:\n    pass\n"})
    files, issues = check(zip_bytes)
    assert "mitxgraders/old.py" in files
    by_path = {i.path: i for i in issues}
    assert set(by_path) == {'$.files["mitxgraders/old.py"]', '$.files["lib/broken.py"]'}
    old = by_path['$.files["mitxgraders/old.py"]']
    assert old.member == ZIP_MEMBER
    assert old.message.startswith("python_lib.zip: mitxgraders/old.py does not parse: line 2: ")
    assert "print" in old.message
    assert by_path['$.files["lib/broken.py"]'].message.startswith("python_lib.zip: lib/broken.py does not parse: "
                                                                 "line 1: ")


def test_compile_errors_beyond_the_parser() -> None:
    issue = only_issue(check(make_zip({"m.py": b"x = 1\nreturn x\n"}))[1])
    assert issue.message == "python_lib.zip: m.py does not parse: line 2: 'return' outside function"


@pytest.mark.parametrize(("source", "expected"), [
    (b"x = '\xe9t\xe9'\n", "m.py is not UTF-8: line 1: byte 0xe9 at offset 5"),
    (b"# -*- coding: latin-1 -*-\nx = '\xe9'\n", "m.py is not UTF-8: line 2: byte 0xe9 at offset 31"),
    (b"x = 1\x00\n", "m.py does not parse: "),
    (b"x = " + b"(" * 300 + b")" * 300 + b"\n", "m.py does not parse: line 1: too many nested parentheses"),
    (b"x = " + b"-" * 200_000 + b"1\n", "m.py does not parse: "),
])  # fmt: skip
def test_sources_that_are_not_python3(source: bytes, expected: str) -> None:
    issue = only_issue(check(make_zip({"m.py": source}))[1])
    assert issue.path == '$.files["m.py"]'
    assert issue.message.startswith(f"python_lib.zip: {expected}")


def test_source_size_caps() -> None:
    big = b"x = 1\n" * 400
    limits = DEFAULT_LIMITS.replace(max_toml_size=1000)
    issue = only_issue(check(make_zip({"big.py": big, "small.py": b"y = 2\n"}), limits=limits)[1])
    assert issue.message == ("python_lib.zip: big.py is 2400 bytes, above the limit of 1000 bytes for a Python "
                             "source file (max_toml_size)")
    many = {f"m{i}.py": b"x = 1\n" * 100 for i in range(5)}
    limits = DEFAULT_LIMITS.replace(max_media_size=2000)
    issue = only_issue(check(make_zip(many), limits=limits)[1])
    assert issue.path == "$" and "Python source files total more than 2000 bytes" in issue.message


def test_zip_larger_than_a_media_file_is_refused_unread() -> None:
    zip_bytes = make_zip({"data.bin": random.Random(1).randbytes(5000)})
    issue = only_issue(check(zip_bytes, limits=DEFAULT_LIMITS.replace(max_media_size=1000))[1])
    assert issue.message == "python_lib.zip: the file is more than 1000 bytes, above the limit for a media file"
    found = inspect_nested_zip(io.BytesIO(zip_bytes), member="python_lib.zip", declared_size=10**9)
    assert not found.ok
    assert "python_lib.zip: the file is 1000000000 bytes, above the limit of 50000000" in found.problems[0].message
    found = inspect_nested_zip(io.BytesIO(zip_bytes), member="python_lib.zip", declared_size=5)
    assert found.problems[0].message == f"python_lib.zip: the file is {len(zip_bytes)} bytes long, not the declared 5"


def test_listing_only() -> None:
    zip_bytes = make_zip({**GOOD, "mitxgraders/old.py": b"print 'x'\n"})
    found = inspect_nested_zip(io.BytesIO(zip_bytes), member="python_lib.zip", check_sources=False)
    assert found.ok and provided_modules(found.files) == {"lib", "mitxgraders"}
    assert found.total_uncompressed == sum(len(v) for v in GOOD.values()) + len(b"print 'x'\n")


# -- through backup and restore ------------------------------------------------------------------------


def _library_store(path: Path, media: Mapping[str, str | bytes]) -> SqlStore:
    store = open_store(f"sqlite:///{path}")
    with store.author("lib:Org:CODE", create={"title": "Code", "description": ""}) as a:
        a.create_component(CODE_LIBRARY_NAMESPACE, CODE_LIBRARY_TYPE, "graders")
        a.add_component_version(REF, dict(media), title="Graders")
        a.add_component_version(REF, dict(media), title="Graders again")  # same zip: one blob
        a.publish(message="first")
    return store


@pytest.mark.parametrize("fmt", ["v1", "v2"])
def test_library_round_trips(tmp_path: Path, fmt: Literal["v1", "v2"]) -> None:
    zip_bytes = make_zip(GOOD)
    store = _library_store(tmp_path / "src.db", {CODE_LIBRARY_MEDIA: zip_bytes})
    archive = tmp_path / "code.zip"
    backup(store, "lib:Org:CODE", archive, format=fmt)
    fresh = open_store(f"sqlite:///{tmp_path / 'fresh.db'}")
    restore(archive, fresh, ref="lib:Org:COPY")
    with fresh.read("lib:Org:COPY") as source:
        (entity,) = source.iter_entities(history="all")
        assert (entity.ref, entity.namespace, entity.type) == (REF, CODE_LIBRARY_NAMESPACE, CODE_LIBRARY_TYPE)
        (media,) = entity.versions[-1].media
        assert (media.path, media.media_type, media.size) == (CODE_LIBRARY_MEDIA, "application/zip", len(zip_bytes))
        with source.open_blob(media.sha256) as blob:
            assert blob.read() == zip_bytes
    fresh.close()
    store.close()


@pytest.mark.parametrize("fmt", ["v1", "v2"])
def test_restore_refuses_hostile_library(tmp_path: Path, fmt: Literal["v1", "v2"]) -> None:
    evil = make_zip({**GOOD, zipfile.ZipInfo("../evil.py"): b"import os\n", "lib/old.py": b"print 'x'\n"})
    store = _library_store(tmp_path / "src.db", {CODE_LIBRARY_MEDIA: evil})
    archive = tmp_path / "evil.zip"
    backup(store, "lib:Org:CODE", archive, format=fmt)
    fresh = open_store(f"sqlite:///{tmp_path / 'fresh.db'}")
    with pytest.raises(ArchiveInvalid) as caught:
        restore(archive, fresh, ref="lib:Org:COPY")
    found = {(p.path, p.message) for p in caught.value.problems}
    assert ('$.files["../evil.py"]', "python_lib.zip: member '../evil.py': '..' path component (path traversal)") \
        in found
    with ArchiveReader(archive) as reader:
        names = set(reader.names())
    assert all(p.member in names for p in caught.value.problems)
    assert fresh.package_refs() == []
    fresh.close()
    store.close()


def test_restore_refuses_library_with_block_xml(tmp_path: Path) -> None:
    store = _library_store(tmp_path / "src.db", {CODE_LIBRARY_MEDIA: make_zip(GOOD), "block.xml": "<problem/>"})
    archive = tmp_path / "olx.zip"
    backup(store, "lib:Org:CODE", archive, format="v2")
    fresh = open_store(f"sqlite:///{tmp_path / 'fresh.db'}")
    with pytest.raises(ArchiveInvalid, match=r"a code library holds only python_lib\.zip; it also has 'block\.xml'"):
        restore(archive, fresh, ref="lib:Org:COPY")
    fresh.close()
    store.close()


@pytest.mark.parametrize("fmt", ["v1", "v2"])
def test_library_backs_up_again_byte_for_byte(tmp_path: Path, fmt: Literal["v1", "v2"],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """store -> archive -> fresh store -> archive: the same bytes; inspect lists the zip's files.

    v1 does not carry version times (a reported loss), so there the fixed point is reached one round later.
    """
    from datetime import UTC, datetime

    from lc_archive.cli import main

    when = datetime(2026, 5, 6, tzinfo=UTC)
    store = _library_store(tmp_path / "src.db", {CODE_LIBRARY_MEDIA: make_zip(GOOD)})
    backup(store, "lib:Org:CODE", tmp_path / "one.zip", format=fmt, created_at=when)
    store.close()
    fresh = open_store(f"sqlite:///{tmp_path / 'fresh.db'}")
    restore(tmp_path / "one.zip", fresh, ref="lib:Org:CODE")
    backup(fresh, "lib:Org:CODE", tmp_path / "two.zip", format=fmt, created_at=when)
    fresh.close()
    again = open_store(f"sqlite:///{tmp_path / 'again.db'}")
    restore(tmp_path / "two.zip", again, ref="lib:Org:CODE")
    backup(again, "lib:Org:CODE", tmp_path / "three.zip", format=fmt, created_at=when)
    again.close()
    first = "one.zip" if fmt == "v2" else "two.zip"
    assert (tmp_path / first).read_bytes() == (tmp_path / "three.zip").read_bytes()
    if fmt == "v2":
        assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    assert main(["inspect", str(tmp_path / "two.zip"), "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["result"]["entity_list"]
    assert row["ref"] == REF and row["files"] == sorted(name for name in GOOD if isinstance(name, str))


@pytest.mark.peer
@pytest.mark.xdist_group("peer")
def test_openedx_core_restores_a_v1_archive_with_a_code_library(peer_dir: Path, peer_python: Path,
                                                                  tmp_path: Path) -> None:
    """ADR 0003: in v1 a code library is an ordinary component that openedx-core 1.15.2 accepts and keeps."""
    from support.peer import PEER_REF
    from support.peer import peer_restore as _peer_restore

    from lc_archive.usecases.state import compute_state

    zip_bytes = make_zip(GOOD)
    store = open_store(f"sqlite:///{tmp_path / 'ours.db'}")
    restore(peer_dir / "fixtures" / "library_backup.zip", store, ref=PEER_REF)
    with store.author(PEER_REF) as a:
        a.create_component(CODE_LIBRARY_NAMESPACE, CODE_LIBRARY_TYPE, "graders")
        a.add_component_version(REF, {CODE_LIBRARY_MEDIA: zip_bytes}, title="Graders")
        a.publish(refs=[REF])
    backup(store, PEER_REF, tmp_path / "ours.zip", format="v1")
    with store.read(PEER_REF) as source:
        ours = compute_state(source)
    store.close()
    got = _peer_restore(peer_dir, peer_python, tmp_path / "ours.zip", tmp_path / "peer.sqlite3")
    assert got["status"] == "success", got["errors"]
    library = got["state"]["entities"][REF]
    assert library["type"] == f"{CODE_LIBRARY_NAMESPACE}:{CODE_LIBRARY_TYPE}"
    assert library["published"]["media"] == {CODE_LIBRARY_MEDIA: hashlib.sha256(zip_bytes).hexdigest()}
    assert got["state"]["entities"][REF] == ours["entities"][REF]
