"""Plugin payloads: rendering, the hostile-input parser, checks through a plugin, encode/decode, the
conformance suite (lc_archive.testing) and the example plugins under examples/."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel, ConfigDict, model_validator
from support.paths import REPO

from lc_archive.archive.limits import DEFAULT_LIMITS
from lc_archive.domain import PayloadRecord
from lc_archive.errors import LcArchiveError, Problem
from lc_archive.parsing.safe_json import json_depth
from lc_archive.plugins.contract import Issue, PayloadScope, PayloadTarget, PluginSerializer
from lc_archive.plugins.payloads import (
    ParsedPayload,
    PayloadError,
    check_payload,
    decode_payload,
    encode_payload,
    parse_payload,
    payload_schema,
    render_payload,
    upgrade_data,
)
from lc_archive.testing import UNKNOWN_KEY, check_serializer

try:  # installed by the Makefile (pip install -e examples/...); else straight from the source tree
    import lc_archive_notes
    import lc_archive_tags
except ImportError:  # pragma: no cover
    sys.path[:0] = [str(REPO / "examples" / "lc-archive-tags"), str(REPO / "examples" / "lc-archive-notes")]
    import lc_archive_notes
    import lc_archive_tags

TagsSerializer = lc_archive_tags.TagsSerializer
NotesSerializer = lc_archive_notes.NotesSerializer

MEMBER = "plugins/tags/xblock.v1/html/intro.json"
ENTITY = PayloadTarget("entity", "xblock.v1:html:intro", None, "component", "xblock.v1:html")
VERSION = PayloadTarget("version", "xblock.v1:html:intro", 3, "component", "xblock.v1:html")
PACKAGE = PayloadTarget("package")


def parse(raw: bytes | str, **limits: int) -> tuple[ParsedPayload | None, list[Problem]]:
    problems: list[Problem] = []
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    parsed = parse_payload(MEMBER, data, limits=DEFAULT_LIMITS.replace(**limits), problems=problems)
    assert (parsed is None) == bool(problems)
    return parsed, problems


def check(raw: bytes | str, serializer: PluginSerializer | None, target: PayloadTarget = ENTITY,
          ) -> tuple[PayloadRecord | None, list[Problem], list[str]]:
    parsed, problems = parse(raw)
    assert parsed is not None, problems
    notes: list[str] = []
    record = check_payload(parsed, serializer, target, problems=problems, notes=notes)
    return record, problems, notes


def envelope(**fields: Any) -> str:
    doc: dict[str, Any] = {"plugin": "tags", "schema_version": 2, "entity": "xblock.v1:html:intro",
                           "data": {"tags": []}}
    doc.update(fields)
    return json.dumps({k: v for k, v in doc.items() if v is not ...})


# -- small serializers ------------------------------------------------------------------------------


class Item(BaseModel):
    model_config = ConfigDict(extra="allow")
    value: str


class DemoData(BaseModel):
    model_config = ConfigDict(extra="allow")
    items: list[Item]


class Demo(PluginSerializer):
    """Schema 1: {"values": ["a"]}; schema 2: {"items": [{"value": "a"}]}."""

    id: ClassVar[str] = "plugin:demo"
    name: ClassVar[str] = "demo"
    schema_version: ClassVar[int] = 2
    model: ClassVar[type[BaseModel]] = DemoData

    def dump(self, records: Any) -> BaseModel:
        return DemoData(items=[Item(value=r) for r in records])

    def load(self, payload: BaseModel) -> list[Any]:
        assert isinstance(payload, DemoData)
        return [i.value for i in payload.items]

    def upgrade(self, data: dict[str, Any], from_version: int) -> dict[str, Any]:
        rest = {k: v for k, v in data.items() if k != "values"}
        return {**rest, "items": [{"value": v} for v in data.get("values", [])]}


class BoomUpgrade(Demo):
    def upgrade(self, data: dict[str, Any], from_version: int) -> dict[str, Any]:
        raise KeyError("values")


class BoomCheck(Demo):
    def check(self, payload: BaseModel, target: PayloadTarget) -> list[Issue]:
        raise RuntimeError("disk on fire")


class StrangeCheck(Demo):
    def check(self, payload: BaseModel, target: PayloadTarget) -> list[Issue]:
        return ["not an issue"]  # type: ignore[list-item]


class WarnElsewhere(Demo):
    def check(self, payload: BaseModel, target: PayloadTarget) -> list[Issue]:
        return [Issue("$.data.items[0].value", "looks odd", member="entities/xblock.v1/html/intro.toml",
                      severity="warning")]


class ExplodingData(DemoData):
    @model_validator(mode="after")
    def _explode(self) -> ExplodingData:
        raise TypeError("validator bug")


class BoomValidator(Demo):
    model: ClassVar[type[BaseModel]] = ExplodingData


class MutatingUpgrade(Demo):
    def upgrade(self, data: dict[str, Any], from_version: int) -> dict[str, Any]:
        values = data.pop("values")
        return {**data, "items": [{"value": v} for v in values]}


# -- render_payload ---------------------------------------------------------------------------------


def test_render_is_canonical() -> None:
    body = render_payload("tags", 2, {"z": 1, "a": {"é": [1.5, None, True]}}, entity="xblock.v1:html:intro",
                          version=3)
    assert body == (
        '{\n  "data": {\n    "a": {\n      "é": [\n        1.5,\n        null,\n        true\n      ]\n    },\n'
        '    "z": 1\n  },\n  "entity": "xblock.v1:html:intro",\n  "plugin": "tags",\n  "schema_version": 2,\n'
        '  "version": 3\n}\n'
    ).encode()
    assert render_payload("tags", 1, {}) == b'{\n  "data": {},\n  "plugin": "tags",\n  "schema_version": 1\n}\n'


@pytest.mark.parametrize(("args", "match"), [
    (("tags", 1, {"x": float("nan")}), "NaN"),
    (("tags", 1, {"x": [float("inf")]}), "NaN and infinities"),
    (("tags", 1, {1: "x"}), "keys must be strings"),
    (("tags", 1, {"x": {1, 2}}), "set is not a JSON value"),
    (("tags", 1, {"x": "\ud800"}), "not plain JSON"),
    (("Tags", 1, {}), "plugin name"),
    (("tags", 0, {}), "schema_version"),
    (("tags", True, {}), "schema_version"),
])
def test_render_refuses(args: tuple[Any, ...], match: str) -> None:
    with pytest.raises(PayloadError, match=match):
        render_payload(*args)


def test_render_refuses_a_version_without_an_entity() -> None:
    with pytest.raises(PayloadError, match="needs an entity"):
        render_payload("tags", 1, {}, version=2)
    assert issubclass(PayloadError, LcArchiveError) and issubclass(PayloadError, ValueError)


# -- parse_payload ----------------------------------------------------------------------------------


def test_parse_a_valid_payload() -> None:
    parsed, _ = parse(render_payload("tags", 2, {"tags": []}, entity="xblock.v1:html:intro", version=3))
    assert parsed is not None
    assert (parsed.plugin, parsed.schema_version, parsed.entity, parsed.version, parsed.data, parsed.scope) == (
        "tags", 2, "xblock.v1:html:intro", 3, {"tags": []}, "version")
    assert parse(envelope(entity=None))[0].scope == "package"  # type: ignore[union-attr]
    assert parse(envelope(entity=..., version=None))[0].scope == "package"  # type: ignore[union-attr]
    assert parse(envelope())[0].scope == "entity"  # type: ignore[union-attr]


HOSTILE: list[tuple[str, bytes | str, str, str]] = [
    ("duplicate top-level key", '{"plugin": "tags", "plugin": "x", "schema_version": 1, "data": {}}',
     "$.plugin", "duplicate key 'plugin'"),
    ("duplicate nested key", '{"plugin": "tags", "schema_version": 1, "data": {"tags": [{"a": 1, "a": 2}]}}',
     "$.data.tags[0].a", "duplicate key 'a'"),
    ("NaN", '{"plugin": "tags", "schema_version": 1, "data": {"x": NaN}}', "$", "NaN is not a JSON number"),
    ("Infinity", '{"plugin": "tags", "schema_version": 1, "data": {"x": -Infinity}}', "$", "-Infinity"),
    ("float overflow", '{"plugin": "tags", "schema_version": 1, "data": {"x": 1e999}}', "$", "out of range"),
    ("huge integer", '{"plugin": "tags", "schema_version": 1, "data": {"x": ' + "9" * 5000 + "}}", "$",
     "not valid JSON"),
    ("depth bomb", "[" * 100_000, "$", "nests more than 100 levels"),
    ("object depth bomb", '{"a": ' * 100_000, "$", "nests more than 100 levels"),
    ("invalid UTF-8", b'{"plugin": "tags", "schema_version": 1, "data": {"x": "\xff"}}', "$",
     "not valid UTF-8 (at byte 55)"),
    ("BOM", b'\xef\xbb\xbf{"plugin": "tags", "schema_version": 1, "data": {}}', "$", "byte order mark"),
    ("UTF-16", '{"plugin": "tags", "schema_version": 1, "data": {}}'.encode("utf-16"), "$", "not valid UTF-8"),
    ("lone surrogate", '{"plugin": "tags", "schema_version": 1, "data": {"x": ["\\ud800"]}}', "$.data.x[0]",
     "lone surrogate"),
    ("not JSON", '{"plugin": "tags",}', "$", "not valid JSON: Expecting property name"),
    ("empty", b"", "$", "not valid JSON"),
    ("array", "[]", "$", "a payload is a JSON object, not an array"),
    ("string", '"tags"', "$", "not a string"),
    ("null", "null", "$", "not null"),
    ("extra envelope key", envelope(extra=1), "$.extra", "Extra inputs are not permitted"),
    ("missing data", envelope(data=...), "$.data", "Field required"),
    ("missing plugin", envelope(plugin=...), "$.plugin", "Field required"),
    ("data is a list", envelope(data=[]), "$.data", "Input should be a valid dictionary"),
    ("schema_version string", envelope(schema_version="2"), "$.schema_version", "valid integer"),
    ("schema_version bool", envelope(schema_version=True), "$.schema_version", "valid integer"),
    ("schema_version float", envelope(schema_version=2.0), "$.schema_version", "valid integer"),
    ("schema_version 0", envelope(schema_version=0), "$.schema_version", "greater than or equal to 1"),
    ("plugin upper case", envelope(plugin="Tags"), "$.plugin", "should match pattern"),
    ("plugin path", envelope(plugin="../x"), "$.plugin", "should match pattern"),
    ("plugin too long", envelope(plugin="a" * 65), "$.plugin", "should match pattern"),
    ("entity number", envelope(entity=5), "$.entity", "valid string"),
    ("entity empty", envelope(entity=""), "$.entity", "at least 1 character"),
    ("entity NUL", envelope(entity="a\u0000b"), "$.entity", "must not contain control characters (U+0000"),
    ("version 0", envelope(version=0), "$.version", "greater than or equal to 1"),
    ("version string", envelope(version="3"), "$.version", "valid integer"),
    ("version without entity", envelope(entity=..., version=3), "$.version", "a version needs an entity"),
    ("version with null entity", envelope(entity=None, version=3), "$.version", "a version needs an entity"),
]


@pytest.mark.parametrize(("raw", "path", "message"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_parse_refuses_hostile_input(raw: bytes | str, path: str, message: str) -> None:
    parsed, problems = parse(raw)
    assert parsed is None
    assert all(p.member == MEMBER for p in problems)
    assert any(p.path == path and message in p.message for p in problems), problems


def test_parse_refuses_oversized_payloads() -> None:
    raw = render_payload("tags", 1, {"x": "y" * 200})
    assert parse(raw)[0] is not None
    _, problems = parse(raw, max_toml_size=100)
    assert [p.message for p in problems] == [f"payload is {len(raw)} bytes, more than the limit of 100 "
                                             "(--max-toml-size)"]


def test_depth_limit_is_exact_and_configurable() -> None:
    def nested(levels: int) -> str:  # the envelope is level 1, data level 2
        return '{"plugin": "tags", "schema_version": 1, "data": ' + '{"a": ' * (levels - 2) + "{}" + "}" * (
            levels - 2) + "}"

    assert parse(nested(100))[0] is not None
    assert parse(nested(101))[1][0].message == "payload nests more than 100 levels deep (--max-toml-depth)"
    assert parse(nested(11), max_toml_depth=10)[0] is None


def test_depth_scan_skips_strings_and_is_linear() -> None:
    text = '{"plugin": "tags", "schema_version": 1, "data": {"x": "' + "[{" * 100_000 + '\\"]"}}'
    assert json_depth(text) == 2
    assert parse(text)[0] is not None
    assert json_depth('["a\\\\", ["]"]]') == 2
    started = time.perf_counter()
    assert json_depth("[" * 1_000_000, limit=100) == 101
    assert json_depth("[" * 1_000_000) == 1_000_000
    assert time.perf_counter() - started < 5


# -- check_payload ----------------------------------------------------------------------------------

ODD = ('{"schema_version":1 ,  "plugin" : "future-plugin", "entity":"xblock.v1:html:intro",'
       '"data":{"zzz":[3,2,1],"na\\u00efve":"\\u2603", "n": 1.50}}\r\n')


def test_unknown_plugin_is_kept_byte_for_byte() -> None:
    record, problems, notes = check(ODD, None)
    assert problems == []
    assert record == PayloadRecord("future-plugin", 1, ODD.encode(), "xblock.v1:html:intro", None)
    assert notes == ["plugin 'future-plugin' is not installed: its payloads were checked as JSON envelopes only "
                     "and are kept byte for byte"]


def test_current_schema_is_validated_and_kept_byte_for_byte() -> None:
    raw = '{"plugin":"tags","schema_version":2,"entity":"xblock.v1:html:intro","data":{"tags":[' \
          '{"value":"Easy","taxonomy":"difficulty","lineage":["Easy"],"color":"green"}],"extra":{"k":[]}}}'
    record, problems, notes = check(raw, TagsSerializer())
    assert (problems, notes) == ([], [])
    assert record is not None and record.body == raw.encode() and record.schema_version == 2


def test_upgrade_produces_canonical_bytes_at_the_current_version() -> None:
    raw = ('{"plugin":"tags","schema_version":1,"entity":"xblock.v1:html:intro","version":3,'
           '"data":{"tags":[{"taxonomy":"difficulty","value":"Easy"},'
           '{"taxonomy":"subject","value":"Optik","x-new":{"ü":1}}]}}')
    record, problems, notes = check(raw, TagsSerializer(), PayloadTarget("entity", "xblock.v1:html:intro"))
    assert (problems, notes) == ([], [])
    assert record is not None
    assert (record.plugin, record.schema_version, record.entity, record.version) == ("tags", 2,
                                                                                      "xblock.v1:html:intro", 3)
    assert record.body.decode() == """\
{
  "data": {
    "tags": [
      {
        "lineage": [
          "Easy"
        ],
        "taxonomy": "difficulty",
        "value": "Easy"
      },
      {
        "lineage": [
          "Optik"
        ],
        "taxonomy": "subject",
        "value": "Optik",
        "x-new": {
          "ü": 1
        }
      }
    ]
  },
  "entity": "xblock.v1:html:intro",
  "plugin": "tags",
  "schema_version": 2,
  "version": 3
}
"""
    again, problems, _ = check(record.body, TagsSerializer())
    assert problems == [] and again is not None and again.body == record.body


def test_newer_schema_is_kept_byte_for_byte_with_a_note() -> None:
    raw = envelope(schema_version=3, data={"tags": "a shape this plugin has never seen"})
    record, problems, notes = check(raw, TagsSerializer())
    assert problems == []
    assert record == PayloadRecord("tags", 3, raw.encode(), "xblock.v1:html:intro", None)
    assert notes == ["plugin 'tags' payloads written at schema version 3 are newer than the installed plugin's (2): "
                     "kept byte for byte, unchecked"]


def test_model_errors_have_full_paths() -> None:
    raw = envelope(data={"tags": [{"taxonomy": "a", "value": "x", "lineage": ["x"]},
                                  {"taxonomy": "a", "value": 5, "lineage": []}]})
    record, problems, _ = check(raw, TagsSerializer())
    assert record is None
    assert [str(p) for p in problems] == [
        f"{MEMBER}: $.data.tags[1].value: Input should be a valid string",
        f"{MEMBER}: $.data.tags[1].lineage: Tuple should have at least 1 item after validation, not 0",
    ]


def test_model_errors_after_an_upgrade_say_so() -> None:
    raw = envelope(schema_version=1, data={"tags": [{"taxonomy": "a"}]})
    _, problems, _ = check(raw, TagsSerializer())
    assert [(p.path, p.message) for p in problems] == [
        ("$.data.tags[0].value", "Field required (after upgrading from schema version 1 to 2)"),
        ("$.data.tags[0].lineage", "Field required (after upgrading from schema version 1 to 2)"),
    ]


def test_plugin_checks_have_full_paths() -> None:
    raw = envelope(data={"tags": [{"taxonomy": "a", "value": "x", "lineage": ["x"]},
                                  {"taxonomy": "a", "value": "y", "lineage": ["x", "z"]}]})
    _, problems, _ = check(raw, TagsSerializer())
    assert [str(p) for p in problems] == [
        f"{MEMBER}: $.data.tags[1].lineage: the lineage must end with the tag's value 'y', not 'z'"]


@pytest.mark.parametrize(("serializer", "schema_version", "message"), [
    (BoomUpgrade(), 1, "plugin 'demo' failed to upgrade data from schema version 1 to 2: KeyError: 'values'"),
    (BoomCheck(), 2, "plugin 'demo' failed: RuntimeError: disk on fire"),
    (BoomCheck(), 1, "plugin 'demo' failed: RuntimeError: disk on fire (after upgrading from schema version 1 to 2)"),
    (BoomValidator(), 2, "plugin 'demo' failed: TypeError: validator bug"),
    (StrangeCheck(), 2, "plugin 'demo' failed: check() returned str, not an Issue"),
])
def test_plugin_code_that_raises_is_a_problem(serializer: PluginSerializer, schema_version: int,
                                              message: str) -> None:
    data = {"values": ["a"]} if schema_version == 1 else {"items": [{"value": "a"}]}
    raw = render_payload("demo", schema_version, data, entity="xblock.v1:html:intro")
    record, problems, _ = check(raw, serializer)
    assert record is None
    assert [(p.member, p.path, p.message) for p in problems] == [(MEMBER, "$.data", message)]


def test_upgrade_data_never_changes_its_input() -> None:
    data = {"values": ["a", "b"], "keep": 1}
    assert upgrade_data(MutatingUpgrade(), data, 1) == {"keep": 1, "items": [{"value": "a"}, {"value": "b"}]}
    assert data == {"values": ["a", "b"], "keep": 1}
    assert upgrade_data(MutatingUpgrade(), data, 2) == data
    with pytest.raises(PayloadError, match="reads schema versions up to 2, not 3"):
        upgrade_data(Demo(), data, 3)


def test_issue_severity_and_member_are_kept() -> None:
    raw = render_payload("demo", 2, {"items": [{"value": "a"}]}, entity="xblock.v1:html:intro")
    record, problems, _ = check(raw, WarnElsewhere())
    assert record is not None and record.body == raw
    assert problems == [Problem("entities/xblock.v1/html/intro.toml", "$.data.items[0].value", "looks odd", "warning")]


def test_scopes_are_enforced() -> None:
    notes_raw = render_payload("notes", 2, {"notes": []})
    record, problems, _ = check(notes_raw, NotesSerializer(), PACKAGE)
    assert record is None
    assert [(p.path, p.message) for p in problems] == [
        ("$.entity", "plugin 'notes' does not attach data to the package (it attaches to: entity, version)")]
    tags_raw = render_payload("tags", 2, {"tags": []}, entity="xblock.v1:html:intro", version=3)
    _, problems, _ = check(tags_raw, TagsSerializer(), VERSION)
    assert [p.message for p in problems] == [
        "plugin 'tags' does not attach data to one version of an entity (it attaches to: package, entity)"]
    # without the plugin, any scope is kept
    assert check(tags_raw, None, VERSION)[0] is not None


# -- encode / decode --------------------------------------------------------------------------------


def test_encode_and_decode() -> None:
    record = encode_payload(Demo(), ["b", "a"], entity="xblock.v1:html:intro", version=2)
    assert record == PayloadRecord("demo", 2, render_payload("demo", 2, {"items": [{"value": "b"}, {"value": "a"}]},
                                                             entity="xblock.v1:html:intro", version=2),
                                   "xblock.v1:html:intro", 2)
    assert decode_payload(Demo(), record) == ["b", "a"]
    old = PayloadRecord("demo", 1, render_payload("demo", 1, {"values": ["x"]}))
    assert decode_payload(Demo(), old) == ["x"]


def test_encode_refuses_bad_targets() -> None:
    with pytest.raises(PayloadError, match="needs an entity"):
        encode_payload(Demo(), [], version=2)
    with pytest.raises(PayloadError, match="does not attach data to one version"):
        encode_payload(TagsSerializer(), [], entity="x", version=2)


@pytest.mark.parametrize(("body", "match"), [
    (render_payload("demo", 3, {"items": []}), "written at schema version 3; plugin 'demo' reads up to 2"),
    (render_payload("other", 2, {"items": []}), "belongs to plugin 'other', not 'demo'"),
    (render_payload("demo", 2, {"items": [{"value": 1}]}), r"\$\.data\.items\[0\]\.value: Input should be"),
    (b'{"plugin": "demo", "plugin": "demo"}', "duplicate key 'plugin'"),
    (render_payload("demo", 1, {"values": 5}), "failed to upgrade"),
])
def test_decode_refuses(body: bytes, match: str) -> None:
    with pytest.raises(PayloadError, match=match):
        decode_payload(Demo(), PayloadRecord("demo", 2, body))


def test_invalid_decode_lists_problems() -> None:
    with pytest.raises(PayloadError) as info:
        decode_payload(Demo(), PayloadRecord("demo", 2, render_payload("demo", 2, {"items": [{}, {"value": []}]})))
    assert [p.path for p in info.value.problems] == ["$.data.items[0].value", "$.data.items[1].value"]


# -- the envelope's JSON Schema ---------------------------------------------------------------------


def test_payload_schema() -> None:
    schema = payload_schema()
    assert json.dumps(schema, sort_keys=True) == json.dumps(payload_schema(), sort_keys=True)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "payload.schema.json"
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert set(schema["properties"]) == {"plugin", "schema_version", "entity", "version", "data"}
    assert sorted(schema["required"]) == ["data", "plugin", "schema_version"]
    assert schema["properties"]["plugin"]["pattern"] == "^[a-z0-9][a-z0-9_.-]{0,63}$"
    assert schema["then"] == {"properties": {"entity": {"type": "string"}}, "required": ["entity"]}


# -- the conformance suite --------------------------------------------------------------------------

TAGS_V1 = {"tags": [{"taxonomy": "difficulty", "value": "Easy"}]}
TAGS_V2 = {"tags": [{"taxonomy": "subject", "value": "Optics", "lineage": ["Science", "Physics", "Optics"]}]}
NOTES_V1 = {"notes": [{"author": "alice", "text": "hi"}]}
NOTES_V2 = {"notes": [{"author": "bob", "body": "*hi*", "format": "markdown", "created": "2025-01-31T09:00:00Z"}]}


def test_the_example_plugins_conform() -> None:
    check_serializer(TagsSerializer, {1: [TAGS_V1], 2: [TAGS_V2]})
    check_serializer(NotesSerializer(), {1: [NOTES_V1], 2: [NOTES_V2]})
    check_serializer(Demo, {1: [{"values": ["a"]}], 2: [{"items": [{"value": "a"}]}]})


class Strict(BaseModel):
    model_config = ConfigDict(extra="ignore")
    items: list[Item]


class DropsExtras(Demo):
    model: ClassVar[type[BaseModel]] = Strict

    def dump(self, records: Any) -> BaseModel:
        return Strict(items=[Item(value=r) for r in records])

    def load(self, payload: BaseModel) -> list[Any]:
        assert isinstance(payload, Strict)
        return [i.value for i in payload.items]


class Lossy(Demo):
    def load(self, payload: BaseModel) -> list[Any]:
        return super().load(payload)[:1]


class ForgetsKeys(Demo):
    def upgrade(self, data: dict[str, Any], from_version: int) -> dict[str, Any]:
        return {"items": [{"value": v} for v in data.get("values", [])]}


class BadScopes(Demo):
    scopes: ClassVar[frozenset[PayloadScope]] = frozenset()


DEMO_SAMPLES = {1: [{"values": ["a", "b"]}], 2: [{"items": [{"value": "a"}, {"value": "b"}]}]}


@pytest.mark.parametrize(("serializer", "samples", "message"), [
    (DropsExtras, DEMO_SAMPLES, "ConfigDict(extra='allow')"),
    (MutatingUpgrade, DEMO_SAMPLES, "upgrade(data, 1) changed its input"),
    (Lossy, DEMO_SAMPLES, "dump(load(model)) does not give the sample back"),
    (ForgetsKeys, DEMO_SAMPLES, f"upgrading to schema version 2 drops unknown fields (key {UNKNOWN_KEY!r}"),
    (BoomUpgrade, DEMO_SAMPLES, "upgrade(data, 1) failed: KeyError"),
    (BadScopes, DEMO_SAMPLES, "the registry refuses it: scopes must be a non-empty set"),
    (Demo, {1: DEMO_SAMPLES[1]}, "at least one document for the current schema version 2"),
    (Demo, {2: DEMO_SAMPLES[2]}, "give samples of at least one older version"),
    (Demo, {2: [{"items": [{"value": 1}]}], 1: DEMO_SAMPLES[1]}, r"sample 2[0] does not validate"),
    (Demo, {**DEMO_SAMPLES, 3: [{}]}, "samples has schema version 3"),
    (Demo, {**DEMO_SAMPLES, 2: [{"items": [], "x": float("nan")}]}, "sample 2[0] is not plain JSON"),
])
def test_the_conformance_suite_catches(serializer: type[PluginSerializer], samples: Any, message: str) -> None:
    with pytest.raises(AssertionError) as info:
        check_serializer(serializer, samples)
    assert str(info.value).startswith("plugin:demo: ")
    assert message in str(info.value), str(info.value)


def test_testing_module_does_not_import_pytest() -> None:
    code = "import sys, lc_archive.testing; sys.exit('pytest' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
