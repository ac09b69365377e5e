"""Drill 2, runbook 2.1 and 3.2: a bad release whose tasks crash at start.

The release is an image whose configuration bakes in ``APP_ENVIRONMENT=broken`` (the kind of
mistake an ``ENV`` line in a Dockerfile makes): ``app-serve`` refuses its settings and exits 2
before it listens, in every task. A deploy changes only the image, so the fault travels in the
image, as it would on Fargate: the local cloud's runtime honours the image's configuration.
The ECS circuit breaker stops the deployment and rolls back; ``opsctl deploy`` reports that, with
the cause, and exits 10; the logs show why; ``opsctl rollback`` then leaves the service healthy::

    localcloud image push --tag drill-02-broken --env APP_ENVIRONMENT=broken
    opsctl deploy --image-tag drill-02-broken      # exit 10: failed, rolled back, exit code 2
    opsctl logs --since 15m --filter '"invalid settings"'
    opsctl rollback                                # exit 0: already on the last known good
"""

from __future__ import annotations

import pytest
from localcloud.testing.drills import Operator, expect

pytestmark = pytest.mark.needs_terraform


def test_circuit_breaker_rolls_back_a_crashing_release(cloud: Operator) -> None:
    before = cloud.service()["taskDefinition"]
    cloud.push_image("drill-02-broken", APP_ENVIRONMENT="broken")

    deploy = cloud.opsctl("deploy", "--image-tag", "drill-02-broken")
    expect(deploy.returncode == 10, "opsctl deploy must exit 10 (rolled back)", deploy)
    expect("ROLLED BACK by the ECS circuit breaker" in deploy.stdout, "no rollback verdict", deploy)
    expect("Essential container in task exited (exit code 2)" in deploy.stdout, "no cause", deploy)
    expect(cloud.service()["taskDefinition"] == before, "the breaker did not restore", deploy)

    logs = cloud.opsctl("logs", "--since", "15m", "--filter", '"invalid settings"')
    expect(logs.returncode == 0, "opsctl logs failed", logs)
    expect("APP_ENVIRONMENT" in logs.stdout, "the logs do not say which setting is bad", logs)

    rollback = cloud.opsctl("rollback")
    expect(rollback.returncode == 0, "opsctl rollback failed", rollback)
    expect(cloud.healthy(), "the service is not healthy after the rollback", cloud.describe())
    answer = cloud.get("/health")
    expect(answer.status == 200, "/health through the ALB", answer)
