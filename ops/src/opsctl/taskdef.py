"""New task-definition revisions copied from the current one, and what changes between them."""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Mapping
from typing import Any

from opsctl.model import TaskDefinition
from opsctl.results import Change

OPSCTL_TAG_PREFIX = "opsctl:"


def with_image(current: TaskDefinition, container: str, image: str) -> dict[str, Any]:
    """The registration of ``current`` with only ``container``'s image replaced."""
    registration = copy.deepcopy(dict(current.registration))
    for definition in registration.get("containerDefinitions", []):
        if definition.get("name") == container:
            definition["image"] = image
            return registration
    raise KeyError(container)


def inherited_tags(current: TaskDefinition) -> dict[str, str]:
    """The revision's own tags minus opsctl's bookkeeping (which describes that revision only)."""
    return {k: v for k, v in current.tags.items() if not k.startswith(OPSCTL_TAG_PREFIX)}


def _flatten(value: object, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key in sorted(value):
            out.update(_flatten(value[key], f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list):
        out = {}
        for index, item in enumerate(value):
            out.update(_flatten(item, f"{prefix}[{index}]"))
        return out
    return {prefix: value}


def changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[Change, ...]:
    """Leaf-level differences, by JSON path."""
    before, after = _flatten(old), _flatten(new)
    return tuple(
        Change(path, before.get(path), after.get(path))
        for path in sorted(set(before) | set(after))
        if before.get(path) != after.get(path)
    )


def unified_diff(
    old: Mapping[str, Any], new: Mapping[str, Any], old_name: str, new_name: str
) -> str:
    """A unified diff of the two registrations as sorted, indented JSON."""
    a = json.dumps(old, indent=2, sort_keys=True, default=str).splitlines()
    b = json.dumps(new, indent=2, sort_keys=True, default=str).splitlines()
    return "\n".join(difflib.unified_diff(a, b, old_name, new_name, lineterm=""))
