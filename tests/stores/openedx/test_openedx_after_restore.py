"""After a restore through the adapter, openedx-core's own API keeps working on the package: it reads
entities, versions and container children, creates the next version (numbers continue after the
archive's), publishes, soft-deletes and resets drafts, and reads media files from its storage."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.openedx_db import OpenedxDb, any_user

from lc_archive.stores import open_store
from lc_archive.usecases.restore import restore

pytestmark = pytest.mark.peer
REF = "lib:Org:AFTER"
LATER = datetime(2026, 6, 1, tzinfo=UTC)


def test_openedx_core_api_works_on_a_restored_package(
    openedx_db: OpenedxDb, peer_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import connections
    from openedx_content import api
    from openedx_content.applets.publishing import api as publishing_api

    # publish_from_drafts asks django.db.connection (the *default* alias) what upserts the database can
    # do; the test settings route the API to the alias under test, so give it that alias's connection.
    monkeypatch.setattr(publishing_api, "connection", connections[openedx_db.alias])
    from openedx_content.models_api import Component, ComponentVersionMedia, Container, PublishableEntity

    with open_store(openedx_db.store_url) as store:
        restore(peer_dir / "archives" / "lib-N150-seed2.zip", store, ref=REF)
    user = any_user("editor")
    lp = api.get_learning_package_by_ref(REF)

    # read: entities, drafts, container children in order, media bytes from the storage
    deleted = api.get_entities_with_unpublished_deletes(lp.id)
    assert deleted.exists()  # soft-deleted drafts stayed deleted
    unit = next(c for c in Container.objects.filter(learning_package_id=lp.id, container_type__type_code="unit")
                if c.versioning.draft is not None and c.versioning.published is not None)
    children = api.get_entities_in_container(unit, published=False)
    assert children and all(entry.entity_version is not None for entry in children)
    files = ComponentVersionMedia.objects.filter(component_version__component__learning_package_id=lp.id,
                                                 media__has_file=True).select_related("media")
    assert files.exists()
    for cvm in files[:5]:
        with cvm.media.read_file() as fh:
            assert len(fh.read()) == cvm.media.size

    # the next version continues the numbers, even where the draft points at an older version
    comp = Component.objects.filter(learning_package_id=lp.id).exclude(publishable_entity__draft__version=None)[0]
    latest = comp.versioning.latest.version_num
    nxt = api.create_next_component_version(comp.id, media_to_replace={"block.xml": b"<html>new</html>"},
                                            created=LATER, title="edited", created_by=user.id)
    assert nxt.version_num == latest + 1
    assert api.get_component(comp.id).versioning.draft.version_num == latest + 1

    # publish everything; then nothing is left unpublished
    log = api.publish_all_drafts(lp.id, message="after restore", published_at=LATER, published_by=user.id)
    assert log.records.filter(entity_id=comp.id, new_version__version_num=latest + 1).exists()
    assert not api.get_entities_with_unpublished_changes(lp.id).exists()
    assert api.get_component(comp.id).versioning.published.version_num == latest + 1

    # soft-delete a draft, then reset drafts to published: it comes back
    api.soft_delete_draft(comp.id, deleted_by=user.id)
    assert api.get_component(comp.id).versioning.draft is None
    api.reset_drafts_to_published(lp.id, reset_at=LATER, reset_by=user.id)
    assert api.get_component(comp.id).versioning.draft.version_num == latest + 1

    # a new unit with a restored component and a new container version of a restored unit
    new_unit, _ = api.create_container_and_version(lp.id, "unit-new", title="New unit",
                                                   container_cls=type(unit.unit), entities=[comp],
                                                   created=LATER, created_by=user.id)
    assert [e.entity.id for e in api.get_entities_in_container(new_unit, published=False)] == [comp.id]
    before = unit.versioning.latest.version_num
    next_unit = api.create_next_container_version(unit.unit, title="renamed", entities=None, created=LATER,
                                                  created_by=user.id)
    assert next_unit.version_num == before + 1
    assert PublishableEntity.objects.filter(learning_package_id=lp.id, entity_ref="unit-new").exists()
