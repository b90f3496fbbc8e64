"""The serializer contract: what a serializer is, for lc-archive's own types and for plugins.

A *serializer* is a class registered under one stable id in the ``lc_archive.serializers`` entry-point
group (lc-archive's built-ins are registered there too)::

    [project.entry-points."lc_archive.serializers"]
    "plugin:tags" = "lc_archive_tags:TagsSerializer"

Ids name what the serializer handles:

* ``xblock.v1:problem`` (``namespace:type``), a component type; ``xblock.v1:*`` is the fallback for
  every component type of a namespace without its own serializer, ``*`` the last resort;
* ``container:unit``, ``container:subsection``, ``container:section``;
* ``collection``;
* ``plugin:<name>``, a plugin's own data (:class:`PluginSerializer`).

Validation has two layers. The core (the archive readers) checks every entity and version: TOML
types, refs, pointers, children, media paths, sizes, well-formed DTD-free OLX. Then the serializer
for the entity's type adds type-specific checks (:meth:`ComponentSerializer.check_version`,
:meth:`ContainerSerializer.child_problem`, :meth:`PluginSerializer.check`). Serializers report
:class:`Issue` records; the caller names the archive member, so every problem reaches the user as
``member: $.field.path: message``.

Plugin data travels as *payloads*: JSON documents with an envelope (``plugin``, ``schema_version``,
``entity``, ``version``) and the plugin's ``data``. A plugin declares a pydantic :attr:`model` for
``data`` at its current :attr:`schema_version`, and :meth:`upgrade` steps that turn older data into
newer. Payloads of plugins that are not installed are checked structurally and kept byte for byte.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, BinaryIO, ClassVar, Literal

from pydantic import BaseModel

from ..archive.limits import DEFAULT_LIMITS, Limits
from ..domain import ComponentFacts

__all__ = [
    "CollectionSerializer",
    "ComponentFacts",
    "ComponentSerializer",
    "ComponentVersionView",
    "ContainerSerializer",
    "Issue",
    "PayloadScope",
    "PayloadTarget",
    "PluginSerializer",
    "Serializer",
    "SerializerKind",
    "Severity",
    "VersionCheck",
]

SerializerKind = Literal["component", "container", "collection", "plugin"]
PayloadScope = Literal["package", "entity", "version"]
Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem a serializer found: a field path inside the checked document and a message.

    ``member`` names another archive member when the problem is about that one (for example a missing
    asset is reported on the ``block.xml`` that references it); None means the document being checked.
    """

    path: str
    message: str
    member: str | None = None
    severity: Severity = "error"
    """``warning``: content that openedx-core accepts but is likely broken (an OLX reference to a static
    asset the version lacks). ``validate`` fails on warnings too; ``restore`` reports them and goes on
    unless asked to be strict."""
    kind: str = ""
    """What sort of problem (``missing-static``...), so that many alike are shown grouped."""


class Serializer(ABC):
    """Base of every serializer. Subclasses set :attr:`id` and :attr:`kind` as class attributes."""

    id: ClassVar[str]
    """Stable id (``xblock.v1:problem``, ``container:unit``, ``collection``, ``plugin:tags``)."""
    kind: ClassVar[SerializerKind]
    description: ClassVar[str] = ""
    """One line shown by ``lc-archive plugins``."""


@dataclass(frozen=True)
class ComponentVersionView:
    """What a component serializer sees of one component version while an archive is validated.

    ``olx`` is the ``block.xml`` (already checked as UTF-8 and well-formed, DTD-free XML by the core),
    or None when the version has none. ``media`` maps each media path (``block.xml``, ``static/a.png``,
    ``python_lib.zip``) to its archive member; :attr:`open_media` streams one by path (each call reads
    the member again, so use it only for what the OLX cannot tell).
    """

    ref: str
    namespace: str
    type: str
    number: int
    member: str
    """The member that defines the entity (its TOML), for problems about the version as a whole."""
    olx: bytes | None
    olx_member: str | None
    media: Mapping[str, str]
    open_media: Callable[[str], AbstractContextManager[BinaryIO]]
    limits: Limits = DEFAULT_LIMITS
    olx_root: Any = None
    """The OLX as the core parsed it (:func:`~lc_archive.parsing.olx.parse_olx`: an lxml element,
    comments and processing instructions removed), so a serializer need not parse it again; None for
    no or a blank ``block.xml``."""


@dataclass(frozen=True, slots=True)
class VersionCheck:
    """A component serializer's answer for one version: derived facts and problems."""

    facts: ComponentFacts | None = None
    issues: tuple[Issue, ...] = ()


class ComponentSerializer(Serializer):
    """Type-specific knowledge about components of one type (or a namespace fallback)."""

    kind: ClassVar[SerializerKind] = "component"
    code_library_media: ClassVar[str | None] = None
    """For a code-library type: the media path of the zip each version holds (``python_lib.zip``), which
    other components import from; None for every other type."""

    def provided_modules(self, files: Iterable[str]) -> frozenset[str]:
        """For a code-library type: the top-level modules a zip with these files provides (none otherwise).

        A component depends on a code library when its OLX imports one of them (``ComponentFacts.imports``);
        selective backups follow that dependency.
        """
        return frozenset()

    @abstractmethod
    def facts(self, olx: bytes) -> ComponentFacts:
        """Facts read from a well-formed OLX document, with no XBlock runtime (never raises on content)."""

    @abstractmethod
    def check_version(self, version: ComponentVersionView) -> VersionCheck:
        """Type-specific checks of one version, plus its facts (recomputed each time, never trusted)."""


class ContainerSerializer(Serializer):
    """Type-specific rules for containers of one type (``container:unit``...)."""

    kind: ClassVar[SerializerKind] = "container"

    @abstractmethod
    def child_problem(self, child_kind: str, child_type: str) -> str | None:
        """Why an entity of that kind (``component``/``container``) and type cannot be a child, or None."""


class CollectionSerializer(Serializer):
    """Rules for collections."""

    kind: ClassVar[SerializerKind] = "collection"

    @abstractmethod
    def check(self, code: str, title: str, members: Sequence[str]) -> list[Issue]:
        """Problems with one collection (paths relative to its ``[collection]`` table)."""


@dataclass(frozen=True, slots=True)
class PayloadTarget:
    """What a payload is attached to: the package, an entity (by ref) or one version of it."""

    scope: PayloadScope
    entity: str | None = None
    version: int | None = None
    entity_kind: str | None = None
    """``component`` or ``container`` when the scope is an entity or a version."""
    entity_type: str | None = None
    """``namespace:type`` of a component, the container type of a container."""


class PluginSerializer(Serializer):
    """A plugin's own data: a typed payload with an explicit schema version.

    Set :attr:`name`, :attr:`schema_version`, :attr:`model` (pydantic, for ``data`` at that schema
    version; keep ``extra="allow"`` so that fields written by a newer plugin survive a round trip) and
    :attr:`scopes`; implement :meth:`dump`, :meth:`load` and, from schema version 2 on, :meth:`upgrade`.
    """

    kind: ClassVar[SerializerKind] = "plugin"
    name: ClassVar[str]
    """The plugin's name (``tags``): lower-case letters, digits, ``_``, ``-``, ``.``; id ``plugin:<name>``."""
    schema_version: ClassVar[int]
    """The schema version this serializer writes; it reads this one and every older one."""
    model: ClassVar[type[BaseModel]]
    """The pydantic model of ``data`` at :attr:`schema_version` (its JSON Schema is exported)."""
    scopes: ClassVar[frozenset[PayloadScope]] = frozenset({"package", "entity", "version"})
    """What payloads may be attached to."""

    @abstractmethod
    def dump(self, records: Sequence[Any]) -> BaseModel:
        """The payload model (at :attr:`schema_version`) for the plugin's typed records."""

    @abstractmethod
    def load(self, payload: BaseModel) -> list[Any]:
        """The plugin's typed records from a validated payload model."""

    def upgrade(self, data: dict[str, Any], from_version: int) -> dict[str, Any]:
        """Turn ``data`` written at ``from_version`` into ``from_version + 1`` (one step of the chain)."""
        raise NotImplementedError(f"plugin {self.name!r} cannot upgrade schema version {from_version}")

    def check(self, payload: BaseModel, target: PayloadTarget) -> list[Issue]:
        """Checks beyond the model's own (paths relative to the document, e.g. ``$.data.tags[0]``)."""
        return []
