"""Conformance suite for plugin serializers: what every ``plugin:<name>`` must do, checked on samples.

A plugin author gives sample ``data`` documents per schema version (the current one required, older
ones to exercise the upgrade chain) and runs either the function::

    from lc_archive.testing import check_serializer

    def test_conformance() -> None:
        check_serializer(TagsSerializer, {1: [V1_DATA], 2: [V2_DATA, OTHER_V2_DATA]})

or the pytest-style base class, one test per check::

    from lc_archive.testing import SerializerConformance

    class TestTags(SerializerConformance):
        serializer = TagsSerializer
        samples = {1: [V1_DATA], 2: [V2_DATA]}

The checks (each raises :class:`AssertionError` with the plugin id, the sample and what is wrong):

* **contract**: the registry accepts the serializer (id ``plugin:<name>``, name, ``schema_version``,
  ``model``, ``scopes``, methods; :meth:`lc_archive.plugins.registry.Registry.register`), and the
  samples are plain JSON with one for the current schema version;
* **JSON Schema**: ``model.model_json_schema()`` is a JSON-serialisable, deterministic object schema
  that allows extra fields at every level (``ConfigDict(extra="allow")``), and every current sample
  validates against the model with no error from ``check``;
* **round trip**: data -> model -> ``load`` -> records -> ``dump`` -> ``model_dump(mode="json")`` gives
  the sample back; :func:`~lc_archive.plugins.payloads.encode_payload` then
  :func:`~lc_archive.plugins.payloads.decode_payload` gives the same records; rendering is
  byte-stable (parse and re-render give the same bytes) and a restore keeps the bytes as they are;
* **upgrade chain**: every older sample upgrades one step at a time to the current version (each step
  leaves its input unchanged, returns a dict, and gives the same result twice), validates, and a
  restore re-renders it canonically at the current version;
* **unknown fields**: a key the plugin does not know, added at the top of ``data`` and inside the first
  object of every list, survives validation and ``model_dump`` (current samples, exactly) and upgrades
  (older samples), so data written by a newer plugin is not lost.

This module has no test-framework dependency: :class:`SerializerConformance` is a plain class whose
``test_*`` methods pytest (or unittest-style runners that collect by name) picks up in subclasses.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, NoReturn

from pydantic import BaseModel, ValidationError

from .archive.limits import DEFAULT_LIMITS
from .domain.syntax import PLUGIN_NAME_PATTERN, PLUGIN_NAME_RE
from .errors import Problem
from .plugins.contract import PayloadScope, PayloadTarget, PluginSerializer
from .plugins.payloads import (
    PayloadError,
    check_payload,
    decode_payload,
    encode_payload,
    parse_payload,
    render_payload,
)

__all__ = ["UNKNOWN_KEY", "Samples", "SerializerConformance", "check_serializer"]

UNKNOWN_KEY = "x-lc-archive-conformance"
"""The key the unknown-fields check adds (a name no plugin should define)."""
_UNKNOWN_VALUE: dict[str, Any] = {"kept": True, "values": [1, "two", None], "text": "ünïcode"}

_ENTITY = "xblock.v1:html:conformance"
_TARGETS: dict[PayloadScope, PayloadTarget] = {
    "package": PayloadTarget("package"),
    "entity": PayloadTarget("entity", _ENTITY, None, "component", "xblock.v1:html"),
    "version": PayloadTarget("version", _ENTITY, 1, "component", "xblock.v1:html"),
}

Samples = Mapping[int, Sequence[Mapping[str, Any]]]
"""Sample `data` documents by schema version."""


def check_serializer(serializer: PluginSerializer | type[PluginSerializer], samples: Samples) -> None:
    """Run every conformance check on ``serializer`` with ``samples`` (``data`` per schema version).

    ``samples`` must have at least one document for the serializer's current ``schema_version``, and
    at least one older one when that is above 1. Raises :class:`AssertionError` at the first failure.
    """
    suite = _Suite(serializer, samples)
    for check in suite.checks():
        check()


class SerializerConformance:
    """Base class of a plugin's conformance tests: set :attr:`serializer` and :attr:`samples`.

    Each ``test_*`` method runs one check of :func:`check_serializer`, so a failure names the check.
    The name does not start with ``Test``: pytest collects only the subclasses.
    """

    serializer: ClassVar[PluginSerializer | type[PluginSerializer]]
    """The serializer under test: its class (instantiated with no arguments) or an instance."""
    samples: ClassVar[Samples]
    """Sample ``data`` documents per schema version; the current one is required."""

    def _suite(self) -> _Suite:
        cls = type(self)
        if not hasattr(cls, "serializer") or not hasattr(cls, "samples"):
            raise AssertionError(f"{cls.__name__}: set the class attributes `serializer` and `samples`")
        return _Suite(cls.serializer, cls.samples)

    def test_contract(self) -> None:
        """The registry accepts the serializer; the samples are plain JSON and include the current version."""
        self._suite().contract()

    def test_json_schema(self) -> None:
        """The model's JSON Schema is deterministic, allows extras; current samples validate and check."""
        self._suite().json_schema()

    def test_round_trip(self) -> None:
        """data -> model -> records -> model gives the data back."""
        self._suite().round_trip()

    def test_payload_round_trip(self) -> None:
        """encode_payload/decode_payload give the records back."""
        self._suite().payload_round_trip()

    def test_render_is_byte_stable(self) -> None:
        """Rendering, parsing and re-rendering gives the same bytes; restores keep them."""
        self._suite().byte_stable()

    def test_upgrade_chain(self) -> None:
        """Every older sample upgrades step by step, without changing its input, and validates."""
        self._suite().upgrade_chain()

    def test_unknown_fields_kept(self) -> None:
        """Unknown keys survive validation, model_dump and upgrades."""
        self._suite().unknown_fields()


def _as_data(sample: Mapping[str, Any]) -> dict[str, Any]:
    """A deep, plain-JSON copy of a sample (dicts and lists only)."""
    loaded: dict[str, Any] = json.loads(json.dumps(sample, allow_nan=False))
    return loaded


def _located(error: ValidationError) -> str:
    parts = []
    for e in error.errors(include_url=False):
        path = "$.data" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e["loc"])
        parts.append(f"{path}: {e['msg']}")
    return "; ".join(parts)


def _count_key(value: Any, key: str) -> int:
    count = 0
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            count += key in node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return count


def _with_unknown(data: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """A copy of ``data`` with :data:`UNKNOWN_KEY` at the top and in the first object of every list."""
    out = copy.deepcopy(data)
    out[UNKNOWN_KEY] = copy.deepcopy(_UNKNOWN_VALUE)
    added = 1
    stack: list[Any] = [v for k, v in out.items() if k != UNKNOWN_KEY]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            if node and isinstance(node[0], dict) and UNKNOWN_KEY not in node[0]:
                node[0][UNKNOWN_KEY] = copy.deepcopy(_UNKNOWN_VALUE)
                added += 1
            stack.extend(node)
    return out, added


class _Suite:
    """The checks, for one serializer and its samples."""

    def __init__(self, serializer: PluginSerializer | type[PluginSerializer], samples: Samples) -> None:
        self._given = serializer
        self._samples = samples
        self._plugin: PluginSerializer | None = None
        label = getattr(serializer, "id", None)
        self.label = label if isinstance(label, str) else repr(serializer)

    def checks(self) -> list[Callable[[], None]]:
        """Every check, in the order :func:`check_serializer` runs them."""
        return [self.contract, self.json_schema, self.round_trip, self.payload_round_trip, self.byte_stable,
                self.upgrade_chain, self.unknown_fields]

    def fail(self, message: str) -> NoReturn:
        raise AssertionError(f"{self.label}: {message}")

    # -- set-up -------------------------------------------------------------------------------------

    @property
    def plugin(self) -> PluginSerializer:
        """The serializer instance (after the contract check)."""
        if self._plugin is None:
            self._plugin = self._contract()
        return self._plugin

    def _contract(self) -> PluginSerializer:
        given = self._given
        try:
            from .plugins.registry import PluginError, Registry
        except ImportError:  # pragma: no cover - a tree without the registry: the checks below only
            pass
        else:
            try:
                Registry().register(given)
            except PluginError as exc:
                self.fail(f"the registry refuses it: {exc.reason}")
        cls = given if isinstance(given, type) else type(given)
        if not issubclass(cls, PluginSerializer):
            self.fail(f"{cls.__qualname__} is not a PluginSerializer subclass")
        name = getattr(cls, "name", None)
        if not isinstance(name, str) or not PLUGIN_NAME_RE.fullmatch(name):
            self.fail(f"name {name!r} must match {PLUGIN_NAME_PATTERN}")
        if getattr(cls, "id", None) != f"plugin:{name}":
            self.fail(f"id must be 'plugin:{name}', not {getattr(cls, 'id', None)!r}")
        version = getattr(cls, "schema_version", None)
        if type(version) is not int or version < 1:
            self.fail(f"schema_version must be an int >= 1, not {version!r}")
        model = getattr(cls, "model", None)
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            self.fail(f"model must be a pydantic BaseModel subclass, not {model!r}")
        scopes = getattr(cls, "scopes", None)
        if not isinstance(scopes, frozenset | set) or not scopes or not scopes <= set(_TARGETS):
            self.fail(f"scopes must be a non-empty set of package, entity, version; not {scopes!r}")
        if isinstance(given, PluginSerializer):
            return given
        try:
            return cls()
        except Exception as exc:
            self.fail(f"cannot be instantiated with no arguments: {type(exc).__name__}: {exc}")

    def _samples_of(self, version: int) -> list[tuple[str, dict[str, Any]]]:
        out = []
        for i, sample in enumerate(self._samples.get(version, ())):
            out.append((f"sample {version}[{i}]", _as_data(sample)))
        return out

    def _older(self) -> list[tuple[int, str, dict[str, Any]]]:
        current = self.plugin.schema_version
        return [(v, where, data) for v in sorted(self._samples) if v < current for where, data in self._samples_of(v)]

    def _validate(self, where: str, data: dict[str, Any]) -> BaseModel:
        try:
            return self.plugin.model.model_validate(data)
        except ValidationError as exc:
            self.fail(f"{where} does not validate against {self.plugin.model.__name__}: {_located(exc)}")

    def _targets(self) -> list[PayloadTarget]:
        return [_TARGETS[s] for s in ("package", "entity", "version") if s in self.plugin.scopes]

    def _restore(self, where: str, body: bytes, target: PayloadTarget) -> tuple[bytes, list[Problem], list[str]]:
        """What a restore does with ``body``: the stored bytes, warnings and notes (fails on errors)."""
        problems: list[Problem] = []
        notes: list[str] = []
        parsed = parse_payload(f"{where}.json", body, limits=DEFAULT_LIMITS, problems=problems)
        record = None
        if parsed is not None:
            record = check_payload(parsed, self.plugin, target, problems=problems, notes=notes)
        errors = [p for p in problems if p.severity != "warning"]
        if record is None or errors:
            self.fail(f"{where}, as a {target.scope} payload, is refused: " + "; ".join(str(p) for p in errors))
        return record.body, problems, notes

    def _render(self, where: str, version: int, data: Mapping[str, Any], target: PayloadTarget) -> bytes:
        try:
            return render_payload(self.plugin.name, version, data, entity=target.entity, version=target.version)
        except PayloadError as exc:
            self.fail(f"{where} cannot be rendered as a payload: {exc}")

    def _dump(self, where: str, model: BaseModel) -> Any:
        try:
            return model.model_dump(mode="json", by_alias=True)
        except Exception as exc:
            self.fail(f"{where}: model_dump(mode='json') failed: {type(exc).__name__}: {exc}")

    # -- the checks ---------------------------------------------------------------------------------

    def contract(self) -> None:
        """The serializer honours the contract; the samples are usable."""
        current = self.plugin.schema_version
        if not isinstance(self._samples, Mapping):
            self.fail(f"samples must be a mapping of schema version -> list of data documents, "
                      f"not {type(self._samples).__name__}")
        for version, docs in self._samples.items():
            if type(version) is not int or not 1 <= version <= current:
                self.fail(f"samples has schema version {version!r}; versions go from 1 to {current}")
            if isinstance(docs, Mapping | str | bytes) or not isinstance(docs, Sequence):
                self.fail(f"samples[{version}] must be a list of data documents, not {type(docs).__name__}")
            for i, doc in enumerate(docs):
                if not isinstance(doc, Mapping):
                    self.fail(f"sample {version}[{i}] must be a mapping (the payload's `data`), "
                              f"not {type(doc).__name__}")
                try:
                    render_payload(self.plugin.name, version, doc)
                except PayloadError as exc:
                    self.fail(f"sample {version}[{i}] is not plain JSON: {exc}")
        if not self._samples.get(current):
            self.fail(f"samples must include at least one document for the current schema version {current}")
        if current > 1 and not any(self._samples.get(v) for v in range(1, current)):
            self.fail(f"schema version {current} has an upgrade chain: give samples of at least one older version")

    def json_schema(self) -> None:
        """The model's JSON Schema; current samples validate and pass ``check``."""
        model = self.plugin.model
        try:
            first = model.model_json_schema()
            second = model.model_json_schema()
        except Exception as exc:
            self.fail(f"{model.__name__}.model_json_schema() failed: {type(exc).__name__}: {exc}")
        if not isinstance(first, dict):
            self.fail(f"{model.__name__}.model_json_schema() is not a dict")
        try:
            text = json.dumps(first, sort_keys=True, allow_nan=False)
        except (TypeError, ValueError) as exc:
            self.fail(f"the JSON Schema of {model.__name__} is not serialisable: {exc}")
        if text != json.dumps(second, sort_keys=True, allow_nan=False):
            self.fail(f"the JSON Schema of {model.__name__} differs between two calls")
        if first.get("type") != "object":
            self.fail(f"the JSON Schema of {model.__name__} must describe an object (payload `data`), "
                      f"not {first.get('type')!r}")
        nodes: list[tuple[str, Any]] = [("#", first)]
        nodes += [(f"#/$defs/{k}", v) for k, v in sorted(first.get("$defs", {}).items())]
        for where, node in nodes:
            if isinstance(node, dict) and "properties" in node and node.get("additionalProperties") in (None, False):
                title = node.get("title", where)
                self.fail(f"model {title} ({where}) drops or refuses unknown fields: set "
                          "model_config = ConfigDict(extra='allow') so data written by a newer plugin survives")
        for where, data in self._samples_of(self.plugin.schema_version):
            self._validate(where, data)
            for target in self._targets():
                self._restore(where, self._render(where, self.plugin.schema_version, data, target), target)

    def round_trip(self) -> None:
        """data -> model -> records -> model -> data."""
        plugin = self.plugin
        for where, data in self._samples_of(plugin.schema_version):
            model = self._validate(where, data)
            if (dumped := self._dump(where, model)) != data:
                self.fail(f"{where}: model_dump(mode='json') of the validated model differs from the sample:\n"
                          f"  sample: {data!r}\n  dumped: {dumped!r}")
            try:
                records = plugin.load(model)
            except Exception as exc:
                self.fail(f"{where}: load() failed: {type(exc).__name__}: {exc}")
            try:
                again = plugin.dump(records)
            except Exception as exc:
                self.fail(f"{where}: dump(load(model)) failed: {type(exc).__name__}: {exc}")
            if not isinstance(again, plugin.model):
                self.fail(f"{where}: dump() returned {type(again).__name__}, not {plugin.model.__name__}")
            if (dumped := self._dump(where, again)) != data:
                self.fail(f"{where}: dump(load(model)) does not give the sample back:\n"
                          f"  sample: {data!r}\n  got:    {dumped!r}")

    def payload_round_trip(self) -> None:
        """encode_payload -> decode_payload gives the records back, and re-encodes to the same bytes."""
        plugin = self.plugin
        for where, data in self._samples_of(plugin.schema_version):
            records = plugin.load(self._validate(where, data))
            for target in self._targets():
                try:
                    record = encode_payload(plugin, records, entity=target.entity, version=target.version)
                    decoded = decode_payload(plugin, record)
                    again = encode_payload(plugin, decoded, entity=target.entity, version=target.version)
                except PayloadError as exc:
                    self.fail(f"{where}: encode/decode as a {target.scope} payload failed: {exc}")
                if record.schema_version != plugin.schema_version or record.plugin != plugin.name:
                    self.fail(f"{where}: encode_payload gave plugin {record.plugin!r} schema {record.schema_version}")
                if self._dump(where, plugin.dump(decoded)) != data:
                    self.fail(f"{where}: decode_payload(encode_payload(records)) does not give the records back")
                if again.body != record.body:
                    self.fail(f"{where}: encoding the decoded records gives other bytes:\n"
                              f"{record.body.decode()}\n---\n{again.body.decode()}")
                expected = self._render(where, plugin.schema_version, data, target)
                if record.body != expected:
                    self.fail(f"{where}: encode_payload bytes differ from render_payload of the sample:\n"
                              f"{expected.decode()}\n---\n{record.body.decode()}")

    def byte_stable(self) -> None:
        """render -> parse -> render is the identity on bytes; a restore keeps current bytes verbatim."""
        plugin = self.plugin
        for where, data in self._samples_of(plugin.schema_version):
            for target in self._targets():
                body = self._render(where, plugin.schema_version, data, target)
                problems: list[Problem] = []
                parsed = parse_payload(f"{where}.json", body, limits=DEFAULT_LIMITS, problems=problems)
                if parsed is None:
                    self.fail(f"{where}: its rendered payload does not parse: {'; '.join(map(str, problems))}")
                if self._render(where, parsed.schema_version, parsed.data, target) != body:
                    self.fail(f"{where}: parsing and re-rendering its payload changes the bytes")
                stored, _, _ = self._restore(where, body, target)
                if stored != body:
                    self.fail(f"{where}: a payload at the current schema version was not kept byte for byte")
                loose = json.dumps(json.loads(body), indent=None, separators=(", ", " : ")).encode()
                stored, _, _ = self._restore(where, loose, target)
                if stored != loose:
                    self.fail(f"{where}: a non-canonical payload at the current schema version was not kept "
                              "byte for byte")

    def upgrade_chain(self) -> None:
        """Every older sample upgrades one step at a time, leaving each input unchanged, and validates."""
        plugin = self.plugin
        current = plugin.schema_version
        for version, where, original in self._older():
            data = copy.deepcopy(original)
            for step in range(version, current):
                snapshot = copy.deepcopy(data)
                try:
                    out = plugin.upgrade(data, step)
                    twice = plugin.upgrade(copy.deepcopy(snapshot), step)
                except Exception as exc:
                    self.fail(f"{where}: upgrade(data, {step}) failed: {type(exc).__name__}: {exc}")
                if data != snapshot:
                    self.fail(f"{where}: upgrade(data, {step}) changed its input; build a new dict instead")
                if not isinstance(out, dict):
                    self.fail(f"{where}: upgrade(data, {step}) returned {type(out).__name__}, not a dict")
                if out != twice:
                    self.fail(f"{where}: upgrade(data, {step}) gives different results for the same input")
                data = out
            model = self._validate(f"{where} upgraded to schema version {current}", data)
            canonical = self._dump(where, model)
            for target in self._targets():
                body = self._render(where, version, original, target)
                stored, _, _ = self._restore(where, body, target)
                expected = self._render(where, current, canonical, target)
                if stored != expected:
                    self.fail(f"{where}: a restore did not re-render it canonically at schema version {current}:\n"
                              f"{expected.decode()}\n---\n{stored.decode()}")
                again, _, _ = self._restore(f"{where} upgraded", stored, target)
                if again != stored:
                    self.fail(f"{where}: its upgraded payload is not kept byte for byte on a second restore")

    def unknown_fields(self) -> None:
        """Unknown keys at the top and in the first object of every list survive."""
        plugin = self.plugin
        current = plugin.schema_version
        for where, data in self._samples_of(current):
            extended, _ = _with_unknown(data)
            model = self._validate(f"{where} with unknown fields", extended)
            if (dumped := self._dump(where, model)) != extended:
                self.fail(f"{where}: unknown fields (key {UNKNOWN_KEY!r}) are not kept by validation and "
                          f"model_dump; use model_config = ConfigDict(extra='allow') at every level:\n"
                          f"  given:  {extended!r}\n  dumped: {dumped!r}")
        for version, where, original in self._older():
            extended, added = _with_unknown(original)
            for target in self._targets():
                body = self._render(where, version, extended, target)
                stored, _, _ = self._restore(f"{where} with unknown fields", body, target)
                kept = json.loads(stored)["data"]
                if UNKNOWN_KEY not in kept or _count_key(kept, UNKNOWN_KEY) < added:
                    self.fail(f"{where}: upgrading to schema version {current} drops unknown fields "
                              f"(key {UNKNOWN_KEY!r}, {added} added, {_count_key(kept, UNKNOWN_KEY)} kept); "
                              "keep every key an upgrade step does not change")
