"""JSON Schemas of the v2 documents, generated from the pydantic models in :mod:`.docs`.

``docs/formats/v2/schema/<kind>.schema.json``, one per document kind (``package``, ``component``,
``container``, ``collection``, ``publish_log``, ``manifest``) and ``payload`` (a plugin payload's
JSON envelope), describe the TOML documents as the
JSON a TOML-to-JSON converter gives (datetimes as RFC 3339 strings). TOML has no null: an optional
key is simply absent, so optional values are not written as ``T | null`` and get no default.
The test suite fails when the committed files differ from :func:`generate_schemas`.

Usage: ``python -m lc_archive.formats.v2.schema [DIR] [--check]`` (default ``docs/formats/v2/schema``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from ...plugins.payloads import payload_schema
from .docs import CollectionDoc, ComponentDoc, ContainerDoc, ManifestDoc, PackageDoc, PublishLogDoc

__all__ = ["DOCUMENTS", "generate_schemas", "main", "write_schemas"]

DOCUMENTS: dict[str, tuple[type[BaseModel], str]] = {
    "package": (PackageDoc, "package.toml"),
    "component": (ComponentDoc, "entities/<namespace>/<type>/<stem>.toml"),
    "container": (ContainerDoc, "entities/<stem>.toml"),
    "collection": (CollectionDoc, "collections/<stem>.toml"),
    "publish_log": (PublishLogDoc, "publish_log.toml"),
    "manifest": (ManifestDoc, "manifest.json"),
}
"""Document kind -> (model, the member it describes)."""

_DIALECT = "https://json-schema.org/draft/2020-12/schema"


class _TomlSchema(GenerateJsonSchema):
    """Optional values are absent keys, never nulls; ``None`` defaults are not shown."""

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        if schema.get("default", ...) is None:
            return self.generate_inner(schema["schema"])
        return super().default_schema(schema)


def _x_last(node: Any) -> Any:
    """Put the reserved `x` key after the standard keys of every table (readability only)."""
    if isinstance(node, dict):
        node = {k: _x_last(v) for k, v in node.items()}
        props = node.get("properties")
        if isinstance(props, dict) and "x" in props:
            node["properties"] = {**{k: v for k, v in props.items() if k != "x"}, "x": props["x"]}
        return node
    if isinstance(node, list):
        return [_x_last(v) for v in node]
    return node


def _schema(kind: str, model: type[BaseModel], member: str) -> dict[str, Any]:
    body = _x_last(model.model_json_schema(schema_generator=_TomlSchema))
    return {
        "$schema": _DIALECT,
        "$id": f"{kind}.schema.json",
        "title": f"lc-archive v2 {member}",
        **{k: v for k, v in body.items() if k != "title"},
    }


def generate_schemas() -> dict[str, str]:
    """File name -> JSON text (2-space indent, UTF-8, final newline) for every document kind.

    Also ``payload.schema.json``, the envelope of a plugin payload (``docs/formats/payloads.md``).
    """
    schemas = {f"{kind}.schema.json": _schema(kind, model, member) for kind, (model, member) in DOCUMENTS.items()}
    schemas["payload.schema.json"] = payload_schema()
    return {name: json.dumps(body, indent=2, ensure_ascii=False) + "\n" for name, body in schemas.items()}


def write_schemas(directory: str | Path) -> list[Path]:
    """Write every schema into ``directory`` (created if needed); return the paths written."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in generate_schemas().items():
        path = target / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """Command line: write the schemas, or with ``--check`` compare them with the files."""
    p = argparse.ArgumentParser(prog="python -m lc_archive.formats.v2.schema", description=__doc__)
    p.add_argument("directory", nargs="?", default="docs/formats/v2/schema")
    p.add_argument("--check", action="store_true", help="do not write; exit 1 if a file differs")
    args = p.parse_args(argv)
    if args.check:
        stale = [name for name, text in generate_schemas().items()
                 if not (path := Path(args.directory) / name).exists() or path.read_text(encoding="utf-8") != text]
        for name in stale:
            print(f"{args.directory}/{name}: differs from the models", file=sys.stderr)
        return 1 if stale else 0
    for path in write_schemas(args.directory):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
