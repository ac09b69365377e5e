"""Drill 3, runbook 4.2 "Task running but unhealthy: app not listening on correct port".

A revision whose environment says ``PORT=8081`` while the container port (and the target group)
use 8000 is deployed by hand, as in runbook 2.2 step 3: the app starts, listens on 8081, and the
load balancer's health checks on 8000 fail. ``opsctl diagnose`` names the port mismatch with its
evidence; ``opsctl rollback`` (3.2) goes back to the last known good revision::

    aws ecs register-task-definition --cli-input-json file://taskdef-port-8081.json
    aws ecs update-service --cluster fastapi-dev --service fastapi-dev \\
        --task-definition fastapi-dev:<N>
    aws elbv2 describe-target-health --target-group-arn <arn>   # Target.FailedHealthChecks
    opsctl diagnose                                             # exit 20: port-mismatch
    opsctl rollback                                             # exit 0
"""

from __future__ import annotations

from typing import Any

import pytest
from localcloud.testing.drills import Operator, expect, findings

pytestmark = pytest.mark.needs_terraform


def _listen_on_8081(definition: dict[str, Any]) -> None:
    for variable in definition["containerDefinitions"][0]["environment"]:
        if variable["name"] == "PORT":
            variable["value"] = "8081"


def test_diagnose_names_the_port_mismatch(cloud: Operator) -> None:
    good = cloud.service()["taskDefinition"]
    bad = cloud.register_variant(good, _listen_on_8081)
    update = cloud.aws(
        "ecs", "update-service", "--cluster", cloud.cloud.cluster, "--service",
        cloud.cloud.service, "--task-definition", bad,
    )  # fmt: skip
    expect(update.returncode == 0, "aws ecs update-service failed", update)

    def unhealthy() -> bool:
        return any(t["TargetHealth"]["State"] == "unhealthy" for t in cloud.target_health())

    cloud.wait("a target of the new revision to turn unhealthy", unhealthy, timeout=60)
    reasons = {t["TargetHealth"].get("Reason") for t in cloud.target_health()}
    expect("Target.FailedHealthChecks" in reasons, "unexpected reason codes", reasons)

    diagnose = cloud.opsctl("--output", "json", "diagnose")
    expect(diagnose.returncode == 20, "diagnose must exit 20 (problems found)", diagnose)
    found = findings(diagnose)
    expect("port-mismatch" in found, "diagnose does not name the port mismatch", diagnose)
    evidence = " ".join(found["port-mismatch"]["evidence"])
    expect("8081" in evidence and "8000" in evidence, "the evidence names no ports", evidence)

    rollback = cloud.opsctl("rollback")
    expect(rollback.returncode == 0, "opsctl rollback failed", rollback)
    expect(cloud.service()["taskDefinition"] == good, "not back on the good revision", rollback)
