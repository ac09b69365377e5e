"""An AWS account as far as IAM is concerned: roles with their policies, the customer managed
policies (permissions boundaries), AWS managed policies and resource-based policies.

:meth:`Account.from_golden` builds it from infra/bootstrap/iam.golden.json, which holds every
role of the bootstrap exactly as Terraform renders it from iam.tf (infra/tests/test_iam_golden.py
keeps the file in step). AWS managed policies (PowerUserAccess...) come from the copy moto ships
(``moto.iam.aws_managed_policies``, the same documents moto serves with
MOTO_IAM_LOAD_MANAGED_POLICIES=true); which version that is: :data:`MANAGED_POLICY_SOURCE`.

An attack test then plays the attacker's calls: :meth:`Account.check` decides each one as IAM
would, and the IAM calls that change the account (CreateRole, PutRolePolicy,
PutRolePermissionsBoundary...) are applied with :meth:`Account.create_role` and friends only
after :meth:`Account.check` allowed them, so a test follows the attacker step by step.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from .conditions import arn_match
from .evaluate import (
    Caller,
    Decision,
    Request,
    ResourcePolicy,
    ResourcePolicyKind,
    decide,
    web_identity_decision,
)
from .policy import PolicyError, Statement, statements

MANAGED_POLICY_SOURCE = "moto.iam.aws_managed_policies (the AWS managed policies moto ships)"

_RESOURCE_POLICY_KINDS = {
    "aws_s3_bucket_policy": ResourcePolicyKind.BUCKET,
    "aws_kms_key": ResourcePolicyKind.KEY,
}


@cache
def aws_managed_policy(name: str) -> tuple[Statement, ...]:
    """The default version of the AWS managed policy ``name``, as moto ships it."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    policies: dict[str, Any] = json.loads(aws_managed_policies_data)
    if name not in policies:
        raise PolicyError(f"{MANAGED_POLICY_SOURCE} has no policy {name!r}")
    return statements(policies[name]["Document"])


@dataclass(frozen=True)
class Role:
    name: str
    arn: str
    trust: tuple[Statement, ...]
    inline: Mapping[str, tuple[Statement, ...]] = field(default_factory=dict)
    managed_arns: tuple[str, ...] = ()
    boundary_arn: str | None = None


@dataclass
class Account:
    """Roles, policies and resource policies of one account; mutable, like an account."""

    account_id: str
    partition: str
    region: str
    roles: dict[str, Role] = field(default_factory=dict)
    policies: dict[str, tuple[Statement, ...]] = field(default_factory=dict)
    """Customer managed policies by ARN (the permissions boundaries)."""
    resource_policies: list[tuple[str, ResourcePolicy]] = field(default_factory=list)
    """(ARN pattern of the resources it covers, policy)."""

    @classmethod
    def from_golden(cls, path: Path) -> Account:
        """The account infra/bootstrap builds, from its golden rendering at ``path``."""
        document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        inputs = document["inputs"]
        account = cls(inputs["account_id"], inputs["partition"], inputs["region"])
        for arn, policy in document.get("managed_policies", {}).items():
            account.policies[arn] = statements(policy["document"])
        for name, raw in document["roles"].items():
            account.roles[name] = Role(
                name=name,
                arn=account.role_arn(name),
                trust=statements(raw["trust_policy"]),
                inline={k: statements(v) for k, v in raw["inline_policies"].items()},
                managed_arns=tuple(raw["managed_policy_arns"]),
                boundary_arn=raw.get("permissions_boundary") or None,
            )
        for address, raw in document["resource_policies"].items():
            kind = _RESOURCE_POLICY_KINDS.get(address.split(".")[0])
            if kind is None:
                raise PolicyError(f"{path.name}: no rule for the resource policy {address}")
            if "resource_arn" not in raw:
                raise PolicyError(f"{path.name}: {address} names no resource_arn")
            arn = raw["resource_arn"]
            covered = f"{arn}*" if kind is ResourcePolicyKind.BUCKET else arn
            account.resource_policies.append(
                (covered, ResourcePolicy(kind, statements(raw["policy"])))
            )
        return account

    # --- names -----------------------------------------------------------------------------

    def role_arn(self, name: str) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:role/{name}"

    def arn(self, service: str, resource: str, region: str | None = None) -> str:
        """An ARN in this account (``region=""`` for global services)."""
        where = self.region if region is None else region
        return f"arn:{self.partition}:{service}:{where}:{self.account_id}:{resource}"

    # --- evaluation ------------------------------------------------------------------------

    def _policy(self, arn: str) -> tuple[Statement, ...]:
        if arn in self.policies:
            return self.policies[arn]
        prefix = f"arn:{self.partition}:iam::aws:policy/"
        if arn.startswith(prefix):
            return aws_managed_policy(arn.removeprefix(prefix))
        raise PolicyError(f"no managed policy {arn} in this account")

    def caller(self, role_name: str) -> Caller:
        """A session of ``role_name``: its inline and attached policies and its boundary."""
        role = self.roles[role_name]
        identity: list[Statement] = []
        for inline in role.inline.values():
            identity.extend(inline)
        for arn in role.managed_arns:
            identity.extend(self._policy(arn))
        boundary = self._policy(role.boundary_arn) if role.boundary_arn else None
        return Caller(role.arn, self.account_id, tuple(identity), boundary)

    def resource_policy(self, resource: str) -> ResourcePolicy | None:
        """The resource-based policy of ``resource``: a bucket's for the bucket and its objects,
        a key's, or a role's trust policy."""
        for pattern, policy in self.resource_policies:
            if arn_match(pattern, resource):
                return policy
        prefix = f"arn:{self.partition}:iam::{self.account_id}:role/"
        if resource.startswith(prefix):
            role = self.roles.get(resource.removeprefix(prefix).rsplit("/", 1)[-1])
            if role is not None:
                return ResourcePolicy(ResourcePolicyKind.TRUST, role.trust)
        return None

    def check(self, role_name: str, request: Request) -> Decision:
        """What IAM answers a session of ``role_name`` making ``request`` (one resource policy
        applies: the first resource's)."""
        caller = self.caller(role_name)
        policy = None
        if request.action.lower() == "sts:assumerole" or not request.action.lower().startswith(
            "iam:"
        ):
            policy = self.resource_policy(request.resources[0])
        return decide(caller, request, policy)

    def assume_with_web_identity(self, role_name: str, claims: Mapping[str, str]) -> Decision:
        """A GitHub Actions job presenting an OIDC token with ``claims`` to role ``role_name``."""
        provider = f"arn:{self.partition}:iam::{self.account_id}:oidc-provider/{_issuer(claims)}"
        return web_identity_decision(self.roles[role_name].trust, provider, claims, self.account_id)

    # --- changes (apply them only after check() allowed the call) --------------------------

    def create_role(
        self, name: str, trust: Mapping[str, Any], boundary_arn: str | None = None
    ) -> Role:
        if name in self.roles:
            raise PolicyError(f"role {name} exists (IAM: EntityAlreadyExists)")
        role = Role(name, self.role_arn(name), statements(trust), {}, (), boundary_arn)
        self.roles[name] = role
        return role

    def put_role_policy(
        self, role_name: str, policy_name: str, document: Mapping[str, Any]
    ) -> None:
        role = self.roles[role_name]
        inline = dict(role.inline)
        inline[policy_name] = statements(document)
        self.roles[role_name] = replace(role, inline=inline)

    def attach_role_policy(self, role_name: str, policy_arn: str) -> None:
        self._policy(policy_arn)  # exists
        role = self.roles[role_name]
        self.roles[role_name] = replace(role, managed_arns=(*role.managed_arns, policy_arn))

    def put_role_permissions_boundary(self, role_name: str, boundary_arn: str | None) -> None:
        self.roles[role_name] = replace(self.roles[role_name], boundary_arn=boundary_arn)

    def update_assume_role_policy(self, role_name: str, trust: Mapping[str, Any]) -> None:
        self.roles[role_name] = replace(self.roles[role_name], trust=statements(trust))

    def role_context(self, role_name: str) -> dict[str, str]:
        """The ``iam:PermissionsBoundary`` key IAM evaluates for calls on an existing role (the
        boundary it has), empty when it has none."""
        boundary = self.roles[role_name].boundary_arn
        return {"iam:PermissionsBoundary": boundary} if boundary else {}

    def roles_named(self, names: Iterable[str]) -> list[Role]:
        return [self.roles[n] for n in names]


def _issuer(claims: Mapping[str, str]) -> str:
    keys = {k.split(":", 1)[0] for k in claims}
    if len(keys) != 1:
        raise PolicyError(f"claims of several issuers: {sorted(keys)}")
    return keys.pop()
