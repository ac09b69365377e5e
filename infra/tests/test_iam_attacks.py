"""Attack tests: each boundary docs/security.md promises, tried the way an attacker would.

Every test plays an attacker's calls, one by one, against the roles' policies as Terraform
renders them from infra/bootstrap/iam.tf (iam.golden.json, kept in step by test_iam_golden.py),
with AWS managed policies as moto ships them, the state bucket's and key's policies, and the
permissions boundaries; :mod:`iamsim` decides each call as IAM would and says which statement
decided it. A call the attacker needs that IAM allows is applied to the simulated account
(CreateRole, PutRolePolicy...) before the next step, so a chain of calls is followed to its end.

Each attack is run twice:

- against today's policies, where it must fail, at the step and for the reason the test names;
- against the policies before issue 10 (fixtures/iam.golden.before-issue-10.json, never
  regenerated), where it must get through: proof that the test can fail, and the attack is real.

What a user would notice if one broke: a pull request, a dev pipeline or a compromised workflow
able to read prod's logs and secrets, wedge or rewrite prod's state, or become an administrator of
the account dev and prod share.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from infra.iamsim.account import Account
from infra.iamsim.evaluate import Decision, Request

INFRA = Path(__file__).resolve().parents[1]
NOW = INFRA / "bootstrap" / "iam.golden.json"
BEFORE = Path(__file__).parent / "fixtures" / "iam.golden.before-issue-10.json"

ACCOUNT = "123456789012"
REPO = "example-org/aws-fastapi-devsecops"
STATE = f"arn:aws:s3:::tfstate-{ACCOUNT}-us-east-1"
LOCKS = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/fastapi-terraform-locks"
STATE_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/00000000-0000-0000-0000-000000000000"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
ANYTHING = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}

DEV_APPLY = "fastapi-github-terraform-apply-dev"
PROD_APPLY = "fastapi-github-terraform-apply-prod"
PLAN = "fastapi-github-terraform-plan"
DEV_DEPLOY = "fastapi-github-deploy-dev"
PROD_DEPLOY = "fastapi-github-deploy-prod"


def boundary(service: str) -> str:
    """The boundary the bootstrap creates for an environment (iam.tf, local.env.boundary_arn)."""
    return f"arn:aws:iam::{ACCOUNT}:policy/{service}-permissions-boundary"


def trusting(role_name: str) -> dict[str, Any]:
    return {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/{role_name}"},
            }
        ]
    }


ECS_TASKS = {
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
        }
    ]
}


@dataclass
class Step:
    who: str
    what: str
    decision: Decision


@dataclass
class Attack:
    """The simulated account and every call the attacker made in it, in order."""

    account: Account
    steps: list[Step] = field(default_factory=list)

    def tries(self, who: str, what: str, request: Request) -> bool:
        decision = self.account.check(who, request)
        self.steps.append(Step(who, what, decision))
        return decision.allowed

    def step(self, what: str) -> Step:
        (found,) = [s for s in self.steps if s.what == what]
        return found

    def report(self) -> str:
        lines = []
        for s in self.steps:
            verdict = "ALLOWED" if s.decision.allowed else "denied "
            lines.append(f"  {verdict} {s.who}: {s.what} ({s.decision.reason})")
        return "\n".join(lines)


def world(golden: Path) -> Account:
    """The account as the bootstrap builds it, plus dev's roles as infra/stack creates them:
    with the environment's boundary when the bootstrap has one (today), without before."""
    account = Account.from_golden(golden)
    has_boundaries = boundary("fastapi-dev") in account.policies
    for service in ("fastapi-dev", "fastapi-prod"):
        for suffix in ("execution", "task", "flow-logs"):
            account.create_role(
                f"{service}-{suffix}", ECS_TASKS, boundary(service) if has_boundaries else None
            )
    return account


def arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


# --- The attacks -------------------------------------------------------------------------------
# Each returns the attack and whether the attacker reached the goal.


def apply_role_creates_itself_an_admin_role(account: Account) -> tuple[Attack, bool]:
    """Issue 10, finding 1: from the dev apply role (PowerUserAccess + IAM on fastapi-dev-*),
    create fastapi-dev-x trusting itself, give it Action "*", assume it, then use it on prod."""
    a = Attack(account)
    x = arn("fastapi-dev-x")
    created = None
    if a.tries(
        DEV_APPLY, "CreateRole fastapi-dev-x without a boundary", Request("iam:CreateRole", (x,))
    ):
        created = account.create_role("fastapi-dev-x", trusting(DEV_APPLY))
    for name, other in (("AdministratorAccess", ADMIN), ("prod's", boundary("fastapi-prod"))):
        a.tries(
            DEV_APPLY,
            f"CreateRole fastapi-dev-x with {name} policy as its boundary",
            Request("iam:CreateRole", (x,), {"iam:PermissionsBoundary": other}),
        )
    if created is None:
        with_boundary = Request(
            "iam:CreateRole", (x,), {"iam:PermissionsBoundary": boundary("fastapi-dev")}
        )
        if a.tries(DEV_APPLY, "CreateRole fastapi-dev-x with dev's boundary", with_boundary):
            created = account.create_role(
                "fastapi-dev-x", trusting(DEV_APPLY), boundary("fastapi-dev")
            )
    if created is None:
        return a, False
    put = Request("iam:PutRolePolicy", (x,), account.role_context("fastapi-dev-x"))
    if a.tries(DEV_APPLY, 'PutRolePolicy fastapi-dev-x Action "*" Resource "*"', put):
        account.put_role_policy("fastapi-dev-x", "all", ANYTHING)
    a.tries(
        DEV_APPLY,
        "DeleteRolePermissionsBoundary fastapi-dev-x",
        Request("iam:DeleteRolePermissionsBoundary", (x,), account.role_context("fastapi-dev-x")),
    )
    a.tries(
        DEV_APPLY,
        "PutRolePermissionsBoundary fastapi-dev-x AdministratorAccess",
        Request("iam:PutRolePermissionsBoundary", (x,), {"iam:PermissionsBoundary": ADMIN}),
    )
    for action in ("iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy"):
        a.tries(
            DEV_APPLY,
            f"{action.split(':')[1]} on dev's boundary",
            Request(action, (boundary("fastapi-dev"),)),
        )
    assumed = a.tries(DEV_APPLY, "AssumeRole fastapi-dev-x", Request("sts:AssumeRole", (x,)))
    # Without assuming it, the apply role can still run code as the role: an ECS task whose task
    # role it is (PassRole to ECS is what the stack needs; RunTask comes with PowerUserAccess).
    ecs_tasks = {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    runs_as_x = a.tries(
        DEV_APPLY, "PassRole fastapi-dev-x to ECS tasks", Request("iam:PassRole", (x,), ecs_tasks)
    ) and a.tries(
        DEV_APPLY,
        "RunTask with fastapi-dev-x as the task role",
        Request("ecs:RunTask", (f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/fastapi-dev:1",)),
    )
    steps_as_x = {
        "GetObject prod's state": Request("s3:GetObject", (f"{STATE}/prod/terraform.tfstate",)),
        "PutRolePolicy on the prod apply role": Request("iam:PutRolePolicy", (arn(PROD_APPLY),)),
        "AssumeRole the prod apply role": Request("sts:AssumeRole", (arn(PROD_APPLY),)),
        "UpdateService on prod's service": Request(
            "ecs:UpdateService",
            (f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/fastapi-prod/fastapi-prod",),
        ),
        "GetParameter of a prod parameter": Request(
            "ssm:GetParameter",
            (f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/fastapi-prod/db-password",),
        ),
    }
    reached = [
        a.tries("fastapi-dev-x", f"as fastapi-dev-x: {what}", r) for what, r in steps_as_x.items()
    ]
    # Breached: code running as the new role (the apply role assumed it, or runs a task as it)
    # reached what it must not.
    return a, any(reached) and (assumed or runs_as_x)


def apply_role_escalates_through_an_existing_role(account: Account) -> tuple[Attack, bool]:
    """The same, through a role the stack created (fastapi-dev-task): rewrite its trust to trust
    the apply role, give it Action "*", assume it."""
    a = Attack(account)
    task = arn("fastapi-dev-task")
    context = account.role_context("fastapi-dev-task")
    if a.tries(
        DEV_APPLY,
        "UpdateAssumeRolePolicy fastapi-dev-task to trust the apply role",
        Request("iam:UpdateAssumeRolePolicy", (task,), context),
    ):
        account.update_assume_role_policy("fastapi-dev-task", trusting(DEV_APPLY))
    if a.tries(
        DEV_APPLY,
        'PutRolePolicy fastapi-dev-task Action "*"',
        Request("iam:PutRolePolicy", (task,), context),
    ):
        account.put_role_policy("fastapi-dev-task", "all", ANYTHING)
    a.tries(
        DEV_APPLY,
        "AttachRolePolicy AdministratorAccess to fastapi-dev-task",
        Request("iam:AttachRolePolicy", (task,), {**context, "iam:PolicyARN": ADMIN}),
    )
    assumed = a.tries(DEV_APPLY, "AssumeRole fastapi-dev-task", Request("sts:AssumeRole", (task,)))
    read = a.tries(
        "fastapi-dev-task",
        "as fastapi-dev-task: GetObject prod's state",
        Request("s3:GetObject", (f"{STATE}/prod/terraform.tfstate",)),
    )
    return a, assumed and read


def apply_role_passes_its_roles_to_other_services(account: Account) -> tuple[Attack, bool]:
    """Issue 10, finding 1 (PassRole): hand an environment role to a service that runs the
    attacker's code with it (Lambda, EC2, CodeBuild)."""
    a = Attack(account)
    reached = [
        a.tries(
            DEV_APPLY,
            f"PassRole fastapi-dev-task to {service}",
            Request("iam:PassRole", (arn("fastapi-dev-task"),), {"iam:PassedToService": service}),
        )
        for service in ("lambda.amazonaws.com", "ec2.amazonaws.com", "codebuild.amazonaws.com")
    ]
    a.tries(
        DEV_APPLY,
        "PassRole fastapi-prod-task to ecs-tasks.amazonaws.com",
        Request(
            "iam:PassRole",
            (arn("fastapi-prod-task"),),
            {"iam:PassedToService": "ecs-tasks.amazonaws.com"},
        ),
    )
    return a, any(reached) or a.steps[-1].decision.allowed


def pull_request_plan_role_wedges_or_reads_prod(account: Account) -> tuple[Attack, bool]:
    """Issue 10, finding 2: a pull request's code runs with the plan role (a data "external"
    block is a shell). It tries to wedge or break prod's state and to read what is not state."""
    a = Attack(account)
    lock_file = f"{STATE}/prod/terraform.tfstate.tflock"
    digest = {"dynamodb:LeadingKeys": (f"tfstate-{ACCOUNT}-us-east-1/prod/terraform.tfstate-md5",)}
    writes = [
        a.tries(PLAN, "PutObject prod's lock file", Request("s3:PutObject", (lock_file,))),
        a.tries(
            PLAN,
            "DeleteObject prod's lock file during an apply",
            Request("s3:DeleteObject", (lock_file,)),
        ),
        a.tries(
            PLAN,
            "PutObject prod's state",
            Request("s3:PutObject", (f"{STATE}/prod/terraform.tfstate",)),
        ),
        a.tries(
            PLAN,
            "PutItem a bogus -md5 digest for prod",
            Request("dynamodb:PutItem", (LOCKS,), digest),
        ),
        a.tries(
            PLAN, "DeleteItem prod's lock item", Request("dynamodb:DeleteItem", (LOCKS,), digest)
        ),
    ]
    reads = [
        a.tries(
            PLAN,
            "GetLogEvents of prod's service",
            Request(
                "logs:GetLogEvents",
                (
                    f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/ecs/fastapi-prod:log-stream:app/1",
                ),
            ),
        ),
        a.tries(
            PLAN,
            "FilterLogEvents of prod's service",
            Request(
                "logs:FilterLogEvents",
                (f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/ecs/fastapi-prod:*",),
            ),
        ),
        a.tries(
            PLAN,
            "GetObject of prod's ALB access logs",
            Request(
                "s3:GetObject",
                (f"arn:aws:s3:::alb-logs-{ACCOUNT}-us-east-1-prod/AWSLogs/{ACCOUNT}/x.log.gz",),
            ),
        ),
        a.tries(
            PLAN,
            "GetParameter of a prod SecureString",
            Request(
                "ssm:GetParameter",
                (f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/fastapi-prod/db-password",),
            ),
        ),
        a.tries(
            PLAN,
            "GetSecretValue of a prod secret",
            Request(
                "secretsmanager:GetSecretValue",
                (f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:fastapi-prod/db-AbCdEf",),
            ),
        ),
        a.tries(
            PLAN,
            "GetDownloadUrlForLayer of prod's images",
            Request(
                "ecr:GetDownloadUrlForLayer",
                (f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/fastapi-prod",),
            ),
        ),
        a.tries(
            PLAN,
            "GetObject of the bootstrap's state",
            Request("s3:GetObject", (f"{STATE}/bootstrap/terraform.tfstate",)),
        ),
        a.tries(
            PLAN,
            "Decrypt a ciphertext with the state key directly",
            Request("kms:Decrypt", (STATE_KEY,)),
        ),
        a.tries(PLAN, "Scan the lock table", Request("dynamodb:Scan", (LOCKS,))),
    ]
    return a, any(writes) or any(reads)


def deploy_and_apply_roles_trust_other_workflows(account: Account) -> tuple[Attack, bool]:
    """Issue 10, finding 3: a job that is not the reviewed workflow of main presents a GitHub
    OIDC token to the prod roles: a new workflow file that names the prod environment, a
    branch, a pull request's edited copy of the workflow, another repository."""
    a = Attack(account)

    def token(sub: str, aud: str = "sts.amazonaws.com") -> dict[str, str]:
        return {
            "token.actions.githubusercontent.com:sub": sub,
            "token.actions.githubusercontent.com:aud": aud,
        }

    def tries(role: str, what: str, sub: str, aud: str = "sts.amazonaws.com") -> bool:
        decision = account.assume_with_web_identity(role, token(sub, aud))
        a.steps.append(Step(role, f"AssumeRoleWithWebIdentity: {what}", decision))
        return decision.allowed

    flows = f"{REPO}/.github/workflows"
    reached = [
        tries(
            PROD_DEPLOY,
            "default subject (any workflow file in environment prod)",
            f"repo:{REPO}:environment:prod",
        ),
        tries(
            PROD_APPLY,
            "default subject (any workflow file in prod-infra)",
            f"repo:{REPO}:environment:prod-infra",
        ),
        tries(
            PROD_DEPLOY,
            "a new workflow file on main",
            f"repo:{REPO}:environment:prod:job_workflow_ref:{flows}/evil.yml@refs/heads/main",
        ),
        tries(
            PROD_DEPLOY,
            "ecs-rollout.yml from a feature branch",
            f"repo:{REPO}:environment:prod:job_workflow_ref:{flows}/ecs-rollout.yml@refs/heads/feature",
        ),
        tries(
            PROD_DEPLOY,
            "a pull request's copy of ecs-rollout.yml",
            f"repo:{REPO}:environment:prod:job_workflow_ref:{flows}/ecs-rollout.yml@refs/pull/7/merge",
        ),
        tries(
            PROD_APPLY,
            "terraform.yml from a feature branch",
            f"repo:{REPO}:environment:prod-infra:job_workflow_ref:{flows}/terraform.yml@refs/heads/feature",
        ),
        tries(
            PROD_APPLY,
            "the deploy workflow's subject",
            f"repo:{REPO}:environment:prod:job_workflow_ref:{flows}/ecs-rollout.yml@refs/heads/main",
        ),
        tries(
            PLAN,
            "a pull request's other workflow file",
            f"repo:{REPO}:pull_request:job_workflow_ref:{flows}/evil.yml@refs/pull/7/merge",
        ),
        tries(
            PROD_DEPLOY,
            "another repository's workflow",
            "repo:someone/fork:environment:prod:job_workflow_ref:"
            "someone/fork/.github/workflows/ecs-rollout.yml@refs/heads/main",
        ),
        tries(
            PROD_DEPLOY,
            "the right subject for another audience",
            f"repo:{REPO}:environment:prod:job_workflow_ref:{flows}/ecs-rollout.yml@refs/heads/main",
            "https://github.com/example-org",
        ),
    ]
    return a, any(reached)


def dev_deploy_role_plants_revisions_in_prods_family(account: Account) -> tuple[Attack, bool]:
    """Issue 10, finding 4: the dev deploy role registers revisions in prod's family (50 of them
    hid prod's last known good from `opsctl rollback`), or points them at other roles."""
    a = Attack(account)
    family = f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition"
    reached = [
        a.tries(
            DEV_DEPLOY,
            "RegisterTaskDefinition in family fastapi-prod",
            Request("ecs:RegisterTaskDefinition", (f"{family}/fastapi-prod:51",)),
        ),
        a.tries(
            DEV_DEPLOY,
            "tag-on-create of a fastapi-prod revision",
            Request(
                "ecs:TagResource",
                (f"{family}/fastapi-prod:51",),
                {"ecs:CreateAction": "RegisterTaskDefinition"},
            ),
        ),
        a.tries(
            DEV_DEPLOY,
            "PassRole fastapi-prod-task to ECS",
            Request(
                "iam:PassRole",
                (arn("fastapi-prod-task"),),
                {"iam:PassedToService": "ecs-tasks.amazonaws.com"},
            ),
        ),
        a.tries(
            DEV_DEPLOY,
            "UpdateService prod to a dev revision",
            Request(
                "ecs:UpdateService",
                (f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/fastapi-prod/fastapi-prod",),
                {"ecs:task-definition": f"{family}/fastapi-dev:3"},
            ),
        ),
    ]
    return a, any(reached)


ATTACKS: list[Callable[[Account], tuple[Attack, bool]]] = [
    apply_role_creates_itself_an_admin_role,
    apply_role_escalates_through_an_existing_role,
    apply_role_passes_its_roles_to_other_services,
    pull_request_plan_role_wedges_or_reads_prod,
    deploy_and_apply_roles_trust_other_workflows,
    dev_deploy_role_plants_revisions_in_prods_family,
]


def run(attack: Callable[[Account], tuple[Attack, bool]], golden: Path) -> tuple[Attack, bool]:
    played, reached = attack(world(golden))
    print(f"{attack.__name__} against {golden.name}:\n{played.report()}")
    return played, reached


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda f: f.__name__)
def test_every_attack_got_through_the_policies_before_issue_10(attack):
    played, reached = run(attack, BEFORE)
    assert reached, (
        f"{attack.__name__} no longer works against the old policies:\n{played.report()}"
    )


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda f: f.__name__)
def test_no_attack_gets_through_todays_policies(attack):
    played, reached = run(attack, NOW)
    assert not reached, f"{attack.__name__} gets through:\n{played.report()}"


# --- Today: each attack stopped where, and by what, docs/security.md says -------------------


def denied_by(played: Attack, what: str, reason: str) -> None:
    """The attacker's step ``what`` was refused, and ``reason`` (a deciding statement's
    ``(Sid)``, or the kind of implicit deny) is why."""
    decision = played.step(what).decision
    assert not decision.allowed, f"{what}: {decision.reason}"
    assert reason in decision.reason, f"{what}: {decision.reason}"


def test_the_apply_role_writes_roles_only_inside_its_boundary():
    played, _ = run(apply_role_creates_itself_an_admin_role, NOW)
    for what in (
        "CreateRole fastapi-dev-x without a boundary",
        "CreateRole fastapi-dev-x with AdministratorAccess policy as its boundary",
        "CreateRole fastapi-dev-x with prod's policy as its boundary",
        "PutRolePermissionsBoundary fastapi-dev-x AdministratorAccess",
    ):
        denied_by(played, what, "(NoRoleWithoutThisEnvironmentsBoundary)")
    # What Terraform does for the environment's roles is still allowed...
    assert played.step("CreateRole fastapi-dev-x with dev's boundary").decision.allowed
    assert played.step('PutRolePolicy fastapi-dev-x Action "*" Resource "*"').decision.allowed
    # ...the boundary stays, and its content cannot be changed...
    denied_by(played, "DeleteRolePermissionsBoundary fastapi-dev-x", "(NeverRemoveABoundary)")
    for action in ("CreatePolicyVersion", "SetDefaultPolicyVersion", "DeletePolicy"):
        denied_by(played, f"{action} on dev's boundary", "(LeaveTheBoundariesAlone)")
    # ...the apply role cannot become the new role...
    denied_by(played, "AssumeRole fastapi-dev-x", "(NoRoleAssumption)")
    # ...but it can run code as the role (an ECS task: what the stack itself needs), so the
    # boundary is what holds: Action "*" notwithstanding, the role stays in the box.
    assert played.step("PassRole fastapi-dev-x to ECS tasks").decision.allowed
    assert played.step("RunTask with fastapi-dev-x as the task role").decision.allowed
    for what, reason in (
        ("GetObject prod's state", "explicit deny in the permissions boundary (NoTerraformState)"),
        (
            "PutRolePolicy on the prod apply role",
            "explicit deny in the permissions boundary (NoIdentityChanges)",
        ),
        (
            "AssumeRole the prod apply role",
            "explicit deny in the permissions boundary (NoIdentityChanges)",
        ),
        ("UpdateService on prod's service", "outside the permissions boundary"),
        ("GetParameter of a prod parameter", "outside the permissions boundary"),
    ):
        denied_by(played, f"as fastapi-dev-x: {what}", reason)


def test_an_existing_role_cannot_be_turned_against_the_account():
    played, _ = run(apply_role_escalates_through_an_existing_role, NOW)
    denied_by(
        played, "AttachRolePolicy AdministratorAccess to fastapi-dev-task", "no policy allows it"
    )
    denied_by(played, "AssumeRole fastapi-dev-task", "(NoRoleAssumption)")
    denied_by(played, "as fastapi-dev-task: GetObject prod's state", "(NoTerraformState)")


def test_a_role_created_before_the_boundary_can_only_be_given_it():
    # An environment applied before the boundaries existed has roles without one: until the next
    # apply adds it (PutRolePermissionsBoundary with dev's boundary), nothing may change them.
    account = world(NOW)
    account.put_role_permissions_boundary("fastapi-dev-task", None)
    task = arn("fastapi-dev-task")
    for action in ("iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:DeleteRolePolicy"):
        decision = account.check(DEV_APPLY, Request(action, (task,)))
        assert not decision.allowed
        assert "(NoRoleWithoutThisEnvironmentsBoundary)" in decision.reason
    give = Request(
        "iam:PutRolePermissionsBoundary",
        (task,),
        {"iam:PermissionsBoundary": boundary("fastapi-dev")},
    )
    assert account.check(DEV_APPLY, give).allowed
    # prod's apply role cannot put prod's boundary on dev's role, nor touch it at all.
    assert not account.check(
        PROD_APPLY,
        Request(
            "iam:PutRolePermissionsBoundary",
            (task,),
            {"iam:PermissionsBoundary": boundary("fastapi-prod")},
        ),
    ).allowed


def test_passrole_goes_to_the_stacks_services_only():
    played, _ = run(apply_role_passes_its_roles_to_other_services, NOW)
    for service in ("lambda", "ec2", "codebuild"):
        denied_by(
            played, f"PassRole fastapi-dev-task to {service}.amazonaws.com", "no policy allows"
        )
    account = world(NOW)
    for role, service in (
        ("fastapi-dev-task", "ecs-tasks"),
        ("fastapi-dev-flow-logs", "vpc-flow-logs"),
    ):
        passing = Request(
            "iam:PassRole", (arn(role),), {"iam:PassedToService": f"{service}.amazonaws.com"}
        )
        assert account.check(DEV_APPLY, passing).allowed, "the stack must still be able to apply"


def test_a_pull_request_plan_changes_nothing_and_reads_no_content():
    played, _ = run(pull_request_plan_role_wedges_or_reads_prod, NOW)
    for what in (
        "PutObject prod's lock file",
        "DeleteObject prod's lock file during an apply",
        "PutObject prod's state",
        "PutItem a bogus -md5 digest for prod",
        "DeleteItem prod's lock item",
    ):
        denied_by(played, what, "(ChangesNothing)")
    for what in (
        "GetLogEvents of prod's service",
        "FilterLogEvents of prod's service",
        "GetParameter of a prod SecureString",
        "GetSecretValue of a prod secret",
        "GetDownloadUrlForLayer of prod's images",
        "Scan the lock table",
    ):
        denied_by(played, what, "(NeverReadContent)")
    for what in ("GetObject of prod's ALB access logs", "GetObject of the bootstrap's state"):
        denied_by(played, what, "(NoObjectButTheEnvironmentsState)")
    assert (
        "no policy allows it"
        in played.step("Decrypt a ciphertext with the state key directly").decision.reason
    )


def test_what_a_pull_request_plan_can_still_read():
    # docs/security.md, "The plan role": both environments' state and the resources'
    # configuration. Said plainly, and kept true by this test.
    account = world(NOW)
    role = account.roles[PLAN]
    assert role.managed_arns == (), "no account-wide managed read policy"
    for env in ("dev", "prod"):
        assert account.check(
            PLAN, Request("s3:GetObject", (f"{STATE}/{env}/terraform.tfstate",))
        ).allowed
        digest = {
            "dynamodb:LeadingKeys": (f"tfstate-{ACCOUNT}-us-east-1/{env}/terraform.tfstate-md5",)
        }
        assert account.check(PLAN, Request("dynamodb:GetItem", (LOCKS,), digest)).allowed
    via_s3 = {"kms:ViaService": "s3.us-east-1.amazonaws.com"}
    assert account.check(PLAN, Request("kms:Decrypt", (STATE_KEY,), via_s3)).allowed
    assert account.check(PLAN, Request("ec2:DescribeVpcs")).allowed
    assert account.check(PLAN, Request("logs:DescribeLogGroups")).allowed


def test_only_the_reviewed_workflow_of_main_gets_the_prod_roles():
    played, _ = run(deploy_and_apply_roles_trust_other_workflows, NOW)
    assert all(not s.decision.allowed for s in played.steps), played.report()
    account = world(NOW)
    jwr = f"job_workflow_ref:{REPO}/.github/workflows"
    legitimate = {
        PROD_DEPLOY: f"repo:{REPO}:environment:prod:{jwr}/ecs-rollout.yml@refs/heads/main",
        PROD_APPLY: f"repo:{REPO}:environment:prod-infra:{jwr}/terraform.yml@refs/heads/main",
        DEV_APPLY: f"repo:{REPO}:environment:dev-infra:{jwr}/terraform.yml@refs/heads/main",
        PLAN: f"repo:{REPO}:pull_request:{jwr}/terraform.yml@refs/pull/123/merge",
        "fastapi-github-ci": f"repo:{REPO}:ref:refs/heads/main:{jwr}/ci.yml@refs/heads/main",
    }
    for role, sub in legitimate.items():
        claims = {
            "token.actions.githubusercontent.com:sub": sub,
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        }
        assert account.assume_with_web_identity(role, claims).allowed, (role, sub)
    # Each environment's deploy role takes its own environment's subject only.
    dev_sub = legitimate[PROD_DEPLOY].replace("environment:prod:", "environment:dev:")
    claims = {
        "token.actions.githubusercontent.com:sub": dev_sub,
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
    }
    assert not account.assume_with_web_identity(PROD_DEPLOY, claims).allowed
    assert account.assume_with_web_identity(DEV_DEPLOY, claims).allowed


def test_each_deploy_role_registers_and_deploys_its_own_family_only():
    played, _ = run(dev_deploy_role_plants_revisions_in_prods_family, NOW)
    for step in played.steps:
        assert not step.decision.allowed, step
    account = world(NOW)
    family = f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition"
    assert account.check(
        DEV_DEPLOY, Request("ecs:RegisterTaskDefinition", (f"{family}/fastapi-dev:8",))
    ).allowed
    assert account.check(
        PROD_DEPLOY, Request("ecs:RegisterTaskDefinition", (f"{family}/fastapi-prod:8",))
    ).allowed
    # A family whose name only starts like dev's is another family.
    assert not account.check(
        DEV_DEPLOY, Request("ecs:RegisterTaskDefinition", (f"{family}/fastapi-dev-evil:1",))
    ).allowed


def test_the_fixture_is_the_policy_before_issue_10():
    before = json.loads(BEFORE.read_text())
    plan = before["roles"][PLAN]
    assert plan["managed_policy_arns"] == ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
    assert before["managed_policies"] == {}
    assert "ManageThisEnvironmentsRoles" in json.dumps(before["roles"][DEV_APPLY])
