"""``opsctl revisions``: the family's revisions, newest first, with image, registration time,
which one runs now and which one is the last known good (runbook 3.2 step 1)."""

from __future__ import annotations

from opsctl import lkg
from opsctl.commands import Context
from opsctl.results import RevisionInfo, RevisionsResult, RevisionVerdict


def run(ctx: Context, *, limit: int = 10) -> RevisionsResult:
    target = ctx.target
    service = target.service
    definitions = lkg.scan(ctx.aws, target.family)
    completed = lkg.live_completed(service)
    verdicts = {d.arn: lkg.verdict(d, completed) for d in definitions}
    running = {d.task_definition for d in service.deployments}
    primary = service.primary
    current = primary.task_definition if primary else service.task_definition
    # Found by tag, like rollback: revisions older than the newest SCAN_DEPTH count too.
    candidates, _ = lkg.good_candidates(ctx.aws, service, target.family, exclude=[current])
    good = candidates[0] if candidates else None
    revisions = []
    for definition in definitions[:limit]:
        verdict = verdicts[definition.arn]
        state: RevisionVerdict = (
            "good" if verdict.good else ("bad" if verdict.bad_since else "unknown")
        )
        try:
            image = definition.container(target.container_name).image
        except KeyError:
            image = definition.container(None).image
        revisions.append(
            RevisionInfo(
                revision=definition.revision,
                task_definition=definition.arn,
                image=image,
                registered_at=definition.registered_at,
                running=definition.arn in running,
                last_known_good=good is not None and good.arn == definition.arn,
                verdict=state,
                good_since=verdict.good_since,
                bad_since=verdict.bad_since,
                bad_reason=verdict.bad_reason,
            )
        )
    return RevisionsResult(
        target=ctx.target_info(),
        family=target.family,
        running=tuple(sorted((d.revision for d in definitions if d.arn in running), reverse=True)),
        last_known_good=good.revision if good else None,
        revisions=tuple(revisions),
        scanned=len(definitions),
    )
