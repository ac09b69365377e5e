"""Drill 6, runbook 4.2 "ALB returning 502/503": no healthy target.

The running image disappears from ECR (a clean-up script deletes it by digest: deleting one
of its tags would only untag it, and opsctl's `deployed-*` tag keeps it from the lifecycle
policy), then the only task dies (a host is retired). ECS cannot pull the image for its
replacement, the target group is empty and the load balancer answers 503. ``opsctl diagnose``
names it (no healthy targets, the 503s it counted, and why the tasks cannot start); deploying
an image that exists fixes it::

    aws ecr batch-delete-image --repository-name fastapi-dev --image-ids imageDigest=<digest>
    aws ecs stop-task --cluster fastapi-dev --task <arn> --reason "host retired"
    curl -i <ALB>/health                           # 503
    opsctl diagnose          # exit 20: no-healthy-targets, alb-5xx (503), image-not-found
    opsctl deploy --image-tag <an image that exists>
"""

from __future__ import annotations

import pytest
from localcloud.testing.drills import Operator, expect, findings

pytestmark = pytest.mark.needs_terraform


def test_diagnose_names_the_503(cloud: Operator) -> None:
    digest = cloud.push_image("drill-06")
    deploy = cloud.opsctl("deploy", "--image-tag", "drill-06")
    expect(deploy.returncode == 0, "deploying drill-06 failed", deploy)

    described = cloud.aws_json(
        "ecr", "describe-images", "--repository-name", cloud.cloud.repository,
        "--image-ids", f"imageDigest={digest}",
    )  # fmt: skip
    tags = described["imageDetails"][0]["imageTags"]
    expect(any(t.startswith("deployed-") for t in tags), "deploy did not tag it deployed-*", tags)
    deleted = cloud.aws_json(
        "ecr", "batch-delete-image", "--repository-name", cloud.cloud.repository,
        "--image-ids", f"imageDigest={digest}",
    )  # fmt: skip
    expect(not deleted["failures"], "the image was not deleted", deleted)
    for task in cloud.tasks("RUNNING"):
        stopped = cloud.aws(
            "ecs", "stop-task", "--cluster", cloud.cloud.cluster, "--task", task["taskArn"],
            "--reason", "drill: host retired",
        )  # fmt: skip
        expect(stopped.returncode == 0, "aws ecs stop-task failed", stopped)

    cloud.wait("the ALB to answer 503", lambda: cloud.get("/health").status == 503, timeout=60)
    cloud.get("/process")  # a client's request, also refused

    def diagnosed() -> bool:
        found = findings(cloud.opsctl("--output", "json", "diagnose"))
        return {"no-healthy-targets", "alb-5xx", "image-not-found"} <= set(found)

    cloud.wait("diagnose to name the 503 and its cause", diagnosed, timeout=60)
    diagnose = cloud.opsctl("--output", "json", "diagnose")
    expect(diagnose.returncode == 20, "diagnose must exit 20", diagnose)
    found = findings(diagnose)
    expect("503" in found["alb-5xx"]["likely_cause"], "the 503 is not explained", diagnose)

    baseline = cloud.cloud.image_tags[0]
    fix = cloud.opsctl("deploy", "--image-tag", baseline)
    expect(fix.returncode == 0, "deploying an image that exists failed", fix)
    expect(cloud.get("/health").status == 200, "the ALB still refuses", cloud.describe())
