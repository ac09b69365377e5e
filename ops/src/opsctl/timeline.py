"""What changed around a service: one timeline from several sources (pure: no AWS calls here).

``opsctl changes`` (and ``diagnose``, for its first finding) reads each source on its own
(commands/changes.py) and turns what it read into :class:`~opsctl.results.ChangeEntry` values
here, then merges them newest first:

* ECS service deployments: who started each one, from CloudTrail's ``UpdateService`` /
  ``CreateService`` events (the deployment id is in the response) or else from the verdict
  opsctl recorded on the revision (``opsctl:*-by`` tags); rollbacks, and who stopped a
  deployment (``StopServiceDeployment``);
* opsctl's verdicts on revisions (ADR 0007 tags);
* task-definition revisions registered, with their differences from the revision before;
* images pushed to the service's repository, tags they were given (``deployed-*`` by opsctl),
  and tags that moved to another digest (CloudTrail ``PutImage``);
* state changes of the service's CloudWatch alarms;
* versions of the environment's Terraform state object (each apply writes one).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from opsctl import lkg
from opsctl.model import (
    AlarmStateChange,
    Image,
    ObjectVersion,
    ServiceDeploymentRecord,
    ServiceRevisionRecord,
    TaskDefinition,
    TrailEvent,
)
from opsctl.results import CAUSE_KINDS, Change, ChangeEntry, ChangeKind
from opsctl.taskdef import changes as diff

DETAIL_LINES = 6
"""Task-definition differences shown per revision in text (JSON has them all)."""
_DIGEST = re.compile(r"sha256:([0-9a-f]{8})[0-9a-f]{56}")
_REGISTRY = re.compile(r"^[a-z0-9.-]+\.amazonaws\.com(?:\.cn)?/")
_CONTAINER = re.compile(r"^containerDefinitions\[(\d+)\]\.")
_DEPLOYED_TAG = re.compile(r"^deployed-(\d{8}T\d{6}Z)$")
_ORDER = {kind: index for index, kind in enumerate(ChangeKind)}


def _name(value: object, default: str = "") -> str:
    """The name in a name-or-ARN parameter (``cluster``, ``service``)."""
    return str(value or default).rsplit("/", 1)[-1]


def _revision_name(task_definition: str) -> str:
    """``family:revision`` from a task definition ARN."""
    return task_definition.rsplit("/", 1)[-1] if task_definition else "?"


def _revision_number(task_definition: str) -> int | None:
    tail = task_definition.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else None


def shorten(value: object, limit: int = 60) -> str:
    """A value for a line of text: digests shortened, an ECR image without its registry's
    host, long values cut (JSON has them whole)."""
    text = "-" if value is None else _REGISTRY.sub("", str(value))
    text = _DIGEST.sub(lambda m: f"sha256:{m[1]}…", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def split_by(value: str | None) -> tuple[str | None, str | None]:
    """An ``opsctl:*-by`` tag: ``<principal ARN>[ <CI run URL>]``."""
    if not value:
        return None, None
    who, _, run = value.partition(" ")
    return who or None, run or None


# --- ECS service deployments --------------------------------------------------------------


def started_by(trail: Iterable[TrailEvent], cluster: str, service: str) -> dict[str, TrailEvent]:
    """The CloudTrail event that started each deployment of the service, by deployment id.

    ``UpdateService`` and ``CreateService`` answer with the service, whose PRIMARY deployment
    is the one the call started (the id opsctl follows, ADR 0007); CloudTrail keeps that
    answer in ``responseElements``.
    """
    found: dict[str, TrailEvent] = {}
    for event in sorted(trail, key=lambda e: e.at):
        if event.name not in ("UpdateService", "CreateService") or event.error:
            continue
        request = event.request
        if _name(request.get("service") or request.get("serviceName")) != _name(service):
            continue
        if _name(request.get("cluster"), "default") != _name(cluster):
            continue
        answered = event.response.get("service")
        deployments = answered.get("deployments", []) if isinstance(answered, Mapping) else []
        for deployment in deployments:
            if isinstance(deployment, Mapping) and deployment.get("status") == "PRIMARY":
                found.setdefault(str(deployment.get("id")), event)
    return found


def _by_time(
    trail: Iterable[TrailEvent], cluster: str, service: str, created: datetime
) -> TrailEvent | None:
    """When the response was not recorded: the service's last update in the two minutes
    before the deployment was created (ECS creates it while answering the call)."""
    candidates = [
        e
        for e in trail
        if e.name in ("UpdateService", "CreateService")
        and not e.error
        and _name(e.request.get("service") or e.request.get("serviceName")) == _name(service)
        and _name(e.request.get("cluster"), "default") == _name(cluster)
        and created - timedelta(minutes=2) <= e.at <= created + timedelta(seconds=5)
    ]
    return max(candidates, key=lambda e: e.at, default=None)


def _stopped_by(trail: Iterable[TrailEvent]) -> dict[str, TrailEvent]:
    """StopServiceDeployment events, by the service deployment ARN they name."""
    return {
        str(e.request.get("serviceDeploymentArn")): e
        for e in sorted(trail, key=lambda e: e.at)
        if e.name == "StopServiceDeployment" and not e.error
    }


def _tagged_by(
    definition: TaskDefinition | None, deployment_id: str | None
) -> tuple[str | None, str | None]:
    """Who opsctl recorded as running ``deployment_id`` of ``definition`` (its verdict tags)."""
    if definition is None or deployment_id is None:
        return None, None
    tags = definition.tags
    for deployment_key, by_key in (
        (lkg.VERIFIED_DEPLOYMENT, lkg.VERIFIED_BY),
        (lkg.FAILED_DEPLOYMENT, lkg.FAILED_BY),
    ):
        if tags.get(deployment_key) == deployment_id and tags.get(by_key):
            return split_by(tags[by_key])
    return None, None


def deployment_entries(
    deployments: Sequence[ServiceDeploymentRecord],
    revisions: Mapping[str, ServiceRevisionRecord],
    trail: Sequence[TrailEvent],
    definitions: Mapping[str, TaskDefinition],
    *,
    cluster: str,
    service: str,
) -> list[ChangeEntry]:
    """One entry per service deployment (when it was created) and one per rollback ECS made
    of it; ``definitions`` by ARN supplies opsctl's tags when CloudTrail says nothing."""
    starts = started_by(trail, cluster, service)
    stops = _stopped_by(trail)
    entries: list[ChangeEntry] = []
    for record in deployments:
        target = revisions.get(record.target_revision)
        source = next((revisions[a] for a in record.source_revisions if a in revisions), None)
        dst = _revision_name(target.task_definition) if target else "?"
        src = _revision_name(source.task_definition) if source else "-"
        name = record.deployment_id or record.arn.rsplit("/", 1)[-1]
        details = [
            f"{record.status}: {record.status_reason}" if record.status_reason else record.status
        ]
        if target and target.images:
            details += [f"image {shorten(digest or image)}" for image, digest in target.images]
        if record.triggered_alarms:
            details.append(f"alarms in ALARM: {', '.join(record.triggered_alarms)}")
        if record.finished_at:
            details.append(f"finished {record.finished_at.astimezone(UTC):%Y-%m-%d %H:%M:%SZ}")
        event = starts.get(record.deployment_id or "") or (
            _by_time(trail, cluster, service, record.created_at) if record.created_at else None
        )
        who: str | None = event.who if event else None
        source_of_who: str | None = f"CloudTrail {event.name}" if event else None
        run: str | None = None
        if who is None and target is not None:
            who, run = _tagged_by(definitions.get(target.task_definition), record.deployment_id)
            source_of_who = "opsctl tag" if who else None
        stop = stops.get(record.arn)
        if stop is not None:
            details.append(f"stopped by {stop.who or '?'} (CloudTrail StopServiceDeployment)")
        at = record.created_at or record.finished_at
        if at is None:
            continue
        entries.append(
            ChangeEntry(
                at=at,
                kind=ChangeKind.DEPLOYMENT,
                subject=name,
                summary=f"{name} {src} → {dst}",
                details=tuple(details),
                who=who,
                who_source=source_of_who,
                run_url=run,
                revision=_revision_number(target.task_definition) if target else None,
            )
        )
        if record.rollback_started_at is not None:
            back = revisions.get(record.rollback_revision or "")
            to = _revision_name(back.task_definition) if back else "the last completed revision"
            entries.append(
                ChangeEntry(
                    at=record.rollback_started_at,
                    kind=ChangeKind.ROLLBACK,
                    subject=name,
                    summary=f"{name} rolled back to {to}",
                    details=(record.rollback_reason,) if record.rollback_reason else (),
                    who=stop.who if stop else None,
                    who_source="CloudTrail StopServiceDeployment" if stop else None,
                    run_url=None,
                    revision=_revision_number(back.task_definition) if back else None,
                )
            )
    return entries


# --- opsctl's verdicts and the task definitions ------------------------------------------


def verdict_entries(definitions: Iterable[TaskDefinition], since: datetime) -> list[ChangeEntry]:
    """The verdicts opsctl recorded in revision tags since ``since`` (ADR 0007)."""
    entries = []
    for definition in definitions:
        tags = definition.tags
        name = f"{definition.family}:{definition.revision}"
        marks = (
            (
                lkg.VERIFIED_AT,
                lkg.VERIFIED_BY,
                "verified good"
                + (" (restored by the circuit breaker)" if tags.get(lkg.RESTORED_FROM) else ""),
                tags.get(lkg.VERIFIED_DEPLOYMENT),
            ),
            (
                lkg.FAILED_AT,
                lkg.FAILED_BY,
                f"marked {tags.get(lkg.FAILED_OUTCOME, 'failed')}",
                tags.get(lkg.FAILED_DEPLOYMENT),
            ),
            (lkg.ROLLED_BACK_AT, lkg.ROLLED_BACK_BY, "rolled back from", None),
        )
        for at_key, by_key, words, deployment in marks:
            at = lkg.parse_stamp(tags.get(at_key))
            if at is None or at < since:
                continue
            who, run = split_by(tags.get(by_key))
            entries.append(
                ChangeEntry(
                    at=at,
                    kind=ChangeKind.VERDICT,
                    subject=name,
                    summary=f"{name} {words}",
                    details=(f"deployment {deployment}",) if deployment else (),
                    who=who,
                    who_source="opsctl tag" if who else None,
                    run_url=run,
                    revision=definition.revision,
                )
            )
    return entries


def describe_change(change: Change, containers: Sequence[str] = ()) -> str:
    """One line for a difference between two revisions, a container named by its name
    (``app.image``) rather than its index."""

    def named(match: re.Match[str]) -> str:
        index = int(match[1])
        return f"{containers[index]}." if index < len(containers) else match[0]

    path = _CONTAINER.sub(named, change.path)
    return f"{path}: {shorten(change.old, 30)} → {shorten(change.new, 30)}"


def task_definition_entries(
    definitions: Iterable[TaskDefinition],
    previous: Mapping[int, TaskDefinition],
    since: datetime,
) -> list[ChangeEntry]:
    """Revisions registered since ``since``, each with its differences from the revision
    before it (``previous`` by revision number: the scanned ones plus any fetched for it)."""
    entries = []
    for definition in definitions:
        if definition.registered_at is None or definition.registered_at < since:
            continue
        name = f"{definition.family}:{definition.revision}"
        before = previous.get(definition.revision - 1)
        found: tuple[Change, ...] = ()
        if before is None:
            details: tuple[str, ...] = (
                ("the first revision of the family",)
                if definition.revision == 1
                else (f"revision {definition.revision - 1} could not be read to compare",)
            )
        else:
            found = diff(before.registration, definition.registration)
            names = [
                str(c.get("name", "?"))
                for c in definition.registration.get("containerDefinitions", [])
            ]
            lines = [describe_change(c, names) for c in found[:DETAIL_LINES]]
            if len(found) > DETAIL_LINES:
                lines.append(f"(and {len(found) - DETAIL_LINES} more: --output json)")
            details = tuple(lines) or (f"same as revision {before.revision}",)
        entries.append(
            ChangeEntry(
                at=definition.registered_at,
                kind=ChangeKind.TASK_DEFINITION,
                subject=name,
                summary=f"{name} registered"
                + (f": {len(found)} change(s) from :{before.revision}" if before else ""),
                details=details,
                who=None,
                who_source=None,
                run_url=None,
                revision=definition.revision,
                changes=found,
            )
        )
    return entries


# --- images ------------------------------------------------------------------------------


def _tag_time(tag: str) -> datetime | None:
    match = _DEPLOYED_TAG.match(tag)
    if match is None:
        return None
    return datetime.strptime(match[1], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def image_entries(
    images: Iterable[Image],
    trail: Iterable[TrailEvent],
    repository: str,
    since: datetime,
) -> list[ChangeEntry]:
    """Pushes to ``repository`` since ``since``, tags given to images (opsctl's ``deployed-*``
    among them), and tags that moved from one digest to another (CloudTrail ``PutImage``)."""
    puts = sorted(
        (
            e
            for e in trail
            if e.name == "PutImage"
            and not e.error
            and str(e.request.get("repositoryName", "")) == repository
        ),
        key=lambda e: e.at,
    )

    def digest_of(event: TrailEvent) -> str:
        image = event.response.get("image")
        image_id = image.get("imageId") if isinstance(image, Mapping) else None
        return str(image_id.get("imageDigest", "")) if isinstance(image_id, Mapping) else ""

    entries = []
    explained: set[tuple[str, str]] = set()  # (digest, tag) an entry already covers
    for image in images:
        if image.pushed_at is None or image.pushed_at < since:
            continue
        push = next(
            (
                e
                for e in puts
                if digest_of(e) == image.digest
                and abs(e.at - image.pushed_at) <= timedelta(seconds=5)
            ),
            None,
        )
        first_tags = [t for t in image.tags if _tag_time(t) is None] or list(image.tags)
        entries.append(
            ChangeEntry(
                at=image.pushed_at,
                kind=ChangeKind.IMAGE,
                subject=image.digest,
                summary=f"pushed {shorten(image.digest)} ({', '.join(first_tags) or 'untagged'})",
                details=(),
                who=push.who if push else None,
                who_source="CloudTrail PutImage" if push else None,
                run_url=None,
                revision=None,
            )
        )
        if push is not None:
            explained.add((image.digest, str(push.request.get("imageTag", ""))))
    pointed: dict[str, str] = {}
    for event in puts:
        tag, digest = str(event.request.get("imageTag", "")), digest_of(event)
        before = pointed.get(tag)
        pointed[tag] = digest
        if not tag or event.at < since or (digest, tag) in explained:
            continue
        explained.add((digest, tag))
        moved = before is not None and before != digest
        entries.append(
            ChangeEntry(
                at=event.at,
                kind=ChangeKind.IMAGE,
                subject=digest,
                summary=f"tag {tag} moved to {shorten(digest)}"
                if moved
                else f"tagged {shorten(digest)} {tag}",
                details=(f"it named {shorten(before)} before",) if moved else (),
                who=event.who,
                who_source="CloudTrail PutImage",
                run_url=None,
                revision=None,
            )
        )
    for image in images:  # opsctl's deployed-* tags say when, even without CloudTrail
        for tag in image.tags:
            at = _tag_time(tag)
            if at is None or at < since or (image.digest, tag) in explained:
                continue
            entries.append(
                ChangeEntry(
                    at=at,
                    kind=ChangeKind.IMAGE,
                    subject=image.digest,
                    summary=f"tagged {shorten(image.digest)} {tag}",
                    details=("opsctl tags each image it rolls out: ECR's lifecycle keeps it",),
                    who=None,
                    who_source=None,
                    run_url=None,
                    revision=None,
                )
            )
    return entries


# --- alarms and Terraform --------------------------------------------------------------


def alarm_entries(changes: Iterable[AlarmStateChange], since: datetime) -> list[ChangeEntry]:
    return [
        ChangeEntry(
            at=c.at,
            kind=ChangeKind.ALARM,
            subject=c.alarm,
            summary=f"{c.alarm}: {c.old or '?'} → {c.new or '?'}",
            details=(c.reason,) if c.reason else (),
            who=None,
            who_source=None,
            run_url=None,
            revision=None,
        )
        for c in changes
        if c.at >= since
    ]


def terraform_entries(
    versions: Iterable[ObjectVersion], url: str, since: datetime
) -> list[ChangeEntry]:
    """Each version of the state object is a write by Terraform: an apply (or an import, a
    ``state`` command); the object's contents are not read (they may hold secrets)."""
    return [
        ChangeEntry(
            at=v.at,
            kind=ChangeKind.TERRAFORM,
            subject=url,
            summary="Terraform state deleted" if v.delete_marker else "Terraform state written",
            details=(
                f"version {v.version_id}"
                + ("" if v.size is None else f", {v.size} bytes")
                + (", current" if v.latest else ""),
            ),
            who=None,
            who_source=None,
            run_url=None,
            revision=None,
        )
        for v in versions
        if v.at >= since
    ]


# --- one timeline ---------------------------------------------------------------------------


def merge(*sources: Iterable[ChangeEntry]) -> tuple[ChangeEntry, ...]:
    """Every entry, newest first (at the same instant, in :class:`ChangeKind` order)."""
    entries = [e for source in sources for e in source]
    entries.sort(key=lambda e: _ORDER[e.kind])
    entries.sort(key=lambda e: e.at, reverse=True)
    return tuple(entries)


def nearest_before(entries: Iterable[ChangeEntry], when: datetime) -> ChangeEntry | None:
    """The latest change that alters what runs (:data:`~opsctl.results.CAUSE_KINDS`) at or
    before ``when`` (a second of slack: AWS's clocks and ours)."""
    limit = when + timedelta(seconds=1)
    candidates = [e for e in entries if e.kind in CAUSE_KINDS and e.at <= limit]
    return max(candidates, key=lambda e: e.at, default=None)
