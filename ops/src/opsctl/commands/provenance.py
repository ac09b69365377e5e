"""``opsctl provenance --image REF``: has this exact image already run successfully here?

Promotion by digest (docs/pipelines.md, "ECS Deploy"): prod deploys only bytes that ran in dev.
The image is named immutably, by the commit SHA CI tagged it with or by its digest, never by a
tag that can be moved (``latest``, ``v1``); the command resolves it to its digest in the target's
ECR repository and looks for the task-definition revisions of the target's family that pin that
digest, with the verdicts opsctl records in their tags (ADR 0007, :mod:`opsctl.lkg`).

The image is *proven* here when the most recent verdict on any revision pinning it is good:
opsctl verified a deployment of it (targets healthy, ``/health`` answered) or ECS reports a
deployment of it COMPLETED right now, and nothing failed, was rolled back or failed verification
since. An image that later failed here, or was rolled back away from, is not proven, even if an
earlier deployment of it was verified. ``--require-verified`` turns "not proven" into exit 21.
"""

from __future__ import annotations

import re
from datetime import UTC
from pathlib import Path

from opsctl import lkg
from opsctl.commands import Context
from opsctl.errors import ExitCode, OpsctlError, UsageError
from opsctl.images import parse_image, resolve_tag
from opsctl.results import ImageInfo, ImageRun, ProvenanceResult, RevisionVerdict

COMMIT_SHA = re.compile(r"^[0-9a-f]{40}$")
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def check_reference(value: str) -> str:
    """``value`` when it names an image immutably (a full commit SHA or a sha256 digest);
    UsageError naming what is wrong otherwise (checked before any AWS call)."""
    if COMMIT_SHA.match(value) or DIGEST.match(value):
        return value
    if value == "latest":
        raise UsageError(
            "'latest' is refused: it names whichever image was pushed last, not one that ran "
            "here; pass the commit SHA CI tagged the image with (40 hex digits) or its "
            "sha256: digest"
        )
    if re.fullmatch(r"[0-9a-fA-F]{7,40}", value):
        raise UsageError(
            f"{value!r} is not a full commit SHA: CI tags each image with all 40 lowercase hex "
            "digits of its commit (`git rev-parse <commit>` prints them)"
        )
    if value.lower().startswith("sha256:"):
        raise UsageError(f"{value!r} is not a digest: sha256: and 64 lowercase hex digits")
    raise UsageError(
        f"{value!r} is a tag that can be moved to another image: pass the commit SHA CI tagged "
        "the image with (40 hex digits) or its sha256: digest"
    )


def _verdict(verdict: lkg.Verdict) -> RevisionVerdict:
    return "good" if verdict.good else ("bad" if verdict.bad_since else "unknown")


def _latest_mark(run: ImageRun) -> tuple[float, int]:
    """When the newest verdict on ``run`` was recorded (never-judged revisions sort first)."""
    stamps = [t.timestamp() for t in (run.good_since, run.bad_since) if t is not None]
    return (max(stamps, default=float("-inf")), run.revision)


def run(
    ctx: Context, *, image: str, require_verified: bool, github_output: Path | None = None
) -> ProvenanceResult:
    target = ctx.target
    reference = check_reference(image)
    current = target.task_definition.container(target.container_name)
    repository = target.spec.ecr_repository_url or parse_image(current.image).name
    resolved = resolve_tag(ctx.aws, repository, reference)
    digest = resolved.image.digest

    definitions = lkg.scan(ctx.aws, target.family)
    completed = lkg.live_completed(target.service)
    running = {d.task_definition for d in target.service.deployments}
    runs: list[ImageRun] = []
    for definition in definitions:
        try:
            pinned = definition.container(target.container_name).image
        except KeyError:
            pinned = definition.container(None).image
        if parse_image(pinned).digest != digest:
            continue
        verdict = lkg.verdict(definition, completed)
        runs.append(
            ImageRun(
                revision=definition.revision,
                task_definition=definition.arn,
                registered_at=definition.registered_at,
                running=definition.arn in running,
                verdict=_verdict(verdict),
                good_since=verdict.good_since,
                verified_deployment=definition.tags.get(lkg.VERIFIED_DEPLOYMENT),
                bad_since=verdict.bad_since,
                bad_reason=verdict.bad_reason,
            )
        )
    # The revision whose verdict is the newest speaks for the image: a later failure or
    # rollback of the same bytes outweighs an earlier verification.
    newest = max(runs, key=_latest_mark, default=None)
    proven = newest is not None and newest.verdict == "good"
    where = f"{target.name} ({target.cluster}, {target.region})"
    short = f"{digest[:19]}…"
    explanation: tuple[str, ...]
    if proven and newest is not None:
        explanation = (
            f"{short} ran successfully in {where}: revision {newest.revision}, good since "
            f"{_iso(newest)}",
        )
    elif newest is None:
        explanation = (
            f"none of the newest {len(definitions)} revisions of {target.family} pins {short}: "
            f"it never ran in {where}",
            "deploy it here first (ECS Deploy to this environment), then promote it",
        )
    else:
        reason = newest.bad_reason or "never verified"
        explanation = (
            f"{short} did not run successfully in {where}: the newest verdict, on revision "
            f"{newest.revision}, is {reason}",
            "fix and deploy a new commit here, or redeploy this one here until it verifies",
        )
    exit_code = ExitCode.OK if proven or not require_verified else ExitCode.UNPROVEN
    result = ProvenanceResult(
        target=ctx.target_info(),
        image=ImageInfo(
            requested=reference,
            repository=resolved.reference.name,
            digest=digest,
            tags=resolved.image.tags,
            pushed_at=resolved.image.pushed_at,
            note=resolved.note,
        ),
        pinned=resolved.pinned,
        proven=proven,
        evidence=newest if proven else None,
        runs=tuple(runs),
        scanned=len(definitions),
        require_verified=require_verified,
        explanation=explanation,
        exit_code=int(exit_code),
    )
    if github_output is not None:
        write_github_output(github_output, result)
    return result


def _iso(image_run: ImageRun) -> str:
    """When the run was last seen good, as the JSON document writes it (ISO 8601, UTC, Z)."""
    stamp = image_run.good_since
    return stamp.astimezone(UTC).isoformat().replace("+00:00", "Z") if stamp else "-"


def github_outputs(result: ProvenanceResult) -> dict[str, str]:
    """The step outputs a workflow reads: the digest to deploy and its evidence (empty values
    when there is none)."""
    evidence = result.evidence
    return {
        "digest": result.image.digest,
        "image": result.pinned,
        "proven": "true" if result.proven else "false",
        "revision": str(evidence.revision) if evidence else "",
        "verified_at": _iso(evidence) if evidence else "",
        "deployment": (evidence.verified_deployment or "") if evidence else "",
    }


def write_github_output(path: Path, result: ProvenanceResult) -> None:
    """Append the outputs to ``path`` (``$GITHUB_OUTPUT``), one ``name=value`` line each.

    https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands#setting-an-output-parameter
    """
    outputs = github_outputs(result)
    # A line break would let a value write another output: digests, numbers and ISO times
    # have none, and a tag value (the deployment id) cannot hold one, but never trust that.
    if any(ch in value for value in outputs.values() for ch in "\r\n"):
        raise OpsctlError("internal error: a step output holds a line break")
    lines = "".join(f"{name}={value}\n" for name, value in outputs.items())
    try:
        with path.open("a", encoding="utf-8") as stream:
            stream.write(lines)
    except OSError as error:
        raise UsageError(f"--github-output {path}: cannot append: {error.strerror}") from None
