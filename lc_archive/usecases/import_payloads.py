"""Which plugin payloads an import writes (part of :mod:`.import_plan`).

Payloads (tags, notes... of plugins, ``docs/plugins.md``) are compared by target and by the SHA-256 of
their bodies, after the entities are decided:

* package scope, and entity scope of an entity the package has: written when the package lacks that
  payload or holds other bytes (the archive's wins; a payload only the package has is kept);
* version scope: the archive's payloads of the version an import copies go to the new version (its
  number in the package: the envelope is rendered again with that number, the plugin's data as it
  was); payloads of other versions are history, and stay as they are;
* payloads of entities the import creates come with them (not listed here).

The package's payload bodies are never held: only their targets and digests.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

from ..domain import PayloadRecord
from ..plugins.payloads import render_payload
from ..stores.base import PackageSource
from .import_plan import EntityChange

__all__ = ["PayloadChange", "apply_target", "plan_payloads"]

Target = tuple[str, str | None, int | None]
"""``(plugin, entity ref, version)``."""


@dataclass(frozen=True, slots=True)
class PayloadChange:
    """One payload the import writes: ``source`` is its target in the archive, ``target`` in the package."""

    source: Target
    target: Target
    action: Literal["added", "changed"]

    def as_dict(self) -> dict[str, Any]:
        """The machine form used by ``--json``."""
        plugin, entity, version = self.target
        return {"plugin": plugin, "entity": entity, "version": version, "action": self.action}


def _digest(p: PayloadRecord) -> str:
    return hashlib.sha256(p.body).hexdigest()


def plan_payloads(theirs: PackageSource, ours: PackageSource, entities: list[EntityChange]) -> list[PayloadChange]:
    """The payload writes of an import whose entity changes are ``entities`` (see the module docstring)."""
    created = {c.ref for c in entities if c.action == "added"}
    copied = {(c.ref, c.source_number): c.number for c in entities
              if c.action != "added" and c.number is not None and c.source_number is not None}
    held = {(p.plugin, p.entity, p.version): (p.schema_version, _digest(p)) for p in ours.iter_payloads()}
    out: list[PayloadChange] = []
    for p in theirs.iter_payloads():
        if p.entity in created:
            continue
        target: Target = (p.plugin, p.entity, p.version)
        if p.version is not None and p.entity is not None:
            number = copied.get((p.entity, p.version))
            if number is None:
                continue  # a payload of history: left as it is
            target = (p.plugin, p.entity, number)
        mine = held.get(target)
        if mine != (p.schema_version, _digest(p)):
            out.append(PayloadChange((p.plugin, p.entity, p.version), target, "added" if mine is None else "changed"))
    return sorted(out, key=lambda c: (c.target[0], c.target[1] or "", c.target[2] or 0))


def apply_target(p: PayloadRecord, change: PayloadChange) -> PayloadRecord:
    """The archive's payload ``p`` as it is written: at the change's target (a version renumbered, its
    envelope rendered again with the new number)."""
    number = change.target[2]
    if number == p.version:
        return p
    data = json.loads(p.body)["data"]  # phase A checked the envelope of every payload
    return PayloadRecord(p.plugin, p.schema_version, render_payload(p.plugin, p.schema_version, data,
                                                                    entity=p.entity, version=number),
                         p.entity, number)
