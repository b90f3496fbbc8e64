"""The v2 TOML renderer: tomllib and tomlkit (the oracle) read back exactly the values written,
whatever the strings and datetimes; member names are always acceptable to the ZIP pre-flight."""

from __future__ import annotations

import tomllib
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import tomlkit
from hypothesis import given, settings
from hypothesis import strategies as st
from support.v2kit import REF, backup_v2, handmade_store

from lc_archive.archive.names import fold, name_problem
from lc_archive.domain import (
    ChildRecord,
    CollectionRecord,
    EntityRecord,
    MediaRecord,
    PackageRecord,
    PublishLogEntry,
    PublishLogRecord,
    VersionRecord,
    media_path_problem,
)
from lc_archive.formats.v2.docs import ComponentDoc
from lc_archive.formats.v2.layout import MemberKind, MemberNames, classify
from lc_archive.formats.v2.render import render_collection, render_entity, render_package, render_publish
from lc_archive.stores import open_store
from lc_archive.synthetic import generate_library

T0 = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
SHA = "0" * 64


def _same(text: str) -> dict[str, object]:
    parsed = tomllib.loads(text)
    assert tomlkit.parse(text).unwrap() == parsed
    return parsed


def test_every_document_of_real_archives_parses_the_same_in_tomlkit(tmp_path: Path) -> None:
    store = handmade_store(tmp_path / "h.db")
    backup_v2(store, REF, tmp_path / "h.zip")
    store.close()
    with open_store(f"sqlite:///{tmp_path / 'u.db'}") as uni:
        generate_library(uni, REF, components=40, seed=2, profile="unicode")
        backup_v2(uni, REF, tmp_path / "u.zip")
    for archive in ("h.zip", "u.zip"):
        with zipfile.ZipFile(tmp_path / archive) as z:
            for name in z.namelist():
                if name.endswith(".toml"):
                    _same(z.read(name).decode())


texts = st.text(max_size=60)
times = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1),
                     timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)),
                                                timezone(timedelta(hours=-8))]))


@settings(max_examples=200, deadline=None)
@given(title=texts, user=st.one_of(st.none(), texts), when=times, path=texts, mtype=texts)
def test_strings_and_datetimes_round_trip(title: str, user: str | None, when: datetime, path: str, mtype: str) -> None:
    media = MediaRecord(path or "p", SHA, 3, mtype or "t", True, False)
    entity = EntityRecord(
        ref=title or "r", kind="component", namespace=title or "ns", type="html", code="c", can_stand_alone=False,
        created=when, created_by=user, versions=(VersionRecord(1, title, when, user, (media,)),), draft=None,
        draft_deleted=True, published=1,
    )
    doc = _same(render_entity(entity))
    assert doc["entity"]["ref"] == entity.ref and doc["entity"]["created"] == when  # type: ignore[index]
    version = doc["version"][0]  # type: ignore[index]
    assert (version["title"], version.get("created_by"), version["media"][0]["path"]) == (title, user, media.path)
    assert doc["entity"]["draft"] == {"deleted": True} and doc["entity"]["published"] == {"version": 1}  # type: ignore[index]
    collection = CollectionRecord(title or "c", title, title, False, when, when, user, (title or "m", "z"))
    assert _same(render_collection(collection))["collection"]["members"] == [title or "m", "z"]  # type: ignore[index]
    package = PackageRecord(title or "p", title, title, when, when)
    assert _same(render_package(package, created_at=when, created_by=user))["learning_package"]["title"] == title  # type: ignore[index]
    record = PublishLogRecord(when, user, title, (PublishLogEntry(title or "r", None, 2),))
    log = _same(render_publish(record, first=True))
    assert log["publish"][0]["message"] == title and log["publish"][0]["change"][0] == {"ref": title or "r", "new": 2}  # type: ignore[index]


def test_container_and_absent_pointers() -> None:
    unit = EntityRecord("u", "container", "", "unit", "u", True, T0, None,
                        (VersionRecord(1, "", T0, None, (), (ChildRecord("a"), ChildRecord("b", 3))),))
    doc = _same(render_entity(unit))
    assert "draft" not in doc["entity"] and "namespace" not in doc["entity"]  # type: ignore[operator]
    assert doc["version"][0]["children"] == [{"ref": "a"}, {"ref": "b", "pinned": 3}]  # type: ignore[index]
    component = EntityRecord("c", "component", "ns", "t", "c", True, T0)
    assert ComponentDoc.model_validate(tomllib.loads(render_entity(component))).version == []


# -- names ------------------------------------------------------------------------------------------


def test_classify() -> None:
    assert classify("package.toml").kind is MemberKind.PACKAGE
    assert classify("entities/unit-1.toml").kind is MemberKind.CONTAINER
    assert classify("entities/ns/t/c.toml").kind is MemberKind.COMPONENT
    assert classify("entities/ns/t/c/v12/static/a.toml") == classify("entities/ns/t/c/v12/x")
    assert classify("entities/ns/t/c/v12/static/a.toml").version == 12
    assert classify("entities/ns/t/c/v0/x").kind is MemberKind.UNKNOWN
    assert classify("entities/ns/t/c/x/y").kind is MemberKind.UNKNOWN
    assert classify("collections/a.toml").kind is MemberKind.COLLECTION
    assert classify("x/anything/at/all").kind is MemberKind.EXTENSION
    assert classify("entities/").kind is MemberKind.DIRECTORY
    assert classify("readme.txt").kind is MemberKind.UNKNOWN


paths = st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=4).map("/".join)


@settings(max_examples=150, deadline=None)
@given(entries=st.lists(st.tuples(st.sampled_from(["Straße", "strasse", "STRASSE", "ǅ", "a", "A.b", "_", "ｔ"]),
                                  st.sampled_from(["ns", "NS", "x:y", "é", "e\u0301"]),
                                  st.lists(paths, max_size=5)), max_size=6))
def test_member_names_are_always_valid_and_distinct(entries: list[tuple[str, str, list[str]]]) -> None:
    names = MemberNames()
    given_names: list[str] = []
    for i, (code, ns, media) in enumerate(entries):
        given_names.append(names.container(f"{code}-{i}"))
        base = names.component(ns, "html", code)
        given_names.append(base + ".toml")
        for j, path in enumerate(media):
            if media_path_problem(path) is None:
                given_names.append(names.blob(base, 1 + j % 2, path, f"{i:032x}{j:032x}"))
        given_names.append(names.collection(code))
    folded = [fold(n) for n in given_names]
    assert len(set(folded)) == len(folded), given_names
    for name in given_names:
        assert name_problem(name) is None, name
        assert classify(name).kind in (MemberKind.CONTAINER, MemberKind.COMPONENT, MemberKind.BLOB,
                                       MemberKind.COLLECTION), name
        prefix = fold(name)
        while "/" in prefix:  # no file is also a directory
            prefix = prefix.rsplit("/", 1)[0]
            assert prefix not in folded, (prefix, name)
