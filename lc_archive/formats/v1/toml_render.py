"""Fast rendering of the three v1 TOML documents, byte-identical to openedx-core 1.15.2's tomlkit output.

openedx-core builds ``package.toml``, the entity TOMLs and the collection TOMLs with tomlkit
(``backup_restore/toml.py``). tomlkit is far too slow for libraries of 10,000+ entities, so this module
writes the same text directly; the test suite checks it against a tomlkit oracle built the way
openedx-core builds its documents. The rules (format spec §3.1):

* basic strings: ``"`` and ``\\`` are backslash-escaped, ``\\b \\t \\n \\f \\r`` use short escapes and
  every other control character (U+0000-U+001F, U+007F) becomes ``\\u00xx``; all else is literal;
* datetimes: ``isoformat()`` with ``+00:00`` written as ``Z`` (microseconds only when non-zero); aware
  datetimes are converted to UTC first, naive ones are refused;
* ``children`` is an inline array, ``entities`` a multiline one (``entities = []`` when empty);
* tables are separated by one blank line, and the file ends with a single newline.

Later format versions may add keys where the 1.15.2 reader ignores them (spec §8): every ``extra``
mapping below is rendered after the standard keys of its table. Values may be ``str``, ``int``,
``bool``, ``datetime`` or a list/tuple of those (rendered inline); keys that are not bare
(``[A-Za-z0-9_-]+``) are quoted like tomlkit quotes them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ...domain import CONTAINER, CollectionRecord, EntityRecord, PackageRecord, VersionRecord
from ..toml_text import toml_datetime, toml_string

__all__ = [
    "EntityExtras",
    "ExtraValue",
    "Extras",
    "render_collection",
    "render_entity",
    "render_package",
    "written_versions",
]

type Scalar = str | int | bool | datetime
type ExtraValue = Scalar | Sequence[Scalar]
"""A value of an extension key: a scalar, or a flat list of scalars (an inline array)."""
type Extras = Mapping[str, ExtraValue]
"""Extension keys of one table, rendered in mapping order after the table's standard keys."""

_UNPUBLISHED = "# unpublished: no published_version_num\n"
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class EntityExtras:
    """Extension keys for the tables of one entity TOML (``versions`` is keyed by version number)."""

    entity: Extras = field(default_factory=dict)
    draft: Extras = field(default_factory=dict)
    published: Extras = field(default_factory=dict)
    container: Extras = field(default_factory=dict)
    versions: Mapping[int, Extras] = field(default_factory=dict)


_NO_EXTRAS = EntityExtras()


def _scalar(value: object) -> str:
    # bool first: it is a subclass of int.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, datetime):
        return toml_datetime(value)
    raise TypeError(f"cannot render {type(value).__name__} value {value!r} in v1 TOML")


def _value(value: object) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    return _scalar(value)


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else toml_string(key)


def _extra_lines(extra: Extras, reserved: frozenset[str]) -> list[str]:
    lines = []
    for key, value in extra.items():
        if key in reserved:
            raise ValueError(f"extension key {key!r} clashes with a standard v1 key")
        lines.append(f"{_key(key)} = {_value(value)}\n")
    return lines


_META_KEYS = frozenset({"format_version", "created_by", "created_by_email", "created_at", "origin_server"})
_PACKAGE_KEYS = frozenset({"title", "key", "description", "created", "updated"})
_ENTITY_KEYS = frozenset({"can_stand_alone", "key", "created", "draft", "published", "container"})
_POINTER_KEYS = frozenset({"version_num"})
_VERSION_KEYS = frozenset({"title", "version_num", "container"})
_COLLECTION_KEYS = frozenset({"title", "key", "description", "created", "entities"})
_NONE: frozenset[str] = frozenset()


def _optional(key: str, value: str | None) -> str:
    """``key = "value"``, or nothing when the value is missing or blank (the 1.15.2 reader rejects blanks)."""
    if value is None or not value.strip():
        return ""
    return f"{key} = {toml_string(value)}\n"


def render_package(
    package: PackageRecord,
    *,
    created_at: datetime,
    format_version: int = 1,
    created_by: str | None = None,
    created_by_email: str | None = None,
    origin_server: str | None = None,
    extra_meta: Extras | None = None,
    extra_package: Extras | None = None,
) -> str:
    """``package.toml``: ``[meta]`` then ``[learning_package]``; blank optional values are left out."""
    parts = [
        "[meta]\n",
        f"format_version = {_scalar(format_version)}\n",
        _optional("created_by", created_by),
        _optional("created_by_email", created_by_email),
        f"created_at = {toml_datetime(created_at)}\n",
        _optional("origin_server", origin_server),
        *_extra_lines(extra_meta or {}, _META_KEYS),
        "\n[learning_package]\n",
        f"title = {toml_string(package.title)}\n",
        f"key = {toml_string(package.ref)}\n",
        f"description = {toml_string(package.description)}\n",
        f"created = {toml_datetime(package.created)}\n",
        f"updated = {toml_datetime(package.updated)}\n",
        *_extra_lines(extra_package or {}, _PACKAGE_KEYS),
    ]
    return "".join(parts)


def written_versions(entity: EntityRecord) -> list[VersionRecord]:
    """The versions v1 writes: the draft, then the published version if it is a different one.

    Raises ``ValueError`` if a pointer names a version that is not in ``entity.versions``.
    """
    result: list[VersionRecord] = []
    for number in (entity.draft, entity.published):
        if number is None or any(v.number == number for v in result):
            continue
        version = entity.version(number)
        if version is None:
            raise ValueError(f"entity {entity.ref!r}: version {number} is not among its versions")
        result.append(version)
    return result


def render_entity(
    entity: EntityRecord,
    versions: Sequence[VersionRecord] | None = None,
    *,
    extras: EntityExtras | None = None,
) -> str:
    """An entity TOML: ``[entity]``, its draft/published/container tables, then one ``[[version]]`` each.

    ``versions`` defaults to :func:`written_versions`. Containers get ``[entity.container.<type>]``
    and a ``[version.container]`` child list (entity refs in order; pins are not representable).
    """
    ext = extras or _NO_EXTRAS
    if versions is None:
        versions = written_versions(entity)
    is_container = entity.kind == CONTAINER
    parts = [
        "[entity]\n",
        f"can_stand_alone = {'true' if entity.can_stand_alone else 'false'}\n",
        f"key = {toml_string(entity.ref)}\n",
        f"created = {toml_datetime(entity.created)}\n",
        *_extra_lines(ext.entity, _ENTITY_KEYS),
    ]
    if entity.draft is not None:
        parts += ["\n[entity.draft]\n", f"version_num = {entity.draft}\n"]
        parts += _extra_lines(ext.draft, _POINTER_KEYS)
    parts.append("\n[entity.published]\n")
    parts.append(_UNPUBLISHED if entity.published is None else f"version_num = {entity.published}\n")
    parts += _extra_lines(ext.published, _POINTER_KEYS)
    if is_container:
        parts.append(f"\n[entity.container.{_key(entity.type)}]\n")
        parts += _extra_lines(ext.container, _NONE)
    parts.append("\n# ### Versions\n")
    for version in versions:
        parts += [
            "\n[[version]]\n",
            f"title = {toml_string(version.title)}\n",
            f"version_num = {version.number}\n",
            *_extra_lines(ext.versions.get(version.number, {}), _VERSION_KEYS),
        ]
        if is_container:
            children = ", ".join(toml_string(child.ref) for child in version.children)
            parts.append(f"\n[version.container]\nchildren = [{children}]\n")
    return "".join(parts)


def render_collection(collection: CollectionRecord, *, extra: Extras | None = None) -> str:
    """A collection TOML; ``entities`` lists the members in the order given (the store sorts them)."""
    if collection.members:
        items = "".join(f"    {toml_string(ref)},\n" for ref in collection.members)
        entities = f"entities = [\n{items}]\n"
    else:
        entities = "entities = []\n"
    parts = [
        "[collection]\n",
        f"title = {toml_string(collection.title)}\n",
        f"key = {toml_string(collection.code)}\n",
        f"description = {toml_string(collection.description)}\n",
        f"created = {toml_datetime(collection.created)}\n",
        entities,
        *_extra_lines(extra or {}, _COLLECTION_KEYS),
    ]
    return "".join(parts)
