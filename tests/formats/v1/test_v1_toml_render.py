"""The fast v1 TOML renderer against a tomlkit oracle built the way openedx-core's ``toml.py`` builds it."""

from __future__ import annotations

import tomllib
import zipfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import tomlkit
from hypothesis import given, settings
from hypothesis import strategies as st
from support.peer import peer_archives

from lc_archive.domain import (
    ChildRecord,
    CollectionRecord,
    EntityRecord,
    PackageRecord,
    VersionRecord,
)
from lc_archive.formats.v1.toml_render import (
    EntityExtras,
    render_collection,
    render_entity,
    render_package,
    written_versions,
)

# -- the oracle: tomlkit, used exactly like openedx_content/applets/backup_restore/toml.py ------------


def _add_all(table: Any, extra: Mapping[str, Any] | None) -> None:
    for key, value in (extra or {}).items():
        table.add(key, list(value) if isinstance(value, tuple) else value)


def oracle_package(
    package: PackageRecord,
    created_at: datetime,
    *,
    created_by: str | None = None,
    created_by_email: str | None = None,
    origin_server: str | None = None,
    extra_meta: Mapping[str, Any] | None = None,
    extra_package: Mapping[str, Any] | None = None,
) -> str:
    doc = tomlkit.document()
    section = tomlkit.table()
    section.add("title", package.title)
    section.add("key", package.ref)
    section.add("description", package.description)
    section.add("created", package.created)
    section.add("updated", package.updated)
    _add_all(section, extra_package)
    metadata = tomlkit.table()
    metadata.add("format_version", 1)
    # lc-archive leaves out blank values (openedx-core writes them and then cannot restore them).
    if created_by and created_by.strip():
        metadata.add("created_by", created_by)
    if created_by_email and created_by_email.strip():
        metadata.add("created_by_email", created_by_email)
    metadata.add("created_at", created_at)
    if origin_server and origin_server.strip():
        metadata.add("origin_server", origin_server)
    _add_all(metadata, extra_meta)
    doc.add("meta", metadata)
    doc.add("learning_package", section)
    return tomlkit.dumps(doc)


def oracle_entity(entity: EntityRecord, versions: Sequence[VersionRecord], extras: EntityExtras | None = None) -> str:
    ext = extras or EntityExtras()
    entity_table = tomlkit.table()
    entity_table.add("can_stand_alone", entity.can_stand_alone)
    entity_table.add("key", entity.ref)
    entity_table.add("created", entity.created)
    _add_all(entity_table, ext.entity)
    if entity.draft is not None:
        draft_table = tomlkit.table()
        draft_table.add("version_num", entity.draft)
        _add_all(draft_table, ext.draft)
        entity_table.add("draft", draft_table)
    published_table = tomlkit.table()
    if entity.published is not None:
        published_table.add("version_num", entity.published)
    else:
        published_table.add(tomlkit.comment("unpublished: no published_version_num"))
    _add_all(published_table, ext.published)
    entity_table.add("published", published_table)
    if entity.kind == "container":
        container_table = tomlkit.table()
        type_table = tomlkit.table()
        _add_all(type_table, ext.container)
        container_table.add(entity.type, type_table)
        entity_table.add("container", container_table)
    doc = tomlkit.document()
    doc.add("entity", entity_table)
    doc.add(tomlkit.nl())
    doc.add(tomlkit.comment("### Versions"))
    for version in versions:
        aot = tomlkit.aot()
        version_table = tomlkit.table()
        version_table.add("title", version.title)
        version_table.add("version_num", version.number)
        _add_all(version_table, ext.versions.get(version.number))
        if entity.kind == "container":
            children_table = tomlkit.table()
            children_table.add("children", [c.ref for c in version.children])
            version_table.add("container", children_table)
        aot.append(version_table)
        doc.add("version", aot)
    return tomlkit.dumps(doc)


def oracle_collection(collection: CollectionRecord, extra: Mapping[str, Any] | None = None) -> str:
    doc = tomlkit.document()
    entities = tomlkit.array()
    entities.extend(collection.members)
    entities.multiline(True)
    table = tomlkit.table()
    table.add("title", collection.title)
    table.add("key", collection.code)
    table.add("description", collection.description)
    table.add("created", collection.created)
    table.add("entities", entities)
    _add_all(table, extra)
    doc.add("collection", table)
    return tomlkit.dumps(doc)


# -- strategies ------------------------------------------------------------------------------------

_tricky = st.sampled_from(
    ['"', "\\", '"""', "\n", "\r\n", "\r", "\t", "\b", "\f", "\x00", "\x01", "\x1b", "\x1f", "\x7f", "\x80",
     "\u2028", "\ufeff", " ", "😀", "é", "'", "#", "[", "]", "=", ",", "\\u0041", "$", "}"]
)  # fmt: skip
texts = st.lists(st.one_of(st.text(st.characters(exclude_categories=["Cs"]), max_size=8), _tricky), max_size=6).map(
    "".join
)
datetimes = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)),
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.replace(microsecond=0)),
)
numbers = st.integers(min_value=1, max_value=2**31)
scalars = st.one_of(texts, st.integers(min_value=-(2**63), max_value=2**63 - 1), st.booleans(), datetimes)
extra_keys = st.one_of(st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True), texts.filter(bool))
extras = st.dictionaries(
    extra_keys.map(lambda k: "x_" + k),
    st.one_of(scalars, st.lists(scalars, max_size=3)),
    max_size=3,
)
packages = st.builds(PackageRecord, ref=texts, title=texts, description=texts, created=datetimes, updated=datetimes)
collections = st.builds(
    CollectionRecord,
    code=texts,
    title=texts,
    description=texts,
    enabled=st.just(True),
    created=datetimes,
    modified=datetimes,
    members=st.lists(texts, max_size=4).map(tuple),
)


@st.composite
def entities(draw: st.DrawFn) -> EntityRecord:
    kind = draw(st.sampled_from(["component", "container"]))
    numbers_drawn = draw(st.lists(numbers, min_size=0, max_size=2, unique=True))
    versions = tuple(
        VersionRecord(
            number=n,
            title=draw(texts),
            created=draw(datetimes),
            children=tuple(ChildRecord(r) for r in draw(st.lists(texts, max_size=4))) if kind == "container" else (),
        )
        for n in sorted(numbers_drawn)
    )
    pointers = [None, *numbers_drawn]
    return EntityRecord(
        ref=draw(texts),
        kind=kind,  # type: ignore[arg-type]
        namespace="" if kind == "container" else "xblock.v1",
        type=draw(st.sampled_from(["unit", "subsection", "section"])) if kind == "container" else "html",
        code="c",
        can_stand_alone=draw(st.booleans()),
        created=draw(datetimes),
        versions=versions,
        draft=draw(st.sampled_from(pointers)),
        published=draw(st.sampled_from(pointers)),
    )


# -- properties ------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(packages, datetimes, st.one_of(st.none(), texts), st.one_of(st.none(), texts), st.one_of(st.none(), texts))
def test_package_matches_tomlkit(
    package: PackageRecord, created_at: datetime, by: str | None, email: str | None, origin: str | None
) -> None:
    text = render_package(package, created_at=created_at, created_by=by, created_by_email=email, origin_server=origin)
    assert text == oracle_package(package, created_at, created_by=by, created_by_email=email, origin_server=origin)
    parsed = tomllib.loads(text)
    assert parsed["learning_package"] == {
        "title": package.title,
        "key": package.ref,
        "description": package.description,
        "created": package.created,
        "updated": package.updated,
    }
    assert parsed["meta"]["created_at"] == created_at
    assert parsed["meta"].get("created_by") == (by if by and by.strip() else None)


@settings(max_examples=500, deadline=None)
@given(entities())
def test_entity_matches_tomlkit(entity: EntityRecord) -> None:
    versions = written_versions(entity)
    text = render_entity(entity)
    assert text == oracle_entity(entity, versions)
    parsed = tomllib.loads(text)
    assert parsed["entity"]["key"] == entity.ref
    assert parsed["entity"]["created"] == entity.created
    assert parsed["entity"]["can_stand_alone"] is entity.can_stand_alone
    assert parsed["entity"].get("draft", {}).get("version_num") == entity.draft
    assert parsed["entity"]["published"].get("version_num") == entity.published
    if entity.kind == "container":
        assert parsed["entity"]["container"] == {entity.type: {}}
    got = [(v["title"], v["version_num"], v.get("container", {}).get("children")) for v in parsed.get("version", [])]
    children = (lambda v: [c.ref for c in v.children]) if entity.kind == "container" else (lambda v: None)
    assert got == [(v.title, v.number, children(v)) for v in versions]


@settings(max_examples=300, deadline=None)
@given(collections)
def test_collection_matches_tomlkit(collection: CollectionRecord) -> None:
    text = render_collection(collection)
    assert text == oracle_collection(collection)
    parsed = tomllib.loads(text)["collection"]
    assert parsed == {
        "title": collection.title,
        "key": collection.code,
        "description": collection.description,
        "created": collection.created,
        "entities": list(collection.members),
    }


@settings(max_examples=200, deadline=None)
@given(entities(), extras, extras, extras, extras, extras, packages, collections, extras, extras)
def test_extension_keys_match_tomlkit(
    entity: EntityRecord,
    e_entity: dict[str, Any],
    e_draft: dict[str, Any],
    e_published: dict[str, Any],
    e_container: dict[str, Any],
    e_version: dict[str, Any],
    package: PackageRecord,
    collection: CollectionRecord,
    e_meta: dict[str, Any],
    e_collection: dict[str, Any],
) -> None:
    ext = EntityExtras(
        entity=e_entity,
        draft=e_draft,
        published=e_published,
        container=e_container,
        versions={v.number: e_version for v in entity.versions},
    )
    text = render_entity(entity, extras=ext)
    assert text == oracle_entity(entity, written_versions(entity), ext)
    assert tomllib.loads(text)["entity"]["key"] == entity.ref
    when = datetime(2025, 1, 1, tzinfo=UTC)
    package_text = render_package(package, created_at=when, extra_meta=e_meta, extra_package=e_version)
    assert package_text == oracle_package(package, when, extra_meta=e_meta, extra_package=e_version)
    collection_text = render_collection(collection, extra=e_collection)
    assert collection_text == oracle_collection(collection, e_collection)
    assert tomllib.loads(collection_text)["collection"]["key"] == collection.code


# -- exact fixture texts (format spec §3.5) ---------------------------------------------------------


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_fixture_package_toml() -> None:
    package = PackageRecord(
        "lib:WGU:LIB_C001", "Library test", "", _dt("2025-08-19T04:25:10.988166Z"), _dt("2025-08-19T04:25:10.988166Z")
    )
    text = render_package(
        package,
        created_at=_dt("2025-10-05T18:23:45.180535Z"),
        created_by="lp_user",
        created_by_email="lp_user@example.com",
        origin_server="cms.test",
    )
    assert text == (
        "[meta]\n"
        "format_version = 1\n"
        'created_by = "lp_user"\n'
        'created_by_email = "lp_user@example.com"\n'
        "created_at = 2025-10-05T18:23:45.180535Z\n"
        'origin_server = "cms.test"\n'
        "\n"
        "[learning_package]\n"
        'title = "Library test"\n'
        'key = "lib:WGU:LIB_C001"\n'
        'description = ""\n'
        "created = 2025-08-19T04:25:10.988166Z\n"
        "updated = 2025-08-19T04:25:10.988166Z\n"
    )


def test_fixture_collection_toml() -> None:
    collection = CollectionRecord(
        "collection-test",
        "Collection test1",
        "",
        True,
        _dt("2025-08-19T04:25:27.754968Z"),
        _dt("2025-08-19T04:25:27.754968Z"),
        members=(
            "xblock.v1:html:e32d5479-9492-41f6-9222-550a7346bc37",
            "xblock.v1:problem:256739e8-c2df-4ced-bd10-8156f6cfa90b",
        ),
    )
    assert render_collection(collection) == (
        "[collection]\n"
        'title = "Collection test1"\n'
        'key = "collection-test"\n'
        'description = ""\n'
        "created = 2025-08-19T04:25:27.754968Z\n"
        "entities = [\n"
        '    "xblock.v1:html:e32d5479-9492-41f6-9222-550a7346bc37",\n'
        '    "xblock.v1:problem:256739e8-c2df-4ced-bd10-8156f6cfa90b",\n'
        "]\n"
    )
    assert render_collection(CollectionRecord("c", "T", "", True, collection.created, collection.created)).endswith(
        "entities = []\n"
    )


def test_fixture_section_toml() -> None:
    when = _dt("2025-09-04T22:51:40.919872Z")
    section = EntityRecord(
        "section1-8ca126", "container", "", "section", "section1-8ca126", True, when,
        versions=(VersionRecord(2, "Section1", when, children=(ChildRecord("subsection1-48afa3"),)),),
        draft=2,
    )  # fmt: skip
    assert render_entity(section) == (
        "[entity]\n"
        "can_stand_alone = true\n"
        'key = "section1-8ca126"\n'
        "created = 2025-09-04T22:51:40.919872Z\n"
        "\n"
        "[entity.draft]\n"
        "version_num = 2\n"
        "\n"
        "[entity.published]\n"
        "# unpublished: no published_version_num\n"
        "\n"
        "[entity.container.section]\n"
        "\n"
        "# ### Versions\n"
        "\n"
        "[[version]]\n"
        'title = "Section1"\n'
        "version_num = 2\n"
        "\n"
        "[version.container]\n"
        'children = ["subsection1-48afa3"]\n'
    )


def test_fixture_component_tomls() -> None:
    when = _dt("2025-08-19T04:25:43.685529Z")
    ref = "xblock.v1:html:e32d5479-9492-41f6-9222-550a7346bc37"
    html = EntityRecord(
        ref, "component", "xblock.v1", "html", ref.rsplit(":", 1)[1], True, when,
        versions=(VersionRecord(4, "Text", when), VersionRecord(5, "Text", when)), draft=5, published=4,
    )  # fmt: skip
    assert render_entity(html) == (
        "[entity]\n"
        "can_stand_alone = true\n"
        f'key = "{ref}"\n'
        "created = 2025-08-19T04:25:43.685529Z\n"
        "\n"
        "[entity.draft]\n"
        "version_num = 5\n"
        "\n"
        "[entity.published]\n"
        "version_num = 4\n"
        "\n"
        "# ### Versions\n"
        "\n"
        "[[version]]\n"
        'title = "Text"\n'
        "version_num = 5\n"
        "\n"
        "[[version]]\n"
        'title = "Text"\n'
        "version_num = 4\n"
    )
    deleted = EntityRecord(
        "xblock.v1:problem:deleted_published", "component", "xblock.v1", "problem", "deleted_published", True,
        _dt("2024-08-05T12:00:01Z"), versions=(VersionRecord(1, "D2", when),), draft=None, draft_deleted=True,
        published=1,
    )  # fmt: skip
    assert render_entity(deleted) == (
        "[entity]\n"
        "can_stand_alone = true\n"
        'key = "xblock.v1:problem:deleted_published"\n'
        "created = 2024-08-05T12:00:01Z\n"
        "\n"
        "[entity.published]\n"
        "version_num = 1\n"
        "\n"
        "# ### Versions\n"
        "\n"
        "[[version]]\n"
        'title = "D2"\n'
        "version_num = 1\n"
    )
    never = EntityRecord("xblock.v1:html:x", "component", "xblock.v1", "html", "x", False, when)
    assert render_entity(never).endswith("# unpublished: no published_version_num\n\n# ### Versions\n")


# -- details ---------------------------------------------------------------------------------------


def test_escapes_and_datetimes() -> None:
    when = datetime(2024, 8, 5, 12, 0, 1, tzinfo=UTC)
    package = PackageRecord('a"b\\c\x01\x7f\x1b\n\t\r\b\f é😀 ', " t ", "", when, when.replace(microsecond=7))
    text = render_package(package, created_at=when.astimezone(timezone(timedelta(hours=2))))
    assert 'key = "a\\"b\\\\c\\u0001\\u007f\\u001b\\n\\t\\r\\b\\f é😀 "\n' in text
    assert 'title = " t "\n' in text
    assert "created_at = 2024-08-05T12:00:01Z\n" in text  # converted to UTC
    assert "updated = 2024-08-05T12:00:01.000007Z\n" in text
    with pytest.raises(ValueError, match="naive"):
        render_package(package, created_at=datetime(2024, 1, 1))


def test_blank_optional_meta_values_are_left_out() -> None:
    when = datetime(2024, 8, 5, tzinfo=UTC)
    package = PackageRecord("lib:a:b", "T", "", when, when)
    text = render_package(package, created_at=when, created_by=" ", created_by_email="", origin_server="  \t")
    assert "created_by" not in text
    assert "origin_server" not in text


def test_bad_extension_keys_and_values() -> None:
    when = datetime(2024, 8, 5, tzinfo=UTC)
    entity = EntityRecord("r", "component", "ns", "t", "r", True, when)
    with pytest.raises(ValueError, match="clashes"):
        render_entity(entity, extras=EntityExtras(entity={"draft": 1}))
    with pytest.raises(TypeError):
        render_entity(entity, extras=EntityExtras(entity={"f": 1.5}))  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="not among its versions"):
        written_versions(EntityRecord("r", "component", "ns", "t", "r", True, when, draft=3))


# -- every TOML openedx-core wrote, rebuilt byte for byte -----------------------------------------


def _rerender(member: str, text: str) -> str:
    doc = tomllib.loads(text)
    if member == "package.toml":
        meta, lp = doc["meta"], doc["learning_package"]
        package = PackageRecord(lp["key"], lp["title"], lp["description"], lp["created"], lp["updated"])
        return render_package(
            package,
            created_at=meta["created_at"],
            format_version=meta["format_version"],
            created_by=meta.get("created_by"),
            created_by_email=meta.get("created_by_email"),
            origin_server=meta.get("origin_server"),
        )
    if member.startswith("collections/"):
        c = doc["collection"]
        members = tuple(c["entities"])
        return render_collection(CollectionRecord(c["key"], c["title"], c["description"], True, c["created"],
                                                  c["created"], members=members))  # fmt: skip
    e = doc["entity"]
    is_container = member.count("/") == 1
    versions = tuple(
        VersionRecord(v["version_num"], v["title"], e["created"],
                      children=tuple(ChildRecord(r) for r in v.get("container", {}).get("children", ())))
        for v in doc.get("version", [])
    )  # fmt: skip
    entity = EntityRecord(
        e["key"], "container" if is_container else "component", "", next(iter(e["container"])) if is_container else "x",
        "", e["can_stand_alone"], e["created"], versions=versions,
        draft=e.get("draft", {}).get("version_num"), published=e["published"].get("version_num"),
    )  # fmt: skip
    return render_entity(entity, versions)


def test_every_peer_toml_is_reproduced(peer_dir: Path) -> None:
    count = 0
    for archive in peer_archives(peer_dir):
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                if not member.endswith(".toml") or "/component_versions/" in member:
                    continue
                text = zf.read(member).decode("utf-8")
                assert _rerender(member, text) == text, f"{archive.name}: {member}"
                count += 1
    assert count > 500
