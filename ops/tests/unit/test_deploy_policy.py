"""The deploy role's policy (infra/bootstrap/iam.tf, as Terraform renders it in
infra/bootstrap/iam.golden.json) against the calls opsctl makes.

Two directions: every action the policy grants is one opsctl's code calls (least privilege), and
every call opsctl's code can make is granted (checked here by action; the integration tests
authorize each real call of every scenario with its resources and conditions, support/iam_guard).
"""

from __future__ import annotations

import ast
from pathlib import Path

import botocore.session
import pytest
from botocore import xform_name

from ops.tests.support.deploy_policy import (
    Condition,
    PolicyError,
    Request,
    Statement,
    allowed,
    granted_actions,
    load,
    rendered,
    statements,
)
from ops.tests.support.iam_guard import SIGNING_TO_IAM, Environment, authorizations

OPSCTL_SRC = Path(__file__).resolve().parents[2] / "src" / "opsctl"
CLIENTS = ("ecs", "elbv2", "logs", "cloudwatch", "ec2", "ecr", "tagging", "cloudtrail", "s3", "sts")
SERVICE_MODELS = {"tagging": "resourcegroupstaggingapi"}
"""Aws attributes whose name is not the botocore service's."""
NEEDS_NO_PERMISSION = {"sts:GetCallerIdentity"}
"""https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html"""
# boto3 operations whose IAM action has another name (Service Authorization Reference).
IAM_ACTION = {"s3:ListObjectVersions": "s3:ListBucketVersions"}
REGION = "us-east-1"
ENV = Environment(service="fastapi-dev", cluster="fastapi-dev")
FAMILY = "arn:aws:ecs:us-east-1:123456789012:task-definition/fastapi-dev"


def opsctl_actions() -> set[str]:
    """Every IAM action behind a boto3 call in opsctl's code (aws.py is the only module that
    may talk to AWS; the test below holds it to that)."""
    tree = ast.parse((OPSCTL_SRC / "aws.py").read_text(encoding="utf-8"))
    session = botocore.session.get_session()
    actions = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner, method = node.func.value, node.func.attr
        client = None
        if isinstance(owner, ast.Attribute) and isinstance(owner.value, ast.Name):
            client = owner.attr if owner.value.id == "self" else None
        elif isinstance(owner, ast.Call) and isinstance(owner.func, ast.Attribute):
            client = owner.func.attr  # self.ecr(region).describe_images(...)
        if client not in CLIENTS:
            continue
        if method == "get_paginator":
            method = node.args[0].value  # type: ignore[attr-defined]
        model = session.get_service_model(SERVICE_MODELS.get(client, client))
        operations = {xform_name(op): op for op in model.operation_names}
        assert method in operations, f"{client}.{method} is not a {client} operation"
        action = f"{SIGNING_TO_IAM[model.signing_name]}:{operations[method]}"
        actions.add(IAM_ACTION.get(action, action))
    return actions - NEEDS_NO_PERMISSION


def test_only_aws_py_talks_to_aws():
    for path in OPSCTL_SRC.rglob("*.py"):
        if path.name == "aws.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert "import boto3" not in text, path
        assert "import botocore" not in text, path


def test_the_scan_finds_opsctl_s_calls():
    actions = opsctl_actions()
    assert {"ecs:UpdateService", "ecs:TagResource", "ecr:DescribeImages"} <= actions
    assert "ecs:ListTasks" in actions  # through get_paginator("list_tasks")


@pytest.mark.parametrize(("environment", "service"), [("dev", "fastapi-dev"), ("prod", "x-prod")])
def test_the_policy_grants_exactly_the_actions_opsctl_calls(environment, service):
    # iam:PassRole is not a call: ECS authorizes it for RegisterTaskDefinition's roles.
    needed = opsctl_actions() | {"iam:PassRole"}
    granted = granted_actions(load(environment, service))
    assert sorted(needed - granted) == [], "opsctl calls these; the deploy role lacks them"
    assert sorted(granted - needed) == [], "the deploy role grants these; opsctl never calls them"


def _requests(operation: str, **params: object) -> tuple[Request, ...]:
    prefix, name = operation.split(":")
    found = authorizations(prefix, name, params, REGION, ENV)
    assert found is not None
    return found


def _allowed(operation: str, **params: object) -> bool:
    policy = load("dev", "fastapi-dev")
    return all(allowed(policy, r) for r in _requests(operation, **params))


def test_recording_a_verdict_on_an_existing_revision_is_granted():
    # The P0 of the review: a standalone TagResource (no ecs:CreateAction) must be granted.
    tags = [{"key": "opsctl:verified-at", "value": "2026-01-01T00:00:00+00:00"}]
    assert _allowed("ecs:TagResource", resourceArn=f"{FAMILY}:1", tags=tags)
    # ...on this family only, and with opsctl's keys only.
    assert not _allowed("ecs:TagResource", resourceArn=f"{FAMILY}-other:1", tags=tags)
    assert not _allowed(
        "ecs:TagResource", resourceArn=f"{FAMILY}:1", tags=[{"key": "Owner", "value": "x"}]
    )


def test_registering_a_revision_with_its_roles_and_tags_is_granted():
    registration = {
        "family": "fastapi-dev",
        "executionRoleArn": "arn:aws:iam::123456789012:role/fastapi-dev-execution",
        "taskRoleArn": "arn:aws:iam::123456789012:role/fastapi-dev-task",
        "tags": [{"key": "Project", "value": "fastapi"}],
    }
    actions = [r.action for r in _requests("ecs:RegisterTaskDefinition", **registration)]
    assert actions == [
        "ecs:RegisterTaskDefinition",
        "iam:PassRole",
        "iam:PassRole",
        "ecs:TagResource",
    ]
    assert _allowed("ecs:RegisterTaskDefinition", **registration)
    foreign = dict(registration, taskRoleArn="arn:aws:iam::123456789012:role/admin")
    assert not _allowed("ecs:RegisterTaskDefinition", **foreign)
    # Only in this service's family (issue 10: the dev role once planted revisions in prod's).
    assert not _allowed("ecs:RegisterTaskDefinition", **dict(registration, family="fastapi-prod"))


def test_updates_stay_on_this_service_and_family():
    assert _allowed(
        "ecs:UpdateService",
        cluster="fastapi-dev",
        service="fastapi-dev",
        taskDefinition=f"{FAMILY}:3",
    )
    assert _allowed(
        "ecs:UpdateService", cluster="fastapi-dev", service="fastapi-dev", forceNewDeployment=True
    )
    assert not _allowed(
        "ecs:UpdateService", cluster="fastapi-dev", service="fastapi-dev", taskDefinition="x:1"
    )
    assert not _allowed("ecs:UpdateService", cluster="other", service="fastapi-dev")
    assert not _allowed("ecs:ListTasks", cluster="other")


def test_status_and_diagnose_reads_are_granted():
    assert _allowed("cloudwatch:DescribeAlarms", StateValue="ALARM")
    assert _allowed("cloudwatch:GetMetricData")
    assert _allowed("ec2:DescribeSecurityGroups")
    assert _allowed("logs:FilterLogEvents", logGroupName="/aws/ecs/fastapi-dev")
    assert not _allowed("logs:FilterLogEvents", logGroupName="/aws/ecs/other")


def test_following_and_stopping_deployments_stays_on_this_service():
    arn = "arn:aws:ecs:us-east-1:123456789012:service-deployment/{}/{}/r9i43YFjvgF"
    revision = "arn:aws:ecs:us-east-1:123456789012:service-revision/{}/{}/4980306466373577095"
    mine = arn.format("fastapi-dev", "fastapi-dev")
    assert _allowed("ecs:ListServiceDeployments", cluster="fastapi-dev", service="fastapi-dev")
    assert not _allowed("ecs:ListServiceDeployments", cluster="fastapi-dev", service="other")
    assert _allowed("ecs:StopServiceDeployment", serviceDeploymentArn=mine, stopType="ROLLBACK")
    assert not _allowed(
        "ecs:StopServiceDeployment", serviceDeploymentArn=arn.format("fastapi-prod", "fastapi-prod")
    )
    assert _allowed("ecs:DescribeServiceDeployments", serviceDeploymentArns=[mine])
    assert _allowed(
        "ecs:DescribeServiceRevisions",
        serviceRevisionArns=[revision.format("fastapi-dev", "fastapi-dev")],
    )
    assert not _allowed(
        "ecs:DescribeServiceRevisions", serviceRevisionArns=[revision.format("other", "other")]
    )


def test_the_bake_and_the_tag_lookup_are_granted_narrowly():
    assert _allowed("tag:GetResources")  # no resource-level permissions
    assert _allowed("cloudwatch:DescribeAlarmHistory", AlarmName="fastapi-dev-target-5xx")
    assert not _allowed("cloudwatch:DescribeAlarmHistory", AlarmName="billing")
    assert not _allowed("cloudwatch:DescribeAlarmHistory")  # every alarm's history: "*"
    assert _allowed(
        "ecr:GetDownloadUrlForLayer", repositoryName="fastapi-dev", layerDigest="sha256:0"
    )
    assert not _allowed("ecr:GetDownloadUrlForLayer", repositoryName="other", layerDigest="x")


def test_the_evaluator_follows_iam_condition_rules():
    # The policy the review found: TagResource only with ecs:CreateAction. A standalone call
    # carries no ecs:CreateAction, so the condition fails (only ...IfExists would pass).
    on_create_only = (
        Statement(
            "TagOnCreate",
            "Allow",
            ("ecs:TagResource",),
            ("*",),
            (Condition("StringEquals", "ecs:CreateAction", ("RegisterTaskDefinition",)),),
        ),
    )
    standalone = Request("ecs:TagResource", (f"{FAMILY}:1",), {"aws:TagKeys": ("opsctl:x",)})
    on_create = Request(
        "ecs:TagResource", (f"{FAMILY}:*",), {"ecs:CreateAction": "RegisterTaskDefinition"}
    )
    assert not allowed(on_create_only, standalone)
    assert allowed(on_create_only, on_create)
    if_exists = (
        Statement(
            "X",
            "Allow",
            ("ecs:*",),
            ("*",),
            (Condition("StringEqualsIfExists", "ecs:CreateAction", ("Nope",)),),
        ),
    )
    assert allowed(if_exists, standalone)
    assert not allowed(if_exists, on_create)
    scoped = (Statement("Y", "Allow", ("cloudwatch:DescribeAlarms",), ("arn:alarm:x-*",), ()),)
    assert not allowed(scoped, Request("cloudwatch:DescribeAlarms"))  # a listing is "*"
    deny = (*if_exists, Statement("D", "Deny", ("ecs:TagResource",), ("*",), ()))
    assert not allowed(deny, standalone)
    with pytest.raises(ValueError, match="NumericEquals"):
        allowed(
            (Statement("N", "Allow", ("*",), ("*",), (Condition("NumericEquals", "k", ("1",)),)),),
            Request("ecs:TagResource", ("*",), {"k": "1"}),
        )


def test_the_policy_is_the_deploy_roles_as_rendered():
    role = rendered()["roles"]["fastapi-github-deploy-dev"]
    ((name, document),) = role["inline_policies"].items()
    assert name == "deploy-fastapi-dev"
    assert load("dev", "fastapi-dev") == statements(document)
    # Terraform's rendering as IAM receives it: a single action or resource is a plain string.
    by_sid = {s.sid: s for s in load("dev", "fastapi-dev")}
    assert by_sid["ReadTheService"].resources == (
        "arn:aws:ecs:us-east-1:123456789012:service/fastapi-dev/fastapi-dev",
    )


STATE = "ListTheVersionsOfThisEnvironmentsState"


def test_re_targeting_dev_to_prods_names_gives_prods_rendered_policy():
    # iam.tf names every resource of the deploy policy after the environment's service: dev's
    # rendering, named for fastapi-prod, is exactly what Terraform rendered for prod. The one
    # exception is the state key, which the backend names after the environment (<env>/...).
    dev_as_prod = {s.sid: s for s in load("dev", "fastapi-prod")}
    prod = {s.sid: s for s in load("prod", "fastapi-prod")}
    assert dev_as_prod.pop(STATE).conditions[0].values == ("dev/terraform.tfstate",)
    assert prod.pop(STATE).conditions[0].values == ("prod/terraform.tfstate",)
    assert dev_as_prod == prod
    assert load("dev", "fastapi-prod") != load("dev", "fastapi-dev")


def test_re_targeting_renames_whole_names_only():
    other = {s.sid: s for s in load("dev", "api", "eu-west-1", "210987654321", "aws-cn")}
    assert other["PassOnlyThisServicesRoles"].resources == (
        "arn:aws-cn:iam::210987654321:role/api-execution",
        "arn:aws-cn:iam::210987654321:role/api-task",
    )
    assert other["ReadTheLogs"].resources == (
        "arn:aws-cn:logs:eu-west-1:210987654321:log-group:/aws/ecs/api",
        "arn:aws-cn:logs:eu-west-1:210987654321:log-group:/aws/ecs/api:*",
    )
    (update,) = other["UpdateOnlyThisServiceToThisFamily"].conditions
    assert update.values == ("arn:aws-cn:ecs:eu-west-1:210987654321:task-definition/api:*",)
    # Not an ARN: left alone.
    (tags,) = other["RecordVerdictsOnThisFamily"].conditions
    assert tags.values == ("opsctl:*",)


def test_what_the_reader_cannot_evaluate_is_refused():
    with pytest.raises(PolicyError, match="no environment 'staging'"):
        load("staging", "fastapi-staging")
    not_principal = {"Statement": [{"Effect": "Deny", "NotPrincipal": {"AWS": "x"}, "Action": "*"}]}
    with pytest.raises(PolicyError, match="NotPrincipal"):
        statements(not_principal)
    variable = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "${aws:username}"}]}
    with pytest.raises(PolicyError, match="policy variable"):
        statements(variable)


def test_history_reads_are_scoped_to_this_service_and_its_state():
    arn = "arn:aws:ecs:us-east-1:123456789012"
    mine = f"{arn}:service-deployment/fastapi-dev/fastapi-dev/AbC"
    theirs = f"{arn}:service-deployment/fastapi-prod/fastapi-prod/AbC"
    assert _allowed("ecs:DescribeServiceDeployments", serviceDeploymentArns=[mine])
    assert not _allowed("ecs:DescribeServiceDeployments", serviceDeploymentArns=[theirs])
    revision = f"{arn}:service-revision/fastapi-dev/fastapi-dev/123"
    assert _allowed("ecs:DescribeServiceRevisions", serviceRevisionArns=[revision])
    assert _allowed("ecs:ListServiceDeployments", cluster="fastapi-dev", service="fastapi-dev")
    assert not _allowed("ecs:ListServiceDeployments", cluster="fastapi-dev", service="other")
    assert _allowed("cloudwatch:DescribeAlarmHistory", AlarmName="fastapi-dev-target-5xx")
    assert not _allowed("cloudwatch:DescribeAlarmHistory", AlarmName="billing")
    assert not _allowed("cloudwatch:DescribeAlarmHistory")  # every alarm's history: refused
    assert _allowed("cloudtrail:LookupEvents")
    bucket = "tfstate-123456789012-us-east-1"
    assert _allowed("s3:ListObjectVersions", Bucket=bucket, prefix="dev/terraform.tfstate")
    assert not _allowed("s3:ListObjectVersions", Bucket=bucket, prefix="prod/terraform.tfstate")
    assert not _allowed("s3:ListObjectVersions", Bucket=bucket, prefix="")
    assert _requests("sts:GetCallerIdentity") == ()
