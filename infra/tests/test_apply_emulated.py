"""End to end: the bootstrap and the dev environment applied to an emulated AWS (moto).

What a user would notice if it broke: `make tf-apply ENV=dev` fails, a second plan is not empty
(Terraform fights someone over a resource), the state is not where the backend says, the output
opsctl reads is missing a field, an environment created before infra/stack would have resources
recreated, or `terraform destroy` leaves things behind.

The steps run in the order an operator runs them (runbook 6): the bootstrap is applied with local
state and then moves its own state into the bucket it created (infra/bootstrap/README.md); dev is
applied and its state migrated into that bucket, locked by both the S3 lock file and the DynamoDB
table (ADR 0001). To keep CI short the two first applies run side by side: both spend most of
their time in the provider's fixed waits (ALB: 2 x 30 s; S3 lifecycle configuration: 55 s).

The IAM the bootstrap writes is checked on what really happens here: every role dev creates
carries the permissions boundary the bootstrap made for it, the S3 endpoint's applied policy
refuses a task writing to someone else's bucket, and a plan of dev, as a pull request runs it
(-lock=false), makes only calls the plan role's policy allows (decided by infra/iamsim).

What the emulator cannot do, and how the test deals with it (see docs/emulator.md):
* Cost Explorer anomaly detection and the Budgets calls DescribeSubscribersForNotification and
  ListTagsForResource answer HTTP 500 in moto 5.2, so dev runs with cost_guardrails.enabled =
  false; the cost module is checked by `terraform test` (plan with a mocked provider) only.
* moto drops the deployment configuration and the health check grace period of ECS services, so
  the circuit breaker and 100/200 are asserted by the ecs_service module's `terraform test`, not
  read back here.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from localcloud.cloud.terraform import Plan, S3Backend, Step, TerraformCommandError, TerraformRoot
from localcloud.cloud.terraform_tools import find_terraform
from localcloud.emulator import MOTO_DUMMY_CREDENTIAL, Endpoint

from infra.iamsim.account import Account
from infra.iamsim.evaluate import Caller, Request, ResourcePolicy, ResourcePolicyKind, decide
from infra.iamsim.policy import statements
from infra.iamsim.wire import Call, authorizations, decode

pytestmark = pytest.mark.needs_terraform

INFRA = Path(__file__).resolve().parents[1]
ACCOUNT = "123456789012"
REGION = "us-east-1"
SERVICE = "fastapi-dev"

BOOTSTRAP_VARIABLES: dict[str, Any] = {
    "github": {"repository": "example-org/aws-fastapi-devsecops"},
    # A throwaway account: let the lock table go with the emulator.
    "deletion_protection": False,
}

DEV_VARIABLES: dict[str, Any] = {
    "enable_compute": True,
    "image_tag": "e2e",
    "alarm_emails": ["oncall@example.com"],
    # moto answers Cost Explorer and two Budgets calls with HTTP 500 (module docstring).
    "cost_guardrails": {"enabled": False},
}

OPSCTL_FIELDS = {
    "region",
    "cluster",
    "service",
    "container_name",
    "task_family",
    "ecr_repository_url",
    "target_group_arn",
    "alb_url",
    "log_group",
    "deploy_bake",
}


def client(endpoint: Endpoint, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint.url,
        region_name=REGION,
        aws_access_key_id=MOTO_DUMMY_CREDENTIAL,
        aws_secret_access_key=MOTO_DUMMY_CREDENTIAL,
    )


def describe_changes(plan: Plan) -> str:
    """The changed resources, then Terraform's own account of the diff (without the refresh log)."""
    summary = "\n".join(f"  {c.address}: {'/'.join(c.actions)}" for c in plan.changes)
    text = plan.step.stdout
    start = text.find("Terraform used the selected providers")
    return f"{summary}\n{text[start:] if start >= 0 else text}"


class Stack:
    """The bootstrap and dev roots of one run, with the timings of every step."""

    def __init__(
        self, bootstrap: TerraformRoot, dev: TerraformRoot, record: Callable[[str, Step], None]
    ) -> None:
        self.bootstrap = bootstrap
        self.dev = dev
        self.record = record
        self.opsctl: dict[str, Any] = {}
        self.bootstrap_outputs: dict[str, Any] = {}


@pytest.fixture(scope="module")
def stack(
    emulator: Endpoint, tmp_path_factory: pytest.TempPathFactory, timings: list[tuple[str, float]]
) -> Stack:
    def record(label: str, step: Step) -> None:
        timings.append((label, step.seconds))

    bootstrap = TerraformRoot(
        INFRA,
        "bootstrap",
        workdir=tmp_path_factory.mktemp("bootstrap"),
        endpoint=emulator,
        variables=BOOTSTRAP_VARIABLES,
    )
    dev = TerraformRoot(
        INFRA,
        "envs/dev",
        workdir=tmp_path_factory.mktemp("dev"),
        endpoint=emulator,
        variables=DEV_VARIABLES,
    )

    def first_apply(root: TerraformRoot, label: str) -> None:
        record(f"{label}: init", root.init())
        record(f"{label}: apply", root.apply())

    with ThreadPoolExecutor(max_workers=2) as pool:
        for future in [
            pool.submit(first_apply, bootstrap, "bootstrap"),
            pool.submit(first_apply, dev, "dev"),
        ]:
            future.result()

    stack = Stack(bootstrap, dev, record)
    outputs = bootstrap.output()
    assert isinstance(outputs, dict)
    stack.bootstrap_outputs = {k: v["value"] for k, v in outputs.items()}
    return stack


def s3_backend(stack: Stack, key: str) -> S3Backend:
    outputs = stack.bootstrap_outputs
    return S3Backend(
        bucket=outputs["state_bucket"],
        key=key,
        region=REGION,
        dynamodb_table=outputs["lock_table"],
        kms_key_id=outputs["state_kms_key_arn"],
    )


def test_bootstrap_creates_backend_and_github_roles(stack: Stack, emulator: Endpoint) -> None:
    outputs = stack.bootstrap_outputs
    assert outputs["state_bucket"] == f"tfstate-{ACCOUNT}-{REGION}"
    assert outputs["lock_table"] == "fastapi-terraform-locks"
    roles = outputs["github_roles"]
    assert set(roles["deploy"]) == {"dev", "prod"} == set(roles["terraform_apply"])

    s3 = client(emulator, "s3")
    bucket = outputs["state_bucket"]
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    encryption = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"][
        "Rules"
    ][0]
    assert encryption["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    assert '"aws:SecureTransport":"false"' in s3.get_bucket_policy(Bucket=bucket)["Policy"].replace(
        " ", ""
    )

    iam = client(emulator, "iam")
    assert iam.list_users()["Users"] == []
    trust = iam.get_role(RoleName="fastapi-github-deploy-prod")["Role"]["AssumeRolePolicyDocument"]
    condition = trust["Statement"][0]["Condition"]["StringEquals"]
    assert condition["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
    # The environment, the workflow file and its branch (docs/security.md, "OIDC subjects").
    repo = "example-org/aws-fastapi-devsecops"
    assert condition["token.actions.githubusercontent.com:sub"] == (
        f"repo:{repo}:environment:prod:job_workflow_ref:"
        f"{repo}/.github/workflows/ecs-rollout.yml@refs/heads/main"
    )


def test_bootstrap_moves_its_own_state_into_its_bucket(stack: Stack, emulator: Endpoint) -> None:
    # infra/bootstrap/README.md: after the first apply, the bootstrap's state moves into the bucket.
    shutil.copy(
        stack.bootstrap.directory / "backend.tf.example", stack.bootstrap.directory / "backend.tf"
    )
    stack.record(
        "bootstrap: init -migrate-state",
        stack.bootstrap.migrate_backend(s3_backend(stack, "bootstrap/terraform.tfstate")),
    )
    plan = stack.bootstrap.plan()
    stack.record("bootstrap: plan (S3 backend)", plan.step)
    assert not plan.has_changes, (
        f"the bootstrap plans changes right after its apply:\n{describe_changes(plan)}"
    )
    objects = client(emulator, "s3").list_objects_v2(Bucket=stack.bootstrap_outputs["state_bucket"])
    assert "bootstrap/terraform.tfstate" in {o["Key"] for o in objects.get("Contents", [])}


def test_dev_state_moves_into_the_s3_backend_with_both_locks(
    stack: Stack, emulator: Endpoint
) -> None:
    stack.record(
        "dev: init -migrate-state",
        stack.dev.migrate_backend(s3_backend(stack, "dev/terraform.tfstate")),
    )
    bucket = stack.bootstrap_outputs["state_bucket"]
    head = client(emulator, "s3").head_object(Bucket=bucket, Key="dev/terraform.tfstate")
    assert head["ServerSideEncryption"] == "aws:kms"
    # Terraform keeps the state's checksum in the DynamoDB table: the table is really in use.
    items = client(emulator, "dynamodb").scan(TableName=stack.bootstrap_outputs["lock_table"])[
        "Items"
    ]
    assert f"{bucket}/dev/terraform.tfstate-md5" in {i["LockID"]["S"] for i in items}


def test_opsctl_output_has_every_field_opsctl_needs(stack: Stack) -> None:
    opsctl = stack.dev.output("opsctl")
    assert isinstance(opsctl, dict)
    stack.opsctl = opsctl
    assert set(opsctl) == OPSCTL_FIELDS
    assert all(isinstance(v, str) and v for v in opsctl.values()), opsctl
    assert opsctl["region"] == REGION
    assert opsctl["cluster"] == opsctl["service"] == opsctl["task_family"] == SERVICE
    assert opsctl["container_name"] == "app"
    assert opsctl["log_group"] == f"/aws/ecs/{SERVICE}"
    assert opsctl["ecr_repository_url"] == f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{SERVICE}"
    assert opsctl["target_group_arn"].startswith(
        f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{SERVICE}/"
    )
    assert opsctl["alb_url"].startswith("http://")
    assert opsctl["deploy_bake"] == "0s"  # dev's terraform.tfvars: no bake by default
    print(f"opsctl output: {opsctl}")


def test_load_balancer_matches_runbook(stack: Stack, emulator: Endpoint) -> None:
    elbv2 = client(emulator, "elbv2")
    (group,) = elbv2.describe_target_groups(Names=[SERVICE])["TargetGroups"]
    # Runbook 8.2.
    assert (group["HealthCheckPath"], group["HealthCheckPort"]) == ("/health", "traffic-port")
    assert (
        group["HealthCheckIntervalSeconds"],
        group["HealthyThresholdCount"],
        group["UnhealthyThresholdCount"],
    ) == (30, 2, 2)
    assert group["Matcher"]["HttpCode"] == "200"
    assert (group["TargetType"], group["Port"]) == ("ip", 8000)
    attributes = {
        a["Key"]: a["Value"]
        for a in elbv2.describe_target_group_attributes(TargetGroupArn=group["TargetGroupArn"])[
            "Attributes"
        ]
    }
    assert attributes["deregistration_delay.timeout_seconds"] == "30"

    (balancer,) = elbv2.describe_load_balancers(Names=[SERVICE])["LoadBalancers"]
    attributes = {
        a["Key"]: a["Value"]
        for a in elbv2.describe_load_balancer_attributes(
            LoadBalancerArn=balancer["LoadBalancerArn"]
        )["Attributes"]
    }
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert attributes["access_logs.s3.enabled"] == "true"
    # Runbook 4.1's alb-logs-<account>-<region>, with the environment: dev and prod share the
    # account and region (infra/envs/README.md, "Account layout").
    bucket = f"alb-logs-{ACCOUNT}-{REGION}-dev"
    assert attributes["access_logs.s3.bucket"] == bucket
    # What log delivery needs, as the emulated S3 stored it.
    policy = json.loads(client(emulator, "s3").get_bucket_policy(Bucket=bucket)["Policy"])
    writers = {
        json.dumps(s["Principal"], sort_keys=True): s["Resource"]
        for s in policy["Statement"]
        if s["Effect"] == "Allow" and s["Action"] == "s3:PutObject"
    }
    assert writers == {
        '{"AWS": "arn:aws:iam::127311923021:root"}': f"arn:aws:s3:::{bucket}/AWSLogs/{ACCOUNT}/*",
        '{"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}': (
            f"arn:aws:s3:::{bucket}/AWSLogs/{ACCOUNT}/*"
        ),
    }


def test_task_definition_matches_the_service_contract(stack: Stack, emulator: Endpoint) -> None:
    ecs = client(emulator, "ecs")
    definition = ecs.describe_task_definition(taskDefinition=SERVICE)["taskDefinition"]
    (container,) = definition["containerDefinitions"]
    assert container["image"] == f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{SERVICE}:e2e"
    assert [(p["containerPort"], p["protocol"]) for p in container["portMappings"]] == [
        (8000, "tcp")
    ]
    # APP_SERVICE_NAME: the Service dimension of the service's own metrics, which the
    # service-5xx alarm (and so the bake window and ECS's deployment alarms) reads.
    assert {e["name"]: e["value"] for e in container["environment"]} == {
        "HOST": "0.0.0.0",
        "PORT": "8000",
        "APP_SERVICE_NAME": SERVICE,
    }
    assert container["logConfiguration"]["options"] == {
        "awslogs-group": f"/aws/ecs/{SERVICE}",
        "awslogs-region": REGION,
        "awslogs-stream-prefix": "ecs",
    }
    assert container["readonlyRootFilesystem"] is True
    assert container["user"] == "10001:10001"
    assert container["memoryReservation"] == 512
    assert container["stopTimeout"] == 30
    assert "/health" in " ".join(container["healthCheck"]["command"])
    assert definition["executionRoleArn"] != definition["taskRoleArn"]

    (service,) = ecs.describe_services(cluster=SERVICE, services=[SERVICE])["services"]
    assert service["taskDefinition"] == definition["taskDefinitionArn"]
    assert service["loadBalancers"][0]["containerPort"] == 8000
    assert service["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"] == "DISABLED"


def test_turning_compute_off_waits_for_deletion_protection_to_be_off(
    stack: Stack, emulator: Endpoint
) -> None:
    """ADR 0003: the toggle is a committed terraform.tfvars change; turning a protected load
    balancer off would delete the service and listeners and then fail on the load balancer, so
    the plan refuses. Here the plan reads the emulated load balancer's real attribute."""
    elbv2 = client(emulator, "elbv2")
    (balancer,) = elbv2.describe_load_balancers(Names=[SERVICE])["LoadBalancers"]

    def protect(on: bool) -> None:
        elbv2.modify_load_balancer_attributes(
            LoadBalancerArn=balancer["LoadBalancerArn"],
            Attributes=[{"Key": "deletion_protection.enabled", "Value": str(on).lower()}],
        )

    # Read after zz_harness.auto.tfvars.json (lexical order): as if tfvars said false.
    toggle = stack.dev.directory / "zz_toggle.auto.tfvars.json"
    toggle.write_text(json.dumps({"enable_compute": False}), encoding="utf-8")
    try:
        protect(True)
        with pytest.raises(TerraformCommandError) as refused:
            stack.dev.plan()
        stack.record("dev: plan enable_compute=false (refused)", refused.value.step)
        output = refused.value.step.stdout + refused.value.step.stderr
        assert "has deletion protection on" in output, output
        # Unprotected (dev's tfvars), the same plan goes through: the module's terraform test
        # checks that with a mocked provider, so the emulator's minute goes elsewhere.
    finally:
        toggle.unlink(missing_ok=True)
        protect(False)


def test_second_plan_is_empty(stack: Stack) -> None:
    plan = stack.dev.plan()
    stack.record("dev: plan -detailed-exitcode", plan.step)
    assert not plan.has_changes, (
        "a plan right after apply wants changes (drift or a perpetual diff):\n"
        + describe_changes(plan)
    )


def test_every_role_of_the_environment_carries_its_boundary(
    stack: Stack, emulator: Endpoint
) -> None:
    # Issue 10: the apply role may only create roles with the boundary; the stack names it by
    # the bootstrap's convention, and this is the bootstrap's own output for it.
    boundary = stack.bootstrap_outputs["permissions_boundaries"]["dev"]
    assert boundary == f"arn:aws:iam::{ACCOUNT}:policy/{SERVICE}-permissions-boundary"
    iam = client(emulator, "iam")
    assert iam.get_policy(PolicyArn=boundary)["Policy"]["PolicyName"] == (
        f"{SERVICE}-permissions-boundary"
    )
    roles = [r for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(f"{SERVICE}-")]
    assert {r["RoleName"] for r in roles} == {
        f"{SERVICE}-execution",
        f"{SERVICE}-task",
        f"{SERVICE}-flow-logs",
    }
    for role in roles:
        got = iam.get_role(RoleName=role["RoleName"])["Role"].get("PermissionsBoundary", {})
        assert got.get("PermissionsBoundaryArn") == boundary, role["RoleName"]


def test_the_s3_endpoint_refuses_a_task_writing_to_someone_elses_bucket(
    stack: Stack, emulator: Endpoint
) -> None:
    # Issue 10: with the default (allow-all) endpoint policy, a compromised task could copy data
    # to any bucket of the region, an attacker's own included. The applied policy, evaluated for
    # credentials that may do anything in S3:
    endpoints = client(emulator, "ec2").describe_vpc_endpoints(
        Filters=[{"Name": "service-name", "Values": [f"com.amazonaws.{REGION}.s3"]}]
    )["VpcEndpoints"]
    (endpoint,) = endpoints
    policy = ResourcePolicy(
        ResourcePolicyKind.ENDPOINT, statements(json.loads(endpoint["PolicyDocument"]))
    )
    task = Caller(f"arn:aws:iam::{ACCOUNT}:role/{SERVICE}-task", ACCOUNT, statements(ANY_S3))
    layer = f"arn:aws:s3:::prod-{REGION}-starport-layer-bucket/sha256/0123"
    assert decide(task, Request("s3:GetObject", (layer,)), policy), "image pulls still work"
    for attempt in (
        Request("s3:PutObject", ("arn:aws:s3:::attacker-bucket/loot.json",)),
        Request(
            "s3:GetObject", (f"arn:aws:s3:::tfstate-{ACCOUNT}-{REGION}/prod/terraform.tfstate",)
        ),
        Request("s3:PutObject", (f"arn:aws:s3:::prod-{REGION}-starport-layer-bucket/x",)),
    ):
        decision = decide(task, attempt, policy)
        assert not decision, decision.reason
        assert "endpoint policy does not allow it" in decision.reason


ANY_S3 = {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}

# Actions of the plan role's refresh list that a plan of dev against the emulator does not call,
# and why: each is the provider's read of a resource dev does not have there.
NOT_CALLED_BY_THE_EMULATED_PLAN = {
    # The cost module: off in emulated runs (moto cannot serve Budgets and Cost Explorer).
    "budgets:ListTagsForResource": "cost",
    "budgets:ViewBudget": "cost",
    "ce:GetAnomalyMonitors": "cost",
    "ce:GetAnomalySubscriptions": "cost",
    "ce:ListTagsForResource": "cost",
    # No web ACL given (alb module, waf_web_acl_arn).
    "wafv2:GetWebACLForResource": "waf",
    # dev runs without NAT (network.nat_gateway = "none"): no Elastic IP, no NAT gateway.
    "ec2:DescribeAddresses": "nat",
    "ec2:DescribeAddressesAttribute": "nat",
    "ec2:DescribeNatGateways": "nat",
}


@contextmanager
def calls_from_terraform() -> Iterator[list[Call | str]]:
    """Every request Terraform sends to the emulator meanwhile (moto serves them in this
    process), decoded; a string for one that is not a signed API call."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    calls: list[Call | str] = []
    original = DomainDispatcherApplication.__call__

    def recorded(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        if "terraform" in environ.get("HTTP_USER_AGENT", "").lower():
            body = b""
            length = int(environ.get("CONTENT_LENGTH") or 0)
            if length and "s3" not in environ.get("HTTP_AUTHORIZATION", ""):
                body = environ["wsgi.input"].read(length)
                environ["wsgi.input"] = io.BytesIO(body)
            call = decode(environ, body)
            calls.append(call or f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}")
        return original(self, environ, start_response)

    DomainDispatcherApplication.__call__ = recorded  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        DomainDispatcherApplication.__call__ = original  # type: ignore[method-assign]


def test_a_pull_requests_plan_needs_only_what_the_plan_role_may_do(stack: Stack) -> None:
    """Issue 10, finding 2: the role pull requests assume had ReadOnlyAccess and lock writes.
    Its policy now lists the reads a refresh makes; this plan (as the Terraform workflow runs
    it for a pull request: -lock=false, the state in S3 with its DynamoDB digest) proves that
    list suffices, call by call, and that the role grants no refresh read nothing calls."""
    with calls_from_terraform() as calls:
        plan = terraform(stack.dev, "plan", "-lock=false", "-input=false", "-no-color")
    stack.record("dev: plan -lock=false (plan role's calls)", plan)
    account = Account.from_golden(INFRA / "bootstrap" / "iam.golden.json")
    unknown = sorted({str(c) for c in calls if isinstance(c, str)})
    assert unknown == [], f"requests iamsim.wire cannot read: {unknown}"
    needed: dict[str, Request] = {}
    for call in (c for c in calls if isinstance(c, Call)):
        requests = authorizations(call, ACCOUNT)
        assert requests is not None, f"iamsim.wire cannot map {call}"
        for request in requests:
            needed.setdefault(request.describe(), request)
    refused = {
        text: decision.reason
        for text, request in needed.items()
        if not (decision := account.check("fastapi-github-terraform-plan", request))
    }
    assert refused == {}, "the plan role lacks what a plan calls:\n" + "\n".join(
        f"  {reason}" for reason in refused.values()
    )
    actions = {r.action for r in needed.values()}
    assert {"s3:GetObject", "dynamodb:GetItem", "ec2:DescribeVpcs"} <= actions, sorted(actions)
    assert not {a for a in actions if a.split(":")[1].startswith(("Put", "Delete", "Create"))}
    # Least privilege the other way: every refresh action granted is one a plan calls.
    (granted,) = [
        s.actions
        for s in account.roles["fastapi-github-terraform-plan"].inline[
            "read-state-and-configuration"
        ]
        if s.sid == "RefreshTheStacksResources"
    ]
    unused = set(granted) - actions - set(NOT_CALLED_BY_THE_EMULATED_PLAN)
    assert unused == set(), f"the plan role grants reads no plan makes: {sorted(unused)}"
    print(f"plan role: {len(needed)} distinct authorizations, {len(actions)} actions, all allowed")


def before_the_stack(address: str) -> str:
    """Where a module of the environment lived before the stack (infra/stack): at the root, and
    the alert topics inside the observability and cost modules."""
    for now, then in (
        ("module.stack.module.alerts", "module.observability"),
        ("module.stack.module.billing_alerts", "module.cost"),
    ):
        if address == now or address.startswith(f"{now}["):
            return then + address.removeprefix(now)
    return address.removeprefix("module.stack").removeprefix(".")


def terraform(root: TerraformRoot, *args: str, stdin: str | None = None) -> Step:
    """``terraform <args>`` in the root's workspace, timed; a failure shows its output."""
    argv = (find_terraform(root.env), *args)
    started = time.monotonic()
    done = subprocess.run(
        argv,
        cwd=root.directory,
        env=root.env,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, f"terraform {' '.join(args)}:\n{done.stdout}{done.stderr}"
    return Step(" ".join(args), argv, 0, time.monotonic() - started, done.stdout, done.stderr)


def test_an_environment_created_before_the_stack_only_moves(stack: Stack) -> None:
    """The roots' and the stack's moved blocks: the state dev had before the stack (every module
    at the root, the alert topic in the observability module) plans as moves only: no resource
    destroyed or created, so nothing is recreated and no state is migrated by hand."""
    current = terraform(stack.dev, "state", "pull").stdout
    state = json.loads(current)
    # Data sources hold no infrastructure (every plan reads them again); the alert topic module's
    # own would collide with the observability module's.
    state["resources"] = [r for r in state["resources"] if r["mode"] == "managed"]
    for resource in state["resources"]:
        old = before_the_stack(resource.get("module", ""))
        if old:
            resource["module"] = old
        else:
            resource.pop("module", None)
    # -force: the same lineage, rewritten on purpose (a push normally refuses to replace a state).
    terraform(stack.dev, "state", "push", "-force", "-", stdin=json.dumps(state))
    try:
        # -refresh=false: what is at stake is where the state puts each resource; whether AWS
        # still matches the state is test_second_plan_is_empty's question.
        plan = terraform(
            stack.dev, "plan", "-refresh=false", "-input=false", "-no-color", "-out=moves.tfplan"
        )
        stack.record("dev: plan of the former layout", plan)
        shown = json.loads(terraform(stack.dev, "show", "-json", "moves.tfplan").stdout)
    finally:
        terraform(stack.dev, "state", "push", "-force", "-", stdin=current)
    changes = shown["resource_changes"]
    moved = {rc["previous_address"] for rc in changes if "previous_address" in rc}
    assert "module.observability.aws_sns_topic.this" in moved
    assert len(moved) > 50, sorted(moved)
    changed = sorted(
        f"{rc['address']}: {'/'.join(rc['change']['actions'])}"
        for rc in changes
        if rc["change"]["actions"] not in (["no-op"], ["read"])
    )
    assert changed == [], "the old layout's state would change:\n" + "\n".join(changed)


def test_destroy_leaves_nothing(stack: Stack, emulator: Endpoint) -> None:
    stack.record("dev: destroy", stack.dev.destroy())
    assert stack.dev.state_list() == ()
    ecs = client(emulator, "ecs")
    assert [c["status"] for c in ecs.describe_clusters(clusters=[SERVICE])["clusters"]] in (
        [],
        ["INACTIVE"],
    )
    assert client(emulator, "elbv2").describe_load_balancers()["LoadBalancers"] == []
    assert (
        client(emulator, "ec2").describe_vpcs(
            Filters=[{"Name": "tag:Service", "Values": [SERVICE]}]
        )["Vpcs"]
        == []
    )
