"""Keeping the service deployments of a simulated service up to date with its rollouts.

Each new PRIMARY deployment (CreateService, UpdateService, ``forceNewDeployment``) begins a
service deployment (:func:`begin`); the scheduler reports its progress (:func:`started`,
:func:`completed`) and the circuit breaker, the deployment alarms and StopServiceDeployment its
failure (:mod:`localcloud.ecs.failure`); :func:`refresh` copies the task counts into the ongoing
ones before each publish. Statuses: :mod:`localcloud.ecs.servicedeployments`.
"""

from __future__ import annotations

from typing import Any

from localcloud.ecs import backends
from localcloud.ecs.breaker import threshold
from localcloud.ecs.model import STARTING, Deployment, Phase, ServiceRecord
from localcloud.ecs.servicedeployments import (
    Monitor,
    ServiceDeployment,
    ServiceRevision,
    Status,
)

SUPERSEDED = "Service deployment stopped: the service was updated by a newer deployment."


def revision_of(svc: ServiceRecord, deployment: Deployment) -> ServiceRevision:
    """The service revision ``deployment`` runs, recorded on first use."""
    if deployment.revision is not None:
        return deployment.revision
    images: list[dict[str, str]] = []
    try:
        definition = svc.backend.describe_task_definition(deployment.task_definition)
        containers: list[dict[str, Any]] = list(definition.container_definitions)
    except Exception:  # a revision deregistered since: AWS keeps the ARN, so do we
        containers = []
    for container in containers:
        image = str(container.get("image", ""))
        entry = {"containerName": str(container.get("name", "")), "image": image}
        reference = backends.parse_ecr_image(image)
        resolved = backends.resolve_ecr_image(reference) if reference else None
        if resolved is not None:
            entry["imageDigest"] = resolved.digest
        images.append(entry)
    revision = ServiceRevision.new(
        account=svc.account,
        region=svc.region,
        cluster=svc.cluster,
        service=svc.name,
        deployment_id=deployment.id,
        task_definition=deployment.task_definition,
        launch_type=deployment.launch_type,
        platform_version=deployment.platform_version,
        load_balancers=svc.load_balancers,
        network_configuration=deployment.network_configuration,
        container_images=images,
    )
    deployment.revision = revision
    svc.revisions[revision.arn] = revision
    return revision


def begin(svc: ServiceRecord, deployment: Deployment) -> ServiceDeployment:
    """``deployment`` is the new PRIMARY: record its service deployment, over the revisions
    that run now; an ongoing older service deployment stops (superseded)."""
    for ongoing in svc.service_deployments:
        if not ongoing.finished:
            ongoing.move(Status.STOPPED, SUPERSEDED)
    sources = [revision_of(svc, d) for d in svc.deployments if d is not deployment]
    record = ServiceDeployment.new(
        account=svc.account,
        region=svc.region,
        cluster=svc.cluster,
        service=svc.name,
        target=revision_of(svc, deployment),
        sources=sources,
        configuration=dict(svc.deployment_configuration),
    )
    record.breaker_threshold = threshold(svc.desired_count)
    deployment.service_deployment = record
    svc.service_deployments.insert(0, record)
    return record


def owns_target(deployment: Deployment) -> bool:
    """Whether ``deployment`` deploys its service deployment's target (not a rollback)."""
    record = deployment.service_deployment
    return record is not None and deployment.revision is record.target.revision


def started(deployment: Deployment) -> None:
    """The scheduler's first pass over ``deployment``: PENDING -> IN_PROGRESS."""
    record = deployment.service_deployment
    if record is not None and record.status == Status.PENDING and owns_target(deployment):
        record.move(Status.IN_PROGRESS)
        record.lifecycle_stage = "SCALE_UP"


def baking(deployment: Deployment) -> None:
    """The deployment alarms' bake time began."""
    record = deployment.service_deployment
    if record is not None and owns_target(deployment):
        record.lifecycle_stage = "BAKE_TIME"


def completed(deployment: Deployment) -> None:
    """``deployment`` COMPLETED: its service deployment SUCCEEDED, or its rollback did."""
    record = deployment.service_deployment
    if record is None or record.finished:
        return
    record.lifecycle_stage = "CLEAN_UP"
    if owns_target(deployment):
        record.move(Status.SUCCESSFUL, "Service deployment completed successfully.")
    elif record.status == Status.ROLLBACK_IN_PROGRESS:
        record.move(Status.ROLLBACK_SUCCESSFUL)


def refresh(svc: ServiceRecord) -> None:
    """Copy task counts, failure counts and thresholds into the ongoing service deployments."""
    tasks = list(svc.tasks.values())
    by_revision: dict[str, list[Deployment]] = {}
    for deployment in svc.deployments:
        if deployment.revision is not None:
            by_revision.setdefault(deployment.revision.arn, []).append(deployment)
    primary = svc.deployments[0] if svc.deployments else None
    for record in svc.service_deployments:
        if record.finished:
            continue
        for counts in (record.target, *record.sources):
            deployments = by_revision.get(counts.revision.arn, [])
            own = [t for t in tasks if t.deployment in deployments]
            counts.running = sum(1 for t in own if t.phase == Phase.RUNNING)
            counts.pending = sum(1 for t in own if t.phase in STARTING)
            counts.requested = svc.desired_count if primary in deployments else 0
        target = next((d for d in svc.deployments if d.revision is record.target.revision), None)
        if target is not None:
            record.breaker_failures = target.failed_tasks
        record.breaker_threshold = threshold(svc.desired_count)


def find(svc: ServiceRecord, arn: str) -> ServiceDeployment | None:
    return next((r for r in svc.service_deployments if r.arn == arn), None)


def mark_monitor(record: ServiceDeployment, monitor: str, triggered: tuple[str, ...]) -> None:
    """The breaker (``monitor='breaker'``) or the alarms (``'alarms'``) failed the deployment."""
    if monitor == "breaker":
        record.breaker_status = Monitor.TRIGGERED
    else:
        record.alarm_status = Monitor.TRIGGERED
        record.triggered_alarms = triggered
