"""Drill 5, runbook 4.2 "Task stuck in PENDING": the image does not exist.

A revision naming a tag that was never pushed is deployed by hand (runbook 2.2 with a typo).
Its tasks sit in PENDING while the agent retries the pull, then stop with
``CannotPullContainerError``; ``opsctl diagnose`` names the missing image; the circuit breaker
rolls the deployment back and ``opsctl watch`` reports exactly that (exit 10)::

    aws ecs register-task-definition --cli-input-json file://taskdef-missing-image.json
    aws ecs update-service --cluster fastapi-dev --service fastapi-dev \\
        --task-definition fastapi-dev:<N>
    aws ecs describe-tasks --cluster fastapi-dev --tasks <arn>   # lastStatus PENDING
    opsctl diagnose                                              # exit 20: image-not-found
    opsctl watch --deployment <id>                               # exit 10: rolled back
"""

from __future__ import annotations

from typing import Any

import pytest
from localcloud.testing.drills import Operator, expect, findings

pytestmark = pytest.mark.needs_terraform


def test_diagnose_names_the_missing_image(cloud: Operator) -> None:
    good = cloud.service()["taskDefinition"]

    def never_pushed(definition: dict[str, Any]) -> None:
        container = definition["containerDefinitions"][0]
        repository = container["image"].split("@")[0].rsplit(":", 1)[0]
        container["image"] = f"{repository}:drill-05-never-pushed"

    bad = cloud.register_variant(good, never_pushed)
    update = cloud.aws_json(
        "ecs", "update-service", "--cluster", cloud.cloud.cluster, "--service",
        cloud.cloud.service, "--task-definition", bad,
    )  # fmt: skip
    deployment = update["service"]["deployments"][0]["id"]

    def pending() -> bool:
        return any(
            t["taskDefinitionArn"] == bad and t["lastStatus"] == "PENDING"
            for t in cloud.tasks("RUNNING")
        )

    cloud.wait("a task of the new revision in PENDING", pending, timeout=60)

    def named() -> bool:
        return "image-not-found" in findings(cloud.opsctl("--output", "json", "diagnose"))

    cloud.wait("diagnose to name the missing image", named, timeout=60)
    diagnose = cloud.opsctl("diagnose")
    expect(diagnose.returncode == 20, "diagnose must exit 20", diagnose)
    expect("CannotPullContainerError" in diagnose.stdout, "no pull error as evidence", diagnose)
    expect("drill-05-never-pushed" in diagnose.stdout, "the missing tag is not named", diagnose)

    watch = cloud.opsctl("watch", "--deployment", deployment)
    expect(watch.returncode == 10, "the circuit breaker must roll the deployment back", watch)
    expect(cloud.service()["taskDefinition"] == good, "not back on the good revision", watch)
