"""lc-archive's built-in container serializers: which children a unit, subsection and section hold.

A unit holds components (of any type), a subsection holds units, a section holds subsections, as in
openedx-core. :meth:`~ContainerRules.child_problem` returns only the reason (``"a subsection holds
units, not sections"``); the caller adds which child it is about.
"""

from __future__ import annotations

from typing import ClassVar

from ..contract import ContainerSerializer

__all__ = ["BUILTIN_CONTAINERS", "ContainerRules", "SectionContainer", "SubsectionContainer", "UnitContainer"]

_CONTAINER_TYPES = ("unit", "subsection", "section")


def _plural(kind: str, type_: str) -> str:
    """How a child is named in a reason: ``components``, ``units``, ``'foo' containers``."""
    if kind == "component":
        return "components"
    if kind == "container":
        return f"{type_}s" if type_ in _CONTAINER_TYPES else f"{type_!r} containers"
    return f"{kind!r} entities"


class ContainerRules(ContainerSerializer):
    """A container type that holds entities of one kind, and for containers one type."""

    container_type: ClassVar[str]
    child_kind: ClassVar[str]
    child_type: ClassVar[str | None] = None
    """The container type its children must have; None: any type of :attr:`child_kind`."""

    def child_problem(self, child_kind: str, child_type: str) -> str | None:
        if child_kind == self.child_kind and (self.child_type is None or child_type == self.child_type):
            return None
        holds = _plural(self.child_kind, self.child_type or "")
        return f"a {self.container_type} holds {holds}, not {_plural(child_kind, child_type)}"


class UnitContainer(ContainerRules):
    """Units hold components of any type."""

    id: ClassVar[str] = "container:unit"
    description: ClassVar[str] = "unit: holds components"
    container_type: ClassVar[str] = "unit"
    child_kind: ClassVar[str] = "component"


class SubsectionContainer(ContainerRules):
    """Subsections hold units."""

    id: ClassVar[str] = "container:subsection"
    description: ClassVar[str] = "subsection: holds units"
    container_type: ClassVar[str] = "subsection"
    child_kind: ClassVar[str] = "container"
    child_type: ClassVar[str | None] = "unit"


class SectionContainer(ContainerRules):
    """Sections hold subsections."""

    id: ClassVar[str] = "container:section"
    description: ClassVar[str] = "section: holds subsections"
    container_type: ClassVar[str] = "section"
    child_kind: ClassVar[str] = "container"
    child_type: ClassVar[str | None] = "subsection"


BUILTIN_CONTAINERS: dict[str, type[ContainerRules]] = {
    c.container_type: c for c in (UnitContainer, SubsectionContainer, SectionContainer)
}
"""Container type -> its built-in serializer (what a registry falls back to)."""
