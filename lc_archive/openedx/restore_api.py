"""``load_learning_package``: openedx-core 1.15.2's restore API, done by lc-archive.

Same signature and result as ``openedx_content.api.load_learning_package`` (the dict of its
``RestoreResult``), so Studio's ``restore_library`` task can call it instead; it accepts v1 (openedx-core's)
and v2 (lc-archive's) archives. Unlike openedx-core's, it reads and checks the whole archive before
writing anything, keeps soft-deleted drafts deleted, version history, pins and the publish log, and
never raises: any failure is ``status: "error"`` with every problem in ``log_file_error`` and nothing
written (rows or media files).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from io import StringIO
from typing import Any

from ..archive.limits import DEFAULT_LIMITS
from ..archive.zip_reader import ArchiveReader
from ..domain import PackageRecord
from ..errors import ArchiveInvalid, LcArchiveError
from ..formats.plan import RestorePlan
from ..progress import NULL_PROGRESS
from ..usecases.restore import staged_ref, write_plan
from ..usecases.validate import read_plan, refuse_warnings
from .text import escape_controls

__all__ = ["LoadOutcome", "load", "load_learning_package"]

logger = logging.getLogger(__name__)

ERROR_HEADER = "Errors encountered during restore:\n"
"""The first line of ``log_file_error``, as openedx-core writes it."""


@dataclass
class LoadOutcome:
    """What :func:`load` did: the result dict plus what the dict has no place for."""

    result: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def load_learning_package(path: str, package_ref: str | None = None, user: Any | None = None) -> dict[str, Any]:
    """Restore the archive at ``path`` as a new learning package (openedx-core's signature and result).

    ``package_ref`` is the new package's ref; without it the package is staged under
    ``lp-restore:{username}:{org}:{code}:{ms}`` (``user`` is then required). ``user`` (a Django user)
    is recorded as the restorer. Returns ``{"status", "log_file_error", "lp_restored_data",
    "backup_metadata"}``; never raises.
    """
    return load(path, package_ref, user).result


def load(path: str, package_ref: str | None = None, user: Any | None = None, *,
         dry_run: bool = False, strict: bool = False) -> LoadOutcome:
    """:func:`load_learning_package` with the management command's options: ``dry_run`` validates and
    reports only; ``strict`` refuses archives with warnings."""
    outcome = LoadOutcome(_error_result([]))
    try:
        outcome = _load(str(path), package_ref, user, dry_run=dry_run, strict=strict)
    except ArchiveInvalid as exc:
        outcome.errors = [str(p) for p in exc.problems]
    except LcArchiveError as exc:
        outcome.errors = [str(exc)]
    except OSError as exc:  # the file is missing or unreadable
        outcome.errors = [f"cannot read {path}: {exc.strerror or exc}"]
    except Exception as exc:  # never raise to Studio: report it, log the traceback for the operator
        logger.exception("lc-archive: restoring %s failed", path)
        outcome.errors = [f"unexpected error ({type(exc).__name__}): {exc}"]
    if outcome.errors:
        outcome.result = _error_result(outcome.errors)
    return outcome


def _load(path: str, package_ref: str | None, user: Any | None, *, dry_run: bool, strict: bool) -> LoadOutcome:
    from ..stores.openedx import OpenedxStore

    username = getattr(user, "username", None) or None
    with ArchiveReader(path, limits=DEFAULT_LIMITS) as reader, \
            read_plan(reader, DEFAULT_LIMITS, NULL_PROGRESS, None) as plan:
        refuse_warnings(plan, strict)
        archive_ref = plan.package.ref
        if package_ref:
            target = package_ref
        elif username:
            target = staged_ref(archive_ref, username)
        else:
            raise LcArchiveError("a user is required to generate a staged package_ref")
        store = OpenedxStore()
        with store:
            if target in store.package_refs():
                raise LcArchiveError(f"a learning package {target!r} already exists; restores never overwrite")
            package_id = None
            warnings = [str(w) for w in plan.warnings]
            if not dry_run:
                store.restored_by = username
                if plan.meta.created_by and plan.meta.created_by_email:
                    store.author_emails = {plan.meta.created_by: plan.meta.created_by_email}
                p = plan.package
                write_plan(reader, plan, store, PackageRecord(target, p.title, p.description, p.created, p.updated))
                warnings.extend(f"warning: {w}" for w in store.last_warnings)
                package_id = _package_id(store.alias, target)
        for w in warnings:
            logger.warning("lc-archive: restoring %s as %s: %s", path, target, escape_controls(w))
        return LoadOutcome(_success_result(plan, package_id, target), warnings)


def _package_id(alias: str, ref: str) -> int | None:
    from openedx_content.models_api import LearningPackage

    found = LearningPackage.objects.using(alias).filter(package_ref=ref).values_list("id", flat=True).first()
    return int(found) if found is not None else None


def _unpack(ref: str) -> tuple[str | None, str | None]:
    """openedx-core's ``unpack_package_ref``: org and package codes, or (None, None)."""
    parts = ref.split(":")
    if len(parts) < 3:
        return None, None
    return parts[1], parts[2]


def _success_result(plan: RestorePlan, package_id: int | None, target: str) -> dict[str, Any]:
    types = plan.summary().types
    units, subsections, sections = (types.get(t, 0) for t in ("unit", "subsection", "section"))
    org, code = _unpack(plan.package.ref)
    meta = plan.meta
    created_at: datetime = meta.created_at
    return {
        "status": "success",
        "log_file_error": None,
        "lp_restored_data": {
            "id": package_id,
            "package_ref": target,
            "archive_package_ref": plan.package.ref,
            "archive_org_code": org,
            "archive_package_code": code,
            "title": plan.package.title,
            "num_containers": units + subsections + sections,
            "num_sections": sections,
            "num_subsections": subsections,
            "num_units": units,
            "num_components": sum(n for t, n in types.items() if ":" in t),
            "num_collections": len(plan.collections),
        },
        "backup_metadata": {
            "format_version": meta.format_version,
            "created_at": created_at,
            "created_by": meta.created_by,
            "created_by_email": meta.created_by_email,
            "original_server": meta.origin_server,
        },
    }


def _error_result(errors: list[str]) -> dict[str, Any]:
    log = StringIO()
    log.write(ERROR_HEADER)
    for line in errors:
        log.write(escape_controls(line) + "\n")
    log.seek(0)
    return {"status": "error", "log_file_error": log, "lp_restored_data": None, "backup_metadata": None}
