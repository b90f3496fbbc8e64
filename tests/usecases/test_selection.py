"""Selective backup: the closure of collections and entities, with children, pins and code libraries."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from support.files import zip_bytes

from lc_archive import backup, restore
from lc_archive.domain import ComponentFacts, PayloadRecord
from lc_archive.plugins.builtin.components import HtmlComponent
from lc_archive.plugins.registry import builtin_registry
from lc_archive.stores import open_store
from lc_archive.stores.sql import SqlStore
from lc_archive.synthetic import SyntheticClock
from lc_archive.usecases.selection import SelectedSource, SelectionError, select_source

REF = "lib:Org:SEL"
WHEN = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
LIB = "lc-archive.v1:code_library:graders"
UNUSED = "lc-archive.v1:code_library:unused"
GRADED = "xblock.v1:problem:graded"
LEGACY = "xblock.v1:problem:legacy"
PLAIN = "xblock.v1:problem:plain"
NUMPY = "xblock.v1:problem:numpy"
INTRO = "xblock.v1:html:intro"
OLD = "xblock.v1:html:old"
OTHER = "xblock.v1:html:other"


def zip_of(files: dict[str, bytes]) -> bytes:
    """A code library's zip, the same bytes every time (fixed entry times, STORED)."""
    return zip_bytes({zipfile.ZipInfo(name, (2025, 1, 1, 0, 0, 0)): data for name, data in files.items()},
                     zipfile.ZIP_STORED)


def problem(script: str = "") -> str:
    body = f'<script type="loncapa/python">\n{script}\n</script>' if script else ""
    return f'<problem display_name="P">{body}<customresponse cfn="check"><textline/></customresponse></problem>'


def payload(plugin: str, entity: str | None = None, version: int | None = None) -> PayloadRecord:
    doc: dict[str, Any] = {"data": {"note": f"{plugin} on {entity or 'the package'}"}, "plugin": plugin,
                           "schema_version": 1}
    if entity is not None:
        doc["entity"] = entity
    if version is not None:
        doc["version"] = version
    body = (json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()
    return PayloadRecord(plugin, 1, body, entity, version)


def make_store(path: Path) -> SqlStore:
    """Sections, subsections, units and components; two code libraries, one used; four collections."""
    store = open_store(f"sqlite:///{path}")
    with store.author(REF, user="alice", create={"title": "Selection", "description": ""},
                      clock=SyntheticClock(datetime(2025, 5, 1, tzinfo=UTC), 60)) as a:
        a.create_component("lc-archive.v1", "code_library", "graders")
        a.add_component_version(LIB, {"python_lib.zip": zip_of({
            "mitxgraders/__init__.py": b"from mitxgraders.helpers import *\n",
            "mitxgraders/helpers.py": b"def check(expect, ans):\n    return True\n"})}, title="Graders")
        a.create_component("lc-archive.v1", "code_library", "unused")
        a.add_component_version(UNUSED, {"python_lib.zip": zip_of({"otherlib.py": b"X = 1\n"})}, title="Unused")
        for ref in (GRADED, LEGACY, PLAIN, NUMPY, INTRO, OLD, OTHER):
            ns, type_, code = ref.split(":")
            a.create_component(ns, type_, code)
        a.add_component_version(GRADED, {"block.xml": problem("import mitxgraders.helpers as h\ncheck = h.check")})
        a.add_component_version(LEGACY, {"block.xml": problem("from mitxgraders import *")})
        a.add_component_version(LEGACY, {"block.xml": problem()})  # v2 no longer imports it
        a.add_component_version(PLAIN, {"block.xml": problem()})
        a.add_component_version(NUMPY, {"block.xml": problem("import numpy\nimport otherlibrary")})
        for ref in (INTRO, OLD, OTHER):
            a.add_component_version(ref, {"block.xml": "<html>hi</html>"})
        a.create_container("unit", "unit-1")
        a.add_container_version("unit-1", [GRADED, INTRO])
        a.create_container("unit", "unit-2")
        a.add_container_version("unit-2", [PLAIN, OLD])
        a.add_container_version("unit-2", [PLAIN])  # v2 drops OLD; sub-2 pins v1
        a.create_container("unit", "unit-3")
        a.add_container_version("unit-3", [OTHER])
        a.create_container("subsection", "sub-1")
        a.add_container_version("sub-1", ["unit-1"])
        a.create_container("subsection", "sub-2")
        a.add_container_version("sub-2", [("unit-2", 1)])
        a.create_container("section", "sec-1")
        a.add_container_version("sec-1", ["sub-1"])
        a.create_collection("graded", "Graded")
        a.add_to_collection("graded", ["sec-1"])
        a.create_collection("plain", "Plain")
        a.add_to_collection("plain", [PLAIN])
        a.create_collection("other", "Other")
        a.add_to_collection("other", ["unit-3", UNUSED])
        a.create_collection("gone", "Gone")
        a.add_to_collection("gone", [OTHER])
        a.disable_collection("gone")
        a.publish(message="first")
        a.add_component_version(OTHER, {"block.xml": "<html>changed</html>"})
        a.publish(message="second", refs=[OTHER])
        for record in (payload("acme-notes"), payload("acme-notes", GRADED), payload("acme-notes", GRADED, 1),
                       payload("acme-notes", OTHER), payload("acme-tags", INTRO)):
            a.set_payload(record)
    return store


@pytest.fixture
def store(tmp_path: Path) -> SqlStore:
    return make_store(tmp_path / "src.db")


def select(store: SqlStore, **kwargs: Any) -> tuple[SelectedSource, dict[str, Any]]:
    """The selection and everything it yields (read inside the store's read context)."""
    with store.read(REF) as source:
        selected = select_source(source, **kwargs)
        seen = {
            "refs": [e.ref for e in selected.iter_entities(history="all", batch_size=3)],
            "current": [e.ref for e in selected.iter_entities()],
            "all_refs": [e.ref for e in source.iter_entities()],
            "collections": {c.code: c.members for c in selected.iter_collections()},
            "log": [(r.message, [e.ref for e in r.entries]) for r in selected.iter_publish_log()],
            "payloads": [(p.plugin, p.entity, p.version) for p in selected.iter_payloads()],
            "count": selected.entity_count(),
            "package": selected.package,
            "versions": {e.ref: [v.number for v in e.versions] for e in selected.iter_entities(history="all")},
        }
    return selected, seen


def test_collection_closure_adds_descendants_and_used_library(store: SqlStore) -> None:
    selected, seen = select(store, collections=["graded"])
    expected = {"sec-1", "sub-1", "unit-1", GRADED, INTRO, LIB}
    assert selected.refs == expected
    assert selected.libraries == (LIB,)
    assert seen["refs"] == sorted(expected) == seen["current"]  # the source's order, whatever the history
    assert [r for r in seen["all_refs"] if r in expected] == seen["refs"]
    assert seen["count"] == 6
    assert seen["package"].ref == REF
    assert seen["collections"] == {"graded": ("sec-1",)}


def test_entity_closure_keeps_pinned_and_older_children(store: SqlStore) -> None:
    selected, seen = select(store, entities=["sub-2"])
    assert selected.refs == {"sub-2", "unit-2", PLAIN, OLD}  # OLD is only in unit-2 v1, which sub-2 pins
    assert seen["versions"]["unit-2"] == [1, 2]
    assert seen["collections"] == {}  # --entity alone: no collection
    assert selected.libraries == ()


def test_named_collections_only_with_entities(store: SqlStore) -> None:
    selected, seen = select(store, collections=["plain"], entities=["unit-3"])
    assert selected.refs == {PLAIN, "unit-3", OTHER}
    assert seen["collections"] == {"plain": (PLAIN,)}  # not "gone", though its only member is included


def test_library_selected_directly_and_disabled_collection(store: SqlStore) -> None:
    selected, seen = select(store, collections=["other", "gone"])
    assert selected.refs == {"unit-3", OTHER, UNUSED}
    assert selected.libraries == ()
    assert seen["collections"] == {"other": (UNUSED, "unit-3"), "gone": (OTHER,)}  # members sorted by ref
    with store.read(REF) as source:
        enabled = select_source(source, collections=["gone"])
        assert [c.code for c in enabled.iter_collections(include_disabled=False)] == []


def test_library_dependency_follows_every_version(store: SqlStore) -> None:
    assert select(store, entities=[LEGACY])[0].refs == {LEGACY, LIB}  # only its v1 imports mitxgraders


def test_imports_no_library_provides_add_nothing(store: SqlStore) -> None:
    selected, _ = select(store, entities=[NUMPY, PLAIN])
    assert selected.refs == {NUMPY, PLAIN}
    assert selected.libraries == ()


def test_the_component_serializer_decides_dependencies(store: SqlStore) -> None:
    calls: list[tuple[str, str]] = []

    class Html(HtmlComponent):
        def facts(self, olx: bytes) -> ComponentFacts:
            calls.append(("xblock.v1", "html"))
            return ComponentFacts(imports=("otherlib",) if b"hi" in olx else ())

    registry = builtin_registry()
    registry.register(Html)
    with store.read(REF) as source:
        selected = select_source(source, entities=["unit-3"], registry=registry)
        assert selected.refs == {"unit-3", OTHER, UNUSED}
        assert selected.libraries == (UNUSED,)
    assert calls == [("xblock.v1", "html"), ("xblock.v1", "html")]  # each distinct OLX of OTHER, once


def test_publish_log_keeps_included_entries_and_drops_empty_events(store: SqlStore) -> None:
    _, seen = select(store, collections=["graded"])
    expected = sorted([LIB, GRADED, INTRO, "unit-1", "sub-1", "sec-1"])
    assert [(m, sorted(refs)) for m, refs in seen["log"]] == [("first", expected)]  # "second" had only OTHER
    _, seen = select(store, entities=["unit-3"])
    assert [(m, sorted(refs)) for m, refs in seen["log"]] == [("first", sorted(["unit-3", OTHER])),
                                                              ("second", [OTHER])]


def test_payloads_keep_package_scope_and_included_entities(store: SqlStore) -> None:
    _, seen = select(store, collections=["graded"])
    assert seen["payloads"] == [("acme-notes", None, None), ("acme-notes", GRADED, None), ("acme-notes", GRADED, 1),
                                ("acme-tags", INTRO, None)]


def test_unknown_names_are_all_reported(store: SqlStore) -> None:
    with store.read(REF) as source, pytest.raises(SelectionError) as caught:
        select_source(source, collections=["graded", "nope"], entities=["xblock.v1:html:nope", INTRO],
                      )
    assert str(caught.value) == (f"cannot select from {REF}: no collection 'nope'; "
                                 "no entity 'xblock.v1:html:nope'")


@pytest.mark.parametrize("fmt", ["v2", "v1"])
def test_selective_backup_restores_exactly_the_closure(store: SqlStore, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"graded-{fmt}.zip"
    result = backup(store, REF, out, format=fmt, collections=["graded"], created_at=WHEN)  # type: ignore[arg-type]
    assert result.entities == 6
    fresh = open_store(f"sqlite:///{tmp_path / 'fresh.db'}")
    restore(out, fresh, ref="lib:Org:COPY")
    with fresh.read("lib:Org:COPY") as copy, store.read(REF) as source:
        got = {e.ref: e for e in copy.iter_entities(history="all")}
        assert set(got) == {"sec-1", "sub-1", "unit-1", GRADED, INTRO, LIB}
        original = {e.ref: e for e in source.iter_entities(history="all")}
        for ref, record in got.items():  # same versions and media as the source (v1: draft and published)
            assert [v.media for v in record.versions] == [v.media for v in original[ref].versions]
        assert [(c.code, c.members) for c in copy.iter_collections()] == [("graded", ("sec-1",))]
        library = got[LIB].versions[0].media
        assert [(m.path, m.media_type) for m in library] == [("python_lib.zip", "application/zip")]
        if fmt == "v2":
            log = [(r.message, sorted(e.ref for e in r.entries)) for r in copy.iter_publish_log()]
            assert log == [("first", sorted(got))]
            assert [(p.plugin, p.entity, p.version) for p in copy.iter_payloads()] == [
                ("acme-notes", None, None), ("acme-notes", GRADED, None), ("acme-notes", GRADED, 1),
                ("acme-tags", INTRO, None)]
    fresh.close()


def test_selective_backup_refuses_unknown_names(store: SqlStore, tmp_path: Path) -> None:
    out = tmp_path / "none.zip"
    with pytest.raises(SelectionError, match="no entity 'missing'"):
        backup(store, REF, out, entities=["missing"])
    assert not out.exists()
    assert list(tmp_path.glob(".none.zip.*")) == []


def test_cli_collection_and_entity_flags(store: SqlStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from lc_archive.cli import main

    url = store.url
    out = tmp_path / "part.zip"
    assert main(["backup", url, REF, "-o", str(out), "--collection", "graded", "--entity", PLAIN, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["result"]["entities"] == 7  # the graded closure (6) and PLAIN
    assert main(["inspect", str(out), "--json"]) == 0
    refs = {row["ref"] for row in json.loads(capsys.readouterr().out)["result"]["entity_list"]}
    assert refs == {"sec-1", "sub-1", "unit-1", GRADED, INTRO, LIB, PLAIN}
    assert main(["backup", url, REF, "-o", str(tmp_path / "x.zip"), "--collection", "nope"]) == 1
    assert "nope" in capsys.readouterr().err and not (tmp_path / "x.zip").exists()
