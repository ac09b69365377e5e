"""Drill 1, runbook 2.1 (Standard Deployment) and its step 3 (Verify deployment).

An image is pushed and deployed with the command the "ECS Deploy" workflow runs, then verified
exactly as step 3 says, with the runbook's own tools::

    localcloud image push --tag drill-01          # CI's `make image-push` in AWS
    opsctl deploy --image-tag drill-01            # exit 0 only once /health answers 200
    aws ecs describe-services --cluster fastapi-dev --services fastapi-dev   # events
    aws ecs list-tasks --cluster fastapi-dev --service-name fastapi-dev      # RUNNING tasks
    aws ecs describe-tasks --cluster fastapi-dev --tasks <arn>...
    aws elbv2 describe-target-health --target-group-arn <arn>                # healthy
    curl <ALB>/health                                                        # 200
    aws logs filter-log-events --log-group-name /aws/ecs/fastapi-dev         # 4.1, 5.1
"""

from __future__ import annotations

import pytest
from localcloud.testing.drills import Operator, expect

pytestmark = pytest.mark.needs_terraform


def test_standard_deployment_verified_as_runbook_2_1(cloud: Operator) -> None:
    digest = cloud.push_image("drill-01")

    deploy = cloud.opsctl("deploy", "--image-tag", "drill-01")
    expect(deploy.returncode == 0, "opsctl deploy did not succeed", deploy)
    expect("deploy succeeded" in deploy.stdout, "deploy does not say it succeeded", deploy)

    # Step 3, with the runbook's commands: ECS service events...
    cluster, name = cloud.cloud.cluster, cloud.cloud.service
    service = cloud.aws_json("ecs", "describe-services", "--cluster", cluster, "--services", name)[
        "services"
    ][0]
    messages = [e["message"] for e in service["events"]]
    expect(
        any("deployment completed" in m for m in messages[:5]),
        "no 'deployment completed' event among the newest",
        messages,
    )
    revision = service["taskDefinition"]
    # ... the new tasks reach RUNNING, with the image just pushed...
    arns = cloud.aws_json("ecs", "list-tasks", "--cluster", cluster, "--service-name", name)[
        "taskArns"
    ]
    tasks = cloud.aws_json("ecs", "describe-tasks", "--cluster", cluster, "--tasks", *arns)["tasks"]
    expect(len(tasks) == service["desiredCount"], "not every desired task runs", tasks)
    for task in tasks:
        expect(task["lastStatus"] == "RUNNING", "a task is not RUNNING", task)
        expect(task["taskDefinitionArn"] == revision, "a task runs another revision", task)
        expect(task["containers"][0]["imageDigest"] == digest, "a task runs another image", task)
    # ... ALB target health is healthy...
    health = cloud.aws_json(
        "elbv2", "describe-target-health", "--target-group-arn", cloud.target_group_arn()
    )["TargetHealthDescriptions"]
    expect(
        {t["TargetHealth"]["State"] for t in health} == {"healthy"}, "targets not healthy", health
    )
    addresses = {
        detail["value"]
        for task in tasks
        for attachment in task["attachments"]
        for detail in attachment["details"]
        if detail["name"] == "privateIPv4Address"
    }
    expect(
        {t["Target"]["Id"] for t in health} == addresses,
        "the targets are not the running tasks' addresses",
        (health, tasks),
    )
    # ... and /health answers, through the load balancer.
    answer = cloud.get("/health")
    expect(answer.status == 200, "GET /health through the ALB is not 200", answer)
    expect(answer.json["commit"] == "drill-01", "/health reports another build", answer)

    # Runbook 4.1 / 5.1: the task's output is in /aws/ecs/<service>, stream ecs/app/<task-id>.
    task_id = tasks[0]["taskArn"].rsplit("/", 1)[-1]
    logs = cloud.aws_json(
        "logs", "filter-log-events", "--log-group-name", cloud.cloud.log_group,
        "--log-stream-names", f"ecs/app/{task_id}", "--filter-pattern", '"/health"',
    )  # fmt: skip
    expect(bool(logs["events"]), "no request line of the new task in CloudWatch Logs", logs)
