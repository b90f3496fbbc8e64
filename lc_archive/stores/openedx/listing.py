"""What ``lc-archive packages openedx:`` lists: every package of the database with its counts, last
change and size, in a few grouped queries whatever the number of packages."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Count, Max, Sum
from openedx_content.models_api import (
    Collection,
    Component,
    ComponentVersionMedia,
    Container,
    DraftChangeLog,
    LearningPackage,
    Media,
    PublishableEntity,
    PublishableEntityVersion,
    PublishLog,
)

from ..updates import PackageInfo

__all__ = ["package_infos"]


def _per_package(rows: Iterable[tuple[int, Any]]) -> dict[int, Any]:
    return {int(pid): value for pid, value in rows}


def package_infos(alias: str) -> list[PackageInfo]:
    """Every package of database ``alias`` with its counts, last change and size, sorted by ref.

    ``size`` is the bytes of the distinct Media its component versions use; ``collections`` counts the
    enabled ones, as for the SQL store.
    """

    def grouped(model: Any, key: str, *, enabled_only: bool = False, **aggregate: Any) -> dict[int, Any]:
        query = model.objects.using(alias)
        if enabled_only:
            query = query.filter(enabled=True)
        rows = query.values(key).annotate(**aggregate).order_by()
        name = next(iter(aggregate))
        return _per_package((r[key], r[name]) for r in rows if r[name] is not None)

    components = grouped(Component, "learning_package_id", n=Count("pk"))
    containers = grouped(Container, "learning_package_id", n=Count("pk"))
    collections = grouped(Collection, "learning_package_id", enabled_only=True, n=Count("id"))
    versions = grouped(PublishableEntityVersion, "entity__learning_package_id", n=Count("id"))
    used = ComponentVersionMedia.objects.using(alias).values("media_id")
    sizes = _per_package(
        Media.objects.using(alias).filter(id__in=used).values("learning_package_id").annotate(s=Sum("size"))
        .order_by().values_list("learning_package_id", "s")
    )
    times = [
        grouped(PublishableEntity, "learning_package_id", t=Max("created")),
        grouped(PublishableEntityVersion, "entity__learning_package_id", t=Max("created")),
        grouped(DraftChangeLog, "learning_package_id", t=Max("changed_at")),
        grouped(PublishLog, "learning_package_id", t=Max("published_at")),
        grouped(Collection, "learning_package_id", t=Max("modified")),
    ]
    infos = []
    for lp in LearningPackage.objects.using(alias).only("id", "package_ref", "title", "created", "updated"):
        candidates: list[datetime] = [lp.created, lp.updated, *(t[lp.id] for t in times if lp.id in t)]
        infos.append(PackageInfo(
            lp.package_ref, lp.title, components.get(lp.id, 0), containers.get(lp.id, 0),
            collections.get(lp.id, 0), versions.get(lp.id, 0), max(candidates), int(sizes.get(lp.id, 0)),
        ))  # fmt: skip
    return sorted(infos, key=lambda i: i.ref)
