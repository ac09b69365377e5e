"""infra/iamsim decides as IAM does: the rules the attack tests and opsctl's IAM guard rely on.

Each test names the IAM rule and its source; a wrong rule here would make an attack test pass for
the wrong reason (or miss a real way through), so the cases are the ones the policies use.
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
"""

from __future__ import annotations

import pytest

from infra.iamsim.conditions import arn_match, condition_holds
from infra.iamsim.evaluate import (
    Caller,
    Request,
    ResourcePolicy,
    ResourcePolicyKind,
    decide,
)
from infra.iamsim.policy import Condition, PolicyError, Statement, statements

ROLE = "arn:aws:iam::123456789012:role/fastapi-dev-x"
OTHER = "arn:aws:iam::123456789012:role/someone-else"


def allow(actions: str, resources: str = "*", *conditions: Condition) -> Statement:
    return Statement("A", "Allow", (actions,), (resources,), conditions)


def deny(actions: str, resources: str = "*", *conditions: Condition) -> Statement:
    return Statement("D", "Deny", (actions,), (resources,), conditions)


def caller(*identity: Statement, boundary: tuple[Statement, ...] | None = None) -> Caller:
    return Caller(ROLE, "123456789012", identity, boundary)


# --- Condition operators (reference_policies_elements_condition_operators.html) --------------


@pytest.mark.parametrize(
    ("test", "context", "holds"),
    [
        # A missing key fails a positive operator...
        ("StringEquals", {}, False),
        ("ArnLike", {}, False),
        # ...satisfies a negated one ("the key is not matched")...
        ("StringNotEquals", {}, True),
        ("ArnNotLike", {}, True),
        # ...and any ...IfExists.
        ("StringEqualsIfExists", {}, True),
        ("StringEquals", {"k": "v"}, True),
        ("StringNotEquals", {"k": "v"}, False),
        ("StringNotEquals", {"k": "w"}, True),
        ("StringEqualsIfExists", {"k": "w"}, False),
    ],
)
def test_missing_keys_and_negation(test, context, holds):
    assert condition_holds(Condition(test, "k", ("v",)), context) is holds


def test_set_operators_on_missing_empty_and_several_values():
    # ForAllValues is vacuously true with no value; ForAnyValue needs one.
    all_like = Condition("ForAllValues:StringLike", "aws:TagKeys", ("opsctl:*",))
    any_like = Condition("ForAnyValue:StringLike", "aws:TagKeys", ("opsctl:*",))
    assert condition_holds(all_like, {})
    assert not condition_holds(any_like, {})
    assert condition_holds(all_like, {"aws:TagKeys": ("opsctl:a", "opsctl:b")})
    assert not condition_holds(all_like, {"aws:TagKeys": ("opsctl:a", "Owner")})
    assert condition_holds(any_like, {"aws:TagKeys": ("opsctl:a", "Owner")})
    # The lock table's deny: every leading key outside the prefix (a Scan has none: denied).
    outside = Condition("ForAllValues:StringNotLike", "dynamodb:LeadingKeys", ("b/dev/*",))
    assert condition_holds(outside, {"dynamodb:LeadingKeys": ("b/prod/x",)})
    assert not condition_holds(outside, {"dynamodb:LeadingKeys": ("b/dev/x",)})
    assert condition_holds(outside, {})


def test_null_tells_whether_a_key_is_there():
    tagged = Condition("Null", "aws:ResourceTag/Environment", ("false",))
    assert condition_holds(tagged, {"aws:ResourceTag/Environment": "prod"})
    assert not condition_holds(tagged, {})
    assert condition_holds(Condition("Null", "k", ("true",)), {})


def test_keys_are_case_insensitive_and_values_case_sensitive():
    condition = Condition("StringEquals", "iam:PassedToService", ("ecs-tasks.amazonaws.com",))
    assert condition_holds(condition, {"IAM:passedtoservice": "ecs-tasks.amazonaws.com"})
    assert not condition_holds(condition, {"iam:PassedToService": "ECS-tasks.amazonaws.com"})


def test_arn_operators_match_part_by_part():
    assert arn_match(
        "arn:aws:ecs:*:123456789012:task-definition/api:*",
        "arn:aws:ecs:eu-west-1:123456789012:task-definition/api:7",
    )
    # A wildcard never spans a part: the account is compared on its own.
    assert not arn_match("arn:aws:iam::*2:role/x", "arn:aws:iam::123456789012:role/y")
    assert not arn_match(
        "arn:aws:ecs:us-east-1:123456789012:task-definition/api:*",
        "arn:aws:ecs:us-east-1:123456789012:task-definition/api-evil:1",
    )
    assert not arn_match("arn:aws:s3:::b/*", "arn:aws:s3:::b")


def test_what_iamsim_cannot_evaluate_is_refused():
    with pytest.raises(PolicyError, match="NumericLessThan"):
        condition_holds(Condition("NumericLessThan", "k", ("3",)), {"k": "1"})
    with pytest.raises(PolicyError, match="multivalued"):
        condition_holds(Condition("StringEquals", "k", ("a",)), {"k": ("a", "b")})
    with pytest.raises(PolicyError, match="NotPrincipal"):
        statements({"Statement": [{"Effect": "Deny", "NotPrincipal": {"AWS": "x"}, "Action": "*"}]})


# --- Statements and policies ------------------------------------------------------------------


def test_actions_ignore_case_resources_do_not():
    assert decide(
        caller(allow("s3:getobject", "arn:aws:s3:::b/*")),
        Request("s3:GetObject", ("arn:aws:s3:::b/k",)),
    )
    assert not decide(
        caller(allow("s3:GetObject", "arn:aws:s3:::B/*")),
        Request("s3:GetObject", ("arn:aws:s3:::b/k",)),
    )


def test_not_action_and_not_resource():
    parsed = statements(
        {
            "Statement": [
                {"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"},
                {
                    "Effect": "Deny",
                    "Action": "s3:GetObject*",
                    "NotResource": "arn:aws:s3:::state/dev/*",
                },
            ]
        }
    )
    me = caller(*parsed)
    assert decide(me, Request("ec2:DescribeVpcs"))
    assert not decide(me, Request("iam:CreateRole", (ROLE,)))
    assert decide(me, Request("s3:GetObject", ("arn:aws:s3:::state/dev/terraform.tfstate",)))
    assert not decide(me, Request("s3:GetObject", ("arn:aws:s3:::alb-logs/AWSLogs/x",)))


def test_a_statement_with_no_action_left_applies_to_nothing():
    # opsctl's tests take an action out of the deploy policy to see a refusal: an empty Action
    # list is not a NotAction of nothing.
    emptied = Statement("E", "Allow", (), ("*",))
    assert not decide(caller(emptied), Request("ecs:TagResource"))


def test_an_explicit_deny_wins_over_every_allow():
    decision = decide(
        caller(allow("*"), deny("sts:AssumeRole")), Request("sts:AssumeRole", (OTHER,))
    )
    assert not decision
    assert "explicit deny in the identity policy (D)" in decision.reason


def test_a_boundary_caps_the_identity_policy_and_grants_nothing():
    boundary = (allow("logs:PutLogEvents"), deny("iam:*"))
    capped = caller(allow("*"), boundary=boundary)
    assert decide(capped, Request("logs:PutLogEvents"))
    decision = decide(capped, Request("s3:GetObject", ("arn:aws:s3:::x/y",)))
    assert not decision
    assert "outside the permissions boundary" in decision.reason
    assert (
        "explicit deny in the permissions boundary"
        in decide(capped, Request("iam:CreateRole", (OTHER,))).reason
    )
    # The boundary alone allows nothing.
    assert not decide(caller(boundary=boundary), Request("logs:PutLogEvents"))


def test_a_bucket_policy_denies_by_principal_and_may_grant_a_named_role():
    bucket = statements(
        {
            "Statement": [
                {
                    "Sid": "OnlyItsPrefix",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:GetObject*",
                    "NotResource": "arn:aws:s3:::state/dev/*",
                    "Condition": {"ArnEquals": {"aws:PrincipalArn": ROLE}},
                },
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": OTHER},
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::state/*",
                },
            ]
        }
    )
    policy = ResourcePolicy(ResourcePolicyKind.BUCKET, bucket)
    prod = Request("s3:GetObject", ("arn:aws:s3:::state/prod/terraform.tfstate",))
    assert not decide(caller(allow("s3:*")), prod, policy)
    assert decide(
        Caller(ROLE.replace("fastapi-dev-x", "y"), "123456789012", (allow("s3:*"),)), prod, policy
    )
    # Granted by the bucket policy alone (same account, the role named exactly).
    assert decide(Caller(OTHER, "123456789012"), prod, policy)


def test_trust_and_key_policies_must_allow_and_root_delegates_to_iam():
    root = ResourcePolicy(
        ResourcePolicyKind.TRUST,
        statements(
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                        "Action": "sts:AssumeRole",
                    }
                ]
            }
        ),
    )
    named = ResourcePolicy(
        ResourcePolicyKind.TRUST,
        statements(
            {
                "Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "sts:AssumeRole"}
                ]
            }
        ),
    )
    assume = Request("sts:AssumeRole", (OTHER,))
    assert not decide(caller(), assume, root), "the account delegates: IAM must allow too"
    assert decide(caller(allow("sts:AssumeRole")), assume, root)
    assert decide(caller(), assume, named), "naming the role itself is enough"
    assert not decide(caller(deny("sts:AssumeRole")), assume, named), "an explicit deny still wins"
    stranger = ResourcePolicy(ResourcePolicyKind.TRUST, named.statements)
    assert not decide(
        Caller(OTHER, "123456789012", (allow("*"),)), Request("sts:AssumeRole", (ROLE,)), stranger
    )


def test_an_endpoint_policy_narrows_and_never_grants():
    endpoint = ResourcePolicy(
        ResourcePolicyKind.ENDPOINT,
        statements(
            {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::layers/*",
                    }
                ]
            }
        ),
    )
    anything = caller(allow("s3:*"))
    assert decide(anything, Request("s3:GetObject", ("arn:aws:s3:::layers/sha256",)), endpoint)
    assert not decide(anything, Request("s3:PutObject", ("arn:aws:s3:::attacker/loot",)), endpoint)
    assert not decide(caller(), Request("s3:GetObject", ("arn:aws:s3:::layers/sha256",)), endpoint)
