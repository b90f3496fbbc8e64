"""Deleting and renaming openedx-core learning packages (``lc-archive delete`` / ``rename`` on ``openedx:``).

openedx-core 1.15.2 has no API call that deletes a learning package; its own deletion semantics are
Django's: ``LearningPackage.delete()`` cascades through every table that points at the package, fires
``post_delete`` (openedx-core sends ``LEARNING_PACKAGE_DELETED`` on commit), and applies whatever
``on_delete`` other installed apps declare on their own references to the package. Alone it refuses
any package with containers or side effects (``RestrictedError``): ``EntityListRow`` and the
``Draft``/``PublishSideEffect`` rows hold ``RESTRICT`` keys that no cascade from the package reaches
(``EntityList`` hangs off ``ContainerVersion`` by a ``RESTRICT`` key, not a cascade). So
:func:`delete_package` first deletes those rows, then calls ``LearningPackage.delete()``, then the
package's now unreferenced ``EntityList`` rows, all inside one ``transaction.atomic``.

openedx-core leaves the package's media files behind; they are all under ``content/{package uuid}/``
(no other package can use them), so they are journaled before the deletion and removed only once it
has committed (:mod:`.media_journal`: a crash in between is finished by the next recovery).

:func:`rename_package` is openedx-core's ``update_learning_package(package_ref=...)``: the ref and
``updated`` change.
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import batched

from django.db.models import Sum

from ...domain.syntax import check_ref
from ...errors import PackageExists, PackageNotFound
from ...faults import fault_point
from ..updates import DeleteResult
from .media_journal import MediaJournal
from .sink import journaled_atomic

__all__ = ["delete_package", "rename_package"]


def delete_package(using: str, ref: str) -> DeleteResult:
    """Delete the package ``ref`` of database ``using`` with everything in it, and its media files."""
    from openedx_content.models_api import (
        ContainerVersion,
        EntityList,
        LearningPackage,
        Media,
        PublishableEntity,
        PublishableEntityVersion,
    )

    with journaled_atomic(using, "deletion") as run:
        lp = LearningPackage.objects.using(using).select_for_update().filter(package_ref=ref).first()
        if lp is None:
            raise PackageNotFound(ref)
        entities = PublishableEntity.objects.using(using).filter(learning_package_id=lp.id).count()
        versions = PublishableEntityVersion.objects.using(using).filter(entity__learning_package_id=lp.id).count()
        media = Media.objects.using(using).filter(learning_package_id=lp.id)
        freed = media.count()
        size = int(media.aggregate(s=Sum("size"))["s"] or 0)
        run.journal = MediaJournal(str(lp.uuid), using, existing=True)
        run.journal.remove_after_commit(f"content/{lp.uuid}/{digest}" for digest in
                                        media.filter(has_file=True).values_list("hash_digest", flat=True))
        fault_point("openedx.delete_begin")
        lists = sorted(set(ContainerVersion.objects.using(using).filter(
            container__learning_package_id=lp.id).values_list("entity_list_id", flat=True)))
        _delete_restricted(using, lp.id, lists)
        lp.delete(using=using)
        fault_point("openedx.delete_rows")
        for part in batched(lists, 500):
            EntityList.objects.using(using).filter(id__in=part).delete()
    fault_point("openedx.delete_committed")
    return DeleteResult(ref, entities, versions, freed, size)


def _delete_restricted(using: str, package_id: int, lists: list[int]) -> None:
    """Delete the rows whose ``RESTRICT`` keys no cascade from the package reaches: side effects, and the
    rows of the package's entity lists."""
    from openedx_content.models_api import DraftSideEffect, EntityListRow, PublishSideEffect

    DraftSideEffect.objects.using(using).filter(cause__draft_change_log__learning_package_id=package_id).delete()
    PublishSideEffect.objects.using(using).filter(cause__publish_log__learning_package_id=package_id).delete()
    for part in batched(lists, 500):
        EntityListRow.objects.using(using).filter(entity_list_id__in=part).delete()


def rename_package(using: str, ref: str, new_ref: str) -> None:
    """Give the package ``ref`` the ref ``new_ref`` (``PackageExists`` if taken), as
    ``update_learning_package`` does (``updated`` set to now)."""
    from django.db import IntegrityError, transaction
    from openedx_content.models_api import LearningPackage

    check_ref(new_ref, what="package ref")
    with transaction.atomic(using=using):
        lp = LearningPackage.objects.using(using).select_for_update().filter(package_ref=ref).first()
        if lp is None:
            raise PackageNotFound(ref)
        if new_ref == ref:
            return
        if LearningPackage.objects.using(using).filter(package_ref=new_ref).exists():
            raise PackageExists(f"learning package {new_ref!r} already exists in this store")
        try:
            with transaction.atomic(using=using):
                LearningPackage.objects.using(using).filter(id=lp.id).update(
                    package_ref=new_ref, updated=datetime.now(UTC))
        except IntegrityError as exc:  # a concurrent writer took the ref first
            raise PackageExists(f"learning package {new_ref!r} already exists in this store") from exc
