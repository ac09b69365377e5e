"""Drill 4, runbook 4.2 "Task running but unhealthy: health check path incorrect", fixed as
state drift (4.3): Terraform owns the target group.

Someone changes the health-check path outside Terraform; the tasks answer 404 on it, the
targets turn unhealthy (``Target.ResponseCodeMismatch``) and ECS starts replacing tasks.
``opsctl diagnose`` names the path; ``terraform apply`` puts the runbook's ``/health`` (8.2)
back and the service recovers::

    aws elbv2 modify-target-group --target-group-arn <arn> --health-check-path /healthz
    opsctl diagnose                          # exit 20: health-check-path, "checks /healthz"
    terraform -chdir=<env root> apply        # 1 changed: the target group's health check
"""

from __future__ import annotations

import pytest
from localcloud.testing.drills import Operator, expect, findings

pytestmark = pytest.mark.needs_terraform


def test_diagnose_names_the_health_check_path_and_terraform_restores_it(cloud: Operator) -> None:
    group = cloud.target_group_arn()
    changed = cloud.aws(
        "elbv2", "modify-target-group", "--target-group-arn", group, "--health-check-path",
        "/healthz",
    )  # fmt: skip
    expect(changed.returncode == 0, "aws elbv2 modify-target-group failed", changed)

    def mismatch() -> bool:
        return any(
            t["TargetHealth"].get("Reason") == "Target.ResponseCodeMismatch"
            for t in cloud.target_health()
        )

    cloud.wait("the targets to fail the health check with 404", mismatch, timeout=60)
    diagnose = cloud.opsctl("--output", "json", "diagnose")
    expect(diagnose.returncode == 20, "diagnose must exit 20", diagnose)
    found = findings(diagnose)
    expect("health-check-path" in found, "diagnose does not name the path", diagnose)
    expect("/healthz" in " ".join(found["health-check-path"]["evidence"]), "no path", diagnose)

    # The fix is Terraform's (drill 7 shows `terraform plan` finding such drift first).
    apply = cloud.terraform("apply", "-auto-approve", "-input=false")
    expect(apply.returncode == 0, "terraform apply failed", apply)
    expect("1 changed" in apply.stdout, "apply changed something else", apply)
    described = cloud.aws_json("elbv2", "describe-target-groups", "--target-group-arns", group)
    expect(described["TargetGroups"][0]["HealthCheckPath"] == "/health", "path", described)

    cloud.wait("the service to recover", cloud.healthy, timeout=90)
    after = cloud.opsctl("--output", "json", "diagnose")
    expect("health-check-path" not in findings(after), "diagnose still names the path", after)
