"""dev and prod share one AWS account and region (infra/envs/README.md, "Account layout"): nothing
either root creates may take a name the other one uses.

What a user would notice if it broke: the second environment's first apply fails half-way with
"BucketAlreadyExists" or "already exists" (or, worse, both roots fight over one resource), or the
account ends up with two budgets and billing alarms that each measure the whole account, or a
second AWS-services anomaly monitor that AWS refuses (an account has one).

Both roots are planned, with their committed terraform.tfvars and the compute turned on (so the
load balancer is in the plan too), against one emulated account; the names come from the saved
plans (`terraform show -json`), so they are the names Terraform would really use.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from localcloud.cloud.terraform import TerraformRoot, find_terraform
from localcloud.emulator import Endpoint

pytestmark = pytest.mark.needs_terraform

INFRA = Path(__file__).resolve().parents[1]
ENVS = ("dev", "prod")

# The attribute that names a resource of each kind in the account (and region); "name" otherwise.
IDENTIFIERS = {
    "aws_s3_bucket": "bucket",
    "aws_cloudwatch_metric_alarm": "alarm_name",
    "aws_cloudwatch_dashboard": "dashboard_name",
    "aws_ecs_task_definition": "family",
}
# Named only inside a parent that is itself unique (a role, a cluster, a VPC, a scalable target).
SCOPED_TO_A_PARENT = {
    "aws_iam_role_policy",
    "aws_ecs_service",
    "aws_security_group",
    "aws_appautoscaling_policy",
}
# What measures or watches the whole account: one root per account owns it.
ACCOUNT_WIDE = {"aws_ce_anomaly_monitor", "aws_budgets_budget"}


def saved_plan(root: TerraformRoot) -> dict[str, Any]:
    """``terraform plan`` of the root, then the saved plan as JSON (``terraform show -json``)."""
    root.init()
    plan = root.plan()
    assert plan.has_changes, f"{root.root}: an empty plan on an empty account"
    shown = subprocess.run(
        [find_terraform(root.env), "show", "-json", "harness.tfplan"],
        cwd=root.directory,
        env=root.env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    document: dict[str, Any] = json.loads(shown.stdout)
    return document


def created(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The managed resources a saved plan would create: type, address and planned attributes."""
    return [
        {"type": rc["type"], "address": rc["address"], "after": rc["change"]["after"] or {}}
        for rc in document["resource_changes"]
        if rc["mode"] == "managed" and "create" in rc["change"]["actions"]
    ]


def account_names(resources: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    """(resource type, name) -> address, for every resource named in the account and region."""
    names: dict[tuple[str, str], str] = {}
    for resource in resources:
        if resource["type"] in SCOPED_TO_A_PARENT:
            continue
        name = resource["after"].get(IDENTIFIERS.get(resource["type"], "name"))
        if isinstance(name, str) and name:
            names[(resource["type"], name)] = resource["address"]
    return names


@pytest.fixture(scope="module")
def documents(
    emulator: Endpoint, tmp_path_factory: pytest.TempPathFactory, timings: list[tuple[str, float]]
) -> dict[str, dict[str, Any]]:
    """The saved plan of each root, planned side by side against one emulated account."""

    def plan(env: str) -> dict[str, Any]:
        root = TerraformRoot(
            INFRA,
            f"envs/{env}",
            workdir=tmp_path_factory.mktemp(f"names-{env}"),
            endpoint=emulator,
            # Only what puts every resource into the plan: the load balancer and the service
            # exist with the compute on, which needs an image tag, and (prod refuses plain HTTP)
            # a certificate, which adds the HTTPS listener. Everything else is the committed
            # terraform.tfvars.
            variables={
                "enable_compute": True,
                "image_tag": "names",
                "certificate_arn": (
                    "arn:aws:acm:us-east-1:123456789012:certificate/"
                    "11111111-2222-3333-4444-555555555555"
                ),
                "public_url": f"https://{env}.example.com",
            },
        )
        document = saved_plan(root)
        for step in root.steps:
            timings.append((f"{env} (names): {step.name}", step.seconds))
        return document

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(ENVS, pool.map(plan, ENVS), strict=True))


@pytest.fixture(scope="module")
def plans(documents: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    return {env: created(document) for env, document in documents.items()}


def test_the_two_roots_share_the_account_and_region(documents: dict[str, dict[str, Any]]) -> None:
    # The layout the docs describe, and the case where names matter most: if a root moved to
    # another region, only the global names (buckets) could still collide.
    regions = {env: document["variables"]["region"]["value"] for env, document in documents.items()}
    assert regions == {"dev": "us-east-1", "prod": "us-east-1"}


def test_no_name_is_taken_by_both_roots(plans: dict[str, list[dict[str, Any]]]) -> None:
    dev, prod = (account_names(plans[env]) for env in ENVS)
    # Enough names to mean something: buckets, roles, cluster, load balancer, alarms, keys...
    assert len(dev) > 20, sorted(dev)
    both = dev.keys() & prod.keys()
    shared = sorted(f"{kind} {name!r}: {dev[(kind, name)]}" for kind, name in both)
    assert shared == [], "dev and prod would both create:\n" + "\n".join(shared)


def test_access_log_buckets_keep_the_runbooks_name_with_the_environment(
    plans: dict[str, list[dict[str, Any]]],
) -> None:
    for env, resources in plans.items():
        buckets = {r["after"]["bucket"] for r in resources if r["type"] == "aws_s3_bucket"}
        assert buckets == {f"alb-logs-123456789012-us-east-1-{env}"}, env


def test_account_wide_guardrails_belong_to_exactly_one_root(
    plans: dict[str, list[dict[str, Any]]],
) -> None:
    owners = {
        env: Counter(r["type"] for r in resources if r["type"] in ACCOUNT_WIDE)
        for env, resources in plans.items()
    }
    # prod's root owns the account's budget and its one AWS-services anomaly monitor.
    assert owners == {
        "dev": Counter(),
        "prod": Counter({"aws_ce_anomaly_monitor": 1, "aws_budgets_budget": 1}),
    }
    billing_alarms = {
        env: [
            r["after"]["alarm_name"]
            for r in resources
            if r["type"] == "aws_cloudwatch_metric_alarm"
            and r["after"].get("namespace") == "AWS/Billing"
        ]
        for env, resources in plans.items()
    }
    assert billing_alarms == {"dev": [], "prod": ["fastapi-prod-estimated-charges"]}
