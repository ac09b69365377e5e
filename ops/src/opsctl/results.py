"""The results commands return: frozen dataclasses, rendered by output.py.

Their JSON form (``--output json``) is documented by the JSON Schemas in ``opsctl/schemas``
(one per command, checked in tests); field names are the dataclass fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from opsctl.errors import ExitCode

SCHEMA_VERSION = 1


class Outcome(StrEnum):
    """How a deploy, rollback, redeploy or watch ended (each has its own exit code)."""

    SUCCEEDED = "succeeded"
    SUCCEEDED_WITHOUT_SMOKE_TEST = "succeeded_without_smoke_test"
    """Completed with healthy targets, but there was no URL the smoke test could verify (an
    HTTPS-only load balancer reached by its AWS name, no load balancer): not a failure, and
    the revision is recorded good; the reason is in ``warnings``."""
    ROLLED_BACK = "rolled_back"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    UNVERIFIED = "unverified"
    SUPERSEDED = "superseded"
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
    Outcome.SUCCEEDED_WITHOUT_SMOKE_TEST: ExitCode.OK,
    Outcome.STARTED: ExitCode.OK,
    Outcome.DRY_RUN: ExitCode.OK,
    Outcome.UNCHANGED: ExitCode.OK,
    Outcome.ROLLED_BACK: ExitCode.ROLLED_BACK,
    Outcome.FAILED: ExitCode.FAILED,
    Outcome.TIMED_OUT: ExitCode.TIMED_OUT,
    Outcome.UNVERIFIED: ExitCode.UNVERIFIED,
    Outcome.SUPERSEDED: ExitCode.SUPERSEDED,
}


@dataclass(frozen=True)
class TargetInfo:
    cluster: str
    service: str
    region: str
    source: str
    """Where cluster and service came from (command line, target file, terraform, environment)."""


@dataclass(frozen=True)
class DeploymentInfo:
    id: str
    status: str
    rollout_state: str | None
    rollout_reason: str | None
    revision: int | None
    task_definition: str
    image: str | None
    desired: int
    running: int
    pending: int
    failed_tasks: int
    created_at: datetime | None
    updated_at: datetime | None


@dataclass(frozen=True)
class EventInfo:
    created_at: datetime
    message: str


@dataclass(frozen=True)
class TargetHealthInfo:
    id: str
    port: int | None
    state: str
    reason: str | None
    description: str | None


@dataclass(frozen=True)
class AlarmInfo:
    name: str
    reason: str
    metric: str | None
    updated_at: datetime | None


@dataclass(frozen=True)
class StoppedTaskInfo:
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
    image_digest: str | None
    """The digest the running tasks report (or the pinned one)."""
    grace_period: int | None
    circuit_breaker: bool
    circuit_breaker_rollback: bool
    target_group_arn: str | None
    deployments: tuple[DeploymentInfo, ...]
    events: tuple[EventInfo, ...]
    targets: tuple[TargetHealthInfo, ...]
    alarms: tuple[AlarmInfo, ...]
    alarms_error: str | None = None
    """Why the alarms could not be read (best effort: status still answers)."""
    command: str = "status"


@dataclass(frozen=True)
class RevisionRef:
    revision: int | None
    """``None`` before the revision is registered (--dry-run)."""
    task_definition: str | None
    image: str


@dataclass(frozen=True)
class ImageInfo:
    requested: str
    repository: str
    digest: str
    tags: tuple[str, ...]
    pushed_at: datetime | None
    note: str | None


@dataclass(frozen=True)
class ChangeInfo:
    path: str
    old: str | int | float | bool | None
    new: str | int | float | bool | None


@dataclass(frozen=True)
class RolloutInfo:
    state: str | None
    reason: str | None
    failed_tasks: int
    rollback_deployment_id: str | None
    rollback_revision: int | None
    rollback_state: str | None


@dataclass(frozen=True)
class VerificationInfo:
    targets_healthy: bool | None
    """``None`` when the service has no load balancer."""
    targets: tuple[TargetHealthInfo, ...]
    smoke_url: str | None
    smoke_status: int | None
    smoke_ok: bool | None
    """``None`` when the smoke test was skipped (``detail`` says why)."""
    version: str | None
    commit: str | None
    detail: str | None


@dataclass(frozen=True)
class RolloutResult:
    """The result of deploy, rollback, redeploy and watch."""

    command: str
    outcome: Outcome
    exit_code: int
    target: TargetInfo
    deployment_id: str | None
    from_revision: RevisionRef | None
    to_revision: RevisionRef | None
    image: ImageInfo | None
    diff: str | None
    changes: tuple[ChangeInfo, ...]
    rollout: RolloutInfo | None
    verification: VerificationInfo | None
    stopped_tasks: tuple[StoppedTaskInfo, ...]
    events: tuple[EventInfo, ...]
    explanation: tuple[str, ...]
    elapsed_seconds: float
    resume_command: str | None
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    """What went wrong without changing the outcome: a verdict that could not be recorded in
    the revision's tags, a smoke test that could not run."""


@dataclass(frozen=True)
class RevisionInfo:
    revision: int
    task_definition: str
    image: str
    registered_at: datetime | None
    running: bool
    """A deployment of the service uses it right now."""
    last_known_good: bool
    verdict: str
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
    command: str = "revisions"


@dataclass(frozen=True)
class LogEventInfo:
    timestamp: datetime
    stream: str
    task_id: str | None
    message: str


@dataclass(frozen=True)
class LogsResult:
    target: TargetInfo
    log_group: str
    since: datetime
    filter: str | None
    task_id: str | None
    events: tuple[LogEventInfo, ...]
    command: str = "logs"


class Severity(StrEnum):
    CRITICAL = "critical"
    """The service does not serve (or cannot deploy) because of it."""
    WARNING = "warning"
    """It degrades the service or will bite on the next deploy."""


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    title: str
    evidence: tuple[str, ...]
    likely_cause: str
    runbook: str
    """The runbook section the finding belongs to (e.g. "4.2 Task stuck in PENDING")."""
    fix: str


@dataclass(frozen=True)
class DiagnoseResult:
    target: TargetInfo
    findings: tuple[Finding, ...]
    rules_checked: tuple[str, ...]
    command: str = "diagnose"

    @property
    def healthy(self) -> bool:
        return not self.findings


@dataclass(frozen=True)
class ErrorInfo:
    type: str
    message: str
    hint: str | None
    exit_code: int


@dataclass(frozen=True)
class ErrorResult:
    command: str
    error: ErrorInfo


Result = StatusResult | RolloutResult | RevisionsResult | LogsResult | DiagnoseResult | ErrorResult
