"""The reference the bulk writer is held to: a package's records replayed through openedx-core's own
authoring API, one call per row, in the order docs/decisions/0008-openedx-bulk-writer-and-media.md
describes (the history a restored package stands for). Queries go to the alias under test (router).

Publishing: openedx-core's public API publishes only what the drafts point at, so an archived publish
event is replayed as ``publish_from_drafts`` writes it (a ``PublishLog``, one direct record per entry,
the ``Published`` upsert) followed by openedx-core's own side-effect and hash code
(``_create_side_effects_for_change_log``), the part the bulk writer recomputes in memory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from lc_archive.domain import COMPONENT, CollectionRecord, EntityRecord, PackageRecord, PublishLogRecord


def _user_id(name: str | None) -> int | None:
    from django.contrib.auth import get_user_model

    if not name:
        return None
    found = get_user_model().objects.filter(username=name).first()
    return found.id if found is not None else None


def replay(package: PackageRecord, entities: Sequence[EntityRecord], collections: Sequence[CollectionRecord],
           events: Sequence[PublishLogRecord], blobs: Mapping[str, bytes], *, restorer: str | None,
           now: datetime) -> None:
    """Build ``package`` through openedx-core's API (entities in the given order: children first)."""
    from openedx_content import api
    from openedx_content.models_api import Collection, Container, PublishableEntity

    lp = api.create_learning_package(package.ref, package.title, package.description, created=package.created)
    api.update_learning_package(lp.id, updated=package.updated)
    objs: dict[str, Any] = {}
    versions: dict[tuple[str, int], Any] = {}
    restorer_id = _user_id(restorer)
    with api.bulk_draft_changes_for(lp.id, changed_by=restorer_id, changed_at=now):
        for e in entities:
            if e.kind == COMPONENT:
                ctype = api.get_or_create_component_type(e.namespace, e.type)
                objs[e.ref] = api.create_component(lp.id, ctype, e.code, e.created, _user_id(e.created_by),
                                                   can_stand_alone=e.can_stand_alone)
            else:
                objs[e.ref] = api.create_container(lp.id, e.code, e.created, _user_id(e.created_by),
                                                   container_cls=Container.subclass_for_type_code(e.type),
                                                   can_stand_alone=e.can_stand_alone)
        for e in entities:
            for v in e.versions:
                if e.kind == COMPONENT:
                    media = {m.path: _media(lp.id, m, blobs[m.sha256], v.created) for m in v.media}
                    made = api.create_component_version(objs[e.ref].id, version_num=v.number, title=v.title,
                                                        created=v.created, created_by=_user_id(v.created_by),
                                                        media=media)
                else:
                    children = [versions[(c.ref, c.pinned)] if c.pinned is not None else objs[c.ref]
                                for c in v.children]
                    made = api.create_container_version(objs[e.ref].id, v.number, title=v.title, entities=children,
                                                        created=v.created, created_by=_user_id(v.created_by))
                versions[(e.ref, v.number)] = made.publishable_entity_version
            if e.versions:
                target = versions[(e.ref, e.draft)].id if e.draft is not None else None
                api.set_draft_version(objs[e.ref].id, target)
    published: dict[str, int | None] = {}
    for event in events:
        entries = [(x.ref, x.old, x.new) for x in event.entries if x.old != x.new]
        _publish(lp.id, entries, versions, objs, event.published_at, _user_id(event.published_by), event.message)
        published.update((ref, new) for ref, _, new in entries)
    catch_up = []
    for e in entities:
        if e.published is None and not e.published_deleted:
            continue
        if e.ref not in published or published[e.ref] != e.published:
            catch_up.append((e.ref, published.get(e.ref), e.published))
    if catch_up:
        _publish(lp.id, catch_up, versions, objs, now, restorer_id, "")
    for c in collections:
        api.create_collection(lp.id, c.code, title=c.title, created_by=_user_id(c.created_by),
                              description=c.description)
        if c.members:
            members = PublishableEntity.objects.filter(learning_package_id=lp.id, entity_ref__in=c.members)
            api.add_to_collection(lp.id, c.code, members, created_by=_user_id(c.created_by))
        if not c.enabled:
            api.delete_collection(lp.id, c.code)
        # created/modified are auto_now fields the API sets to the run's time: the archive's times, as the writer
        Collection.objects.filter(learning_package_id=lp.id, collection_code=c.code).update(
            created=c.created, modified=c.modified)


def _media(lp_id: int, m: Any, data: bytes, created: datetime) -> int:
    from openedx_content import api

    mt = api.get_or_create_media_type(m.media_type).id
    if m.has_text:
        return int(api.get_or_create_text_media(lp_id, mt, text=data.decode(), created=created,
                                                create_file=m.has_file).id)
    return int(api.get_or_create_file_media(lp_id, mt, data=data, created=created).id)


def _publish(lp_id: int, entries: Sequence[tuple[str, int | None, int | None]], versions: Mapping[tuple[str, int], Any],
             objs: Mapping[str, Any], at: datetime, by: int | None, message: str) -> None:
    """One publish as ``publish_from_drafts`` writes it, for entries that need not be drafts."""
    from openedx_content.applets.publishing.api import _create_side_effects_for_change_log
    from openedx_content.models_api import Published, PublishLog, PublishLogRecord

    log = PublishLog(learning_package_id=lp_id, message=message, published_at=at, published_by_id=by)
    log.full_clean()
    log.save(force_insert=True)
    for ref, old, new in entries:
        record = PublishLogRecord.objects.create(
            publish_log=log, entity_id=objs[ref].id, direct=True,
            old_version_id=versions[(ref, old)].id if old is not None else None,
            new_version_id=versions[(ref, new)].id if new is not None else None,
        )
        Published.objects.update_or_create(
            entity_id=objs[ref].id, defaults={"version_id": record.new_version_id, "publish_log_record": record}
        )
    _create_side_effects_for_change_log(log)


def replay_import(ref: str, added: Sequence[EntityRecord], versions: Sequence[tuple[str, Any]],
                  deleted: Sequence[str], collections: Sequence[CollectionRecord], publish: Sequence[str],
                  blobs: Mapping[str, bytes], *, importer: str | None, now: datetime, message: str) -> None:
    """An import into the existing package ``ref`` through openedx-core's own API, in the order
    docs/decisions/0014-import-into-existing-package.md gives for openedx-core: inside one
    ``bulk_draft_changes_for`` the added entities (as :func:`replay` creates them), one new version per
    ``(ref, VersionRecord)`` in ``versions`` (children unpinned or pinned by number), ``soft_delete_draft``
    of ``deleted``; then collections (``update_collection`` and ``remove_from_collection`` /
    ``add_to_collection`` by the importer for one the package has, ``create_collection`` +
    ``add_to_collection`` by its creator for a new one; times set to the record's), then
    ``publish_from_drafts`` of ``publish``'s drafts with unpublished changes, then ``updated``."""
    from openedx_content import api
    from openedx_content.models_api import Collection, Container, Draft, LearningPackage, PublishableEntity

    lp = LearningPackage.objects.get(package_ref=ref)
    by = _user_id(importer)

    def entity(r: str) -> Any:
        return PublishableEntity.objects.get(learning_package_id=lp.id, entity_ref=r)

    def version(r: str, number: int) -> Any:
        return entity(r).versions.get(version_num=number)

    def new_version(e_ref: str, kind: str, v: Any) -> None:
        target = entity(e_ref)
        if kind == COMPONENT:
            media = {m.path: _media(lp.id, m, blobs[m.sha256], v.created) for m in v.media}
            api.create_component_version(target.id, version_num=v.number, title=v.title, created=v.created,
                                         created_by=_user_id(v.created_by), media=media)
        else:
            children = [version(c.ref, c.pinned) if c.pinned is not None else entity(c.ref) for c in v.children]
            api.create_container_version(target.id, v.number, title=v.title, entities=children, created=v.created,
                                         created_by=_user_id(v.created_by))

    with api.bulk_draft_changes_for(lp.id, changed_by=by, changed_at=now):
        for e in added:
            if e.kind == COMPONENT:
                ctype = api.get_or_create_component_type(e.namespace, e.type)
                api.create_component(lp.id, ctype, e.code, e.created, _user_id(e.created_by),
                                     can_stand_alone=e.can_stand_alone)
            else:
                api.create_container(lp.id, e.code, e.created, _user_id(e.created_by),
                                     container_cls=Container.subclass_for_type_code(e.type),
                                     can_stand_alone=e.can_stand_alone)
        for e in added:
            for v in e.versions:
                new_version(e.ref, e.kind, v)
            if e.versions:
                api.set_draft_version(entity(e.ref).id, version(e.ref, e.draft).id if e.draft is not None else None)
        for e_ref, v in versions:
            kind = COMPONENT if hasattr(entity(e_ref), "component") else "container"
            new_version(e_ref, kind, v)
        for e_ref in deleted:
            api.soft_delete_draft(entity(e_ref).id, deleted_by=by)
    for c in collections:
        existing = Collection.objects.filter(learning_package_id=lp.id, collection_code=c.code).first()
        wanted = PublishableEntity.objects.filter(learning_package_id=lp.id, entity_ref__in=c.members)
        if existing is None:
            api.create_collection(lp.id, c.code, title=c.title, created_by=_user_id(c.created_by),
                                  description=c.description)
            api.add_to_collection(lp.id, c.code, wanted, created_by=_user_id(c.created_by))
            Collection.objects.filter(id=api.get_collection(lp.id, c.code).id).update(created=c.created)
        else:
            api.update_collection(lp.id, c.code, title=c.title, description=c.description)
            api.remove_from_collection(lp.id, c.code, existing.entities.exclude(entity_ref__in=c.members))
            api.add_to_collection(lp.id, c.code, wanted.exclude(id__in=existing.entities.values("id")),
                                  created_by=by)
        Collection.objects.filter(learning_package_id=lp.id, collection_code=c.code).update(
            enabled=c.enabled, modified=c.modified)
    drafts = Draft.objects.filter(entity__learning_package_id=lp.id, entity__entity_ref__in=publish)
    api.publish_from_drafts(lp.id, drafts.with_unpublished_changes().order_by("pk"), message=message,
                            published_at=now, published_by=by)
    api.update_learning_package(lp.id, updated=now)
