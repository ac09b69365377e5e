"""Drill 7, runbook 4.3 "State drift" (and 3.3: plan, then apply).

During an incident someone turns the deployment circuit breaker off in the console (here: the
AWS CLI). ``terraform plan -detailed-exitcode`` finds it (exit 2, the ECS service would be
updated); ``terraform apply`` restores the planned state and the next plan is empty::

    aws ecs update-service --cluster fastapi-dev --service fastapi-dev \\
        --deployment-configuration 'deploymentCircuitBreaker={enable=false,rollback=false}'
    terraform -chdir=<env root> plan -detailed-exitcode     # exit 2: drift
    terraform -chdir=<env root> apply
    terraform -chdir=<env root> plan -detailed-exitcode     # exit 0
"""

from __future__ import annotations

import pytest
from localcloud.testing.drills import Operator, expect

pytestmark = pytest.mark.needs_terraform


def test_plan_detects_drift_and_apply_restores(cloud: Operator) -> None:
    clean = cloud.terraform("plan", "-detailed-exitcode", "-input=false")
    expect(clean.returncode == 0, "the plan is not empty before the drill", clean)

    changed = cloud.aws(
        "ecs", "update-service", "--cluster", cloud.cloud.cluster, "--service",
        cloud.cloud.service, "--deployment-configuration",
        "deploymentCircuitBreaker={enable=false,rollback=false}",
    )  # fmt: skip
    expect(changed.returncode == 0, "aws ecs update-service failed", changed)

    drift = cloud.terraform("plan", "-detailed-exitcode", "-input=false")
    expect(drift.returncode == 2, "terraform plan does not report the drift", drift)
    expect("module.ecs_service.aws_ecs_service.this[0] will be updated" in drift.stdout, "", drift)
    expect("enable   = false -> true" in drift.stdout, "no circuit breaker change", drift)

    apply = cloud.terraform("apply", "-auto-approve", "-input=false")
    expect(apply.returncode == 0, "terraform apply failed", apply)
    after = cloud.terraform("plan", "-detailed-exitcode", "-input=false")
    expect(after.returncode == 0, "the plan is not empty after apply", after)
    breaker = cloud.service()["deploymentConfiguration"]["deploymentCircuitBreaker"]
    expect(breaker == {"enable": True, "rollback": True}, "breaker not restored", breaker)
