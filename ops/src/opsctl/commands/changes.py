"""``opsctl changes --since 6h``: what changed around the service, newest first (runbook 7,
escalation path "Review ECS events": what changed before it broke).

Each source is read on its own, concurrently, and fails on its own: an incident tool answers
with what it could read and says what it could not (``sources`` in the result). The entries are
built by :mod:`opsctl.timeline` (no AWS calls there).
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from opsctl import lkg, timeline
from opsctl.alarms import concerns
from opsctl.aws import PERMISSION_CODES, concurrently
from opsctl.commands import Context
from opsctl.errors import AwsError, OpsctlError
from opsctl.images import parse_image
from opsctl.model import (
    AlarmStateChange,
    Image,
    ObjectVersion,
    ServiceDeploymentRecord,
    ServiceRevisionRecord,
    TaskDefinition,
    TrailEvent,
)
from opsctl.results import ChangeEntry, ChangesResult, SourceStatus
from opsctl.s3url import parse_s3_url

T = TypeVar("T")

TRAIL_EVENTS = ("UpdateService", "CreateService", "StopServiceDeployment", "PutImage")
"""The CloudTrail events that say who changed the service or its images (one LookupEvents
lookup each: it takes one attribute per call)."""

SERVICE_DEPLOYMENTS = "ECS service deployments"
CLOUDTRAIL = "CloudTrail"
TASK_DEFINITIONS = "task definitions"
IMAGES = "ECR images"
ALARMS = "CloudWatch alarms"
TERRAFORM = "Terraform state"


@dataclass(frozen=True)
class Timeline:
    entries: tuple[ChangeEntry, ...]
    """Newest first."""
    sources: tuple[SourceStatus, ...]


def _why(error: OpsctlError) -> str:
    if isinstance(error, AwsError) and error.code in PERMISSION_CODES:
        return f"not permitted ({error.code}): {error.message}"
    return error.message


class _Reader:
    """Runs each source's reads, remembering the first failure of each source."""

    def __init__(self) -> None:
        self.failures: dict[str, str] = {}

    def get(self, source: str, future: Future[T] | None, empty: T) -> T:
        if future is None:
            return empty
        try:
            return future.result()
        except OpsctlError as error:
            self.failures.setdefault(source, _why(error))
            return empty


def collect(
    ctx: Context, since: datetime, until: datetime, state_url: str | None = None
) -> Timeline:
    """Read every source for [since, until] and merge their entries."""
    aws, target = ctx.aws, ctx.target
    cluster, service = target.cluster, target.name
    repository_url = (
        target.spec.ecr_repository_url
        or parse_image(target.task_definition.container(target.container_name).image).name
    )
    reference = parse_image(repository_url)
    ecr = reference.ecr
    state = state_url or target.spec.state_url
    reader = _Reader()
    bucket_key = None
    if state:
        try:
            bucket_key = parse_s3_url(state)
        except OpsctlError as error:  # read from an initialised root: a note, not a failure
            reader.failures[TERRAFORM] = error.message

    def trail() -> list[TrailEvent]:
        return [e for name in TRAIL_EVENTS for e in aws.trail_events(name, since, until)]

    def deployments() -> tuple[list[ServiceDeploymentRecord], list[ServiceRevisionRecord]]:
        records = aws.service_deployments(cluster, service, since=since)
        arns = [
            arn
            for r in records
            for arn in (r.target_revision, *r.source_revisions, r.rollback_revision or "")
            if arn
        ]
        return records, aws.service_revisions(arns)

    def alarm_history() -> tuple[list[AlarmStateChange], list[str]]:
        mine = [
            a.name
            for a in aws.metric_alarms()
            if concerns(a, cluster, service, target.target_group_arn)
        ]
        changes: list[AlarmStateChange] = []
        refused: list[str] = []
        with concurrently(4) as pool:
            futures = {name: pool.submit(aws.alarm_state_changes, name, since) for name in mine}
            for name, future in futures.items():
                try:
                    changes.extend(future.result())
                except OpsctlError as error:
                    refused.append(f"{name}: {_why(error)}")
        if refused and len(refused) == len(mine):
            raise OpsctlError(f"no alarm history could be read ({refused[0]})")
        return changes, refused

    with concurrently(6) as pool:
        trail_f = pool.submit(trail)
        deployments_f = pool.submit(deployments)
        definitions_f = pool.submit(lkg.scan, aws, target.family)
        images_f = (
            pool.submit(aws.list_images, ecr[0], ecr[1], reference.repository) if ecr else None
        )
        alarms_f = pool.submit(alarm_history)
        versions_f = pool.submit(aws.object_versions, *bucket_key) if bucket_key else None
        events: list[TrailEvent] = reader.get(CLOUDTRAIL, trail_f, [])
        records, revisions = reader.get(SERVICE_DEPLOYMENTS, deployments_f, ([], []))
        definitions: list[TaskDefinition] = reader.get(TASK_DEFINITIONS, definitions_f, [])
        images: list[Image] = reader.get(IMAGES, images_f, [])
        alarm_changes, refused_alarms = reader.get(ALARMS, alarms_f, ([], []))
        versions: list[ObjectVersion] = reader.get(TERRAFORM, versions_f, [])

    previous = {d.revision: d for d in definitions}
    missing = sorted(
        {
            d.revision - 1
            for d in definitions
            if d.registered_at is not None
            and d.registered_at >= since
            and d.revision > 1
            and d.revision - 1 not in previous
        }
    )
    for number in missing:  # deregistered since: DescribeTaskDefinition still answers
        try:
            found = aws.describe_task_definition(f"{target.family}:{number}")
        except OpsctlError:
            continue
        previous[found.revision] = found

    by_arn = {d.arn: d for d in definitions}
    made: dict[str, list[ChangeEntry]] = {
        SERVICE_DEPLOYMENTS: timeline.deployment_entries(
            records,
            {r.arn: r for r in revisions},
            events,
            by_arn,
            cluster=cluster,
            service=service,
        ),
        TASK_DEFINITIONS: [
            *timeline.verdict_entries(definitions, since),
            *timeline.task_definition_entries(definitions, previous, since),
        ],
        IMAGES: timeline.image_entries(images, events, reference.repository, since),
        ALARMS: timeline.alarm_entries(alarm_changes, since),
        TERRAFORM: timeline.terraform_entries(versions, state, since) if state else [],
    }
    attributed = sum(
        1
        for entries in made.values()
        for e in entries
        if (e.who_source or "").startswith(CLOUDTRAIL)
    )
    notes: dict[str, str | None] = {
        CLOUDTRAIL: f"{len(events)} event(s) read ({', '.join(TRAIL_EVENTS)})",
        IMAGES: None if ecr else f"{repository_url} is not an ECR repository",
        ALARMS: "history not read for " + "; ".join(refused_alarms) if refused_alarms else None,
        TERRAFORM: None
        if state
        else "state location unknown: pass --state-url s3://<bucket>/<env>/terraform.tfstate "
        "(or OPSCTL_STATE_URL), or --tf-dir of an initialised environment root",
    }
    sources = []
    for source in (
        SERVICE_DEPLOYMENTS,
        CLOUDTRAIL,
        TASK_DEFINITIONS,
        IMAGES,
        ALARMS,
        TERRAFORM,
    ):
        count = attributed if source == CLOUDTRAIL else len(made[source])
        if source in reader.failures:
            sources.append(SourceStatus(source, "failed", 0, reader.failures[source]))
        elif (source == IMAGES and not ecr) or (source == TERRAFORM and not state):
            sources.append(SourceStatus(source, "skipped", 0, notes[source]))
        else:
            empty = len(events) == 0 if source == CLOUDTRAIL else count == 0
            sources.append(
                SourceStatus(source, "empty" if empty else "read", count, notes.get(source))
            )
    return Timeline(timeline.merge(*made.values()), tuple(sources))


def run(ctx: Context, *, since: datetime, state_url: str | None = None) -> ChangesResult:
    until = datetime.now(UTC)
    found = collect(ctx, since, until, state_url)
    return ChangesResult(
        target=ctx.target_info(),
        since=since,
        until=until,
        changes=found.entries,
        sources=found.sources,
    )
