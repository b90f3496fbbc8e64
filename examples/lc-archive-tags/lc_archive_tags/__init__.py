"""lc-archive plugin ``plugin:tags``: object tags as ``openedx_tagging`` keeps them, as payloads.

An object tag puts one tag of one taxonomy on an object (here: the learning package, or one of its
entities). Taxonomies are named by their ``export_id`` (``difficulty``), tags by their value, and each
tag carries its *lineage*: the values from the taxonomy's root tag down to the tag itself, so that a
tag of a hierarchical taxonomy can be found again (or re-created) where it belongs.

Schema versions of ``data``:

1. ``{"tags": [{"taxonomy": "difficulty", "value": "Easy"}]}``
2. each tag also has ``lineage``: a non-empty list of values ending with ``value``
   (``["Science", "Physics", "Optics"]``); upgrading 1 -> 2 sets ``lineage`` to ``[value]``.

Fields this version does not know (written by a newer plugin) are kept: every model allows extras.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from lc_archive.plugins import Issue, PayloadScope, PayloadTarget, PluginSerializer

__all__ = ["ObjectTag", "TagsData", "TagsSerializer"]


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain a NUL character (U+0000)")
    return value


TaxonomyId = Annotated[str, StringConstraints(min_length=1, max_length=255), AfterValidator(_no_nul)]
"""A taxonomy's ``export_id`` (``openedx_tagging`` ``Taxonomy.export_id``: at most 255 characters)."""
TagValue = Annotated[str, StringConstraints(min_length=1, max_length=500), AfterValidator(_no_nul)]
"""A tag's value (``openedx_tagging`` ``Tag.value``: at most 500 characters)."""


class ObjectTag(BaseModel):
    """One tag on an object: the typed record of this plugin, and one item of ``data.tags``."""

    model_config = ConfigDict(extra="allow", frozen=True)

    taxonomy: TaxonomyId
    """The taxonomy's ``export_id``."""
    value: TagValue
    """The tag's value."""
    lineage: tuple[TagValue, ...] = Field(min_length=1)
    """Values from the root tag down to this one; the last is :attr:`value`."""


class TagsData(BaseModel):
    """``data`` at schema version 2."""

    model_config = ConfigDict(extra="allow")

    tags: list[ObjectTag]


class TagsSerializer(PluginSerializer):
    """Object tags on the package or on an entity (``plugin:tags``)."""

    id: ClassVar[str] = "plugin:tags"
    name: ClassVar[str] = "tags"
    description: ClassVar[str] = "openedx_tagging object tags (taxonomy export_id, value, lineage)"
    schema_version: ClassVar[int] = 2
    model: ClassVar[type[BaseModel]] = TagsData
    scopes: ClassVar[frozenset[PayloadScope]] = frozenset({"package", "entity"})

    def dump(self, records: Sequence[Any]) -> TagsData:
        """``data`` for :class:`ObjectTag` records (mappings with the same keys are accepted too)."""
        return TagsData(tags=[r if isinstance(r, ObjectTag) else ObjectTag.model_validate(r) for r in records])

    def load(self, payload: BaseModel) -> list[Any]:
        """The :class:`ObjectTag` records, in document order."""
        if not isinstance(payload, TagsData):
            raise TypeError(f"expected TagsData, got {type(payload).__name__}")
        return list(payload.tags)

    def upgrade(self, data: dict[str, Any], from_version: int) -> dict[str, Any]:
        """1 -> 2: each tag gets ``lineage: [value]``. Anything unexpected is left for the model to report."""
        if from_version != 1:
            raise ValueError(f"no upgrade from schema version {from_version}")
        tags = data.get("tags")
        if not isinstance(tags, list):
            return dict(data)
        upgraded = [
            {**tag, "lineage": [tag["value"]]} if isinstance(tag, Mapping) and "lineage" not in tag and "value" in tag
            else tag
            for tag in tags
        ]
        return {**data, "tags": upgraded}

    def check(self, payload: BaseModel, target: PayloadTarget) -> list[Issue]:
        """Each lineage ends with its tag's value and names no value twice; no tag is on the object twice."""
        if not isinstance(payload, TagsData):
            raise TypeError(f"expected TagsData, got {type(payload).__name__}")
        issues: list[Issue] = []
        first: dict[tuple[str, str], int] = {}
        for i, tag in enumerate(payload.tags):
            where = f"$.data.tags[{i}]"
            if tag.lineage[-1] != tag.value:
                issues.append(Issue(f"{where}.lineage", f"the lineage must end with the tag's value {tag.value!r}, "
                                                        f"not {tag.lineage[-1]!r}"))
            if len(set(tag.lineage)) != len(tag.lineage):
                issues.append(Issue(f"{where}.lineage", "the lineage names one value twice (a tag cannot be its own "
                                                        "ancestor)"))
            key = (tag.taxonomy, tag.value)
            if key in first:
                issues.append(Issue(where, f"tag {tag.value!r} of taxonomy {tag.taxonomy!r} is already on this "
                                           f"object at $.data.tags[{first[key]}]"))
            else:
                first[key] = i
        return issues
