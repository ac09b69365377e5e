"""Drill 8, runbook 3.2 "Manual Rollback" with the plain AWS CLI commands of the runbook.

After a deploy, the previous revision is found and the service pointed back at it with
``aws ecs`` alone, through ``AWS_ENDPOINT_URL`` (what ``source .localcloud/env`` exports),
then validated (step 4: the tasks run it, targets healthy, logs, ``/health``)::

    aws ecs list-task-definitions --family-prefix fastapi-dev
    aws ecs update-service --cluster fastapi-dev --service fastapi-dev \\
        --task-definition fastapi-dev:<previous>
    aws ecs update-service --cluster fastapi-dev --service fastapi-dev --force-new-deployment
    aws ecs describe-services --cluster fastapi-dev --services fastapi-dev
    aws elbv2 describe-target-health --target-group-arn <arn>
    aws logs filter-log-events --log-group-name /aws/ecs/fastapi-dev
"""

from __future__ import annotations

import pytest
from localcloud.testing.drills import Operator, expect

pytestmark = pytest.mark.needs_terraform


def test_manual_rollback_with_the_aws_cli(cloud: Operator) -> None:
    previous = cloud.service()["taskDefinition"]
    previous_commit = cloud.get("/health").json["commit"]
    cloud.push_image("drill-08")
    deploy = cloud.opsctl("deploy", "--image-tag", "drill-08")
    expect(deploy.returncode == 0, "deploying drill-08 failed", deploy)
    expect(cloud.get("/health").json["commit"] == "drill-08", "drill-08 does not run", deploy)

    # Step 1: identify the previous revision.
    revisions = cloud.aws_json(
        "ecs", "list-task-definitions", "--family-prefix", cloud.cloud.service
    )["taskDefinitionArns"]
    expect(previous in revisions, "the previous revision is not listed", revisions)
    family_revision = previous.rsplit("/", 1)[1]

    # Step 2: update the service to use it.
    update = cloud.aws_json(
        "ecs", "update-service", "--cluster", cloud.cloud.cluster, "--service",
        cloud.cloud.service, "--task-definition", family_revision,
    )  # fmt: skip
    expect(update["service"]["taskDefinition"] == previous, "not pointed back", update)
    expect(update["service"]["deployments"][0]["rolloutState"] == "IN_PROGRESS", "", update)
    cloud.wait("the rollback deployment to complete", cloud.healthy, timeout=90)

    # Step 3: force a new deployment (fresh tasks of the same revision).
    forced = cloud.aws_json(
        "ecs", "update-service", "--cluster", cloud.cloud.cluster, "--service",
        cloud.cloud.service, "--force-new-deployment",
    )  # fmt: skip
    fresh = forced["service"]["deployments"][0]["id"]
    expect(forced["service"]["taskDefinition"] == previous, "revision changed", forced)

    def completed() -> bool:
        deployments = cloud.service()["deployments"]
        return [d["id"] for d in deployments] == [fresh] and cloud.healthy()

    cloud.wait("the forced deployment to complete", completed, timeout=90)

    # Step 4: validate logs and ALB health.
    cluster, name = cloud.cloud.cluster, cloud.cloud.service
    arns = cloud.aws_json("ecs", "list-tasks", "--cluster", cluster, "--service-name", name)[
        "taskArns"
    ]
    tasks = cloud.aws_json("ecs", "describe-tasks", "--cluster", cluster, "--tasks", *arns)["tasks"]
    expect(all(t["taskDefinitionArn"] == previous for t in tasks), "wrong revision", tasks)
    health = cloud.aws_json(
        "elbv2", "describe-target-health", "--target-group-arn", cloud.target_group_arn()
    )["TargetHealthDescriptions"]
    expect({t["TargetHealth"]["State"] for t in health} == {"healthy"}, "targets", health)
    answer = cloud.get("/health")
    expect(answer.json["commit"] == previous_commit, "/health reports another build", answer)
    stream = f"ecs/app/{tasks[0]['taskArn'].rsplit('/', 1)[1]}"
    logs = cloud.aws_json(
        "logs", "filter-log-events", "--log-group-name", cloud.cloud.log_group,
        "--log-stream-names", stream,
    )  # fmt: skip
    expect(any("service started" in e["message"] for e in logs["events"]), "no logs", logs)
