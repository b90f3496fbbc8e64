"""A store with several generated packages and one that no backup can write (a planted media path)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, update

from lc_archive.stores import open_store
from lc_archive.stores.schema import entity, media, package, version
from lc_archive.synthetic import generate_library

HOSTILE = "lib:Org:HOSTILE"


def site_store(path: Path, sizes: tuple[int, ...] = (10, 25, 4, 40), hostile: bool = True) -> list[str]:
    """Create ``len(sizes)`` packages (``lib:Org:P<i>``) and, with ``hostile``, :data:`HOSTILE`; return refs."""
    refs = [f"lib:Org:P{i}" for i in range(len(sizes))]
    with open_store(path) as store:
        for i, (ref, size) in enumerate(zip(refs, sizes, strict=True)):
            generate_library(store, ref, components=size, seed=10 + i)
        if hostile:
            generate_library(store, HOSTILE, components=5, seed=99)
            plant_bad_media_path(store, HOSTILE)
            refs.append(HOSTILE)
    return sorted(refs)


def library_with_big_media(path: Path, ref: str, *, components: int, seed: int, files: dict[str, bytes]) -> Path:
    """A store at ``path`` with one generated package plus a component holding ``files``; returns ``path``."""
    with open_store(path) as store:
        generate_library(store, ref, components=components, seed=seed)
        add_big_component(store, ref, files)
    return path


def add_big_component(store: object, ref: str, files: dict[str, bytes]) -> None:
    """Give package ``ref`` a video component whose one version has ``files`` (large media) besides OLX."""
    with store.author(ref) as author:  # type: ignore[attr-defined]
        author.create_component("xblock.v1", "video", "big")
        author.add_component_version("xblock.v1:video:big", {"block.xml": b'<video display_name="Big"/>', **files},
                                     title="Big")


def plant_bad_media_path(store: object, ref: str) -> None:
    """Point one media row of ``ref`` at ``static/../../evil.png``, as a corrupted database could."""
    with store.transaction(write=True) as conn:  # type: ignore[attr-defined]
        row = conn.execute(
            select(media.c.version_id, media.c.path)
            .join(version, version.c.id == media.c.version_id)
            .join(entity, entity.c.id == version.c.entity_id)
            .join(package, package.c.id == entity.c.package_id)
            .where(package.c.ref == ref, media.c.path != "block.xml")
            .limit(1)).first()
        if row is None:
            row = conn.execute(
                select(media.c.version_id, media.c.path)
                .join(version, version.c.id == media.c.version_id)
                .join(entity, entity.c.id == version.c.entity_id)
                .join(package, package.c.id == entity.c.package_id)
                .where(package.c.ref == ref).limit(1)).first()
        assert row is not None
        conn.execute(update(media).where(media.c.version_id == row.version_id, media.c.path == row.path)
                     .values(path="static/../../evil.png"))
