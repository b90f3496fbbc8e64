"""The committed JSON Schemas in docs/formats/v2/schema/ are exactly what the pydantic models generate,
and real documents fit them."""

from __future__ import annotations

import json
import tomllib
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from support.paths import REPO
from support.v2kit import REF, backup_v2, handmade_store

from lc_archive.formats.v2.layout import MemberKind, classify
from lc_archive.formats.v2.schema import DOCUMENTS, generate_schemas, main

SCHEMA_DIR = REPO / "docs" / "formats" / "v2" / "schema"
HINT = "run `python -m lc_archive.formats.v2.schema docs/formats/v2/schema` and commit the result"


def test_committed_schemas_match_the_models() -> None:
    generated = generate_schemas()
    committed = {p.name: p.read_text(encoding="utf-8") for p in SCHEMA_DIR.glob("*.json")}
    assert sorted(committed) == sorted(generated), HINT
    for name, text in generated.items():
        assert committed[name] == text, f"{name} is stale: {HINT}"
    assert main([str(SCHEMA_DIR), "--check"]) == 0


def test_check_mode_reports_stale_files(tmp_path: Path) -> None:
    assert main([str(tmp_path), "--check"]) == 1
    assert main([str(tmp_path)]) == 0
    assert main([str(tmp_path), "--check"]) == 0


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _check(schema: dict[str, Any], node: dict[str, Any], value: Any, where: str) -> None:
    """A small JSON Schema check: types, required and additional properties, array items, const."""
    node = _resolve(schema, node)
    kind = node.get("type")
    if "const" in node:
        assert value == node["const"], where
    if kind == "object":
        assert isinstance(value, dict), where
        props = node.get("properties", {})
        assert set(node.get("required", ())) <= set(value), where
        if node.get("additionalProperties") is False:
            assert set(value) <= set(props), (where, set(value) - set(props))
        for key, item in value.items():
            if key in props:
                _check(schema, props[key], item, f"{where}.{key}")
    elif kind == "array":
        assert isinstance(value, list), where
        for i, item in enumerate(value):
            _check(schema, node["items"], item, f"{where}[{i}]")
    elif kind == "string":
        assert isinstance(value, str), where
    elif kind == "integer":
        assert isinstance(value, int) and not isinstance(value, bool), where
    elif kind == "boolean":
        assert isinstance(value, bool), where


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


@pytest.mark.parametrize("kind", sorted(DOCUMENTS))
def test_real_documents_fit_their_schema(kind: str, tmp_path: Path) -> None:
    store = handmade_store(tmp_path / "s.db")
    backup_v2(store, REF, tmp_path / "a.zip")
    store.close()
    schema = json.loads((SCHEMA_DIR / f"{kind}.schema.json").read_text(encoding="utf-8"))
    checked = 0
    with zipfile.ZipFile(tmp_path / "a.zip") as z:
        for name in z.namelist():
            if classify(name).kind is not MemberKind(kind):
                continue
            data = z.read(name).decode()
            doc = json.loads(data) if name.endswith(".json") else _jsonable(tomllib.loads(data))
            _check(schema, schema, doc, f"{name}: $")
            checked += 1
    assert checked
