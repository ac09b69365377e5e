"""Drill 9, runbook 3.1 and 3.2: a bad deploy stopped mid-way by a rollback.

A revision whose tasks listen on the wrong port (``PORT=8081``, the container port is 8000) is
deployed by hand (runbook 2.2 step 3). Its tasks start and fail the load balancer's health
checks; the circuit breaker and the deployment alarms would take minutes to give up. The
operator does not wait: ``opsctl rollback`` stops the deployment in progress with ECS's own
rollback (StopServiceDeployment), follows ECS's rollback deployment to the last known good
revision and verifies it; ECS's service deployment history says ROLLBACK_SUCCESSFUL::

    aws ecs register-task-definition --cli-input-json file://taskdef-port-8081.json
    aws ecs update-service --cluster fastapi-dev --service fastapi-dev \\
        --task-definition fastapi-dev:<N>
    opsctl status                           # the new deployment IN_PROGRESS, a target unhealthy
    opsctl rollback                         # exit 0: "stopped the deployment in progress"
    aws ecs list-service-deployments --cluster fastapi-dev --service fastapi-dev
    aws ecs describe-service-deployments --service-deployment-arns <arn>  # ROLLBACK_SUCCESSFUL
"""

from __future__ import annotations

from typing import Any

import pytest
from localcloud.testing.drills import Operator, expect

pytestmark = pytest.mark.needs_terraform


def _listen_on_8081(definition: dict[str, Any]) -> None:
    for variable in definition["containerDefinitions"][0]["environment"]:
        if variable["name"] == "PORT":
            variable["value"] = "8081"


def test_rollback_stops_a_bad_deploy_mid_way(cloud: Operator) -> None:
    good = cloud.service()["taskDefinition"]
    bad = cloud.register_variant(good, _listen_on_8081)
    update = cloud.aws_json(
        "ecs", "update-service", "--cluster", cloud.cloud.cluster, "--service",
        cloud.cloud.service, "--task-definition", bad,
    )  # fmt: skip
    deployment = update["service"]["deployments"][0]["id"]

    def failing() -> bool:
        primary = cloud.service()["deployments"][0]
        unhealthy = any(t["TargetHealth"]["State"] == "unhealthy" for t in cloud.target_health())
        return (
            primary["id"] == deployment and primary["rolloutState"] == "IN_PROGRESS" and unhealthy
        )

    cloud.wait("the new revision's target to fail its health checks", failing, timeout=60)
    status = cloud.opsctl("status")
    expect("IN_PROGRESS" in status.stdout, "status does not show the rollout in progress", status)

    rollback = cloud.opsctl("--output", "json", "rollback")
    expect(rollback.returncode == 0, "opsctl rollback failed", rollback)
    document = rollback.json
    expect(
        document["method"] == "stop_service_deployment",
        "the deployment in progress was not stopped with ECS's rollback",
        rollback,
    )
    expect(document["to_revision"]["task_definition"] == good, "not back on the good one", rollback)
    expect(document["verification"]["smoke_ok"] is True, "the rollback was not verified", rollback)
    expect(cloud.service()["taskDefinition"] == good, "the service does not run it", rollback)

    # ECS's own record of the stopped deployment, with the runbook's AWS CLI.
    listed = cloud.aws_json(
        "ecs", "list-service-deployments", "--cluster", cloud.cloud.cluster, "--service",
        cloud.cloud.service,
    )["serviceDeployments"]  # fmt: skip
    ours = [
        d
        for d in listed
        if d["targetServiceRevisionArn"].rsplit("/", 1)[-1] == deployment.rsplit("/", 1)[-1]
    ]
    expect(len(ours) == 1, "the bad deployment is not in ECS's history", listed)

    def rolled_back() -> bool:
        described = cloud.aws_json(
            "ecs", "describe-service-deployments", "--service-deployment-arns",
            ours[0]["serviceDeploymentArn"],
        )["serviceDeployments"][0]  # fmt: skip
        return described["status"] == "ROLLBACK_SUCCESSFUL"

    cloud.wait("ECS to record the rollback as successful", rolled_back, timeout=30)
