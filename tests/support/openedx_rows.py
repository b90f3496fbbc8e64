"""Every row of openedx-core's tables, with primary keys replaced by natural keys, for comparing two
databases row by row: auto ids and UUIDs are left out, foreign keys become the natural key of the row
they point at (an ``EntityList`` is named by the container versions that use it, a user by username).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

RUN_TIME_COLUMNS = {"CollectionPublishableEntity": {"created"}}
"""Columns openedx-core fills with the time of the run (``auto_now_add``), whoever writes the row."""


class _Keys:
    def __init__(self) -> None:
        self.memo: dict[tuple[str, Any], Any] = {}

    def row(self, model: Any, values: dict[str, Any]) -> tuple[Any, ...]:
        from django.db import models

        meta = model._meta
        skip = RUN_TIME_COLUMNS.get(model.__name__, set())
        out = []
        for f in meta.concrete_fields:
            if f is meta.auto_field or isinstance(f, models.UUIDField) or f.name in skip:
                continue
            value = values[f.attname]
            if f.is_relation and value is not None:
                value = self.key(f.related_model, value)
            out.append((f.name, value))
        return tuple(out)

    def key(self, model: Any, pk: Any) -> Any:
        from django.contrib.auth import get_user_model
        from openedx_content.models_api import ContainerVersion, EntityList, PublishableEntityVersion

        memo_key = (model._meta.label, pk)
        if memo_key in self.memo:
            return self.memo[memo_key]
        if model is get_user_model():
            found: Any = ("user", model.objects.get(pk=pk).username)
        elif model is EntityList:
            users = ContainerVersion.objects.filter(entity_list_id=pk).values_list("pk", flat=True)
            found = ("EntityList", tuple(sorted(repr(self.key(PublishableEntityVersion, u)) for u in users)))
        else:
            found = (model.__name__, self.row(model, model.objects.filter(pk=pk).values().get()))
        self.memo[memo_key] = found
        return found


def table_rows() -> dict[str, list[str]]:
    """Every openedx-core table (``openedx_content`` models) -> its rows, natural-keyed, sorted."""
    from django.apps import apps

    keys = _Keys()
    out = {}
    for model in apps.get_app_config("openedx_content").get_models():
        rows = [repr(keys.row(model, values)) for values in model.objects.all().values()]
        out[model.__name__] = sorted(rows)
    return out


def version_ids() -> dict[str, int]:
    """Natural key -> id of every entity version (the dependency hashes are made of these ids)."""
    from openedx_content.models_api import PublishableEntityVersion

    return {f"{ref}@{num}": pk for pk, ref, num in
            PublishableEntityVersion.objects.values_list("pk", "entity__entity_ref", "version_num")}


def media_listing(root: Path) -> dict[str, str]:
    """Every file under a media storage directory -> SHA-256 of its bytes (folders as '')."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else ""
            for p in sorted(root.rglob("*"))}


def store_snapshot(media_root: Path) -> tuple[dict[str, list[str]], dict[str, str]]:
    """What a failed write must leave as it was: every openedx-core table's rows and the media files."""
    return table_rows(), media_listing(media_root)
