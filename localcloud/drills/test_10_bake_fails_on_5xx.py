"""Drill 10, runbook 2.1 step 3 and 3.1: a release that passes every health check and fails
under real traffic, caught by the bake window and rolled back.

The release bakes in two settings (``APP_SANDBOX_WORKERS=1``, ``APP_SCHEMA_TIMEOUT_SECONDS=60``)
that change nothing for ``/health``: ECS calls the deployment COMPLETED, the targets are healthy
and the smoke test passes. Under real traffic (requests with costly JSON Schemas) one worker is
busy for a minute and the requests behind it wait more than 5 s for a worker: 503 ``busy``
(docs/service.md; in the local cloud, whose clock runs 20 times faster, the load balancer's
scaled idle timeout of 3 s runs out first and it answers 504 itself).
``opsctl deploy --bake 30s --rollback-on-failure`` watches after COMPLETED, sees the 5xx in the
load balancer's metrics and the new task's access lines, marks the revision
failed and rolls back: exit 37 (bake failed, rolled back)::

    localcloud image push --tag drill-10-one-worker \\
        --env APP_SANDBOX_WORKERS=1 --env APP_SCHEMA_TIMEOUT_SECONDS=60
    opsctl deploy --image-tag drill-10-one-worker --bake 30s --rollback-on-failure
    curl <ALB>/process -d '<a costly schema>'   # six at once, while it bakes: 503 busy
    # -> exit 37: the bake failed on 5xx, the last known good revision is back
"""

from __future__ import annotations

import json
import shutil
import subprocess  # nosec B404 - argv list, no shell
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from localcloud.testing.drills import Operator, expect

pytestmark = pytest.mark.needs_terraform

DEPTH = 40
"""A schema whose definitions each refer to the next one twice walks 2**DEPTH paths on valid
data (docs/service.md: 0.29 s at 24, hours at 40): it keeps a sandbox worker busy until its
schema timeout."""


def _costly_request() -> bytes:
    definitions: dict[str, object] = {f"d{DEPTH}": {}}
    for i in range(DEPTH):
        definitions[f"d{i}"] = {"allOf": [{"$ref": f"#/$defs/d{i + 1}"}] * 2}
    schema = {"$defs": definitions, "$ref": "#/$defs/d0"}
    return json.dumps({"data": {"n": 1}, "expression": "n", "schema": schema}).encode()


def _post(url: str, body: bytes) -> int:
    request = urllib.request.Request(  # noqa: S310 - loopback URL of the local ALB
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        # B310: http:// to the local cloud's listener on 127.0.0.1.
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  # nosec B310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return 0


def test_the_bake_catches_5xx_under_traffic_and_rolls_back(cloud: Operator) -> None:
    good = cloud.service()["taskDefinition"]
    cloud.push_image(
        "drill-10-one-worker", APP_SANDBOX_WORKERS="1", APP_SCHEMA_TIMEOUT_SECONDS="60"
    )
    program = shutil.which("opsctl", path=cloud.env["PATH"])
    expect(program is not None, "opsctl is not installed", cloud.env["PATH"])
    # The deploy runs in the background, as in a pipeline, while traffic arrives.
    deploy = subprocess.Popen(  # nosec B603 - argv list
        [
            str(program), "--target-file", cloud.cloud.target_file, "deploy",
            "--image-tag", "drill-10-one-worker", "--bake", "30s", "--rollback-on-failure",
        ],
        env=cloud.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    seen: list[str] = []
    try:
        assert deploy.stderr is not None
        for line in deploy.stderr:
            seen.append(line)
            if "baking for" in line:
                break
        expect(any("baking for" in s for s in seen), "opsctl never began baking", "".join(seen))
        body = _costly_request()
        with ThreadPoolExecutor(max_workers=6) as pool:
            statuses = list(
                pool.map(lambda _: _post(f"{cloud.cloud.alb_url}/process", body), range(6))
            )
        # 503 busy from the task, or the ALB's own 504 when its (scaled) idle timeout of 3 s
        # runs out before the task's 5 s wait for a worker does.
        failed = [s for s in statuses if s in (503, 504)]
        expect(len(failed) >= 5, "the release did not fail under traffic", statuses)
        out, rest = deploy.communicate(timeout=240)
    finally:
        if deploy.poll() is None:
            deploy.kill()
            deploy.communicate()
    stderr = "".join(seen) + rest
    evidence = f"exit {deploy.returncode}\nstdout:\n{out}\nstderr:\n{stderr}"
    expect(
        deploy.returncode == 37, "opsctl deploy must exit 37 (bake failed, rolled back)", evidence
    )
    expect("completed but FAILED the bake window" in out, "no bake verdict", evidence)
    expect("5xx responses:" in out, "the 5xx evidence is missing", evidence)
    expect("ROLLED BACK to the last known good" in out, "no rollback verdict", evidence)
    expect(cloud.service()["taskDefinition"] == good, "not back on the good revision", evidence)
    revisions = cloud.opsctl("revisions")
    expect("bake_failed" in revisions.stdout, "the revision is not marked failed", revisions)
