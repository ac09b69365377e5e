"""The JSON Schemas of opsctl's JSON documents, generated from the result dataclasses.

``make schemas`` runs ``python -m opsctl.schemagen ops/src/opsctl/schemas`` to write one file per
document (:data:`opsctl.results.DOCUMENTS`); ``opsctl schema <command>`` prints the shipped file
and a unit test fails when a shipped file differs from what this module generates. pydantic's
``TypeAdapter`` reads the dataclasses (types, attribute docstrings, :class:`JsonSchema` hints);
only this module imports pydantic, so running a command never loads it (docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, get_args, get_type_hints

from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from opsctl.results import DOCUMENTS, SCHEMA_VERSION, ErrorResult, Result

DIALECT = "https://json-schema.org/draft/2020-12/schema"


class _Generator(GenerateJsonSchema):
    """pydantic's generator, adapted to how output.jsonable writes a document: every field of a
    dataclass is written (None as null), and nothing else is."""

    def dataclass_schema(self, schema: core_schema.DataclassSchema) -> JsonSchemaValue:
        generated = super().dataclass_schema(schema)
        generated.pop("title", None)
        generated["additionalProperties"] = False
        generated["required"] = list(generated.get("properties", {}))
        return generated

    def enum_schema(self, schema: core_schema.EnumSchema) -> JsonSchemaValue:
        generated = super().enum_schema(schema)
        generated.pop("title", None)
        return generated

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        # A default is how a dataclass is built, not something a reader of the document sees.
        return self.generate_inner(schema["schema"])

    def field_title_should_be_set(self, schema: Any) -> bool:  # noqa: ANN401 - pydantic's type
        return False


def _plain(node: Any) -> Any:  # noqa: ANN401 - JSON is untyped
    """Descriptions as one line of Markdown: docstrings wrap lines and quote code ``like this``."""
    if isinstance(node, dict):
        return {
            key: " ".join(value.replace("``", "`").split())
            if key == "description" and isinstance(value, str)  # not the property `description`
            else _plain(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_plain(item) for item in node]
    return node


def _title(result: type[Result]) -> str:
    if result is ErrorResult:
        return "opsctl <command> --output json, when the command fails"
    commands = get_args(get_type_hints(result)["command"])
    return f"opsctl {'|'.join(commands)} --output json"


def document_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of the document ``name`` (a key of :data:`opsctl.results.DOCUMENTS`)."""
    result = DOCUMENTS[name]
    # A list around the dataclass lets the adapter take a config (a dataclass must carry its
    # own) that every nested class inherits: attribute docstrings become descriptions.
    adapter: TypeAdapter[list[Result]] = TypeAdapter(
        list[result],  # type: ignore[valid-type]
        config={"use_attribute_docstrings": True},
    )
    generated = adapter.json_schema(mode="serialization", schema_generator=_Generator)
    definitions: dict[str, Any] = generated.get("$defs", {})
    root = definitions.pop(generated["items"]["$ref"].rsplit("/", 1)[-1])
    properties = {"schema_version": {"const": SCHEMA_VERSION}, **root["properties"]}
    document: dict[str, Any] = {
        "$schema": DIALECT,
        "$id": f"urn:opsctl:schema:{name}:v{SCHEMA_VERSION}",
        "title": _title(result),
    }
    if "description" in root:
        document["description"] = root["description"]
    document |= {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "required": list(properties),
    }
    if definitions:
        document["$defs"] = dict(sorted(definitions.items()))
    plain: dict[str, Any] = _plain(document)
    return plain


def schema_text(name: str) -> str:
    """The file ``schemas/<name>.schema.json`` as shipped: indented JSON, one final newline."""
    return json.dumps(document_schema(name), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m opsctl.schemagen",
        description="Write the JSON Schemas of opsctl's documents into DIRECTORY.",
    )
    parser.add_argument("directory", type=Path)
    args = parser.parse_args(argv)
    directory: Path = args.directory
    if not directory.is_dir():
        print(f"opsctl.schemagen: {directory} is not a directory", file=sys.stderr)
        return 2
    stale = sorted(
        set(directory.glob("*.schema.json"))
        - {directory / f"{name}.schema.json" for name in DOCUMENTS}
    )
    for path in stale:
        path.unlink()
        print(f"removed {path} (no such document)")
    for name in DOCUMENTS:
        path = directory / f"{name}.schema.json"
        text = schema_text(name)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
