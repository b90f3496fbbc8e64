"""lc-archive's built-in collection serializer.

The core checks that each member names an entity of the archive; this adds that a collection lists
each entity once: a repeated member is an error at ``$.collection.entities[i]`` (the later one).
openedx-core keeps a collection's members as a set, so a repeat is at best redundant and at worst the
sign of an archive edited by hand or generated wrongly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from ..contract import CollectionSerializer, Issue

__all__ = ["Collections"]


class Collections(CollectionSerializer):
    """Collections: each member listed once."""

    id: ClassVar[str] = "collection"
    description: ClassVar[str] = "collections: each member listed once"

    def check(self, code: str, title: str, members: Sequence[str]) -> list[Issue]:
        issues: list[Issue] = []
        first: dict[str, int] = {}
        for i, ref in enumerate(members):
            j = first.setdefault(ref, i)
            if j != i:
                issues.append(Issue(f"$.collection.entities[{i}]",
                                    f"collection {code!r} lists {ref!r} again (already at entities[{j}])"))
        return issues
