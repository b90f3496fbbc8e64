"""The serializer registry: every serializer by id, loaded from the ``lc_archive.serializers`` entry points.

lc-archive's own serializers (:data:`~lc_archive.plugins.entry_points.BUILTINS`) are declared in its
``pyproject.toml`` in the same entry-point group as any plugin's and are loaded the same way::

    registry = default_registry()            # process-wide: entry points of every installed distribution
    registry.component("xblock.v1", "problem").check_version(view)
    registry.container("unit").child_problem("container", "section")
    for failure in registry.failures: ...    # plugins that could not be loaded, and why

Loading never stops at a broken plugin: an import error, an exception raised at import, a missing
attribute or a contract violation (:func:`Registry.register` lists the rules) becomes a
:class:`PluginFailure`, and every other serializer is registered. When two entry points claim one
id, the first wins and the other is a failure; entry points are taken in a fixed order: lc-archive's
own first (a plugin cannot silently replace a built-in), then by distribution name, entry-point name
and value. Code may replace any serializer with ``register(..., origin="code")``, which is how tests
override one.

:func:`builtin_registry` returns a new registry with lc-archive's own serializers only (for tests
that need "a registry that lacks the plugin"). Both fall back to registering the built-ins directly
when lc-archive's entry points are not installed (a source tree without ``pip install -e .``), and say
so in :attr:`Registry.failures`. The registry never imports a built-in serializer module: its
fallbacks (the ``*`` component serializer, the unit/subsection/section rules) are loaded from their
entry-point values too, on first use.
"""

from __future__ import annotations

import functools
import importlib.metadata
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint
from typing import Final

from pydantic import BaseModel

from ..domain.syntax import PLUGIN_NAME_PATTERN, PLUGIN_NAME_RE
from ..errors import LcArchiveError
from .contract import (
    CollectionSerializer,
    ComponentSerializer,
    ContainerSerializer,
    PluginSerializer,
    Serializer,
    SerializerKind,
)
from .entry_points import (
    BUILTINS,
    DISTRIBUTION,
    GROUP,
    PluginFailure,
    discover,
    distribution_of,
    entry_point_order,
    normalize,
    one_line,
    shorten,
)

__all__ = [
    "GROUP",
    "PluginError",
    "PluginFailure",
    "Registry",
    "RegistryEntry",
    "builtin_registry",
    "default_registry",
]

ORIGIN_CODE: Final = "code"
ORIGIN_ENTRY_POINT: Final = "entry-point"
ORIGIN_BUILTIN: Final = "builtin"
"""Origins: registered by code (tests; replaces), an entry point, or a built-in registered directly."""

_BASES: Final[dict[str, type[Serializer]]] = {
    "component": ComponentSerializer,
    "container": ContainerSerializer,
    "collection": CollectionSerializer,
    "plugin": PluginSerializer,
}
_METHODS: Final[dict[str, tuple[str, ...]]] = {
    "component": ("facts", "check_version"),
    "container": ("child_problem",),
    "collection": ("check",),
    "plugin": ("dump", "load", "upgrade", "check"),
}
_SCOPES: Final = frozenset({"package", "entity", "version"})
_NAME = r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}"
_COMPONENT_ID = re.compile(rf"(?P<ns>{_NAME}):(?:\*|{_NAME})")
_CONTAINER_ID = re.compile(f"container:{PLUGIN_NAME_PATTERN}")  # container type names: plugin-name syntax
_RESERVED_NAMESPACES: Final = frozenset({"container", "collection", "plugin"})


class PluginError(LcArchiveError):
    """A serializer breaks the contract, or its id is taken; :attr:`id` and :attr:`reason` say which and why."""

    def __init__(self, id: str, reason: str) -> None:
        self.id = id
        self.reason = reason
        super().__init__(f"serializer {id!r}: {reason}")


@dataclass(frozen=True, slots=True)
class RegistryEntry:
    """What ``lc-archive plugins`` shows about one registered serializer."""

    id: str
    kind: SerializerKind
    description: str
    schema_version: int | None
    """A plugin's current schema version; None for other kinds."""
    distribution: str | None
    """The distribution whose entry point registered it (``lc-archive`` for built-ins); None for code."""
    version: str | None
    """That distribution's version."""
    entry_point: str | None
    """``module:Class``; None when registered by code."""
    origin: str
    """``entry-point``, ``builtin`` (a built-in registered directly: no entry points installed) or ``code``."""


class Registry:
    """Serializers by id. Empty on construction; see :meth:`register` and :meth:`load_entry_points`."""

    def __init__(self) -> None:
        self._serializers: dict[str, Serializer] = {}
        self._entries: dict[str, RegistryEntry] = {}
        self.failures: list[PluginFailure] = []
        """Entry points that could not be registered, in load order."""

    # -- registration -------------------------------------------------------------------------------

    def register(self, serializer: type[Serializer] | Serializer, *, origin: str = ORIGIN_CODE) -> None:
        """Check ``serializer`` (a class, instantiated with no arguments, or an instance) and register it.

        Contract (:class:`PluginError` naming the id and the reason otherwise):

        * a subclass of the contract base for its ``kind`` (:class:`ComponentSerializer` for
          ``component``...), with no abstract method left and each method of that base callable;
        * a well-formed ``id`` for its kind: components ``namespace:type``, ``namespace:*`` or ``*``
          (namespace not ``container``/``collection``/``plugin``), containers ``container:<type>``,
          ``collection``, plugins ``plugin:<name>`` with ``name`` (a class attribute, equal to the id's)
          matching ``[a-z0-9][a-z0-9_.-]{0,63}``; a string ``description``;
        * plugins: an int ``schema_version`` >= 1, a pydantic ``BaseModel`` subclass as ``model``, a
          non-empty ``scopes`` within package/entity/version, and their own ``upgrade`` when the schema
          version is above 1.

        An id already taken is replaced when ``origin`` is ``code``, and refused otherwise.
        """
        self._add(serializer, origin=origin)

    def load_entry_points(self, entry_points: Iterable[EntryPoint] | None = None) -> None:
        """Load and register each entry point (default: the installed ones of :data:`GROUP`).

        Never raises for a plugin: whatever loading or registering one raises (``SystemExit``
        included) is recorded in :attr:`failures` and the others go on; so is a distribution whose
        ``entry_points.txt`` declares the group but cannot be parsed (``importlib.metadata.entry_points()``
        would raise for everyone). An entry point's name must be the id of the serializer it names.
        """
        if entry_points is None:
            entry_points, unreadable = discover()
            self.failures.extend(unreadable)
        for ep in sorted(entry_points, key=entry_point_order):
            self._load(ep, origin=ORIGIN_ENTRY_POINT)

    def _load(self, ep: EntryPoint, *, origin: str) -> None:
        distribution, version = distribution_of(ep)
        if origin == ORIGIN_BUILTIN:
            distribution = distribution or DISTRIBUTION
        try:
            obj = ep.load()
            self._add(obj, origin=origin, distribution=distribution, version=version, entry_point=ep.value,
                      expected_id=ep.name)
        except PluginError as exc:
            reason = exc.reason
        except (Exception, SystemExit) as exc:  # plugin code: anything it raises is its failure, never ours
            reason = one_line(exc)
        else:
            return
        self.failures.append(PluginFailure(ep.name, ep.value, distribution, shorten(reason)))

    def _add(self, obj: object, *, origin: str, distribution: str | None = None, version: str | None = None,
             entry_point: str | None = None, expected_id: str | None = None) -> None:
        serializer = _checked(obj)
        sid = serializer.id
        if expected_id is not None and expected_id != sid:
            raise PluginError(expected_id, f"the entry point's name must be the serializer's id, which is {sid!r}")
        taken = self._entries.get(sid)
        if taken is not None and origin != ORIGIN_CODE:
            raise PluginError(sid, f"id already registered by {_describe(taken)}")
        self._serializers[sid] = serializer
        self._entries[sid] = RegistryEntry(
            id=sid, kind=serializer.kind, description=serializer.description,
            schema_version=serializer.schema_version if isinstance(serializer, PluginSerializer) else None,
            distribution=distribution, version=version, entry_point=entry_point, origin=origin,
        )  # fmt: skip

    # -- lookups ------------------------------------------------------------------------------------

    def get(self, id: str) -> Serializer | None:
        """The serializer registered under ``id``, or None."""
        return self._serializers.get(id)

    def __contains__(self, id: object) -> bool:
        return id in self._serializers

    def __len__(self) -> int:
        return len(self._serializers)

    def component(self, namespace: str, type: str) -> ComponentSerializer:
        """The serializer for ``namespace:type``: exact id, else ``namespace:*``, else ``*`` (always one)."""
        for sid in (f"{namespace}:{type}", f"{namespace}:*", "*"):
            serializer = self._serializers.get(sid)
            if isinstance(serializer, ComponentSerializer):
                return serializer
        return _any_component()

    def container(self, type: str) -> ContainerSerializer | None:
        """The serializer of container type ``type`` (``unit``...): the registered one, else lc-archive's
        built-in rule for ``unit``/``subsection``/``section``; None for any other type."""
        serializer = self._serializers.get(f"container:{type}")
        return serializer if isinstance(serializer, ContainerSerializer) else _builtin_container(type)

    def collection(self) -> CollectionSerializer | None:
        """The collection serializer, or None."""
        serializer = self._serializers.get("collection")
        return serializer if isinstance(serializer, CollectionSerializer) else None

    def plugin(self, name: str) -> PluginSerializer | None:
        """The plugin serializer ``plugin:<name>``, or None (not installed)."""
        serializer = self._serializers.get(f"plugin:{name}")
        return serializer if isinstance(serializer, PluginSerializer) else None

    def plugins(self) -> list[PluginSerializer]:
        """Every plugin serializer, by id."""
        return [s for _, s in sorted(self._serializers.items()) if isinstance(s, PluginSerializer)]

    def entries(self) -> list[RegistryEntry]:
        """Every registered serializer's description, by id."""
        return [self._entries[sid] for sid in sorted(self._entries)]


@functools.cache
def default_registry() -> Registry:
    """The process-wide registry: every installed entry point of :data:`GROUP` (cached; tests use their own)."""
    registry = Registry()
    registry.load_entry_points()
    _ensure_builtins(registry)
    return registry


def builtin_registry() -> Registry:
    """A new registry with lc-archive's own serializers only, loaded through its entry points if installed."""
    try:
        own = [ep for ep in importlib.metadata.distribution(DISTRIBUTION).entry_points if ep.group == GROUP]
    except importlib.metadata.PackageNotFoundError:
        own = []
    registry = Registry()
    registry.load_entry_points(own)
    _ensure_builtins(registry)
    return registry


def _ensure_builtins(registry: Registry) -> None:
    """Register directly each built-in whose entry point was not found at all, and note it."""
    tried = {f.name for f in registry.failures if normalize(f.distribution or "") == DISTRIBUTION}
    missing = [sid for sid in BUILTINS if sid not in registry and sid not in tried]
    if not missing:
        return
    for sid in missing:
        registry._load(EntryPoint(name=sid, value=BUILTINS[sid], group=GROUP), origin=ORIGIN_BUILTIN)
    registry.failures.append(PluginFailure(
        DISTRIBUTION, "lc_archive.plugins.entry_points:BUILTINS", DISTRIBUTION,
        f"lc-archive's own entry points were not found for {', '.join(missing)} (lc-archive is not installed, "
        "or its installed metadata is stale: run `pip install -e .`); those built-ins were registered directly",
    ))  # fmt: skip


@functools.cache
def _builtin(sid: str) -> Serializer | None:
    """lc-archive's own serializer ``sid``, loaded from its entry-point value (None if there is none)."""
    value = BUILTINS.get(sid)
    return None if value is None else _checked(EntryPoint(name=sid, value=value, group=GROUP).load())


def _any_component() -> ComponentSerializer:
    found = _builtin("*")
    assert isinstance(found, ComponentSerializer)  # the "*" built-in is one
    return found


def _builtin_container(type: str) -> ContainerSerializer | None:
    found = _builtin(f"container:{type}")
    return found if isinstance(found, ContainerSerializer) else None


def _checked(obj: object) -> Serializer:
    """``obj`` (a class or an instance) as a registered instance, after the contract checks."""
    cls = obj if isinstance(obj, type) else type(obj)
    raw_id = getattr(obj, "id", None)
    label = raw_id if isinstance(raw_id, str) and raw_id else f"{cls.__module__}.{cls.__qualname__}"
    if not issubclass(cls, Serializer):
        raise PluginError(label, f"{cls.__module__}.{cls.__qualname__} is not a Serializer subclass")
    if not isinstance(raw_id, str) or not raw_id:
        raise PluginError(label, "no id: set the class attribute `id`")
    sid = raw_id
    kind = getattr(obj, "kind", None)
    base = _BASES.get(kind) if isinstance(kind, str) else None
    if base is None or kind is None:
        raise PluginError(sid, f"kind {kind!r} is not one of {', '.join(_BASES)}")
    if not issubclass(cls, base):
        raise PluginError(sid, f"a {kind} serializer must subclass {base.__name__}")
    abstract = sorted(getattr(cls, "__abstractmethods__", ()))
    if abstract:
        raise PluginError(sid, f"missing required method{'s' if len(abstract) > 1 else ''} {', '.join(abstract)}")
    for method in _METHODS[kind]:
        if not callable(getattr(obj, method, None)):
            raise PluginError(sid, f"missing required method {method}")
    _check_id(sid, kind, obj)
    if not isinstance(getattr(obj, "description", ""), str):
        raise PluginError(sid, "description must be a string")
    if kind == "plugin":
        _check_plugin(sid, obj, cls)
    if not isinstance(obj, type):
        return obj  # type: ignore[return-value]  # an instance of cls, a Serializer subclass
    try:
        instance = obj()
    except Exception as exc:
        raise PluginError(sid, f"cannot be instantiated with no arguments: {one_line(exc)}") from exc
    if not isinstance(instance, Serializer) or instance.id != sid:
        raise PluginError(sid, "its instance does not keep the class's id")
    return instance


def _check_id(sid: str, kind: str, obj: object) -> None:
    if kind == "component":
        m = _COMPONENT_ID.fullmatch(sid)
        if sid != "*" and (m is None or m["ns"] in _RESERVED_NAMESPACES):
            raise PluginError(sid, "a component serializer's id must be 'namespace:type', 'namespace:*' or '*'")
    elif kind == "container":
        if _CONTAINER_ID.fullmatch(sid) is None:
            raise PluginError(sid, "a container serializer's id must be 'container:<type>'")
    elif kind == "collection":
        if sid != "collection":
            raise PluginError(sid, "the collection serializer's id must be 'collection'")
    else:
        name = getattr(obj, "name", None)
        if not sid.startswith("plugin:") or PLUGIN_NAME_RE.fullmatch(sid[len("plugin:"):]) is None:
            raise PluginError(sid, f"a plugin's id must be 'plugin:<name>', name matching {PLUGIN_NAME_PATTERN}")
        if name != sid[len("plugin:"):]:
            raise PluginError(sid, f"the plugin's name {name!r} must be the id's name {sid[len('plugin:'):]!r}")


def _check_plugin(sid: str, obj: object, cls: type) -> None:
    schema_version = getattr(obj, "schema_version", None)
    if type(schema_version) is not int or schema_version < 1:
        raise PluginError(sid, f"schema_version must be an int >= 1, not {schema_version!r}")
    model = getattr(obj, "model", None)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise PluginError(sid, f"model must be a pydantic BaseModel subclass, not {model!r}")
    scopes = getattr(obj, "scopes", None)
    if not isinstance(scopes, (set, frozenset)) or not scopes or not scopes <= _SCOPES:
        raise PluginError(sid, f"scopes must be a non-empty set of {', '.join(sorted(_SCOPES))}, not {scopes!r}")
    if schema_version > 1 and getattr(cls, "upgrade", None) is PluginSerializer.upgrade:
        raise PluginError(sid, f"schema_version {schema_version} needs an upgrade() method: "
                          f"missing required method upgrade")


def _describe(entry: RegistryEntry) -> str:
    if entry.entry_point is None:
        return "code"
    where = f" of {entry.distribution}" if entry.distribution else ""
    return f"{entry.entry_point}{where}"
