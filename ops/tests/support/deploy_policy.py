"""The deploy role's policy as Terraform renders it, and an IAM evaluator for it (test support).

:func:`load` reads the deploy role's inline policy for one environment from
infra/bootstrap/iam.golden.json: every role of infra/bootstrap as Terraform renders it from
iam.tf, kept in step by ``make test-infra`` (infra/tests/test_iam_golden.py) and rewritten by
``make iam-golden``. The file is rendered for the bootstrap's own environments (fastapi-dev,
fastapi-prod in us-east-1 of account 123456789012): :func:`load` re-targets its ARNs to the
service, region, account and partition asked for, as iam.tf names everything after them.

:func:`allowed` evaluates a request (action, resources, condition context) against the
statements with IAM's rules for the parts the policy uses: action and resource wildcards,
explicit Deny, and the condition operators String/Arn Equals/Like (with ``IfExists`` and
``ForAllValues:``/``ForAnyValue:``) and Bool. A condition key the request does not carry fails
its condition unless ``IfExists`` (``ForAllValues`` is then vacuously true), as in IAM:
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
An operator or a statement element this evaluator does not know raises instead of guessing.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
GOLDEN = REPO / "infra" / "bootstrap" / "iam.golden.json"
ACCOUNT_ID = "123456789012"


class PolicyError(ValueError):
    """The golden file does not hold what is asked, or holds what this evaluator cannot read."""


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


@cache
def rendered(path: Path = GOLDEN) -> dict[str, Any]:
    """The golden file: ``inputs`` (what it was rendered for), ``roles`` (by name: ``address``,
    ``trust_policy``, ``inline_policies``, ``managed_policy_arns``, ...) and
    ``resource_policies``."""
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def _strings(value: object) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(str(v) for v in value)  # type: ignore[attr-defined]


def statements(document: Mapping[str, Any]) -> tuple[Statement, ...]:
    """The statements of an identity policy document (JSON as IAM receives it)."""
    parsed = []
    for raw in document["Statement"]:
        unknown = set(raw) - {"Sid", "Effect", "Action", "Resource", "Condition"}
        if unknown:
            raise PolicyError(f"statement {raw.get('Sid', '?')}: {sorted(unknown)} not supported")
        conditions = tuple(
            Condition(test, variable, _strings(values))
            for test, pairs in raw.get("Condition", {}).items()
            for variable, values in pairs.items()
        )
        parsed.append(
            Statement(
                sid=raw.get("Sid", ""),
                effect=raw["Effect"],
                actions=_strings(raw["Action"]),
                resources=_strings(raw["Resource"]),
                conditions=conditions,
            )
        )
    return tuple(parsed)


@dataclass(frozen=True)
class Names:
    """What iam.tf names the deploy policy's resources after."""

    partition: str
    region: str
    account_id: str
    service_name: str


def _retarget(value: str, rendered: Names, wanted: Names) -> str:
    """An ARN of the rendering named after ``wanted`` instead of ``rendered``; anything else
    (a service principal, a tag key pattern) unchanged."""
    if not value.startswith("arn:"):
        return value
    _, partition, service, region, account, resource = value.split(":", 5)
    if partition == rendered.partition:
        partition = wanted.partition
    if region == rendered.region:  # empty for IAM
        region = wanted.region
    if account == rendered.account_id:
        account = wanted.account_id
    # The service name as a whole word of the resource part (cluster/<name>, role/<name>-task,
    # log-group:/aws/ecs/<name>:*), never inside a longer name.
    old = re.escape(rendered.service_name)
    resource = re.sub(rf"(?<![A-Za-z0-9-]){old}(?![A-Za-z0-9])", wanted.service_name, resource)
    if service == "s3":  # the state bucket: tfstate-<account>-<region> (infra/bootstrap/main.tf)
        resource = resource.replace(
            f"-{rendered.account_id}-{rendered.region}", f"-{wanted.account_id}-{wanted.region}"
        )
    return ":".join(("arn", partition, service, region, account, resource))


@cache
def load(
    environment: str = "dev",
    service_name: str = "fastapi-dev",
    region: str = "us-east-1",
    account_id: str = ACCOUNT_ID,
    partition: str = "aws",
    path: Path = GOLDEN,
) -> tuple[Statement, ...]:
    """The deploy policy's statements for ``environment`` whose service is ``service_name``."""
    document = rendered(path)
    inputs = document["inputs"]
    environments = inputs["environments"]
    if environment not in environments:
        raise PolicyError(
            f"{path.name} renders no environment {environment!r}: {sorted(environments)}"
        )
    address = f'aws_iam_role.deploy["{environment}"]'
    roles = [role for role in document["roles"].values() if role["address"] == address]
    if len(roles) != 1:
        raise PolicyError(f"{path.name}: {len(roles)} roles at {address}")
    (policy,) = roles[0]["inline_policies"].values()
    was = Names(
        inputs["partition"],
        inputs["region"],
        inputs["account_id"],
        environments[environment]["service_name"],
    )
    wanted = Names(partition, region, account_id, service_name)
    return tuple(
        Statement(
            s.sid,
            s.effect,
            s.actions,
            tuple(_retarget(r, was, wanted) for r in s.resources),
            tuple(
                Condition(c.test, c.variable, tuple(_retarget(v, was, wanted) for v in c.values))
                for c in s.conditions
            ),
        )
        for s in statements(policy)
    )


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
