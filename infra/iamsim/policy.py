"""Policy documents as IAM receives them (JSON), parsed into frozen dataclasses.

A statement element this module does not know (NotPrincipal, a policy variable such as
``${aws:username}``) raises :class:`PolicyError` instead of being ignored: an evaluator that
skips part of a policy answers wrongly without saying so.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

KNOWN_ELEMENTS = frozenset(
    {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "Condition"}
)


class PolicyError(ValueError):
    """A policy, or a request, holds what this evaluator cannot evaluate faithfully."""


@dataclass(frozen=True)
class Condition:
    """One operator, one context key, its values (ORed, as IAM does)."""

    test: str
    variable: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Principal:
    """Who a resource-based or trust policy statement is about: ``kind`` is ``AWS``,
    ``Service``, ``Federated`` or ``*`` (anyone)."""

    kind: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Statement:
    """One statement. Exactly one of ``actions``/``not_actions`` is set, and of
    ``resources``/``not_resources`` (a trust policy has neither resource element: it is about
    the role that holds it, given here as ``("*",)``). ``principals`` is empty in an identity
    policy."""

    sid: str
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: tuple[Condition, ...] = ()
    not_actions: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    principals: tuple[Principal, ...] = ()


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, bool):  # JSON true/false in a condition
        return ("true" if value else "false",)
    if isinstance(value, list | tuple):
        return tuple(_strings(v)[0] for v in value)
    return (str(value),)


def _no_variables(values: tuple[str, ...], where: str) -> tuple[str, ...]:
    for value in values:
        if "${" in value:
            raise PolicyError(f"{where}: policy variable in {value!r} is not supported")
    return values


def _principals(raw: object, sid: str) -> tuple[Principal, ...]:
    if raw is None:
        return ()
    if raw == "*":
        return (Principal("*", ("*",)),)
    if not isinstance(raw, Mapping):
        raise PolicyError(f"statement {sid}: Principal {raw!r} is not understood")
    return tuple(Principal(str(kind), _strings(values)) for kind, values in raw.items())


def statements(document: Mapping[str, Any]) -> tuple[Statement, ...]:
    """The statements of a policy document (identity, boundary, resource-based or trust)."""
    raw_statements = document["Statement"]
    if isinstance(raw_statements, Mapping):
        raw_statements = [raw_statements]
    parsed = []
    for raw in raw_statements:
        sid = str(raw.get("Sid", ""))
        unknown = set(raw) - KNOWN_ELEMENTS
        if unknown:
            raise PolicyError(f"statement {sid or '?'}: {sorted(unknown)} not supported")
        if raw.get("Effect") not in ("Allow", "Deny"):
            raise PolicyError(f"statement {sid or '?'}: Effect {raw.get('Effect')!r}")
        if ("Action" in raw) == ("NotAction" in raw):
            raise PolicyError(f"statement {sid or '?'}: exactly one of Action, NotAction")
        if "Resource" in raw and "NotResource" in raw:
            raise PolicyError(f"statement {sid or '?'}: both Resource and NotResource")
        conditions = tuple(
            Condition(str(test), str(variable), _no_variables(_strings(values), sid))
            for test, pairs in raw.get("Condition", {}).items()
            for variable, values in pairs.items()
        )
        if "Resource" in raw:
            resources = _strings(raw["Resource"])
        else:  # NotResource, or a trust policy (about the role that holds it)
            resources = () if "NotResource" in raw else ("*",)
        parsed.append(
            Statement(
                sid=sid,
                effect=raw["Effect"],
                actions=_strings(raw.get("Action", ())),
                resources=_no_variables(resources, sid),
                conditions=conditions,
                not_actions=_strings(raw.get("NotAction", ())),
                not_resources=_no_variables(_strings(raw.get("NotResource", ())), sid),
                principals=_principals(raw.get("Principal"), sid),
            )
        )
    return tuple(parsed)
