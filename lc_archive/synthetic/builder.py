"""The generator itself: one :class:`Builder` drives an :class:`~lc_archive.stores.authoring.Author`."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from ..stores.authoring import Author
from .content import (
    _FILE_STEMS,
    _PLANTED_COLLECTIONS,
    _PLANTED_COMPONENTS,
    _PLANTED_CONTAINERS,
    _PUBLISHED_CATEGORIES,
    _STATIC_DIRS,
    _UNICODE_BITS,
    _UNICODE_CODE_STEMS,
    _UNICODE_FILE_STEMS,
    _WORDS,
    _groups,
    _image,
    _Text,
    _words,
)

__all__ = ["Builder"]

NAMESPACE = "xblock.v1"

# ---------------------------------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Comp:
    i: int
    type: str
    code: str
    cat: str
    title: str
    n_pre: int
    static: bool
    standalone: bool
    ref: str = ""
    rev: int = 0
    files: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Cont:
    kind: str
    ref: str
    title: str
    children: list[str]
    dirty: bool = False


class Builder:
    """Holds the generator's state while it drives one :class:`Author`."""

    def __init__(self, author: Author, rng: random.Random, n: int, unicode: bool) -> None:
        self.a = author
        self.rng = rng
        self.n = n
        self.uni = unicode
        self.text = _Text(rng, 0.85 if unicode else 0.12)
        self.pool: list[tuple[str, bytes]] = []
        self.stats: dict[str, int] = {
            "component_versions": 0, "container_versions": 0, "static_files": 0,
            "units": 0, "subsections": 0, "sections": 0,
        }  # fmt: skip
        self._container_serial = 0
        self._planted = {k: list(v) for k, v in _PLANTED_CONTAINERS.items()}

    # -- planning ------------------------------------------------------------------------------

    def plan(self) -> list[_Comp]:
        rng = self.rng
        planted = _PLANTED_COMPONENTS if self.uni else ()
        used: set[tuple[str, str]] = set()
        comps: list[_Comp] = []
        for i in range(self.n):
            if i < len(planted):
                ctype, code = planted[i]
            else:
                r = rng.random()
                ctype = "html" if r < 0.45 else ("problem" if r < 0.85 else "video")
                code = self._new_code(ctype, i, used)
            used.add((ctype, code))
            r = rng.random()
            if r < 0.50:
                cat = "pub"
            elif r < 0.70:
                cat = "pub+draft"
            elif r < 0.82:
                cat = "never"
            elif r < 0.88:
                cat = "deleted"
            else:
                cat = "repub"
            comps.append(_Comp(
                i=i, type=ctype, code=code, cat=cat, title=self.text.component_title(i),
                n_pre=rng.randint(1, 3), static=rng.random() < 0.10, standalone=rng.random() >= 0.1,
            ))  # fmt: skip
        self.pool = [_image(rng) for _ in range(max(4, self.n // 40))]
        return comps

    def _new_code(self, ctype: str, i: int, used: set[tuple[str, str]]) -> str:
        rng = self.rng
        while True:
            if self.uni:
                stem = rng.choice(_UNICODE_CODE_STEMS)
                code = f"{stem}-{i}" if rng.random() < 0.7 else f"{stem}.{i}_{rng.randint(0, 9)}"
            elif rng.random() < 0.6:
                code = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            else:
                code = f"{ctype}-{rng.choice(_WORDS)}-{i}"
            if (ctype, code) not in used:
                return code

    # -- components ----------------------------------------------------------------------------

    def _static_file(self, c: _Comp, k: int) -> tuple[str, bytes]:
        rng = self.rng
        ext, data = rng.choice(self.pool) if rng.random() < 0.5 else _image(rng)
        stems = _UNICODE_FILE_STEMS if self.uni and rng.random() < 0.5 else _FILE_STEMS
        stem = rng.choice(stems)
        return f"{rng.choice(_STATIC_DIRS)}{stem}-{c.i}-{k}.{ext}", data

    def create_component(self, c: _Comp) -> None:
        c.ref = self.a.create_component(NAMESPACE, c.type, c.code, can_stand_alone=c.standalone)
        c.rev = 1
        files: dict[str, str | bytes | None] = {"block.xml": self.text.olx(c.type, c.title, 1)}
        if c.static:
            for k in range(self.rng.randint(1, 3)):
                path, data = self._static_file(c, k)
                if path not in files:
                    files[path] = data
                    c.files.append(path)
                    self.stats["static_files"] += 1
        self.a.add_component_version(c.ref, files, title=c.title, replace=True)
        self.stats["component_versions"] += 1
        for _ in range(c.n_pre - 1):
            self.edit_component(c)

    def edit_component(self, c: _Comp) -> None:
        """The next version: new OLX, sometimes a new title, sometimes an image added or removed."""
        rng = self.rng
        c.rev += 1
        if rng.random() < 0.4:
            c.title = self.text.component_title(c.i)
        delta: dict[str, str | bytes | None] = {"block.xml": self.text.olx(c.type, c.title, c.rev)}
        if c.static and c.files and rng.random() < 0.35:
            if rng.random() < 0.5 and len(c.files) > 1:
                gone = rng.choice(c.files)
                c.files.remove(gone)
                delta[gone] = None
            else:
                path, data = self._static_file(c, c.rev)
                if path not in c.files:
                    c.files.append(path)
                    self.stats["static_files"] += 1
                delta[path] = data
        self.a.add_component_version(c.ref, delta, title=c.title)
        self.stats["component_versions"] += 1

    # -- containers ----------------------------------------------------------------------------

    def _container_code(self, kind: str) -> str:
        self._container_serial += 1
        if self.uni and self._planted[kind]:
            return self._planted[kind].pop(0)
        if self.uni:
            stem = {"unit": "блок", "subsection": "小節", "section": "Kapitel"}[kind]
            return f"{stem}-{self._container_serial}"
        return f"{kind}-{self.rng.getrandbits(32):08x}-{self._container_serial}"

    def create_container(self, kind: str, title: str, children: list[str], *, standalone: bool = True) -> _Cont:
        ref = self.a.create_container(kind, self._container_code(kind), can_stand_alone=standalone)
        self.a.add_container_version(ref, children, title=title)
        self.stats["container_versions"] += 1
        self.stats[kind + "s"] += 1
        return _Cont(kind, ref, title, list(children))

    def next_container_version(self, cont: _Cont, *, title: str | None = None,
                               children: list[str] | None = None) -> None:
        if title is not None:
            cont.title = title
        if children is not None:
            cont.children = list(children)
        self.a.add_container_version(cont.ref, cont.children, title=cont.title)
        self.stats["container_versions"] += 1

    # -- the whole library ---------------------------------------------------------------------

    def build(self) -> dict[str, Any]:
        rng, text, a = self.rng, self.text, self.a
        comps = self.plan()

        # Phase A: the content of the first publish.
        eligible = [c for c in comps if c.cat in _PUBLISHED_CATEGORIES]
        for c in eligible:
            self.create_component(c)
        in_units = [c.ref for c in eligible if rng.random() < 0.8]
        unit_groups = _groups(rng, in_units, 3, 8)
        for group in unit_groups:  # a few components appear in a second unit too
            if rng.random() < 0.1 and eligible:
                extra = rng.choice(eligible).ref
                if extra not in group:
                    group.append(extra)
        units = [
            self.create_container("unit", text.container_title("unit", k), g, standalone=rng.random() >= 0.2)
            for k, g in enumerate(unit_groups)
        ]
        subsections = [
            self.create_container("subsection", text.container_title("subsection", k), [u.ref for u in g],
                                  standalone=rng.random() >= 0.2)
            for k, g in enumerate(_groups(rng, units, 2, 5))
        ]  # fmt: skip
        sections = [
            self.create_container("section", text.container_title("section", k), [s.ref for s in g])
            for k, g in enumerate(_groups(rng, subsections, 2, 6))
        ]

        # Phase B: first publish.
        a.publish(message="Initial publish")

        # Phase C: unpublished work on top.
        for c in comps:
            if c.cat == "pub+draft":
                for _ in range(rng.randint(1, 2)):
                    self.edit_component(c)
            elif c.cat == "repub":
                self.edit_component(c)
            elif c.cat == "never":
                self.create_component(c)
        never = [c for c in comps if c.cat == "never"]
        rng.shuffle(never)
        lo, hi = int(len(never) * 0.4), int(len(never) * 0.7)
        for c in never[lo:hi]:  # 30 %: draft-only children of published units
            if units:
                u = rng.choice(units)
                u.children.append(c.ref)
                u.dirty = True
        new_units = [  # 30 %: new draft-only units
            self.create_container("unit", text.container_title("unit", 1000 + k), [c.ref for c in g])
            for k, g in enumerate(_groups(rng, never[hi:], 3, 8))
        ]
        half = len(new_units) // 2
        for u in new_units[:half]:
            if subsections:
                s = rng.choice(subsections)
                s.children.append(u.ref)
                s.dirty = True
        if new_units[half:]:
            draft_subsections = [
                self.create_container("subsection", text.container_title("subsection", 1000 + k), [u.ref for u in g])
                for k, g in enumerate(_groups(rng, new_units[half:], 2, 5))
            ]
            self.create_container("section", "Draft module (never published)", [s.ref for s in draft_subsections])
        for u in units:
            if u.dirty or rng.random() < 0.15:
                kids = list(u.children)
                if rng.random() < 0.5:
                    rng.shuffle(kids)
                new_title = text.container_title("unit", rng.randint(1, 999)) if rng.random() < 0.5 else None
                self.next_container_version(u, title=new_title, children=kids)
        for s in subsections:
            if s.dirty or rng.random() < 0.1:
                self.next_container_version(s)
        for s in sections:
            if rng.random() < 0.1:
                self.next_container_version(s, title=text.container_title("section", rng.randint(1, 99)))
        for c in comps:
            if c.cat == "deleted":
                a.soft_delete(c.ref)
        deleted_units = 0
        for u in units:
            if rng.random() < 0.03:
                a.soft_delete(u.ref)
                deleted_units += 1

        # Phase D: second publish, of the "repub" components only.
        repub = [c.ref for c in comps if c.cat == "repub"]
        if repub:
            a.publish(message="Republish", refs=repub)

        # Phase E: newer drafts on half of the republished components.
        for c in comps:
            if c.cat == "repub" and rng.random() < 0.5:
                self.edit_component(c)

        # Collections.
        n_coll = min(12, 3 + self.n // 400)
        codes = [f"collection-{k}" for k in range(n_coll)]
        if self.uni:
            codes = [*_PLANTED_COLLECTIONS, *(f"coll-{k}" for k in range(n_coll))]
        others = [u.ref for u in units] + [s.ref for s in subsections] + [s.ref for s in sections]
        component_refs = [c.ref for c in comps]
        for k, code in enumerate(codes):
            title = f"Collection {k}: {_words(rng, 2).capitalize()}" + text.flourish(" ")
            description = "" if k % 3 == 2 else f"Items about {_words(rng, 5)}."
            if self.uni and description:
                description += "\nЗаметки: " + rng.choice(_UNICODE_BITS)
            a.create_collection(code, title, description=description)
            if k == len(codes) - 1 and len(codes) > 2:
                continue  # the last collection stays empty
            m = max(2, int(len(comps) * rng.uniform(0.02, 0.08)))
            members = rng.sample(component_refs, min(m, len(component_refs)))
            members += rng.sample(others, min(len(others), rng.randint(0, 4)))
            a.add_to_collection(code, members)

        categories: dict[str, int] = {}
        for c in comps:
            categories[c.cat] = categories.get(c.cat, 0) + 1
        entities = len(comps) + self.stats["units"] + self.stats["subsections"] + self.stats["sections"]
        return {
            "component_categories": dict(sorted(categories.items())),
            "collections": len(codes),
            "entities": entities,
            "deleted_units": deleted_units,
            **self.stats,
        }


