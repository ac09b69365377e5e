"""The results commands return: frozen dataclasses, rendered by output.py.

They are the one definition of opsctl's JSON documents (``--output json``): a document is
``schema_version`` followed by the result's fields, every field always present (``None`` as
``null``), datetimes in ISO 8601 UTC. The JSON Schemas in ``opsctl/schemas`` are generated from
these classes (``make schemas``, :mod:`opsctl.schemagen`); a test fails when the shipped files
differ. Attribute docstrings become the schemas' descriptions; :class:`JsonSchema` adds what a
Python type cannot say (a pattern, the exit codes a result can carry).

A result uses opsctl's model class where it shows all of it (:class:`~opsctl.model.TargetHealth`),
a subclass where it adds to it (:class:`DeploymentInfo`), and a class of its own only where it
shows less or derives values (:class:`EventInfo` leaves out ECS's event id).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Literal, get_args

from opsctl.errors import ERROR_EXIT_CODES, ExitCode
from opsctl.model import Deployment, TargetHealth

if TYPE_CHECKING:  # pydantic is imported only where schemas are generated (opsctl.schemagen)
    from pydantic import GetJsonSchemaHandler
    from pydantic.json_schema import JsonSchemaValue
    from pydantic_core import CoreSchema

SCHEMA_VERSION = 1


class JsonSchema:
    """JSON Schema keywords for a type, beyond what the type says (``Annotated[str,
    JsonSchema(pattern=...)]``).

    Read only when schemas are generated, through pydantic's ``__get_pydantic_json_schema__``
    hook (https://docs.pydantic.dev/latest/concepts/json_schema/); nothing checks values at run
    time, so opsctl never imports pydantic to run a command.
    """

    __slots__ = ("keywords",)

    def __init__(self, **keywords: object) -> None:
        self.keywords = keywords

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {**handler(core_schema), **self.keywords}

    def __repr__(self) -> str:
        return f"JsonSchema({self.keywords!r})"


Digest = Annotated[str, JsonSchema(pattern=r"^sha256:[0-9a-f]{64}$")]
"""An image digest as ECR and ECS report it."""
Scalar = str | int | float | bool | None
RolloutCommand = Literal["deploy", "rollback", "redeploy", "watch"]
RevisionVerdict = Literal["good", "bad", "unknown"]
RollbackMethod = Literal["stop_service_deployment", "update_service"]
"""How a rollback changed the service: ECS's StopServiceDeployment with ROLLBACK (the
deployment in progress is stopped and ECS returns to the last completed one), or
UpdateService to the chosen revision."""
FailureKind = Literal["image_pull", "resource_initialization", "exit_code", "out_of_memory"]


class Outcome(StrEnum):
    """How a deploy, rollback, redeploy or watch ended (each has its own exit code)."""

    SUCCEEDED = "succeeded"
    SUCCEEDED_WITHOUT_SMOKE_TEST = "succeeded_without_smoke_test"
    """Completed with healthy targets, but there was no URL the smoke test could verify (an
    HTTPS-only load balancer reached by its AWS name, no load balancer): not recorded as known
    good, exit 15; with --allow-no-smoke-test exit 0 and recorded good on the targets' health.
    The reason is in ``warnings``."""
    ROLLED_BACK = "rolled_back"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    UNVERIFIED = "unverified"
    SUPERSEDED = "superseded"
    FAILING = "failing"
    """Fail fast: tasks kept stopping for one decisive reason (``fail_fast`` says which);
    opsctl stopped waiting while ECS had not decided yet."""
    BAKE_FAILED = "bake_failed"
    """Completed and verified, then a check of the bake window breached (``bake``)."""
    STARTED = "started"
    """--no-wait: the deployment was started and not followed."""
    DRY_RUN = "dry_run"
    UNCHANGED = "unchanged"
    """Nothing to do (the service already runs that image or revision)."""

    @property
    def exit_code(self) -> ExitCode:
        return _OUTCOME_EXIT[self]


_OUTCOME_EXIT = {
    Outcome.SUCCEEDED: ExitCode.OK,
    Outcome.SUCCEEDED_WITHOUT_SMOKE_TEST: ExitCode.NO_SMOKE_TEST,
    Outcome.STARTED: ExitCode.OK,
    Outcome.DRY_RUN: ExitCode.OK,
    Outcome.UNCHANGED: ExitCode.OK,
    Outcome.ROLLED_BACK: ExitCode.ROLLED_BACK,
    Outcome.FAILED: ExitCode.FAILED,
    Outcome.TIMED_OUT: ExitCode.TIMED_OUT,
    Outcome.UNVERIFIED: ExitCode.UNVERIFIED,
    Outcome.SUPERSEDED: ExitCode.SUPERSEDED,
    Outcome.FAILING: ExitCode.FAILING,
    Outcome.BAKE_FAILED: ExitCode.BAKE_FAILED,
}

_AUTOMATIC_ROLLBACK_EXIT = {
    Outcome.FAILED: (ExitCode.FAILED_ROLLED_BACK, ExitCode.FAILED_ROLLBACK_FAILED),
    Outcome.TIMED_OUT: (ExitCode.TIMED_OUT_ROLLED_BACK, ExitCode.TIMED_OUT_ROLLBACK_FAILED),
    Outcome.UNVERIFIED: (ExitCode.UNVERIFIED_ROLLED_BACK, ExitCode.UNVERIFIED_ROLLBACK_FAILED),
    Outcome.FAILING: (ExitCode.FAILING_ROLLED_BACK, ExitCode.FAILING_ROLLBACK_FAILED),
    Outcome.BAKE_FAILED: (ExitCode.BAKE_FAILED_ROLLED_BACK, ExitCode.BAKE_FAILED_ROLLBACK_FAILED),
}
ROLLBACK_TRIGGERS = frozenset(_AUTOMATIC_ROLLBACK_EXIT)
"""The outcomes after which ``deploy --rollback-on-failure`` rolls back (a circuit-breaker
rollback has already happened; a superseded deploy is someone else's to judge)."""


def automatic_rollback_exit(failed: Outcome, restored: bool) -> ExitCode:
    """The exit code of a deploy that ended ``failed`` and was then rolled back by opsctl:
    ``20 + `` the failure's code when the rollback restored the service, ``30 + `` it when the
    rollback failed too (docs/opsctl.md, "Exit codes")."""
    succeeded, failed_too = _AUTOMATIC_ROLLBACK_EXIT[failed]
    return succeeded if restored else failed_too


ROLLOUT_EXIT_CODES = tuple(
    sorted(
        {int(code) for code in _OUTCOME_EXIT.values()}
        | {int(c) for pair in _AUTOMATIC_ROLLBACK_EXIT.values() for c in pair}
    )
)
"""The exit codes of deploy, rollback, redeploy and watch when they produce a result."""


@dataclass(frozen=True)
class TargetInfo:
    """The service acted on."""

    cluster: str
    service: str
    region: str
    source: str
    """Where cluster and service came from (command line, target file, terraform, environment)."""


@dataclass(frozen=True)
class DeploymentInfo(Deployment):
    """An ECS deployment with the revision number and the image of its task definition."""

    revision: int | None
    """The task definition's revision number (None when its ARN has none)."""
    image: str | None
    """The container's image in that revision (None when it could not be read)."""


@dataclass(frozen=True)
class EventInfo:
    """A service event (ECS's ``services[].events``, without its id)."""

    created_at: datetime
    message: str


@dataclass(frozen=True)
class AlarmInfo:
    """A CloudWatch alarm in ALARM that concerns the service."""

    name: str
    reason: str
    metric: str | None
    """``<namespace>/<metric name>`` (None for alarms on metric math)."""
    updated_at: datetime | None


@dataclass(frozen=True)
class StoppedTaskInfo:
    """A task of the deployment that stopped, and why."""

    task_id: str
    revision: int | None
    stop_code: str | None
    stopped_reason: str | None
    exit_code: int | None
    stopped_at: datetime | None


@dataclass(frozen=True)
class StatusResult:
    target: TargetInfo
    status: str
    desired: int
    running: int
    pending: int
    revision: int
    task_definition: str
    image: str
    image_digest: Digest | None
    """The digest the running tasks report (or the pinned one)."""
    grace_period: int | None
    circuit_breaker: bool
    circuit_breaker_rollback: bool
    target_group_arn: str | None
    deployments: tuple[DeploymentInfo, ...]
    events: tuple[EventInfo, ...]
    """Newest first."""
    targets: tuple[TargetHealth, ...]
    alarms: tuple[AlarmInfo, ...]
    alarms_error: str | None = None
    """Why the alarms could not be read (then ``alarms`` is empty); status itself still
    succeeds."""
    command: Literal["status"] = "status"


@dataclass(frozen=True)
class RevisionRef:
    """A task-definition revision and the image it runs."""

    revision: int | None
    """``None`` before the revision is registered (--dry-run)."""
    task_definition: str | None
    image: str


@dataclass(frozen=True)
class ImageInfo:
    """The image deployed, as found in ECR."""

    requested: str
    """The tag or digest asked for."""
    repository: str
    digest: Digest
    tags: tuple[str, ...]
    pushed_at: datetime | None
    note: str | None


@dataclass(frozen=True)
class Change:
    """One leaf of the task definition that differs between two revisions."""

    path: str
    """Its JSON path, e.g. ``containerDefinitions[0].image``."""
    old: Scalar
    """The value before (None: absent)."""
    new: Scalar
    """The value after (None: absent)."""


@dataclass(frozen=True)
class RolloutInfo:
    """How ECS rolled the deployment out, and the circuit breaker's rollback if there was one."""

    state: str | None
    reason: str | None
    failed_tasks: int
    rollback_deployment_id: str | None
    rollback_revision: int | None
    rollback_state: str | None


@dataclass(frozen=True)
class Verification:
    """The post-deploy gate (opsctl.verify): the new deployment's targets and ``/health``
    through the load balancer."""

    targets_healthy: bool | None
    """``None`` when the service has no load balancer."""
    targets: tuple[TargetHealth, ...]
    smoke_url: str | None
    smoke_status: int | None
    smoke_ok: bool | None
    """``None`` when the smoke test was skipped (``detail`` says why)."""
    version: str | None
    """The version ``/health`` reported."""
    commit: str | None
    """The commit ``/health`` reported."""
    detail: str | None
    expected_commit: str | None = None
    """The image's ``org.opencontainers.image.revision`` label, when it has one: ``/health``
    must report this commit, or the smoke test fails (``smoke_ok`` false)."""

    @property
    def ok(self) -> bool:
        return self.targets_healthy is not False and self.smoke_ok is not False


@dataclass(frozen=True)
class FailFastInfo:
    """Why opsctl stopped waiting before ECS decided (``--fail-fast N``): N tasks of the
    deployment stopped for the same decisive reason."""

    kind: FailureKind
    reason: str
    """The reason they share, e.g. ``exit code 1`` or ``CannotPullContainerError: ...``."""
    tasks: int
    """How many of the deployment's tasks stopped for it."""
    threshold: int
    """``--fail-fast``: how many it takes."""
    task_id: str
    """The task whose evidence is shown."""
    stopped_reason: str | None
    exit_code: int | None
    log_lines: tuple[str, ...]
    """That task's last log lines (oldest first)."""
    log_error: str | None
    """Why the log lines could not be read (then ``log_lines`` is empty)."""


@dataclass(frozen=True)
class BakeInfo:
    """The bake window (``--bake``): what opsctl watched after the deployment completed and
    was verified, and what breached."""

    seconds: Annotated[float, JsonSchema(minimum=0)]
    """How long it was asked to watch."""
    watched_seconds: Annotated[float, JsonSchema(minimum=0)]
    passed: bool
    breaches: tuple[str, ...]
    """Each check that failed, with its evidence (empty when ``passed``)."""
    alarms: tuple[str, ...]
    """The CloudWatch alarms watched: those about the service, its target group or named
    after it."""
    requests: int | None
    """Requests the target group answered during the bake (ALB ``RequestCount``)."""
    target_5xx: int | None
    """5xx answers of the targets during the bake (ALB ``HTTPCode_Target_5XX_Count``)."""
    elb_5xx: int | None
    """The load balancer's own 5xx during the bake (``HTTPCode_ELB_5XX_Count``: 502/503/504
    when the new tasks close the connection, are gone or do not answer in time)."""
    service_5xx: int | None
    """Access lines of the new tasks with a status of 500 or more."""
    max_5xx_percent: float
    """The 5xx share of requests (at least 5 errors) that breaches (``--bake-5xx-percent``)."""
    not_watched: tuple[str, ...]
    """Checks that could not run, and why (a permission the role lacks, a missing metric)."""


@dataclass(frozen=True)
class AutomaticRollbackInfo:
    """What ``deploy --rollback-on-failure`` did after the deploy failed."""

    outcome: Outcome
    """How the rollback ended (``succeeded`` restored the service)."""
    method: RollbackMethod | None
    """How it changed the service (None when it could not start)."""
    deployment_id: str | None
    to_revision: RevisionRef | None
    verification: Verification | None
    explanation: tuple[str, ...]


@dataclass(frozen=True)
class RolloutResult:
    """The result of deploy, rollback, redeploy and watch."""

    command: RolloutCommand
    outcome: Outcome
    exit_code: Annotated[int, JsonSchema(enum=list(ROLLOUT_EXIT_CODES))]
    """The process's exit code (docs/opsctl.md, "Exit codes")."""
    target: TargetInfo
    deployment_id: str | None
    from_revision: RevisionRef | None
    to_revision: RevisionRef | None
    image: ImageInfo | None
    diff: str | None
    """A unified diff of the task definition (dry run, unchanged)."""
    changes: tuple[Change, ...]
    rollout: RolloutInfo | None
    verification: Verification | None
    stopped_tasks: tuple[StoppedTaskInfo, ...]
    events: tuple[EventInfo, ...]
    """Service events seen while following, oldest first."""
    explanation: tuple[str, ...]
    elapsed_seconds: Annotated[float, JsonSchema(minimum=0)]
    resume_command: str | None
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    """What went wrong without changing the outcome: a verdict that could not be recorded in
    the revision's tags, a smoke test that could not run."""
    method: RollbackMethod | None = None
    """``rollback`` and automatic rollbacks: how the service was changed."""
    fail_fast: FailFastInfo | None = None
    """Set when the outcome is ``failing``."""
    bake: BakeInfo | None = None
    """The bake window, when one was watched (``deploy --bake``)."""
    automatic_rollback: AutomaticRollbackInfo | None = None
    """What ``--rollback-on-failure`` did (None when it was not asked or not needed)."""


@dataclass(frozen=True)
class RevisionInfo:
    """A revision of the task family and opsctl's verdict on it."""

    revision: int
    task_definition: str
    image: str
    registered_at: datetime | None
    running: bool
    """A deployment of the service uses it right now."""
    last_known_good: bool
    verdict: RevisionVerdict
    """``good`` (verified or COMPLETED), ``bad`` (failed, rolled back) or ``unknown``."""
    good_since: datetime | None
    bad_since: datetime | None
    bad_reason: str | None


@dataclass(frozen=True)
class RevisionsResult:
    target: TargetInfo
    family: str
    running: tuple[int, ...]
    last_known_good: int | None
    revisions: tuple[RevisionInfo, ...]
    scanned: int
    """How many revisions were inspected for last-known-good marks."""
    command: Literal["revisions"] = "revisions"


@dataclass(frozen=True)
class LogEventInfo:
    """One log event; ``logs --follow --output json`` prints one of these per line (NDJSON)."""

    timestamp: datetime
    stream: str
    task_id: str | None
    """The task that wrote it (from the stream name ``<prefix>/<container>/<task id>``)."""
    message: str


@dataclass(frozen=True)
class LogsResult:
    target: TargetInfo
    log_group: str
    since: datetime
    filter: str | None
    task_id: str | None
    events: tuple[LogEventInfo, ...]
    command: Literal["logs"] = "logs"


class Severity(StrEnum):
    CRITICAL = "critical"
    """The service does not serve (or cannot deploy) because of it."""
    WARNING = "warning"
    """It degrades the service or will bite on the next deploy."""


@dataclass(frozen=True)
class Finding:
    """A problem diagnose found, with the evidence for it and what to do."""

    rule: str
    severity: Severity
    title: str
    evidence: Annotated[tuple[str, ...], JsonSchema(minItems=1)]
    likely_cause: str
    runbook: str
    """The runbook section the finding belongs to (e.g. "4.2 Task stuck in PENDING")."""
    fix: str


class ChangeKind(StrEnum):
    """What changed (``opsctl changes``)."""

    DEPLOYMENT = "deployment"
    """An ECS service deployment (who started it, where CloudTrail or opsctl's tags say)."""
    ROLLBACK = "rollback"
    """ECS rolled a service deployment back (circuit breaker, alarms, StopServiceDeployment)."""
    VERDICT = "verdict"
    """opsctl's verdict on a revision, from its tags (ADR 0007)."""
    TASK_DEFINITION = "task_definition"
    """A task-definition revision registered, with what differs from the one before it."""
    IMAGE = "image"
    """An image pushed to the service's ECR repository, or given a tag."""
    ALARM = "alarm"
    """A CloudWatch alarm of the service changed state."""
    TERRAFORM = "terraform"
    """The environment's Terraform state was written (an apply) or deleted."""


CAUSE_KINDS = (
    ChangeKind.DEPLOYMENT,
    ChangeKind.TASK_DEFINITION,
    ChangeKind.IMAGE,
    ChangeKind.TERRAFORM,
)
"""Kinds that change what runs: candidates for the cause of a problem (an alarm, a rollback
or a verdict is a consequence)."""


@dataclass(frozen=True)
class ChangeEntry:
    """One change in the timeline."""

    at: datetime
    kind: ChangeKind
    subject: str
    """What changed: a deployment id, ``family:revision``, an image digest, an alarm name,
    ``s3://bucket/key``."""
    summary: str
    """One line saying what happened to it."""
    details: tuple[str, ...]
    """More lines: a status reason, the task-definition diff, tags."""
    who: str | None
    """Who made the change: an IAM principal's ARN (``None`` when no source says)."""
    who_source: str | None
    """Where ``who`` comes from: ``CloudTrail <event name>`` or ``opsctl tag``."""
    run_url: str | None
    """The CI run that made the change, when opsctl recorded one (GitHub Actions)."""
    revision: int | None
    """The task-definition revision it concerns."""
    changes: tuple[Change, ...] = ()
    """For a task definition: every leaf that differs from the revision before it."""


SourceState = Literal["read", "empty", "failed", "skipped"]


@dataclass(frozen=True)
class SourceStatus:
    """How one source of the timeline fared: each is read on its own, so a source that fails
    (a permission the role lacks, a service not reachable) costs only its own entries."""

    source: str
    state: SourceState
    """``read`` (entries found), ``empty`` (read, nothing in the window), ``failed`` (see
    ``note``), ``skipped`` (not configured, see ``note``)."""
    entries: int
    note: str | None


@dataclass(frozen=True)
class ChangesResult:
    """``opsctl changes``: one timeline of what changed around the service, newest first."""

    target: TargetInfo
    since: datetime
    until: datetime
    changes: tuple[ChangeEntry, ...]
    """Newest first."""
    sources: tuple[SourceStatus, ...]
    command: Literal["changes"] = "changes"


@dataclass(frozen=True)
class RuleCheck:
    """A rule diagnose applied, and what it looks for."""

    rule: str
    looks_for: str


@dataclass(frozen=True)
class DiagnoseResult:
    target: TargetInfo
    findings: tuple[Finding, ...]
    rules_checked: tuple[str, ...]
    command: Literal["diagnose"] = "diagnose"
    healthy: bool = field(init=False, default=True)
    """No finding: diagnose says "no problem found", lists the rules it ran and exits 0."""
    checks: tuple[RuleCheck, ...] = ()
    """Every rule applied, in order, with what it looks for."""
    looked_at: tuple[str, ...] = ()
    """What the rules were given, one line per source (tasks, targets, events, metrics): with
    no finding, this tells a healthy service from a diagnosis that saw nothing."""
    nearest_change: ChangeEntry | None = None
    """For the first finding: the nearest change before it that alters what runs (a
    deployment, a task definition, an image, a Terraform apply), from the same timeline as
    ``opsctl changes``."""
    nearest_change_note: str | None = None
    """Why there is no ``nearest_change`` (none in the window looked at, sources not read)."""

    def __post_init__(self) -> None:
        # A field derived from findings rather than a property, so that the JSON document and
        # its schema both carry it (pydantic leaves a field without a default out of schemas).
        object.__setattr__(self, "healthy", not self.findings)


@dataclass(frozen=True)
class ImageRun:
    """A revision of the task family that pins the image, and opsctl's verdict on it."""

    revision: int
    task_definition: str
    registered_at: datetime | None
    running: bool
    """A deployment of the service uses it right now."""
    verdict: RevisionVerdict
    """``good`` (verified or COMPLETED), ``bad`` (failed, rolled back) or ``unknown``."""
    good_since: datetime | None
    """When it was last seen good: opsctl verified a deployment of it, or ECS reports one
    COMPLETED now."""
    verified_deployment: str | None
    """The ECS deployment opsctl verified (its ``opsctl:verified-deployment`` tag)."""
    bad_since: datetime | None
    bad_reason: str | None


@dataclass(frozen=True)
class ProvenanceResult:
    """Whether an image, named by commit SHA or digest, already ran successfully in the
    target's environment (``opsctl provenance``)."""

    target: TargetInfo
    image: ImageInfo
    """The image as found in the target's ECR repository."""
    pinned: str
    """``repository@sha256:...``: what a deploy of it pins."""
    proven: bool
    """The newest verdict on any revision pinning the digest is good."""
    evidence: ImageRun | None
    """The revision whose verdict proves it (``None`` when not proven)."""
    runs: tuple[ImageRun, ...]
    """Every revision among the scanned ones that pins the digest, newest first."""
    scanned: int
    """How many of the family's newest revisions were inspected."""
    require_verified: bool
    """``--require-verified`` was given: not proven is exit 21."""
    explanation: tuple[str, ...]
    exit_code: Annotated[int, JsonSchema(enum=[int(ExitCode.OK), int(ExitCode.UNPROVEN)])]
    """The process's exit code (docs/opsctl.md, "Exit codes")."""
    command: Literal["provenance"] = "provenance"


@dataclass(frozen=True)
class ErrorInfo:
    """Why the command stopped."""

    type: str
    """The error's class, e.g. ``NotFoundError``."""
    message: str
    hint: str | None
    exit_code: Annotated[int, JsonSchema(enum=list(ERROR_EXIT_CODES))]


@dataclass(frozen=True)
class ErrorResult:
    """What a command prints on stdout when it fails (``--output json``, ``markdown``)."""

    command: str
    error: ErrorInfo


Result = (
    StatusResult
    | RolloutResult
    | RevisionsResult
    | LogsResult
    | DiagnoseResult
    | ProvenanceResult
    | ChangesResult
    | ErrorResult
)

DOCUMENTS: dict[str, type[Result]] = {
    "status": StatusResult,
    "rollout": RolloutResult,
    "revisions": RevisionsResult,
    "logs": LogsResult,
    "diagnose": DiagnoseResult,
    "provenance": ProvenanceResult,
    "changes": ChangesResult,
    "error": ErrorResult,
}
"""Each JSON document opsctl prints, by the name of its schema (``schemas/<name>.schema.json``,
``opsctl schema <name>``)."""


def document_name(command: str) -> str | None:
    """The schema name for a command's JSON document (``error`` for any failure)."""
    if command in get_args(RolloutCommand):
        return "rollout"
    return command if command in DOCUMENTS else None
