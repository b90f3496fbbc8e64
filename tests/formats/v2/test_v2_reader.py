"""Phase A on v2 archives: the manifest is checked first and every member against it; every problem
is named by member and TOML path; nothing is written when anything is wrong."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from support.paths import REPO
from support.v2kit import (
    REF,
    Member,
    add_member,
    backup_v2,
    handmade_store,
    members_of,
    rebuild,
    replace_member,
    restore_v2,
)

from lc_archive.archive.zip_reader import ArchiveReader
from lc_archive.errors import ArchiveInvalid, Problem
from lc_archive.formats.v2 import is_v2, read_v2, verify_v2
from lc_archive.stores import open_store

INTRO = "entities/xblock.v1/html/intro.toml"
UNIT = "entities/unit-1.toml"
PNG = "entities/xblock.v1/html/intro/v1/static/a.png"
XML = "entities/xblock.v1/html/intro/v1/block.xml"
COLLECTION = "collections/old.toml"
LOG = "publish_log.toml"


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("v2reader")
    store = handmade_store(tmp / "src.db")
    backup_v2(store, REF, tmp / "good.zip")
    store.close()
    return tmp / "good.zip"


def problems_of(path: Path, check: Callable[..., object] = read_v2) -> list[Problem]:
    with pytest.raises(ArchiveInvalid) as info, ArchiveReader(path) as reader:
        result = check(reader)
        if hasattr(result, "close"):
            result.close()
    return list(info.value.problems)


def assert_problem(problems: list[Problem], member: str, path: str, text: str) -> None:
    hits = [p for p in problems if p.member == member and p.path == path and text in p.message]
    assert hits, f"no problem {member}: {path}: ...{text}... in:\n" + "\n".join(map(str, problems))


def edited(archive: Path, tmp_path: Path, name: str, old: str, new: str, *, count: int = 1) -> Path:
    """The archive with one text member edited (and a correct manifest)."""
    members = members_of(archive)
    text = next(m.data for m in members if m.name == name).decode()
    assert text.count(old) >= count, (name, old)
    return rebuild(tmp_path / "edited.zip", replace_member(members, name, text.replace(old, new, count).encode()))


def test_the_archive_is_valid(archive: Path) -> None:
    with ArchiveReader(archive) as reader:
        assert is_v2(reader)
        summary = verify_v2(reader)
    assert summary.verified_members == len(zipfile.ZipFile(archive).namelist())
    with ArchiveReader(REPO / "testdata" / "sample-library.zip") as reader:
        assert not is_v2(reader)


# -- corruption: every member kind ------------------------------------------------------------------

KINDS = ["package.toml", UNIT, INTRO, PNG, XML, COLLECTION, LOG, "manifest.json"]


@pytest.mark.parametrize("name", KINDS)
def test_flipping_one_byte_fails_naming_the_member(archive: Path, tmp_path: Path, name: str) -> None:
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as z:
        info = z.getinfo(name)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0xFF
    bad = tmp_path / "bad.zip"
    bad.write_bytes(bytes(data))
    for check in (read_v2, verify_v2):
        problems = problems_of(bad, check)
        assert any(p.member == name for p in problems), "\n".join(map(str, problems))
    store = open_store(f"sqlite:///{tmp_path / 'target.db'}")
    with pytest.raises(ArchiveInvalid):
        restore_v2(bad, store, REF)
    assert store.package_refs() == []  # nothing written
    store.close()


def _altered(data: bytes) -> bytes:
    """The same length, one byte different (a letter inside the text, or any byte of a binary)."""
    out = bytearray(data)
    at = data.find(b'title = "')
    at = at + 9 if at >= 0 else len(data) // 2
    out[at] = ord("Z") if out[at] != ord("Z") else ord("Y")
    return bytes(out)


@pytest.mark.parametrize("name", KINDS[:-1])
def test_a_member_changed_behind_the_manifest_fails_its_sha256(archive: Path, tmp_path: Path, name: str) -> None:
    # The ZIP itself is valid (CRCs match the new data): only the manifest can tell.
    members = members_of(archive)
    old = next(m.data for m in members if m.name == name)
    bad = rebuild(tmp_path / "bad.zip", replace_member(members, name, _altered(old)), manifest="keep")
    for check in (read_v2, verify_v2):
        problems = problems_of(bad, check)
        assert_problem(problems, name, "$", "SHA-256 mismatch")


def test_a_changed_manifest_entry_names_the_member(archive: Path, tmp_path: Path) -> None:
    members = members_of(archive)
    manifest = next(m.data for m in members if m.name == "manifest.json").decode()
    line = next(li for li in manifest.splitlines() if '"package.toml"' in li)
    sha = line.rsplit('"sha256": "', 1)[1][:64]
    changed = manifest.replace(sha, ("0" if sha[0] != "0" else "1") + sha[1:])
    bad = rebuild(tmp_path / "bad.zip", replace_member(members, "manifest.json", changed.encode()), manifest="keep")
    assert_problem(problems_of(bad), "package.toml", "$", "manifest.json says")


# -- the manifest's listing -------------------------------------------------------------------------


def test_missing_manifest(archive: Path, tmp_path: Path) -> None:
    members = [m for m in members_of(archive) if m.name != "manifest.json"]
    problems = problems_of(rebuild(tmp_path / "bad.zip", members, manifest="keep"))
    assert_problem(problems, "manifest.json", "$", "missing")


def test_manifest_must_be_last_and_list_everything(archive: Path, tmp_path: Path) -> None:
    members = members_of(archive)
    late = [*members, Member("x/late.txt", b"late", True, members[0].when)]
    problems = problems_of(rebuild(tmp_path / "late.zip", late, manifest="keep"))
    assert_problem(problems, "manifest.json", "$", "must be the last member")
    assert_problem(problems, "x/late.txt", "$", "not listed in manifest.json")
    unlisted = add_member(members, "x/extra.txt", b"extra")
    assert_problem(problems_of(rebuild(tmp_path / "unlisted.zip", unlisted, manifest="keep")),
                   "x/extra.txt", "$", "not listed in manifest.json")


def test_manifest_listing_a_missing_member(archive: Path, tmp_path: Path) -> None:
    members = [m for m in members_of(archive) if m.name != COLLECTION]
    problems = problems_of(rebuild(tmp_path / "bad.zip", members, manifest="keep"))
    hits = [p for p in problems if p.member == "manifest.json" and COLLECTION in p.message]
    assert hits and hits[0].path.startswith("$.members[") and "not in the archive" in hits[0].message


def test_manifest_listing_a_member_twice_or_a_directory(archive: Path, tmp_path: Path) -> None:
    # The manifest's index is kept by the reader's slot of each member (a directory entry has none).
    members = members_of(archive)
    manifest = json.loads(next(m.data for m in members if m.name == "manifest.json"))
    first = manifest["members"][0]
    manifest["members"].insert(1, dict(first))
    manifest["members"].insert(0, {"name": "x/", "size": 0, "sha256": "0" * 64})
    with zipfile.ZipFile(tmp_path / "twice.zip", "w") as z:
        z.writestr("x/", b"")
        for m in members:
            z.writestr(m.name, json.dumps(manifest).encode() if m.name == "manifest.json" else m.data)
    problems = problems_of(tmp_path / "twice.zip")
    assert_problem(problems, "manifest.json", "$.members[2].name", f"lists {first['name']!r} more than once")
    assert_problem(problems, "manifest.json", "$.members", "another order")
    assert_problem(problems, "x/", "$", "a directory entry")
    assert not [p for p in problems if "SHA-256" in p.message or "manifest.json says" in p.message]


def test_member_order_must_match_the_manifest(archive: Path, tmp_path: Path) -> None:
    members = members_of(archive)
    i, j = 1, 2
    members[i], members[j] = members[j], members[i]
    problems = problems_of(rebuild(tmp_path / "bad.zip", members, manifest="keep"))
    assert_problem(problems, "manifest.json", "$.members", "another order")


def test_manifest_json_problems_have_paths(archive: Path, tmp_path: Path) -> None:
    members = members_of(archive)
    manifest = next(m.data for m in members if m.name == "manifest.json").decode()
    for old, new, path, text in [
        ('"format_version": 2', '"format_version": "2"', "$.format_version", "integer"),
        ('"format_version": 2', '"format_version": 3', "$.format_version", "unsupported format version 3"),
        ('"members": [', '"color": 1, "members": [', "$.color", "Extra inputs"),
        ('{"name": "package.toml"', "{", "$", "JSON"),
    ]:
        bad = rebuild(tmp_path / "bad.zip", replace_member(members, "manifest.json",
                                                           manifest.replace(old, new, 1).encode()), manifest="keep")
        assert_problem(problems_of(bad), "manifest.json", path, text)


def test_directory_entries_and_stray_members(archive: Path, tmp_path: Path) -> None:
    path = rebuild(tmp_path / "stray.zip", add_member(members_of(archive), "notes/readme.txt", b"hi"))
    assert_problem(problems_of(path), "notes/readme.txt", "$", "fits nowhere")
    with zipfile.ZipFile(tmp_path / "dirs.zip", "w") as z, zipfile.ZipFile(archive) as src:
        z.writestr("entities/", b"")
        for info in src.infolist():
            z.writestr(info, src.read(info))
    assert_problem(problems_of(tmp_path / "dirs.zip"), "entities/", "$", "directory entry")


def test_extension_members_are_verified_and_ignored(archive: Path, tmp_path: Path) -> None:
    path = rebuild(tmp_path / "x.zip", add_member(members_of(archive), "x/tool/data.json", b"{}"))
    with ArchiveReader(path) as reader, read_v2(reader) as plan:
        assert plan.notes and "x/tool/data.json" in plan.notes[0]


# -- documents --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "old", "new", "path", "text"), [
    ("package.toml", "format_version = 2", "format_version = 3", "$.meta.format_version", "unsupported"),
    ("package.toml", 'format = "lc-archive"', 'format = "other"', "$.meta.format", "lc-archive"),
    ("package.toml", "created_at = 2026-01-02T03:04:05Z", 'created_at = "2026-01-02T03:04:05Z"',
     "$.meta.created_at", "offset date-time"),
    ("package.toml", "created_at = 2026-01-02T03:04:05Z", "created_at = 2026-01-02T03:04:05",
     "$.meta.created_at", "no UTC offset"),
    ("package.toml", "[learning_package]", "[learning_package]\ncolor = 1", "$.learning_package.color", "Extra"),
    (INTRO, "number = 1", 'number = "1"', "$.version[0].number", "integer"),
    (INTRO, "number = 2", "number = 1", "$.version[1].number", "ascending"),
    (INTRO, "[entity.draft]\nversion = 7", "[entity.draft]\nversion = 9", "$.entity.draft.version", "version 9"),
    (INTRO, "[entity.draft]\nversion = 7", "[entity.draft]\nversion = 7\ndeleted = true", "$.entity.draft",
     "exactly one"),
    (INTRO, 'kind = "component"', 'kind = "container"', "$.entity.kind", "component"),
    (INTRO, "text = true", "text = 1", "$.version[0].media[0].text", "boolean"),
    (INTRO, 'path = "static/a.png"', 'path = "../a.png"', "$.version[0].media[1].path", "'..'"),
    (INTRO, "size = 300", "size = 301", "$.version[0].media[1].size", "not 301"),
    (INTRO, 'code = "intro"', 'code = "in tro"', "$.entity.code", "invalid code"),
    (UNIT, 'ref = "xblock.v1:html:kept"', 'ref = "nope"', "$.version[2].children[1].ref", "no valid entity"),
    (UNIT, 'ref = "xblock.v1:html:kept"', 'ref = "sub-1"', "$.version[2].children[1].ref", "a unit holds"),
    (UNIT, "pinned = 2", "pinned = 4", "$.version[2].children[0].pinned", "has no version 4"),
    (UNIT, 'type = "unit"', 'type = "chapter"', "$.entity.type", "unit"),
    (COLLECTION, '"xblock.v1:html:strasse",', '"ghost",', "$.collection.members[0]", "no valid entity"),
    (COLLECTION, '"xblock.v1:html:strasse",', '"xblock.v1:html:straße",', "$.collection.members[1]", "twice"),
    (COLLECTION, 'code = "old"', 'code = "c1"', "$.collection.code", "also defined"),
    (LOG, 'ref = "sub-1"', 'ref = "ghost"', "$.publish[0].change[8].ref", "no valid entity"),
    (LOG, "old = 5\nnew = 2", "old = 5\nnew = 12", "$.publish[2].change[0].new", "has no version 12"),
    (LOG, 'message = "Delete dead"', 'message = "Delete dead"\nextra = true', "$.publish[1].extra", "Extra"),
])  # fmt: skip
def test_document_problems_have_toml_paths(archive: Path, tmp_path: Path, name: str, old: str, new: str,
                                           path: str, text: str) -> None:
    assert_problem(problems_of(edited(archive, tmp_path, name, old, new)), name, path, text)


def test_x_tables_are_accepted_everywhere(archive: Path, tmp_path: Path) -> None:
    members = members_of(archive)
    for name, old, new in [
        ("package.toml", "[learning_package]", "[meta.x]\nfuture = [1, 2]\n\n[learning_package]"),
        (INTRO, "[entity.draft]", "[entity.x]\nnote = \"hi\"\n\n[entity.draft]"),
        (INTRO, 'path = "block.xml"', 'path = "block.xml"\nx = {checked = true}'),
        (LOG, "message = \"by nobody\"", "message = \"by nobody\"\nx.source = \"api\""),
    ]:
        text = next(m.data for m in members if m.name == name).decode()
        members = replace_member(members, name, text.replace(old, new, 1).encode())
    path = rebuild(tmp_path / "x.zip", members)
    with ArchiveReader(path) as reader, read_v2(reader) as plan:
        assert plan.entity_count > 0


def test_blob_problems(archive: Path, tmp_path: Path) -> None:
    members = members_of(archive)
    # A media record whose blob is not in the archive, and a blob nothing uses.
    no_blob = rebuild(tmp_path / "a.zip", [m for m in members if m.name != PNG])
    assert_problem(problems_of(no_blob), INTRO, "$.version[0].media[1].sha256", "no member of the archive holds")
    unused = rebuild(tmp_path / "b.zip", add_member(members, "entities/xblock.v1/html/intro/v9/extra.bin", b"\0"))
    assert_problem(problems_of(unused), "entities/xblock.v1/html/intro/v9/extra.bin", "$", "no media record uses")
    # The same bytes twice.
    png = next(m.data for m in members if m.name == PNG)
    twice = rebuild(tmp_path / "c.zip", add_member(members, "entities/xblock.v1/html/intro/v9/copy.png", png))
    assert_problem(problems_of(twice), "entities/xblock.v1/html/intro/v9/copy.png", "$", "same bytes as " + PNG)
    # Stored as text, but not UTF-8.
    text = next(m.data for m in members if m.name == INTRO).decode()
    at = text.index('path = "static/a.png"')
    fixed = text[:at] + text[at:].replace("text = false", "text = true", 1)
    not_utf8 = rebuild(tmp_path / "d.zip", replace_member(members, INTRO, fixed.encode()))
    assert_problem(problems_of(not_utf8), INTRO, "$.version[0].media[1].text", "not valid UTF-8")


def test_duplicate_entity_and_missing_publish_log(archive: Path, tmp_path: Path) -> None:
    members = members_of(archive)
    unit = next(m.data for m in members if m.name == UNIT)
    path = rebuild(tmp_path / "dup.zip", [m for m in add_member(members, "entities/copy.toml", unit) if m.name != LOG])
    problems = problems_of(path)
    assert_problem(problems, "entities/copy.toml", "$.entity.ref", "also defined in " + UNIT)
    assert_problem(problems, LOG, "$", "missing")


def test_all_problems_are_reported_at_once(archive: Path, tmp_path: Path) -> None:
    members = members_of(archive)
    intro = next(m.data for m in members if m.name == INTRO).decode().replace("number = 1", 'number = "1"', 1)
    unit = next(m.data for m in members if m.name == UNIT).decode().replace("pinned = 2", "pinned = 4")
    members = replace_member(replace_member(members, INTRO, intro.encode()), UNIT, unit.encode())
    problems = problems_of(rebuild(tmp_path / "two.zip", members))
    assert {p.member for p in problems} >= {INTRO, UNIT}


def _swap_blob(members: list[Member], blob: str, toml: str, data: bytes) -> list[Member]:
    """Replace a blob's bytes and the sha256/size its entity TOML records for it."""
    import hashlib

    old = next(m.data for m in members if m.name == blob)
    text = next(m.data for m in members if m.name == toml).decode()
    old_sha, new_sha = hashlib.sha256(old).hexdigest(), hashlib.sha256(data).hexdigest()
    text = text.replace(f'sha256 = "{old_sha}"\nsize = {len(old)}\n', f'sha256 = "{new_sha}"\nsize = {len(data)}\n')
    return replace_member(replace_member(members, blob, data), toml, text.encode())


@pytest.mark.parametrize("blob_first", [False, True])
@pytest.mark.parametrize(("olx", "text"), [
    (b'<!DOCTYPE x [<!ENTITY a "b">]><html>&a;</html>', "DOCTYPE"),
    (b"<html><p></html>", "not well-formed"),
    (b"<html>\xff</html>", "not valid UTF-8"),
])  # fmt: skip
def test_block_xml_must_be_safe_olx(archive: Path, tmp_path: Path, olx: bytes, text: str, blob_first: bool) -> None:
    members = _swap_blob(members_of(archive), XML, INTRO, olx)
    if blob_first:  # not a writer's order: the OLX check happens after the TOML is read
        at = next(i for i, m in enumerate(members) if m.name == INTRO)
        blob = next(m for m in members if m.name == XML)
        members = [m for m in members if m.name != XML]
        members.insert(at, blob)
    problems = problems_of(rebuild(tmp_path / "bad.zip", members))
    assert_problem(problems, XML, "$", text)


def test_a_good_blob_swap_is_accepted(archive: Path, tmp_path: Path) -> None:
    members = _swap_blob(members_of(archive), XML, INTRO, b"<html>fine</html>")
    with ArchiveReader(rebuild(tmp_path / "ok.zip", members)) as reader, read_v2(reader) as plan:
        assert plan.entity_count > 0
