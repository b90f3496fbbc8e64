"""lc-archive's built-in container serializers: which children a unit, subsection and section hold.

The rule itself is the domain's (:data:`lc_archive.domain.kinds.CHILD_RULES`): a unit holds components
(of any type), a subsection holds units, a section holds subsections, as in openedx-core.
:meth:`~ContainerRules.child_problem` returns only the reason (``"a subsection holds units, not
sections"``); the caller adds which child it is about.
"""

from __future__ import annotations

from typing import ClassVar

from ...domain.kinds import child_problem
from ..contract import ContainerSerializer

__all__ = ["ContainerRules", "SectionContainer", "SubsectionContainer", "UnitContainer"]


class ContainerRules(ContainerSerializer):
    """A built-in container type: its children follow the domain's child rule for :attr:`container_type`."""

    container_type: ClassVar[str]

    def child_problem(self, child_kind: str, child_type: str) -> str | None:
        return child_problem(self.container_type, child_kind, child_type)


class UnitContainer(ContainerRules):
    """Units hold components of any type."""

    id: ClassVar[str] = "container:unit"
    description: ClassVar[str] = "unit: holds components"
    container_type: ClassVar[str] = "unit"


class SubsectionContainer(ContainerRules):
    """Subsections hold units."""

    id: ClassVar[str] = "container:subsection"
    description: ClassVar[str] = "subsection: holds units"
    container_type: ClassVar[str] = "subsection"


class SectionContainer(ContainerRules):
    """Sections hold subsections."""

    id: ClassVar[str] = "container:section"
    description: ClassVar[str] = "section: holds subsections"
    container_type: ClassVar[str] = "section"
