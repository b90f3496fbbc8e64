"""Plugin payloads: the JSON envelope, its hostile-input parser, and the checks through a plugin.

A plugin's data travels as one JSON document per target (the package, an entity, or one version of
an entity), in archives as a member under ``plugins/<plugin>/`` (see :mod:`.plugin_members`) and in
stores as :class:`~lc_archive.domain.records.PayloadRecord` bytes::

    {
      "data": {"tags": [{"lineage": ["Easy"], "taxonomy": "difficulty", "value": "Easy"}]},
      "entity": "xblock.v1:html:intro",
      "plugin": "tags",
      "schema_version": 2,
      "version": 3
    }

``entity`` absent (or null) is package scope; ``version`` absent (or null) with an entity is entity
scope. No other top-level keys are allowed: plugins put everything in ``data``.

The rule (plugins add, never gate):

* every payload is checked structurally (:func:`parse_payload`): size, strict UTF-8, JSON without
  duplicate keys or NaN, nesting depth, the envelope;
* a payload of a plugin that is not installed is kept **byte for byte**;
* with the plugin installed (:func:`check_payload`), ``data`` is validated against its model and its
  own checks; a payload at the plugin's current schema version is kept byte for byte, one written at
  an older schema version is upgraded step by step and re-rendered canonically (:func:`render_payload`)
  at the current one, and one written by a *newer* schema version is kept byte for byte, unchecked,
  with a note.

Plugin code (``upgrade``, the model's validators, ``check``) is untrusted: anything it raises becomes a
:class:`~lc_archive.errors.Problem` naming the plugin, never a crash of a restore.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..archive.limits import DEFAULT_LIMITS, Limits
from ..domain import PayloadRecord
from ..domain.fields import PluginName, Ref, VersionNumber
from ..domain.syntax import PLUGIN_NAME_PATTERN, PLUGIN_NAME_RE
from ..errors import LcArchiveError, Problem
from ..parsing.documents import problems_from
from ..parsing.safe_json import json_type, load_json
from .contract import Issue, PayloadScope, PayloadTarget, PluginSerializer

__all__ = [
    "ParsedPayload",
    "PayloadEnvelope",
    "PayloadError",
    "check_payload",
    "decode_payload",
    "encode_payload",
    "parse_payload",
    "payload_schema",
    "render_payload",
    "upgrade_data",
]

_MAX_SCHEMA_VERSION = 2**31 - 1
_MAX_MESSAGE = 300  # characters of a plugin's exception message kept in a Problem


class PayloadError(LcArchiveError, ValueError):
    """A payload cannot be rendered or read (invalid, or written by a newer schema version).

    ``problems`` lists what was found, located in the document, when there is more than a message.
    """

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems: tuple[Problem, ...] = tuple(problems)


# -- rendering --------------------------------------------------------------------------------------


def _check_json_value(value: Any) -> None:
    """Raise PayloadError unless ``value`` is plain JSON: str keys, finite floats, dict/list/scalars."""
    stack: list[tuple[Any, str]] = [(value, "$.data")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            for key, item in node.items():
                if not isinstance(key, str):
                    raise PayloadError(f"{path}: object keys must be strings, not {type(key).__name__} {key!r}")
                if isinstance(item, (dict, list, tuple, float)):
                    stack.append((item, f"{path}.{key}"))
                elif not (item is None or isinstance(item, (str, int))):
                    raise PayloadError(f"{path}.{key}: {type(item).__name__} is not a JSON value")
        elif isinstance(node, (list, tuple)):
            for i, item in enumerate(node):
                if isinstance(item, (dict, list, tuple, float)):
                    stack.append((item, f"{path}[{i}]"))
                elif not (item is None or isinstance(item, (str, int))):
                    raise PayloadError(f"{path}[{i}]: {type(item).__name__} is not a JSON value")
        elif isinstance(node, float) and not math.isfinite(node):
            raise PayloadError(f"{path}: {node!r} is not a JSON number (NaN and infinities are refused)")


def render_payload(
    plugin: str,
    schema_version: int,
    data: Mapping[str, Any],
    *,
    entity: str | None = None,
    version: int | None = None,
) -> bytes:
    """The canonical bytes of a payload document.

    Deterministic: keys sorted at every level, 2-space indent, ``", "``/``": "`` separators, non-ASCII
    characters as themselves (UTF-8), a final newline; ``entity`` and ``version`` are left out when
    None. Raises :class:`PayloadError` for an invalid envelope or data that is not plain JSON
    (non-string keys, NaN or infinite floats, other Python objects, lone surrogates).
    """
    if not isinstance(plugin, str) or not PLUGIN_NAME_RE.fullmatch(plugin):
        raise PayloadError(f"plugin name {plugin!r} must match {PLUGIN_NAME_PATTERN}")
    if not _positive_int(schema_version):
        raise PayloadError(f"schema_version must be a positive int, not {schema_version!r}")
    if entity is not None and (not isinstance(entity, str) or not entity):
        raise PayloadError(f"entity must be a non-empty ref or None, not {entity!r}")
    if version is not None:
        if not _positive_int(version):
            raise PayloadError(f"version must be a positive int or None, not {version!r}")
        if entity is None:
            raise PayloadError("a version-scoped payload needs an entity")
    if not isinstance(data, Mapping):
        raise PayloadError(f"data must be a mapping, not {type(data).__name__}")
    body = dict(data)
    _check_json_value(body)
    doc: dict[str, Any] = {"data": body, "plugin": plugin, "schema_version": schema_version}
    if entity is not None:
        doc["entity"] = entity
    if version is not None:
        doc["version"] = version
    try:
        text = json.dumps(doc, sort_keys=True, ensure_ascii=False, indent=2, separators=(",", ": "),
                          allow_nan=False)
        return (text + "\n").encode("utf-8")
    except (ValueError, TypeError, RecursionError) as exc:  # UnicodeEncodeError is a ValueError
        raise PayloadError(f"payload data is not plain JSON: {type(exc).__name__}: {exc}") from None


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= _MAX_SCHEMA_VERSION


# -- parsing ----------------------------------------------------------------------------------------

_SchemaVersion = Annotated[int, Field(strict=True, ge=1, le=_MAX_SCHEMA_VERSION)]


class PayloadEnvelope(BaseModel):
    """A plugin payload document: the envelope around the plugin's `data`."""

    model_config = ConfigDict(extra="forbid", strict=True, title="Plugin payload")

    data: dict[str, Any] = Field(description="The plugin's data, as its model at `schema_version` describes it.")
    entity: Ref | None = Field(
        default=None, description="The ref of the entity the payload belongs to; absent or null: the package.")
    plugin: PluginName = Field(
        description="The plugin's name (its serializer id is `plugin:<name>`); also the folder `plugins/<plugin>/`.")
    schema_version: _SchemaVersion = Field(description="The plugin's schema version `data` was written at.")
    version: VersionNumber | None = Field(
        default=None, description="A version number of `entity`; absent or null: the entity as a whole.")


@dataclass(frozen=True)
class ParsedPayload:
    """A structurally valid payload document: the envelope's fields, ``data``, and the exact bytes."""

    member: str
    raw: bytes
    plugin: str
    schema_version: int
    entity: str | None
    version: int | None
    data: dict[str, Any]

    @property
    def scope(self) -> PayloadScope:
        """``package``, ``entity`` or ``version``: what the envelope attaches the data to."""
        if self.entity is None:
            return "package"
        return "entity" if self.version is None else "version"


def parse_payload(member: str, raw: bytes, *, limits: Limits, problems: list[Problem]) -> ParsedPayload | None:
    """Check ``raw`` as a payload document; on any problem append them all and return None.

    Checked in order, each only when the previous passed: size (``limits.max_toml_size``), then
    the JSON rule, :func:`~lc_archive.parsing.safe_json.load_json` (strict UTF-8 without a byte order
    mark, nesting depth ``limits.max_toml_depth`` measured before anything is parsed, JSON without NaN
    or infinities, numbers that fit, no duplicate keys or lone surrogates), then the envelope
    (:class:`PayloadEnvelope`). Never raises on content.
    """
    if len(raw) > limits.max_toml_size:
        problems.append(Problem(member, "$", f"payload is {len(raw)} bytes, more than the limit of "
                                             f"{limits.max_toml_size} (--max-toml-size)"))
        return None
    found: list[Problem] = []
    value = load_json(member, raw, max_depth=limits.max_toml_depth, problems=found, what="payload")
    if found:
        problems.extend(found)
        return None
    if not isinstance(value, dict):
        problems.append(Problem(member, "$", f"a payload is a JSON object, not {json_type(value)}"))
        return None
    try:
        envelope = PayloadEnvelope.model_validate(value)
    except ValidationError as exc:
        problems.extend(problems_from(member, exc))
        return None
    if envelope.version is not None and envelope.entity is None:
        problems.append(Problem(member, "$.version", "a version needs an entity: set `entity` or remove `version`"))
        return None
    return ParsedPayload(member=member, raw=raw, plugin=envelope.plugin, schema_version=envelope.schema_version,
                         entity=envelope.entity, version=envelope.version, data=value["data"])


# -- checking through the plugin --------------------------------------------------------------------


def _failure(exc: BaseException) -> str:
    text = str(exc)
    if len(text) > _MAX_MESSAGE:
        text = text[:_MAX_MESSAGE] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def upgrade_data(serializer: PluginSerializer, data: Mapping[str, Any], from_version: int) -> dict[str, Any]:
    """``data`` written at ``from_version``, upgraded one step at a time to the plugin's schema version.

    Each step is ``serializer.upgrade(data, v)`` (``v`` -> ``v + 1``) on a deep copy, so ``data`` is
    never changed. Anything a step raises, or a step that does not return a dict, becomes a
    :class:`PayloadError` naming the plugin and the step.
    """
    name = serializer.name
    target = serializer.schema_version
    if from_version > target:
        raise PayloadError(f"plugin {name!r} reads schema versions up to {target}, not {from_version}")
    current: dict[str, Any] = copy.deepcopy(dict(data))
    for step in range(from_version, target):
        try:
            result = serializer.upgrade(current, step)
        except Exception as exc:
            raise PayloadError(f"plugin {name!r} failed to upgrade data from schema version {step} to "
                               f"{step + 1}: {_failure(exc)}") from None
        if not isinstance(result, dict):
            raise PayloadError(f"plugin {name!r} upgrade from schema version {step} to {step + 1} returned "
                               f"{type(result).__name__}, not a dict")
        current = result
    return current


def _scope_problem(serializer: PluginSerializer, scope: PayloadScope) -> str | None:
    if scope in serializer.scopes:
        return None
    allowed = ", ".join(s for s in ("package", "entity", "version") if s in serializer.scopes) or "nothing"
    what = {"package": "the package", "entity": "an entity", "version": "one version of an entity"}[scope]
    return f"plugin {serializer.name!r} does not attach data to {what} (it attaches to: {allowed})"


def _dump(model: BaseModel) -> dict[str, Any]:
    data = model.model_dump(mode="json", by_alias=True)
    if not isinstance(data, dict):  # a RootModel
        raise PayloadError(f"{type(model).__name__}.model_dump() gave {type(data).__name__}, not a dict")
    return data


def check_payload(
    parsed: ParsedPayload,
    serializer: PluginSerializer | None,
    target: PayloadTarget,
    *,
    problems: list[Problem],
    notes: list[str],
) -> PayloadRecord | None:
    """The record to store for a parsed payload, or None when it has errors (appended to ``problems``).

    * no serializer (plugin not installed): the bytes as they are, with a note;
    * written at a newer schema version than the plugin's: the bytes as they are, unchecked, with a note;
    * the target's scope must be one of ``serializer.scopes``;
    * an older schema version: :func:`upgrade_data`, then the model and :meth:`PluginSerializer.check`;
      the record holds the upgraded data re-rendered canonically at the current schema version;
    * the current schema version: the model and ``check``; the record holds the bytes as they are.

    Model errors are located under ``$.data``; ``check`` issues keep their path, severity and member
    (warnings do not make the payload invalid). Anything plugin code raises becomes a problem.
    """
    member = parsed.member
    if serializer is None:
        notes.append(f"plugin {parsed.plugin!r} is not installed: its payloads were checked as JSON envelopes "
                     "only and are kept byte for byte")
        return _verbatim(parsed)
    name = serializer.name
    current = serializer.schema_version
    if parsed.schema_version > current:
        notes.append(f"plugin {name!r} payloads written at schema version {parsed.schema_version} are newer than "
                     f"the installed plugin's ({current}): kept byte for byte, unchecked")
        return _verbatim(parsed)
    scope_problem = _scope_problem(serializer, target.scope)
    if scope_problem is not None:
        problems.append(Problem(member, "$.entity" if target.scope == "package" else "$", scope_problem))
        return None
    found: list[Problem] = []
    data: dict[str, Any] = parsed.data
    upgraded = parsed.schema_version < current
    after = f" (after upgrading from schema version {parsed.schema_version} to {current})" if upgraded else ""
    if upgraded:
        try:
            data = upgrade_data(serializer, parsed.data, parsed.schema_version)
        except PayloadError as exc:
            problems.append(Problem(member, "$.data", str(exc)))
            return None
    try:
        model = serializer.model.model_validate(data)
    except ValidationError as exc:
        problems.extend(problems_from(member, exc, ("data",), after))
        return None
    except Exception as exc:
        problems.append(Problem(member, "$.data", f"plugin {name!r} failed: {_failure(exc)}{after}"))
        return None
    try:
        issues = list(serializer.check(model, target))
    except Exception as exc:
        problems.append(Problem(member, "$.data", f"plugin {name!r} failed: {_failure(exc)}{after}"))
        return None
    for issue in issues:
        if not isinstance(issue, Issue):
            found.append(Problem(member, "$.data", f"plugin {name!r} failed: check() returned "
                                                   f"{type(issue).__name__}, not an Issue"))
            continue
        path = issue.path if issue.path.startswith("$") else "$" if not issue.path else f"$.{issue.path}"
        found.append(Problem(issue.member or member, path, issue.message + after, issue.severity))
    problems.extend(found)
    if any(p.severity != "warning" for p in found):
        return None
    if not upgraded:
        return _verbatim(parsed)
    try:
        body = render_payload(name, current, _dump(model), entity=parsed.entity, version=parsed.version)
    except Exception as exc:
        problems.append(Problem(member, "$.data", f"plugin {name!r} failed: {_failure(exc)}{after}"))
        return None
    return PayloadRecord(name, current, body, parsed.entity, parsed.version)


def _verbatim(parsed: ParsedPayload) -> PayloadRecord:
    return PayloadRecord(parsed.plugin, parsed.schema_version, parsed.raw, parsed.entity, parsed.version)


# -- typed records <-> payload records ---------------------------------------------------------------


def encode_payload(
    serializer: PluginSerializer,
    records: Sequence[Any],
    *,
    entity: str | None = None,
    version: int | None = None,
) -> PayloadRecord:
    """A payload record (canonical bytes at the plugin's schema version) for the plugin's typed records.

    ``serializer.dump(records)`` gives the model, whose ``model_dump(mode="json", by_alias=True)``
    (extra fields included) is rendered by :func:`render_payload`. Raises :class:`PayloadError` when
    the target's scope is not one the plugin takes or the data cannot be rendered.
    """
    scope: PayloadScope = "package" if entity is None else "entity" if version is None else "version"
    if version is not None and entity is None:
        raise PayloadError("a version-scoped payload needs an entity")
    problem = _scope_problem(serializer, scope)
    if problem is not None:
        raise PayloadError(problem)
    model = serializer.dump(records)
    if not isinstance(model, serializer.model):
        raise PayloadError(f"plugin {serializer.name!r} dump() returned {type(model).__name__}, "
                           f"not {serializer.model.__name__}")
    body = render_payload(serializer.name, serializer.schema_version, _dump(model), entity=entity, version=version)
    return PayloadRecord(serializer.name, serializer.schema_version, body, entity, version)


def decode_payload(serializer: PluginSerializer, record: PayloadRecord) -> list[Any]:
    """The plugin's typed records from a payload record (upgraded first when written at an older version).

    Raises :class:`PayloadError` (with :attr:`PayloadError.problems`) when the body is not a valid
    payload of this plugin, was written by a newer schema version, or fails the model.
    """
    where = f"payload {record.plugin}:{record.entity or '<package>'}" + (
        f".v{record.version}" if record.version is not None else "")
    problems: list[Problem] = []
    limits = DEFAULT_LIMITS.replace(max_toml_size=max(DEFAULT_LIMITS.max_toml_size, len(record.body)))
    parsed = parse_payload(where, record.body, limits=limits, problems=problems)
    if parsed is None:
        raise PayloadError(f"{where} is not a valid payload: " + "; ".join(f"{p.path}: {p.message}" for p in problems),
                           problems)
    if parsed.plugin != serializer.name:
        raise PayloadError(f"{where} belongs to plugin {parsed.plugin!r}, not {serializer.name!r}")
    if parsed.schema_version > serializer.schema_version:
        raise PayloadError(f"{where} was written at schema version {parsed.schema_version}; plugin "
                           f"{serializer.name!r} reads up to {serializer.schema_version} (upgrade the plugin)")
    data = upgrade_data(serializer, parsed.data, parsed.schema_version)
    try:
        model = serializer.model.model_validate(data)
    except ValidationError as exc:
        found = problems_from(where, exc, ("data",))
        raise PayloadError(f"{where} is invalid: " + "; ".join(f"{p.path}: {p.message}" for p in found),
                           found) from None
    return list(serializer.load(model))


# -- JSON Schema ------------------------------------------------------------------------------------


def payload_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of the payload envelope, ``data`` left to each plugin's own schema."""
    body = PayloadEnvelope.model_json_schema()
    body.pop("title", None)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "payload.schema.json",
        "title": "lc-archive plugins/<plugin>/...json",
        **body,
        "if": {"properties": {"version": {"type": "integer"}}, "required": ["version"]},
        "then": {"properties": {"entity": {"type": "string"}}, "required": ["entity"]},
    }
