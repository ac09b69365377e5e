"""One request, decided the way IAM decides it for a role session in its own account.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
(the flow chart, restricted to what this repository uses):

1. An explicit Deny in any policy that applies (identity, permissions boundary, resource-based)
   denies, whatever allows it elsewhere.
2. Something must allow: an identity policy, or a resource-based policy naming the caller's ARN
   itself (same account).
3. With a permissions boundary, the boundary must allow it too (an implicit deny in the boundary
   caps a role even where a resource-based policy names it:
   https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html).
4. Where the resource's own policy must grant access (a KMS key policy, a role's trust policy, a
   VPC endpoint policy), it must: a key or trust policy naming the account (``:root``) delegates
   to the identity policies, a VPC endpoint policy only ever narrows.

A request may name several resources (one authorization per resource, all must pass) and carries
its condition context; the caller's ``aws:PrincipalArn`` and ``aws:PrincipalAccount`` are added.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

from .conditions import Context, action_match, arn_match, condition_holds
from .policy import Principal, Statement


@dataclass(frozen=True)
class Request:
    """One authorization AWS performs (a call may need several: RegisterTaskDefinition with
    roles and tags also needs iam:PassRole and ecs:TagResource)."""

    action: str
    resources: tuple[str, ...] = ("*",)
    context: Context = field(default_factory=dict)

    def describe(self) -> str:
        extra = f" with {dict(self.context)}" if self.context else ""
        return f"{self.action} on {', '.join(self.resources)}{extra}"


class ResourcePolicyKind(Enum):
    """How a resource's own policy takes part in the decision."""

    BUCKET = "bucket"  # may deny; may grant to a named principal; need not allow
    KEY = "key"  # must allow (":root" delegates to IAM policies)
    TRUST = "trust"  # must allow (same rule as a key policy)
    ENDPOINT = "endpoint"  # must allow, and never grants by itself (a VPC endpoint policy)


@dataclass(frozen=True)
class ResourcePolicy:
    kind: ResourcePolicyKind
    statements: tuple[Statement, ...]


@dataclass(frozen=True)
class Caller:
    """A principal making requests: a role session (``arn`` is the role's ARN, which IAM puts
    in ``aws:PrincipalArn``), a service, or a web identity provider."""

    arn: str
    account_id: str
    identity: tuple[Statement, ...] = ()
    boundary: tuple[Statement, ...] | None = None
    kind: str = "AWS"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


def applies(
    statement: Statement,
    action: str,
    resource: str,
    context: Context,
    caller: Caller | None = None,
) -> bool:
    """Whether ``statement`` is about this action, resource (and caller, for a statement with a
    Principal) and its conditions hold."""
    # NotAction/NotResource when given; otherwise the listed ones (none listed: nothing).
    if statement.not_actions:
        if any(action_match(a, action) for a in statement.not_actions):
            return False
    elif not any(action_match(a, action) for a in statement.actions):
        return False
    if statement.not_resources:
        if any(arn_match(r, resource) for r in statement.not_resources):
            return False
    elif not any(arn_match(r, resource) for r in statement.resources):
        return False
    if statement.principals and (caller is None or not _names(statement.principals, caller)):
        return False
    return all(condition_holds(c, context) for c in statement.conditions)


def _names(principals: Sequence[Principal], caller: Caller) -> bool:
    """Whether a statement's Principal covers the caller (exactly, through its account, or
    ``*``)."""
    for principal in principals:
        if principal.kind == "*" or (principal.kind == "AWS" and "*" in principal.values):
            return True
        if principal.kind != caller.kind:
            continue
        for value in principal.values:
            if value == caller.arn or value in (
                caller.account_id,
                f"arn:{caller.arn.split(':')[1]}:iam::{caller.account_id}:root",
            ):
                return True
    return False


def _names_exactly(principals: Sequence[Principal], caller: Caller) -> bool:
    return any(p.kind == caller.kind and caller.arn in p.values for p in principals)


def _first(
    statements: Sequence[Statement],
    effect: str,
    action: str,
    resource: str,
    context: Context,
    caller: Caller | None = None,
) -> Statement | None:
    for statement in statements:
        if statement.effect == effect and applies(statement, action, resource, context, caller):
            return statement
    return None


def decide(
    caller: Caller,
    request: Request,
    resource_policy: ResourcePolicy | None = None,
) -> Decision:
    """IAM's answer to ``caller`` making ``request``, with the reason (the deciding statement)."""
    context: dict[str, str | tuple[str, ...]] = {
        "aws:PrincipalArn": caller.arn,
        "aws:PrincipalAccount": caller.account_id,
    }
    context.update(request.context)
    for resource in request.resources:
        decision = _decide_one(caller, request.action, resource, context, resource_policy)
        if not decision.allowed:
            return decision
    return Decision(True, f"{request.action}: allowed")


def _decide_one(
    caller: Caller,
    action: str,
    resource: str,
    context: Mapping[str, str | tuple[str, ...]],
    resource_policy: ResourcePolicy | None,
) -> Decision:
    where = f"{action} on {resource}"
    sources: list[tuple[str, Sequence[Statement], Caller | None]] = [
        ("identity policy", caller.identity, None)
    ]
    if caller.boundary is not None:
        sources.append(("permissions boundary", caller.boundary, None))
    if resource_policy is not None:
        sources.append((f"{resource_policy.kind.value} policy", resource_policy.statements, caller))
    for name, statements, principal in sources:
        deny = _first(statements, "Deny", action, resource, context, principal)
        if deny is not None:
            return Decision(False, f"{where}: explicit deny in the {name} ({deny.sid or 'no Sid'})")

    identity_allow = _first(caller.identity, "Allow", action, resource, context)
    resource_allow = None
    if resource_policy is not None:
        resource_allow = _first(
            resource_policy.statements, "Allow", action, resource, context, caller
        )
        kind = resource_policy.kind
        if kind is not ResourcePolicyKind.BUCKET and resource_allow is None:
            return Decision(False, f"{where}: the {kind.value} policy does not allow it")
        if kind is ResourcePolicyKind.ENDPOINT:
            resource_allow = None  # an endpoint policy narrows, it never grants
    granted_by_resource = resource_allow is not None and _names_exactly(
        resource_allow.principals, caller
    )
    if identity_allow is None and not granted_by_resource:
        return Decision(False, f"{where}: no policy allows it (implicit deny)")
    boundary = caller.boundary
    if boundary is not None and _first(boundary, "Allow", action, resource, context) is None:
        return Decision(False, f"{where}: outside the permissions boundary (implicit deny)")
    by = identity_allow.sid if identity_allow is not None else "the resource's policy"
    return Decision(True, f"{where}: allowed by {by or 'a statement without Sid'}")


def web_identity_decision(
    trust: Sequence[Statement], provider_arn: str, claims: Mapping[str, str], account_id: str
) -> Decision:
    """sts:AssumeRoleWithWebIdentity: only the role's trust policy decides (the caller has no
    identity policy). ``claims`` are the token's keys as IAM names them
    (``token.actions.githubusercontent.com:sub``...)."""
    caller = Caller(provider_arn, account_id, kind="Federated")
    return decide(
        caller,
        Request("sts:AssumeRoleWithWebIdentity", ("*",), dict(claims)),
        ResourcePolicy(ResourcePolicyKind.TRUST, tuple(trust)),
    )
