"""The deploy role's policy as Terraform renders it (test support for opsctl's suite).

:func:`load` reads the deploy role's inline policy for one environment from
infra/bootstrap/iam.golden.json: every role of infra/bootstrap as Terraform renders it from
iam.tf, kept in step by ``make test-infra`` (infra/tests/test_iam_golden.py) and rewritten by
``make iam-golden``. The file is rendered for the bootstrap's own environments (fastapi-dev,
fastapi-prod in us-east-1 of account 123456789012): :func:`load` re-targets its ARNs to the
service, region, account and partition asked for, as iam.tf names everything after them.

:func:`allowed` decides a request against those statements with the project's one IAM evaluator,
:mod:`infra.iamsim` (shared with infra/tests' attack tests): action and resource wildcards,
NotAction/NotResource, explicit Deny, and the condition operators IAM defines for strings, ARNs,
booleans and Null, with ``IfExists`` and ``ForAllValues:``/``ForAnyValue:``. What it cannot
evaluate (an unknown operator, a policy variable) raises instead of guessing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from infra.iamsim.evaluate import Caller, Request, decide
from infra.iamsim.policy import Condition, PolicyError, Statement, statements

__all__ = [
    "ACCOUNT_ID",
    "GOLDEN",
    "REPO",
    "Condition",
    "PolicyError",
    "Request",
    "Statement",
    "allowed",
    "granted_actions",
    "load",
    "rendered",
    "statements",
]

REPO = Path(__file__).resolve().parents[3]
GOLDEN = REPO / "infra" / "bootstrap" / "iam.golden.json"
ACCOUNT_ID = "123456789012"


@cache
def rendered(path: Path = GOLDEN) -> dict[str, Any]:
    """The golden file: ``inputs`` (what it was rendered for), ``roles`` (by name: ``address``,
    ``trust_policy``, ``inline_policies``, ``managed_policy_arns``, ...) and
    ``resource_policies``."""
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


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
        replace(
            s,
            resources=tuple(_retarget(r, was, wanted) for r in s.resources),
            not_resources=tuple(_retarget(r, was, wanted) for r in s.not_resources),
            conditions=tuple(
                Condition(c.test, c.variable, tuple(_retarget(v, was, wanted) for v in c.values))
                for c in s.conditions
            ),
        )
        for s in statements(policy)
    )


def granted_actions(statements: Sequence[Statement]) -> set[str]:
    return {a for s in statements if s.effect == "Allow" for a in s.actions}


def allowed(statements: Sequence[Statement], request: Request) -> bool:
    """Every resource of the request is allowed by an Allow statement and denied by none (the
    role's identity policy alone: the deploy role has no boundary and opsctl's resources no
    resource-based policy)."""
    caller = Caller(f"arn:aws:iam::{ACCOUNT_ID}:role/deploy", ACCOUNT_ID, tuple(statements))
    return decide(caller, request).allowed
