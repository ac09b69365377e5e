"""The post-deploy gate: the new deployment's targets are healthy and /health answers through
the load balancer (runbook 2.1 step 3: "Confirm ALB target health is healthy; hit /health")."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

from opsctl.aws import Aws
from opsctl.model import TargetHealth
from opsctl.progress import Progress
from opsctl.results import Verification


def deployment_targets(
    aws: Aws, cluster: str, service: str, deployment_id: str, group_arn: str, port: int
) -> tuple[TargetHealth, ...]:
    """Target health of the RUNNING tasks ECS started for ``deployment_id``."""
    tasks = [
        t
        for t in aws.service_tasks(cluster, service, "RUNNING")
        if t.started_by == deployment_id and t.private_ip
    ]
    if not tasks:
        return ()
    return tuple(aws.target_health(group_arn, [(t.private_ip or "", port) for t in tasks]))


def smoke(url: str, timeout: float) -> tuple[int | None, dict[str, object] | None, str | None]:
    """GET ``url``: status, JSON body (when it is JSON) and an error description."""
    request = urllib.request.Request(url, headers={"User-Agent": "opsctl-smoke-test"})  # noqa: S310 - the operator's URL
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310  # nosec B310 - the URL is checked to be http(s) first
            status, raw = int(response.status), response.read(65536)
    except urllib.error.HTTPError as error:
        return int(error.code), None, f"HTTP {error.code} {error.reason}"
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        return None, None, f"cannot reach {url}: {reason}"
    try:
        body = json.loads(raw)
    except ValueError:
        return status, None, None
    return status, body if isinstance(body, dict) else None, None


def verify(
    aws: Aws,
    *,
    cluster: str,
    service: str,
    deployment_id: str,
    group_arn: str | None,
    container_port: int | None,
    url: str | None,
    timeout: float,
    poll_interval: float,
    progress: Progress,
    skipped: str | None = None,
) -> Verification:
    """Wait up to ``timeout`` for healthy targets, then smoke-test ``url``/health; without a
    URL the smoke test is skipped (``smoke_ok`` None) for the reason ``skipped``."""
    deadline = time.monotonic() + timeout
    targets: tuple[TargetHealth, ...] = ()
    healthy: bool | None = None
    if group_arn and container_port:
        progress.note("verifying: the new tasks' targets are healthy")
        while True:
            targets = deployment_targets(
                aws, cluster, service, deployment_id, group_arn, container_port
            )
            healthy = bool(targets) and all(t.state == "healthy" for t in targets)
            if healthy or time.monotonic() >= deadline:
                break
            time.sleep(poll_interval)
    if url is None:
        return Verification(
            healthy,
            targets,
            None,
            None,
            None,
            None,
            None,
            skipped or "no URL to smoke-test; pass --url or set OPSCTL_URL",
        )
    health_url = f"{url}/health"
    progress.note(f"verifying: GET {health_url}")
    status, body, error = None, None, None
    while True:
        status, body, error = smoke(health_url, timeout=min(10.0, max(timeout, 1.0)))
        ok = status == 200 and (body is None or body.get("status", "ok") == "ok")
        if ok or time.monotonic() >= deadline:
            break
        time.sleep(poll_interval)
    detail = (
        None
        if ok
        else (
            error
            or f"GET {health_url} answered {status} {json.dumps(body) if body else ''}".strip()
        )
    )
    version = str(body["version"]) if body and "version" in body else None
    commit = str(body["commit"]) if body and "commit" in body else None
    return Verification(healthy, targets, health_url, status, ok, version, commit, detail)
