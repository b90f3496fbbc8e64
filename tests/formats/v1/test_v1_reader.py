"""Phase A on v1 archives: what is accepted, and every problem named by member and field path."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.v1kit import collection, component, container, make_zip, tiny_members

from lc_archive.archive.zip_reader import ArchiveReader
from lc_archive.domain import EntityRecord
from lc_archive.errors import ArchiveInvalid, Problem
from lc_archive.formats.plan import RestorePlan
from lc_archive.formats.v1.reader import read_v1

BASE = "entities/xblock.v1/html"


def plan_of(tmp_path: Path, members: dict[str, bytes | str]) -> RestorePlan:
    with ArchiveReader(make_zip(tmp_path / "a.zip", members)) as reader:
        return read_v1(reader)


def problems_of(tmp_path: Path, members: dict[str, bytes | str]) -> list[Problem]:
    with pytest.raises(ArchiveInvalid) as info:
        plan_of(tmp_path, members)
    return list(info.value.problems)


def entities(plan: RestorePlan) -> dict[str, EntityRecord]:
    return {e.ref: e for batch in plan.entity_batches() for e in batch}


def assert_problem(problems: list[Problem], member: str, path: str, text: str) -> None:
    hits = [p for p in problems if p.member == member and p.path == path and text in p.message]
    assert hits, f"no problem {member}: {path}: ...{text}... in:\n" + "\n".join(map(str, problems))


def test_valid_archive_gives_records(tmp_path: Path) -> None:
    with plan_of(tmp_path, tiny_members()) as plan:
        ents = entities(plan)
        intro = ents["xblock.v1:html:intro"]
        assert (intro.draft, intro.published, intro.draft_deleted) == (2, 1, False)
        assert [v.number for v in intro.versions] == [1, 2]
        v2 = intro.version(2)
        assert v2 is not None
        assert [(m.path, m.media_type, m.has_text) for m in v2.media] == [
            ("block.xml", "application/vnd.openedx.xblock.v1.html+xml", True),
            ("static/me.png", "image/png", False),
        ]
        unit = ents["unit-1"]
        assert (unit.kind, unit.type, unit.code) == ("container", "unit", "unit-1")
        assert [c.ref for c in unit.versions[0].children] == ["xblock.v1:html:intro", "xblock.v1:html:outro"]
        assert plan.collections[0].members == ("unit-1", "xblock.v1:html:intro")
        assert plan.summary().distinct_blobs == 4
        # versions without `created` take the archive's created_at
        assert intro.versions[0].created.isoformat() == "2025-10-05T18:23:45.180535+00:00"


def test_published_without_draft_is_a_soft_deleted_draft(tmp_path: Path) -> None:
    m = tiny_members()
    m[f"{BASE}/outro.toml"] = component("xblock.v1:html:outro", [(1, "Outro")], None, 1)
    with plan_of(tmp_path, m) as plan:
        outro = entities(plan)["xblock.v1:html:outro"]
        assert (outro.draft, outro.draft_deleted, outro.published) == (None, True, 1)


def test_toml_asset_and_vN_inside_asset_paths_are_media(tmp_path: Path) -> None:
    m = tiny_members()
    m[f"{BASE}/outro/component_versions/v1/static/config.toml"] = b"answer = 42\n"
    m[f"{BASE}/outro/component_versions/v1/static/assets_v1/nav1/v1/figure.png"] = b"png"
    with plan_of(tmp_path, m) as plan:
        v1 = entities(plan)["xblock.v1:html:outro"].versions[0]
        assert [x.path for x in v1.media] == ["block.xml", "static/config.toml",
                                              "static/assets_v1/nav1/v1/figure.png"]


def test_wrapper_folder_is_accepted(tmp_path: Path) -> None:
    with plan_of(tmp_path, {f"backup/{k}": v for k, v in tiny_members().items()}) as plan:
        assert plan.entity_count == 3


def test_unknown_format_version(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, tiny_members(fv=99))
    assert_problem(problems, "package.toml", "$.meta.format_version", "unsupported format version 99")


def test_missing_package_toml(tmp_path: Path) -> None:
    m = tiny_members()
    del m["package.toml"]
    assert_problem(problems_of(tmp_path, m), "package.toml", "$", "missing")


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    m = tiny_members()
    m[f"{BASE}/intro.toml"] = str(m[f"{BASE}/intro.toml"]).replace("version_num = 1\n", 'version_num = "1"\n')
    m["entities/unit-1.toml"] = container("unit-1", "unit", ["xblock.v1:html:intro", "xblock.v1:html:gone"])
    m["entities/sub-1.toml"] = container("sub-1", "subsection", ["xblock.v1:html:third"])
    m["collections/c1.toml"] = collection("c1", ["nope"])
    m[f"{BASE}/outro.toml"] = "[entity\nbroken"
    m[f"{BASE}/outro/component_versions/v1/block.xml"] = b"<html>\xff</html>"
    m[f"{BASE}/ghost/component_versions/v1/block.xml"] = "<html/>"
    m[f"{BASE}/third.toml"] = component("xblock.v1:html:third", [(1, "Third")], 1, None)
    m[f"{BASE}/third/component_versions/v7/block.xml"] = "<html/>"
    problems = problems_of(tmp_path, m)
    assert_problem(problems, f"{BASE}/intro.toml", "$.version[1].version_num", "valid integer")
    assert_problem(problems, "entities/unit-1.toml", "$.version[0].container.children[1]",
                   "no valid entity 'xblock.v1:html:gone'")
    assert_problem(problems, "collections/c1.toml", "$.collection.entities[0]", "no valid entity 'nope'")
    assert_problem(problems, f"{BASE}/outro.toml", "$", "invalid TOML")
    assert_problem(problems, f"{BASE}/outro/component_versions/v1/block.xml", "$", "not valid UTF-8")
    assert_problem(problems, f"{BASE}/ghost/component_versions/v1/block.xml", "$", "ghost.toml is missing")
    assert_problem(problems, f"{BASE}/third/component_versions/v7/block.xml", "$", "no version 7")
    assert_problem(problems, "entities/sub-1.toml", "$.version[0].container.children[0]",
                   "a subsection holds units")


def test_pointer_to_missing_version_is_a_problem(tmp_path: Path) -> None:
    m = tiny_members()
    m[f"{BASE}/outro.toml"] = component("xblock.v1:html:outro", [(1, "Outro")], 3, 1)
    assert_problem(problems_of(tmp_path, m), f"{BASE}/outro.toml", "$.entity.draft.version_num",
                   "no [[version]] has version_num = 3")


def test_duplicate_keys_and_bad_codes(tmp_path: Path) -> None:
    m = tiny_members()
    m[f"{BASE}/copy.toml"] = component("xblock.v1:html:intro", [], None, None)
    m["entities/bad.toml"] = container("lct:Org:lib:unit:u1", "unit", [])
    m[f"{BASE}/nocolon.toml"] = component("nocolons", [], None, None)
    m[f"{BASE}/elsewhere.toml"] = component("xblock.v1:problem:p1", [], None, None)
    problems = problems_of(tmp_path, m)
    assert_problem(problems, f"{BASE}/copy.toml", "$.entity.key", f"also defined in {BASE}/intro.toml")
    assert_problem(problems, "entities/bad.toml", "$.entity.key", "invalid code")
    assert_problem(problems, f"{BASE}/nocolon.toml", "$.entity.key", "namespace:type:code")
    assert_problem(problems, f"{BASE}/elsewhere.toml", "$.entity.key", "does not match the folder")


def test_container_table_must_name_one_known_type(tmp_path: Path) -> None:
    m = tiny_members()
    m["entities/unit-1.toml"] = str(m["entities/unit-1.toml"]).replace("[entity.container.unit]",
                                                                        "[entity.container.chapter]")
    problems = problems_of(tmp_path, m)
    assert_problem(problems, "entities/unit-1.toml", "$.entity.container", "exactly one of unit")
    assert_problem(problems, "collections/c1.toml", "$.collection.entities[1]", "no valid entity 'unit-1'")


def test_stray_files_are_problems_not_silently_dropped(tmp_path: Path) -> None:
    m = tiny_members()
    m[f"{BASE}/intro/readme.txt"] = "hi"
    m["entities/xblock.v1/loose.bin"] = b"x"
    problems = problems_of(tmp_path, m)
    assert_problem(problems, f"{BASE}/intro/readme.txt", "$", "component_versions")
    assert_problem(problems, "entities/xblock.v1/loose.bin", "$", "fits nowhere")


def test_files_outside_the_layout_are_noted(tmp_path: Path) -> None:
    m = tiny_members()
    m["README.txt"] = "made by hand"
    with plan_of(tmp_path, m) as plan:
        assert "README.txt" in plan.notes[0]


def test_non_utf8_toml_and_blank_title(tmp_path: Path) -> None:
    m = tiny_members()
    m["package.toml"] = str(m["package.toml"]).replace('title = "Tiny"', 'title = "  "')
    m[f"{BASE}/outro.toml"] = b'[entity]\nkey = "\xff"\n'
    problems = problems_of(tmp_path, m)
    assert_problem(problems, "package.toml", "$.learning_package.title", "must not be blank")
    assert_problem(problems, f"{BASE}/outro.toml", "$", "not valid UTF-8")
