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
    expected_commit: str | None = None,
) -> Verification:
    """Wait up to ``timeout`` for healthy targets, then smoke-test ``url``/health; without a
    URL the smoke test is skipped (``smoke_ok`` None) for the reason ``skipped``.

    With ``expected_commit`` (the image's ``org.opencontainers.image.revision`` label),
    ``/health`` must also report that commit: an answer from another build (old tasks still
    answering, an image whose ``APP_COMMIT`` disagrees with its label) fails the smoke test."""
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
            expected_commit,
        )
    health_url = f"{url}/health"
    progress.note(f"verifying: GET {health_url}")
    status, body, error = None, None, None
    mismatch: str | None = None
    while True:
        status, body, error = smoke(health_url, timeout=min(10.0, max(timeout, 1.0)))
        ok = status == 200 and (body is None or body.get("status", "ok") == "ok")
        mismatch = _commit_mismatch(body, expected_commit) if ok else None
        ok = ok and mismatch is None
        if ok or time.monotonic() >= deadline:
            break
        time.sleep(poll_interval)
    detail = (
        None
        if ok
        else (
            mismatch
            or error
            or f"GET {health_url} answered {status} {json.dumps(body) if body else ''}".strip()
        )
    )
    version = str(body["version"]) if body and "version" in body else None
    commit = str(body["commit"]) if body and "commit" in body else None
    return Verification(
        healthy, targets, health_url, status, ok, version, commit, detail, expected_commit
    )


SHORT_COMMIT = 7
"""A commit given shorter than the other side still matches when it is at least this long and
a prefix of it (``git rev-parse --short`` gives 7 characters)."""


def same_commit(reported: str, expected: str) -> bool:
    """Whether two spellings of a git commit (full or abbreviated) name the same one."""
    a, b = reported.strip().lower(), expected.strip().lower()
    if a == b:
        return True
    shorter, longer = sorted((a, b), key=len)
    return len(shorter) >= SHORT_COMMIT and longer.startswith(shorter)


def _commit_mismatch(body: dict[str, object] | None, expected: str | None) -> str | None:
    """Why ``/health``'s answer is not the build the image label names (None when it is, or
    when the image has no label to compare with)."""
    if not expected:
        return None
    reported = str(body.get("commit")) if body and body.get("commit") is not None else None
    if reported is None:
        return (
            f"/health reports no commit, but the image was built from {expected} "
            "(its org.opencontainers.image.revision label)"
        )
    if same_commit(reported, expected):
        return None
    return (
        f"/health reports commit {reported}, but the image was built from {expected} (its "
        "org.opencontainers.image.revision label): the answer came from another build, or the "
        "image's APP_COMMIT disagrees with its label"
    )
