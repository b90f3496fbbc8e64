"""The serializer registry: contract checks, lookups and fallbacks, entry-point loading and its failures.

Plugins here are real classes and real modules on ``sys.path``; the discovery test installs a real
``*.dist-info`` folder, so ``importlib.metadata`` finds it the way it finds an installed plugin.
"""

from __future__ import annotations

import sys
import textwrap
import tomllib
from collections.abc import Sequence
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel, ConfigDict
from support.paths import REPO

from lc_archive.errors import LcArchiveError
from lc_archive.plugins.builtin.components import AnyComponent, ProblemComponent, XBlockComponent
from lc_archive.plugins.contract import (
    CollectionSerializer,
    ComponentFacts,
    ComponentSerializer,
    ComponentVersionView,
    ContainerSerializer,
    Issue,
    PluginSerializer,
    Serializer,
    VersionCheck,
)
from lc_archive.plugins.entry_points import BUILTINS, DISTRIBUTION
from lc_archive.plugins.registry import (
    GROUP,
    PluginError,
    PluginFailure,
    Registry,
    RegistryEntry,
    _ensure_builtins,
    builtin_registry,
    default_registry,
)

# -- serializers used by the tests ----------------------------------------------------------------


class TagsData(BaseModel):
    model_config = ConfigDict(extra="allow")
    tags: list[str] = []


class TagsPlugin(PluginSerializer):
    id: ClassVar[str] = "plugin:tags"
    name: ClassVar[str] = "tags"
    description: ClassVar[str] = "object tags"
    schema_version: ClassVar[int] = 1
    model: ClassVar[type[BaseModel]] = TagsData

    def dump(self, records: Sequence[Any]) -> BaseModel:
        return TagsData(tags=list(records))

    def load(self, payload: BaseModel) -> list[Any]:
        assert isinstance(payload, TagsData)
        return list(payload.tags)


class TagsV2(TagsPlugin):
    schema_version: ClassVar[int] = 2

    def upgrade(self, data: dict[str, Any], from_version: int) -> dict[str, Any]:
        return {"tags": data.get("labels", [])}


class Lab(ComponentSerializer):
    id: ClassVar[str] = "xblock.v1:lab"

    def facts(self, olx: bytes) -> ComponentFacts:
        return ComponentFacts(display_name="lab")

    def check_version(self, version: ComponentVersionView) -> VersionCheck:
        return VersionCheck(facts=self.facts(version.olx or b""))


class MyNamespace(Lab):
    id: ClassVar[str] = "my.v1:*"


class Anything(Lab):
    id: ClassVar[str] = "*"


class Chapter(ContainerSerializer):
    id: ClassVar[str] = "container:chapter"

    def child_problem(self, child_kind: str, child_type: str) -> str | None:
        return None


class StrictCollections(CollectionSerializer):
    id: ClassVar[str] = "collection"

    def check(self, code: str, title: str, members: Sequence[str]) -> list[Issue]:
        return [Issue("$.collection.title", "empty")] if not title else []


# -- registration and the contract ------------------------------------------------------------------

def test_registries_are_empty_and_independent() -> None:
    a, b = Registry(), Registry()
    assert a.entries() == [] and a.failures == [] and len(a) == 0
    a.register(TagsPlugin)
    assert a.plugin("tags") is not None and b.plugin("tags") is None
    assert "plugin:tags" in a and "plugin:tags" not in b
    assert builtin_registry() is not builtin_registry()
    assert builtin_registry().plugin("tags") is None  # a registry that lacks the plugin


def test_register_class_or_instance() -> None:
    r = Registry()
    r.register(TagsPlugin)
    instance = Chapter()
    r.register(instance)
    assert isinstance(r.get("plugin:tags"), TagsPlugin)
    assert r.container("chapter") is instance
    assert r.entries() == [
        RegistryEntry("container:chapter", "container", "", None, None, None, None, "code"),
        RegistryEntry("plugin:tags", "plugin", "object tags", 1, None, None, None, "code"),
    ]
    assert r.plugins() == [r.get("plugin:tags")]


class NoLoad(PluginSerializer):  # lacks load
    id: ClassVar[str] = "plugin:noload"
    name: ClassVar[str] = "noload"
    schema_version: ClassVar[int] = 1
    model: ClassVar[type[BaseModel]] = TagsData

    def dump(self, records: Sequence[Any]) -> BaseModel:
        return TagsData()


class NoModel(TagsPlugin):
    id: ClassVar[str] = "plugin:nomodel"
    name: ClassVar[str] = "nomodel"
    model = None  # type: ignore[assignment]


class DictModel(TagsPlugin):
    id: ClassVar[str] = "plugin:dictmodel"
    name: ClassVar[str] = "dictmodel"
    model = dict  # type: ignore[assignment]


class V2NoUpgrade(TagsPlugin):
    id: ClassVar[str] = "plugin:v2"
    name: ClassVar[str] = "v2"
    schema_version: ClassVar[int] = 2


class BadSchema(TagsPlugin):
    id: ClassVar[str] = "plugin:bad"
    name: ClassVar[str] = "bad"
    schema_version = True


class ZeroSchema(BadSchema):
    schema_version = 0


class WrongName(TagsPlugin):
    id: ClassVar[str] = "plugin:tags"
    name: ClassVar[str] = "labels"


class UpperName(TagsPlugin):
    id: ClassVar[str] = "plugin:Tags"
    name: ClassVar[str] = "Tags"


class BadScopes(TagsPlugin):
    id: ClassVar[str] = "plugin:scopes"
    name: ClassVar[str] = "scopes"
    scopes = frozenset({"course"})  # type: ignore[assignment]


class NoColon(Lab):
    id: ClassVar[str] = "problem"


class ContainerNamespace(Lab):
    id: ClassVar[str] = "container:unit"


class BadContainer(Chapter):
    id: ClassVar[str] = "unit"


class BadCollection(StrictCollections):
    id: ClassVar[str] = "collections"


class NoId(ComponentSerializer):
    def facts(self, olx: bytes) -> ComponentFacts:
        return ComponentFacts()

    def check_version(self, version: ComponentVersionView) -> VersionCheck:
        return VersionCheck()


class KindOnly(Serializer):  # claims kind component without the component contract
    id: ClassVar[str] = "xblock.v1:fake"
    kind = "component"


class BadKind(Lab):
    id: ClassVar[str] = "xblock.v1:odd"
    kind = "widget"  # type: ignore[assignment]


class NeedsArgs(Lab):
    id: ClassVar[str] = "xblock.v1:args"

    def __init__(self, config: str) -> None:
        self.config = config


class NotCallable(Lab):
    id: ClassVar[str] = "xblock.v1:nc"
    facts = None  # type: ignore[assignment]


class NotASerializer:
    id = "xblock.v1:thing"


@pytest.mark.parametrize(("obj", "sid", "reason"), [
    (NoLoad, "plugin:noload", "missing required method load"),
    (NoModel, "plugin:nomodel", "model must be a pydantic BaseModel subclass, not None"),
    (DictModel, "plugin:dictmodel", "model must be a pydantic BaseModel subclass"),
    (V2NoUpgrade, "plugin:v2", "schema_version 2 needs an upgrade() method"),
    (BadSchema, "plugin:bad", "schema_version must be an int >= 1, not True"),
    (ZeroSchema, "plugin:bad", "schema_version must be an int >= 1, not 0"),
    (WrongName, "plugin:tags", "the plugin's name 'labels' must be the id's name 'tags'"),
    (UpperName, "plugin:Tags", "a plugin's id must be 'plugin:<name>'"),
    (BadScopes, "plugin:scopes", "scopes must be a non-empty set"),
    (NoColon, "problem", "must be 'namespace:type', 'namespace:*' or '*'"),
    (ContainerNamespace, "container:unit", "must be 'namespace:type'"),
    (BadContainer, "unit", "must be 'container:<type>'"),
    (BadCollection, "collections", "must be 'collection'"),
    (NoId, f"{NoId.__module__}.NoId", "no id"),
    (KindOnly, "xblock.v1:fake", "a component serializer must subclass ComponentSerializer"),
    (BadKind, "xblock.v1:odd", "kind 'widget' is not one of"),
    (NeedsArgs, "xblock.v1:args", "cannot be instantiated with no arguments: TypeError"),
    (NotCallable, "xblock.v1:nc", "missing required method facts"),
    (NotASerializer, "xblock.v1:thing", "is not a Serializer subclass"),
    (NotASerializer(), "xblock.v1:thing", "is not a Serializer subclass"),
    ("not even a class", "builtins.str", "is not a Serializer subclass"),
])
def test_contract_violations(obj: Any, sid: str, reason: str) -> None:
    r = Registry()
    with pytest.raises(PluginError) as info:
        r.register(obj)
    assert isinstance(info.value, LcArchiveError)
    assert info.value.id == sid
    assert reason in info.value.reason
    assert sid in str(info.value) and reason in str(info.value)
    assert len(r) == 0


def test_plugin_with_upgrade_registers() -> None:
    r = Registry()
    r.register(TagsV2)
    entry = r.entries()[0]
    assert (entry.id, entry.schema_version) == ("plugin:tags", 2)


def test_duplicate_ids() -> None:
    r = Registry()
    r.register(ProblemComponent, origin="entry-point")
    with pytest.raises(PluginError, match="already registered"):
        r.register(ProblemComponent, origin="entry-point")

    class MyProblem(ProblemComponent):
        pass

    r.register(MyProblem)  # origin "code": later wins (tests override serializers this way)
    assert type(r.component("xblock.v1", "problem")) is MyProblem
    assert r.entries()[0].origin == "code"


# -- lookups ------------------------------------------------------------------------------------------

def test_component_lookup_order_and_fallback() -> None:
    r = Registry()
    fallback = r.component("xblock.v1", "problem")  # nothing registered: the built-in generic `*`
    assert type(fallback) is AnyComponent and r.get("*") is None
    r.register(MyNamespace)
    r.register(Lab)
    assert type(r.component("xblock.v1", "lab")) is Lab
    assert type(r.component("my.v1", "anything")) is MyNamespace
    assert type(r.component("xblock.v1", "video")) is AnyComponent
    r.register(Anything)
    assert type(r.component("xblock.v1", "video")) is Anything
    # Containers fall back to the built-in rules, like components to `*`; unknown types have none.
    assert type(r.container("unit")).__name__ == "UnitContainer" and r.get("container:unit") is None
    assert r.container("chapter") is None and r.collection() is None and r.plugin("tags") is None
    r.register(Chapter)
    r.register(StrictCollections)
    assert r.container("chapter") is not None and r.collection() is not None
    assert type(r.component("container", "chapter")) is Anything  # never a container as a component
    assert r.get("nope") is None


def test_builtin_registry_lookups() -> None:
    r = builtin_registry()
    assert {e.id for e in r.entries()} >= set(BUILTINS)
    assert type(r.component("xblock.v1", "problem")) is ProblemComponent
    assert type(r.component("xblock.v1", "openassessment")) is XBlockComponent
    assert type(r.component("openedx.v1", "upload")) is AnyComponent
    for t in ("unit", "subsection", "section"):
        assert r.container(t) is not None
    assert r.container("chapter") is None
    assert r.collection() is not None
    assert r.plugins() == []


# -- entry points -------------------------------------------------------------------------------------

GOOD_PLUGIN = '''
from typing import Any, ClassVar
from pydantic import BaseModel
from lc_archive.plugins.builtin.components import ProblemComponent
from lc_archive.plugins.contract import PluginSerializer

class Notes(BaseModel):
    text: str = ""

class NotesPlugin(PluginSerializer):
    id: ClassVar[str] = "plugin:testnotes"
    name: ClassVar[str] = "testnotes"
    description: ClassVar[str] = "author notes"
    schema_version: ClassVar[int] = 1
    model: ClassVar[type[BaseModel]] = Notes

    def dump(self, records: Any) -> BaseModel:
        return Notes(text="".join(records))

    def load(self, payload: BaseModel) -> list[Any]:
        return [payload]

class OtherProblem(ProblemComponent):
    description: ClassVar[str] = "someone else's capa serializer"
'''

HALF_PLUGIN = '''
from typing import ClassVar
from lc_archive.plugins.contract import ContainerSerializer

class HalfContainer(ContainerSerializer):
    id: ClassVar[str] = "container:half"
'''

BROKEN_AT_IMPORT = '''
raise RuntimeError("plugin exploded\\nsecond line")
'''


def _ep(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=GROUP)


def _write_modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **modules: str) -> None:
    for name, text in modules.items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(text))
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))


def test_load_entry_points_reports_failures_and_keeps_the_rest(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    _write_modules(tmp_path, monkeypatch, lc_test_good=GOOD_PLUGIN, lc_test_half=HALF_PLUGIN,
                   lc_test_boom=BROKEN_AT_IMPORT, lc_test_exit="import sys\nsys.exit(3)\n")
    r = builtin_registry()
    r.load_entry_points([
        _ep("plugin:boom", "lc_test_boom:Plugin"),
        _ep("container:half", "lc_test_half:HalfContainer"),
        _ep("plugin:testnotes", "lc_test_good:NotesPlugin"),
        _ep("plugin:missing", "lc_test_not_there:Plugin"),
        _ep("plugin:attr", "lc_test_good:NoSuchClass"),
        _ep("plugin:other-name", "lc_test_good:NotesPlugin"),
        _ep("plugin:exit", "lc_test_exit:Plugin"),
        _ep("xblock.v1:problem", "lc_test_good:NotesPlugin"),
        _ep("plugin:testnotes", "lc_test_good:NotesPlugin"),  # a second claim to the same id
    ])
    failures = {f.name: f for f in r.failures}
    assert failures["plugin:boom"] == PluginFailure(
        "plugin:boom", "lc_test_boom:Plugin", None, "RuntimeError: plugin exploded")
    assert failures["container:half"].reason == "missing required method child_problem"
    assert failures["container:half"].entry_point == "lc_test_half:HalfContainer"
    assert failures["plugin:missing"].reason == "ModuleNotFoundError: No module named 'lc_test_not_there'"
    assert failures["plugin:attr"].reason.startswith("AttributeError: ")
    assert failures["plugin:other-name"].reason == ("the entry point's name must be the serializer's id, "
                                                    "which is 'plugin:testnotes'")
    assert failures["plugin:exit"].reason == "SystemExit: 3"
    assert failures["xblock.v1:problem"].reason.startswith("the entry point's name must be")
    duplicates = [f for f in r.failures if f.name == "plugin:testnotes"]
    assert len(duplicates) == 1 and "already registered by lc_test_good:NotesPlugin" in duplicates[0].reason
    assert len(r.failures) == 9 - 1
    assert str(failures["plugin:boom"]) == "plugin:boom (lc_test_boom:Plugin): RuntimeError: plugin exploded"
    assert failures["plugin:boom"].id == "plugin:boom"
    # the good plugin and every built-in work
    notes = r.plugin("testnotes")
    assert notes is not None and notes.dump(["a", "b"]).model_dump() == {"text": "ab"}
    assert type(r.component("xblock.v1", "problem")) is ProblemComponent
    assert {e.id for e in r.entries()} == {*BUILTINS, "plugin:testnotes"}
    entry = next(e for e in r.entries() if e.id == "plugin:testnotes")
    assert (entry.origin, entry.entry_point, entry.schema_version) == ("entry-point", "lc_test_good:NotesPlugin", 1)


def _install_dist(tmp_path: Path, name: str, version: str, entry_points: dict[str, str]) -> None:
    info = tmp_path / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = "\n".join(f"{k} = {v}" for k, v in entry_points.items())
    (info / "entry_points.txt").write_text(f"[{GROUP}]\n{lines}\n")


def test_default_discovery_finds_installed_plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_modules(tmp_path, monkeypatch, lc_test_good=GOOD_PLUGIN)
    _install_dist(tmp_path, "broken_plugin", "0.1", {
        "plugin:broken": "broken_plugin_module:BrokenPlugin",
        "plugin:testnotes": "lc_test_good:NotesPlugin",
        "xblock.v1:problem": "lc_test_good:OtherProblem",
    })
    r = Registry()
    r.load_entry_points()  # default: importlib.metadata discovery
    failures = {f.name: f for f in r.failures}
    assert failures["plugin:broken"] == PluginFailure(
        "plugin:broken", "broken_plugin_module:BrokenPlugin", "broken_plugin",
        "ModuleNotFoundError: No module named 'broken_plugin_module'")
    # lc-archive's own entry points are loaded first: a plugin cannot take a built-in id
    assert failures["xblock.v1:problem"].distribution == "broken_plugin"
    assert "already registered by lc_archive.plugins.builtin.components:ProblemComponent of lc-archive" in (
        failures["xblock.v1:problem"].reason)
    entries = {e.id: e for e in r.entries()}
    assert set(BUILTINS) <= set(entries)
    assert type(r.component("xblock.v1", "problem")) is ProblemComponent
    assert entries["plugin:testnotes"].distribution == "broken_plugin" and entries["plugin:testnotes"].version == "0.1"
    for sid in BUILTINS:
        assert (entries[sid].distribution, entries[sid].origin) == (DISTRIBUTION, "entry-point"), sid


def test_default_registry_uses_lc_archive_entry_points() -> None:
    default_registry.cache_clear()
    try:
        r = default_registry()
        assert r is default_registry()
        entries = {e.id: e for e in r.entries()}
        for sid, value in BUILTINS.items():
            assert entries[sid].distribution == DISTRIBUTION
            assert entries[sid].origin == "entry-point"
            assert entries[sid].entry_point == value
            assert entries[sid].version
        assert not [f for f in r.failures if f.distribution == DISTRIBUTION]
    finally:
        default_registry.cache_clear()


def test_builtins_fall_back_when_entry_points_are_missing() -> None:
    r = Registry()
    r.load_entry_points([])  # what a source tree without `pip install -e .` finds
    _ensure_builtins(r)
    assert {e.id for e in r.entries()} == set(BUILTINS)
    assert {(e.origin, e.distribution) for e in r.entries()} == {("builtin", DISTRIBUTION)}
    [note] = r.failures
    assert note.distribution == DISTRIBUTION and "entry points were not found" in note.reason
    # only the missing ones are registered directly
    partial = Registry()
    partial.load_entry_points([_ep("*", BUILTINS["*"])])
    _ensure_builtins(partial)
    assert {e.id: e.origin for e in partial.entries()}["*"] == "entry-point"
    assert "*" not in partial.failures[0].reason.split("for ", 1)[1].split(" (")[0].split(", ")


def test_pyproject_declares_every_builtin() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    declared = pyproject["project"]["entry-points"][GROUP]
    assert declared == BUILTINS


def test_unreadable_entry_points_file_spoils_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    info = tmp_path / "garbled_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: garbled_plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{GROUP}]\njust a garbage line\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    r = Registry()
    r.load_entry_points()
    [failure] = [f for f in r.failures if f.distribution == "garbled_plugin"]
    assert failure.name == "(entry points)" and failure.reason.startswith("cannot read the distribution's entry")
    assert set(BUILTINS) <= {e.id for e in r.entries()}
    assert all(e.distribution == DISTRIBUTION for e in r.entries() if e.id in BUILTINS)
