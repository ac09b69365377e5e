from typing import Any

import jsonschema_rs
from jsonschema_rs import Draft202012Validator, validator_for


def refuse(uri: str) -> Any:
    raise ValueError(uri)


def positives(schema: dict[str, Any], instance: Any) -> None:
    # ruleid: jsonschema-no-remote-refs
    jsonschema_rs.validator_for(schema)
    # ruleid: jsonschema-no-remote-refs
    validator_for(schema, validate_formats=True)
    # ruleid: jsonschema-no-remote-refs
    Draft202012Validator(schema)
    # ruleid: jsonschema-no-remote-refs
    jsonschema_rs.is_valid(schema, instance)
    # ruleid: jsonschema-no-remote-refs
    jsonschema_rs.validator_for(schema, offline=False)


def negatives(schema: dict[str, Any], instance: Any, registry: Any) -> None:
    # ok: jsonschema-no-remote-refs
    jsonschema_rs.validator_for(schema, offline=True)
    # ok: jsonschema-no-remote-refs
    validator_for(schema, retriever=refuse)
    # ok: jsonschema-no-remote-refs
    Draft202012Validator(schema, registry=registry, offline=True)
    # ok: jsonschema-no-remote-refs
    jsonschema_rs.is_valid(schema, instance, retriever=refuse)
