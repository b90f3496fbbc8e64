"""Small openedx-core libraries built with openedx-core's own authoring API (never raw rows), for the
adapter's tests on every database vendor. Queries go to the alias under test through the test
settings' router (see :mod:`support.openedx_db`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from support.openedx_db import any_user

T0 = datetime(2025, 3, 1, 9, 0, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
"""A small binary file (stored as a file in openedx-core's media storage)."""


@dataclass
class Clock:
    """Deterministic times, one step per call."""

    now: datetime = T0

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=7)
        return self.now


@dataclass
class Library:
    """What :func:`build_library` made (model objects, for tests that poke further)."""

    ref: str
    package: Any
    components: list[Any] = field(default_factory=list)
    units: list[Any] = field(default_factory=list)
    users: dict[str, Any] = field(default_factory=dict)


def html_olx(title: str, body: str) -> str:
    """A small html block's OLX."""
    return f'<html display_name="{title}"><![CDATA[<p>{body}</p>]]></html>\n'


def build_library(ref: str = "lib:Org:LIB1", *, components: int = 4, versions: int = 3) -> Library:
    """A library with ``components`` html components of ``versions`` versions each (block.xml text, the
    first also a PNG file), two units (one pinning a child), a published state, then draft edits, a
    soft-deleted draft, a published deletion, an enabled and a disabled collection."""
    from openedx_content import api
    from openedx_content.models_api import PublishableEntity

    clock = Clock()
    ann, bob = any_user("ann", "ann@example.com"), any_user("bob", "bob@example.org")
    lp = api.create_learning_package(ref, "Library One", "A test library", created=clock())
    lib = Library(ref, lp, users={"ann": ann, "bob": bob})
    html = api.get_or_create_component_type("xblock.v1", "html")
    xml = api.get_or_create_media_type("application/vnd.openedx.xblock.v1.html+xml").id
    png = api.get_or_create_media_type("image/png").id
    for i in range(components):
        author = ann if i % 2 == 0 else bob
        comp, _ = api.create_component_and_version(
            lp.id, html, f"c{i}", f"Component {i} v1", clock(), author.id,
            media={"block.xml": api.get_or_create_text_media(lp.id, xml, html_olx(f"C{i}", "v1"), clock()).id},
        )
        for v in range(2, versions + 1):
            media: dict[str, Any] = {
                "block.xml": api.get_or_create_text_media(lp.id, xml, html_olx(f"C{i}", f"v{v}"), clock()).id
            }
            if i == 0 and v == 2:
                media["static/pic.png"] = api.get_or_create_file_media(lp.id, png, PNG, clock()).id
            api.create_next_component_version(comp.id, media, clock(), f"Component {i} v{v}", bob.id)
        lib.components.append(comp)
    first_version = lib.components[1].versions.get(publishable_entity_version__version_num=1)
    unit1, _ = api.create_unit_and_version(
        lp.id, "u1", title="Unit 1", components=[lib.components[0], first_version], created=clock(), created_by=ann.id
    )
    unit2, _ = api.create_unit_and_version(
        lp.id, "u2", title="Unit 2", components=lib.components[2:], created=clock(), created_by=None
    )
    lib.units = [unit1, unit2]
    api.publish_all_drafts(lp.id, message="first", published_at=clock(), published_by=ann.id)
    api.soft_delete_draft(lib.components[-1].id, deleted_by=bob.id)
    api.publish_all_drafts(lp.id, message="second", published_at=clock(), published_by=bob.id)  # a deletion
    api.create_next_component_version(lib.components[0].id, {}, clock(), "Component 0 draft", ann.id)
    if components > 3:
        api.soft_delete_draft(lib.components[-2].id, deleted_by=ann.id)  # soft-deleted, not published yet
    api.create_collection(lp.id, "col1", title="Collection 1", created_by=ann.id, description="on")
    api.add_to_collection(lp.id, "col1", PublishableEntity.objects.filter(id__in=[c.id for c in lib.components[:2]]))
    api.create_collection(lp.id, "col2", title="Collection 2", created_by=None)
    api.add_to_collection(lp.id, "col2", PublishableEntity.objects.filter(id=unit1.id))
    api.delete_collection(lp.id, "col2")  # a soft delete: disabled, members kept
    return lib
