"""The lc-archive conformance suite, plus checks specific to the tags plugin."""

from __future__ import annotations

from typing import Any, ClassVar

from lc_archive_tags import ObjectTag, TagsSerializer

from lc_archive.archive.limits import DEFAULT_LIMITS
from lc_archive.errors import Problem
from lc_archive.plugins.contract import PayloadTarget
from lc_archive.plugins.payloads import check_payload, decode_payload, encode_payload, parse_payload, render_payload
from lc_archive.testing import Samples, SerializerConformance, check_serializer

V1: dict[str, Any] = {"tags": [{"taxonomy": "difficulty", "value": "Easy"}, {"taxonomy": "subject", "value": "Optics"}]}
V2: dict[str, Any] = {
    "tags": [
        {"taxonomy": "difficulty", "value": "Easy", "lineage": ["Easy"]},
        {"taxonomy": "subject", "value": "Optics", "lineage": ["Science", "Physics", "Optics"]},
    ],
}
V2_EMPTY: dict[str, Any] = {"tags": []}
ENTITY = PayloadTarget("entity", "xblock.v1:html:intro", None, "component", "xblock.v1:html")


class TestTagsConformance(SerializerConformance):
    serializer = TagsSerializer
    samples: ClassVar[Samples] = {1: [V1], 2: [V2, V2_EMPTY]}


def test_check_serializer_function() -> None:
    check_serializer(TagsSerializer(), {1: [V1], 2: [V2]})


def _check(data: dict[str, Any], schema_version: int = 2) -> tuple[list[Problem], bytes | None]:
    body = render_payload("tags", schema_version, data, entity=ENTITY.entity)
    problems: list[Problem] = []
    parsed = parse_payload("plugins/tags/xblock.v1/html/intro.json", body, limits=DEFAULT_LIMITS, problems=problems)
    assert parsed is not None, problems
    record = check_payload(parsed, TagsSerializer(), ENTITY, problems=problems, notes=[])
    return problems, None if record is None else record.body


def test_lineage_must_end_with_the_value() -> None:
    problems, body = _check({"tags": [V2["tags"][0], {"taxonomy": "subject", "value": "Optics",
                                                     "lineage": ["Science", "Physics"]}]})
    assert body is None
    assert [(p.path, p.message) for p in problems] == [
        ("$.data.tags[1].lineage", "the lineage must end with the tag's value 'Optics', not 'Physics'")]


def test_duplicate_tags_are_refused_with_both_paths() -> None:
    problems, _ = _check({"tags": [V2["tags"][1], V2["tags"][0], V2["tags"][1]]})
    assert [str(p) for p in problems] == [
        "plugins/tags/xblock.v1/html/intro.json: $.data.tags[2]: tag 'Optics' of taxonomy 'subject' is already on "
        "this object at $.data.tags[0]"]


def test_v1_upgrade_sets_lineage_to_the_value() -> None:
    problems, body = _check(V1, schema_version=1)
    assert problems == []
    assert body == render_payload("tags", 2, {"tags": [{**t, "lineage": [t["value"]]} for t in V1["tags"]]},
                                  entity=ENTITY.entity)


def test_records_are_object_tags() -> None:
    tags = [ObjectTag(taxonomy="subject", value="Optics", lineage=("Science", "Physics", "Optics"))]
    record = encode_payload(TagsSerializer(), tags, entity="xblock.v1:html:intro")
    assert record.plugin == "tags" and record.schema_version == 2
    assert decode_payload(TagsSerializer(), record) == tags
