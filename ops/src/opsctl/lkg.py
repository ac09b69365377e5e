"""Last known good: which task-definition revisions ran successfully, remembered in their tags.

ECS forgets deployments once they are replaced, so "the last revision whose deployment
completed" must be remembered somewhere: opsctl tags the revision itself (ADR 0007).

* ``opsctl:verified-at`` / ``opsctl:verified-deployment``: opsctl saw a deployment of this
  revision COMPLETE and then verified it (targets healthy, /health answered through the ALB);
  also written for the revision a deploy starts from when ECS reports it COMPLETED.
* ``opsctl:failed-at`` / ``opsctl:failed-outcome``: a deployment of it failed, was rolled back,
  timed out or failed verification.
* ``opsctl:rolled-back-at``: opsctl rolled the service back away from it.
* ``opsctl:restored-from``: the circuit breaker rolled a failed deployment (of the named
  revision) back to this revision and opsctl saw that rollback complete; together with
  ``opsctl:verified-deployment`` it tells ``rollback`` that the service is already back on its
  last known good revision.
* ``opsctl:verified-by``, ``opsctl:failed-by``, ``opsctl:rolled-back-by``: who ran the command
  that recorded the mark (the caller's ARN, then the CI run's URL when there is one), and
  ``opsctl:failed-deployment``: the deployment that failed. ``opsctl changes`` reads them to
  say who deployed what when CloudTrail cannot.

A revision is *good* when its latest mark is a verification (or ECS shows a COMPLETED
deployment of it right now); the last known good revision is the good one verified most
recently. Deregistering a revision removes it from consideration.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from opsctl.aws import Aws, parallel
from opsctl.errors import OpsctlError
from opsctl.model import Service, TaskDefinition

VERIFIED_AT = "opsctl:verified-at"
VERIFIED_DEPLOYMENT = "opsctl:verified-deployment"
FAILED_AT = "opsctl:failed-at"
FAILED_OUTCOME = "opsctl:failed-outcome"
ROLLED_BACK_AT = "opsctl:rolled-back-at"
RESTORED_FROM = "opsctl:restored-from"
VERIFIED_BY = "opsctl:verified-by"
FAILED_BY = "opsctl:failed-by"
FAILED_DEPLOYMENT = "opsctl:failed-deployment"
ROLLED_BACK_BY = "opsctl:rolled-back-by"

TAG_VALUE_LIMIT = 256
"""ECS tag values: at most 256 characters
(https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Tag.html)."""
_TAG_VALUE = re.compile(r"[^\w .:/=+\-@]")

SCAN_DEPTH = 50
"""How many of the newest revisions opsctl inspects when looking for the last known good."""


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def parse_stamp(value: str | None) -> datetime | None:
    """A time tag opsctl wrote (ISO 8601), None when absent or unreadable; naive is UTC."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Verdict:
    """What opsctl knows about one revision."""

    arn: str
    revision: int
    good: bool
    good_since: datetime | None
    """When it was last seen good (verification or a COMPLETED deployment)."""
    bad_since: datetime | None
    bad_reason: str | None


def live_completed(service: Service) -> dict[str, datetime]:
    """Revisions ECS reports a COMPLETED deployment of right now, with that deployment's time."""
    out: dict[str, datetime] = {}
    for deployment in service.deployments:
        if deployment.rollout_state == "COMPLETED":
            stamp = deployment.updated_at or deployment.created_at or now()
            out[deployment.task_definition] = max(stamp, out.get(deployment.task_definition, stamp))
    return out


def verdict(definition: TaskDefinition, completed_now: Mapping[str, datetime]) -> Verdict:
    return verdict_of(definition.arn, definition.revision, definition.tags, completed_now)


def verdict_of(
    arn: str, revision: int, tags: Mapping[str, str], completed_now: Mapping[str, datetime]
) -> Verdict:
    """What the tags of revision ``arn`` (and ECS's COMPLETED deployments) say about it."""
    verified = parse_stamp(tags.get(VERIFIED_AT))
    live = completed_now.get(arn)
    good_since = max((t for t in (verified, live) if t is not None), default=None)
    failed = parse_stamp(tags.get(FAILED_AT))
    rolled_back = parse_stamp(tags.get(ROLLED_BACK_AT))
    bad_since, bad_reason = None, None
    if failed is not None:
        bad_since, bad_reason = failed, tags.get(FAILED_OUTCOME, "failed")
    # A rollback away from a revision names it bad only when nothing worse is known since it
    # was last good: the rollback that follows a failed deployment (bake_failed, failing, ...)
    # keeps that failure as the reason, whichever second each tag was written in.
    if rolled_back is not None and (
        bad_since is None
        or (good_since is not None and good_since > bad_since and rolled_back > good_since)
    ):
        bad_since, bad_reason = rolled_back, "rolled back"
    good = good_since is not None and (bad_since is None or good_since > bad_since)
    return Verdict(arn, revision, good, good_since, bad_since, bad_reason)


def last_known_good(verdicts: Iterable[Verdict], exclude: Iterable[str] = ()) -> Verdict | None:
    """The good revision seen good most recently, skipping ``exclude`` (ARNs)."""
    skipped = set(exclude)
    good = [v for v in verdicts if v.good and v.arn not in skipped and v.good_since is not None]
    return max(good, key=lambda v: (v.good_since, v.revision), default=None)


def good_candidates(
    aws: Aws, service: Service, family: str, exclude: Iterable[str] = ()
) -> tuple[list[Verdict], str | None]:
    """Every good revision of ``family`` but ``exclude``, the most recently good first, and a
    warning when the lookup had to fall back.

    The revisions opsctl verified are found by their ``opsctl:verified-at`` tag through the
    Resource Groups Tagging API (GetResources, every page), so any number of unverified
    revisions registered after them (a stream of CI builds, or revisions planted to push the
    good ones out of sight) cannot hide them; revisions ECS shows COMPLETED now are added. When
    the tag lookup is refused or unavailable, the newest :data:`SCAN_DEPTH` revisions are read
    instead, and the warning says so.
    """
    completed = live_completed(service)
    skipped = set(exclude)
    warning = None
    try:
        tagged = aws.tagged_task_definitions(family, VERIFIED_AT)
    except OpsctlError as error:
        warning = (
            f"could not look up verified revisions by tag ({error.message}); read the newest "
            f"{SCAN_DEPTH} revisions of {family} instead: an older last known good is not seen"
        )
        tagged = {d.arn: dict(d.tags) for d in scan(aws, family)}
    found = {arn: verdict_of(arn, _number(arn), tags, completed) for arn, tags in tagged.items()}
    for arn in completed:
        if arn not in found and arn.rsplit("/", 1)[-1].rsplit(":", 1)[0] == family:
            found[arn] = verdict_of(arn, _number(arn), {}, completed)
    good = [v for v in found.values() if v.good and v.arn not in skipped and v.good_since]
    good.sort(key=lambda v: (v.good_since, v.revision), reverse=True)
    return good, warning


def _number(arn: str) -> int:
    tail = arn.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def scan(aws: Aws, family: str, depth: int = SCAN_DEPTH) -> list[TaskDefinition]:
    """The family's newest ``depth`` ACTIVE revisions with their tags, newest first."""
    arns = aws.task_definition_revisions(family)[:depth]
    return parallel([lambda arn=arn: aws.describe_task_definition(arn) for arn in arns])  # type: ignore[misc]


def by_value(who: str | None, run_url: str | None = None) -> str | None:
    """The value of an ``opsctl:*-by`` tag: ``<who>[ <run URL>]``, in the characters ECS
    allows in a tag value, at most :data:`TAG_VALUE_LIMIT` of them."""
    text = " ".join(part for part in (who, run_url) if part)
    return _TAG_VALUE.sub("_", text)[:TAG_VALUE_LIMIT] or None


def _with_by(tags: dict[str, str], key: str, by: str | None) -> dict[str, str]:
    if by:
        tags[key] = by
    return tags


def mark_verified(aws: Aws, arn: str, deployment_id: str, by: str | None = None) -> None:
    aws.tag_resource(
        arn,
        _with_by(
            {VERIFIED_AT: now().isoformat(), VERIFIED_DEPLOYMENT: deployment_id}, VERIFIED_BY, by
        ),
    )


def mark_restored(
    aws: Aws, arn: str, deployment_id: str, failed_revision: int, by: str | None = None
) -> None:
    aws.tag_resource(
        arn,
        _with_by(
            {
                VERIFIED_AT: now().isoformat(),
                VERIFIED_DEPLOYMENT: deployment_id,
                RESTORED_FROM: str(failed_revision),
            },
            VERIFIED_BY,
            by,
        ),
    )


def restored(definition: TaskDefinition, service: Service) -> int | None:
    """The failed revision the circuit breaker restored ``definition`` from, when the service
    still runs the deployment that restored it."""
    primary = service.primary
    marker = definition.tags.get(RESTORED_FROM)
    if primary is None or marker is None or not marker.isdigit():
        return None
    if (
        primary.task_definition != definition.arn
        or definition.tags.get(VERIFIED_DEPLOYMENT) != primary.id
    ):
        return None
    return int(marker)


def mark_failed(
    aws: Aws, arn: str, outcome: str, by: str | None = None, deployment_id: str | None = None
) -> None:
    tags = {FAILED_AT: now().isoformat(), FAILED_OUTCOME: outcome}
    if deployment_id:
        tags[FAILED_DEPLOYMENT] = deployment_id
    aws.tag_resource(arn, _with_by(tags, FAILED_BY, by))


def mark_rolled_back(aws: Aws, arn: str, by: str | None = None) -> None:
    aws.tag_resource(arn, _with_by({ROLLED_BACK_AT: now().isoformat()}, ROLLED_BACK_BY, by))


def record_baseline(aws: Aws, service: Service, definitions: Sequence[TaskDefinition]) -> None:
    """Tag revisions ECS shows COMPLETED now but opsctl never verified (for example the first
    revision Terraform created), so they stay known good after ECS forgets the deployment."""
    for definition in definitions:
        for deployment in service.deployments:
            if (
                deployment.task_definition == definition.arn
                and deployment.rollout_state == "COMPLETED"
                and VERIFIED_AT not in definition.tags
            ):
                stamp = (deployment.updated_at or now()).astimezone(UTC).replace(microsecond=0)
                aws.tag_resource(
                    definition.arn,
                    {VERIFIED_AT: stamp.isoformat(), VERIFIED_DEPLOYMENT: deployment.id},
                )
                break
