"""The deploy role's policy, read from infra/bootstrap/iam.tf, and an IAM evaluator for it
(test support).

:func:`load` renders ``data "aws_iam_policy_document" "deploy"`` for one environment as IAM
statements; :func:`allowed` evaluates a request (action, resources, condition context) against
them with IAM's rules for the parts the policy uses: action and resource wildcards, explicit
Deny, and the condition operators String/Arn Equals/Like (with ``IfExists`` and
``ForAllValues:``/``ForAnyValue:``) and Bool. A condition key the request does not carry fails
its condition unless ``IfExists`` (``ForAllValues`` is then vacuously true), as in IAM:
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
An operator this evaluator does not know raises instead of guessing.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ops.tests.support.hcl import Block, HclError, Lazy, evaluate, parse_file

REPO = Path(__file__).resolve().parents[3]
IAM_TF = REPO / "infra" / "bootstrap" / "iam.tf"
ACCOUNT_ID = "123456789012"


@dataclass(frozen=True)
class Condition:
    test: str
    variable: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Statement:
    sid: str
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Request:
    """One authorization AWS performs for a call (a call may need several: RegisterTaskDefinition
    with roles and tags also needs iam:PassRole and ecs:TagResource)."""

    action: str
    resources: tuple[str, ...] = ("*",)
    context: Mapping[str, str | tuple[str, ...]] = ()  # type: ignore[assignment]

    def describe(self) -> str:
        context = dict(self.context or {})
        extra = f" with {context}" if context else ""
        return f"{self.action} on {', '.join(self.resources)}{extra}"


def _policy_block(root: Block, name: str) -> Block:
    for block in root.children("data"):
        if block.labels == ("aws_iam_policy_document", name):
            return block
    raise HclError(f'{IAM_TF}: no data "aws_iam_policy_document" "{name}"')


@cache
def load(
    environment: str = "dev",
    service_name: str = "fastapi-dev",
    region: str = "us-east-1",
    account_id: str = ACCOUNT_ID,
    partition: str = "aws",
    path: Path = IAM_TF,
) -> tuple[Statement, ...]:
    """The deploy policy's statements for ``environment`` whose service is ``service_name``."""
    root = parse_file(path)
    scope: dict[str, object] = {
        "var": {
            "region": region,
            "environments": {environment: {"service_name": service_name}},
            "github": {"repository": "example-org/example", "branches": ["main"]},
            "project": "fastapi",
        },
    }
    nodes = {}
    for block in root.children("locals"):
        nodes.update(block.attributes)
    local = Lazy(nodes, scope)
    local.override({"partition": partition, "account_id": account_id})
    scope["local"] = local
    document = _policy_block(root, "deploy")
    for_each = document.attributes.get("for_each")
    if for_each is None:
        raise HclError("the deploy policy document is expected to have for_each = local.env")
    each_values = evaluate(for_each, scope)
    if environment not in each_values:
        raise HclError(f"for_each of the deploy policy has no {environment!r}")
    scope["each"] = {"key": environment, "value": each_values[environment]}
    if document.children("dynamic"):
        raise HclError("dynamic blocks in the deploy policy are not supported by this reader")
    statements = []
    for block in document.children("statement"):
        attrs = block.attributes
        unknown = set(attrs) - {"sid", "effect", "actions", "resources"}
        if unknown:
            raise HclError(f"line {block.line}: statement attributes {unknown} not supported")
        if block.children("principals") or block.children("not_principals"):
            raise HclError(f"line {block.line}: principals in an identity policy")
        conditions = tuple(
            Condition(
                str(evaluate(c.attributes["test"], scope)),
                str(evaluate(c.attributes["variable"], scope)),
                tuple(str(v) for v in evaluate(c.attributes["values"], scope)),
            )
            for c in block.children("condition")
        )
        statements.append(
            Statement(
                sid=str(evaluate(attrs["sid"], scope)) if "sid" in attrs else "",
                effect=str(evaluate(attrs["effect"], scope)) if "effect" in attrs else "Allow",
                actions=tuple(str(a) for a in evaluate(attrs["actions"], scope)),
                resources=tuple(str(r) for r in evaluate(attrs["resources"], scope)),
                conditions=conditions,
            )
        )
    return tuple(statements)


def granted_actions(statements: Sequence[Statement]) -> set[str]:
    return {a for s in statements if s.effect == "Allow" for a in s.actions}


# --- evaluation -------------------------------------------------------------------------------

_STRING_TESTS = {"StringEquals", "StringLike", "ArnEquals", "ArnLike", "Bool"}


def _match_one(test: str, pattern: str, value: str) -> bool:
    if test in ("StringEquals", "Bool"):
        return value.lower() == pattern.lower() if test == "Bool" else value == pattern
    # StringLike, ArnEquals and ArnLike all take * and ? wildcards (IAM condition operators).
    return fnmatch.fnmatchcase(value, pattern)


def _condition_holds(condition: Condition, context: Mapping[str, object]) -> bool:
    test = condition.test
    qualifier = ""
    if ":" in test:
        qualifier, test = test.split(":", 1)
    if_exists = test.endswith("IfExists")
    test = test.removesuffix("IfExists")
    if test not in _STRING_TESTS or qualifier not in ("", "ForAllValues", "ForAnyValue"):
        raise ValueError(f"condition operator {condition.test} is not supported by this evaluator")
    present = condition.variable in context
    if not present:
        return if_exists or qualifier == "ForAllValues"
    raw = context[condition.variable]
    values = list(raw) if isinstance(raw, (tuple, list)) else [str(raw)]

    def matches(value: str) -> bool:
        return any(_match_one(test, p, value) for p in condition.values)

    if qualifier == "ForAllValues":
        return all(matches(v) for v in values)
    return any(matches(v) for v in values)


def _statement_applies(statement: Statement, request: Request, resource: str) -> bool:
    action = request.action.lower()
    if not any(fnmatch.fnmatchcase(action, a.lower()) for a in statement.actions):
        return False
    if not any(fnmatch.fnmatchcase(resource, r) for r in statement.resources):
        return False
    return all(_condition_holds(c, dict(request.context or {})) for c in statement.conditions)


def allowed(statements: Sequence[Statement], request: Request) -> bool:
    """Every resource of the request is allowed by an Allow statement and denied by none."""
    for resource in request.resources:
        if any(s.effect == "Deny" and _statement_applies(s, request, resource) for s in statements):
            return False
        if not any(
            s.effect == "Allow" and _statement_applies(s, request, resource) for s in statements
        ):
            return False
    return True
