"""Entity kinds, container types and which children each container type holds.

A learning package holds *components* (an XBlock's OLX and its files, or another component type such as
a code library) and *containers* (``unit``, ``subsection``, ``section``). A unit holds components, a
subsection units, a section subsections, as in openedx-core. Every layer asks these rules here: the
authoring API, the archive readers and writers, and the built-in container serializers.
"""

from __future__ import annotations

from typing import Final, Literal

__all__ = [
    "CHILD_RULES",
    "COMPONENT",
    "CONTAINER",
    "CONTAINER_TYPES",
    "ContainerType",
    "EntityKind",
    "child_problem",
    "component_ref",
    "entity_type",
    "split_component_ref",
]

EntityKind = Literal["component", "container"]
COMPONENT: EntityKind = "component"
CONTAINER: EntityKind = "container"

ContainerType = Literal["unit", "subsection", "section"]
CONTAINER_TYPES: Final[tuple[ContainerType, ...]] = ("unit", "subsection", "section")
"""The container types openedx-core knows, smallest first."""

CHILD_RULES: Final[dict[str, tuple[EntityKind, str | None]]] = {
    "unit": (COMPONENT, None),
    "subsection": (CONTAINER, "unit"),
    "section": (CONTAINER, "subsection"),
}
"""Container type -> the kind its children have and, for containers, their type (None: any type)."""


def _plural(kind: str, type_: str) -> str:
    """How a child is named in a reason: ``components``, ``units``, ``'foo' containers``."""
    if kind == COMPONENT:
        return "components"
    if kind == CONTAINER:
        return f"{type_}s" if type_ in CONTAINER_TYPES else f"{type_!r} containers"
    return f"{kind!r} entities"


def child_problem(container_type: str, child_kind: str, child_type: str) -> str | None:
    """Why an entity of ``child_kind``/``child_type`` cannot be a child of a ``container_type``, or None.

    Only the reason (``"a subsection holds units, not sections"``); the caller says which child. An
    unknown container type has no rule (None): it is refused where the container itself is read.
    """
    rule = CHILD_RULES.get(container_type)
    if rule is None:
        return None
    kind, type_ = rule
    if child_kind == kind and (type_ is None or child_type == type_):
        return None
    return f"a {container_type} holds {_plural(kind, type_ or '')}, not {_plural(child_kind, child_type)}"


def component_ref(namespace: str, type: str, code: str) -> str:
    """The ref openedx-core gives a component: ``namespace:type:code``."""
    return f"{namespace}:{type}:{code}"


def split_component_ref(ref: str) -> tuple[str, str, str] | None:
    """``(namespace, type, code)`` of a component ref, or None when it is not of that form."""
    parts = ref.split(":", 2)
    if len(parts) != 3 or not all(parts):
        return None
    return parts[0], parts[1], parts[2]


def entity_type(kind: str, namespace: str, type: str) -> str:
    """``namespace:type`` for components, the container type for containers."""
    return f"{namespace}:{type}" if kind == COMPONENT else type
