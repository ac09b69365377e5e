"""Exit codes and the one error hierarchy of opsctl.

Every way opsctl can end has exactly one exit code, documented here and in docs/opsctl.md.
Commands raise an :class:`OpsctlError` subclass for anything that stops them; outcomes that
are results (a rolled-back deployment, problems found by diagnose) map to an exit code through
:class:`opsctl.results.Outcome` and the command's result instead.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """opsctl's exit codes (stable: CI pipelines branch on them)."""

    OK = 0
    """Success: the command did what it was asked; diagnose found nothing."""
    INTERNAL = 1
    """A bug in opsctl (unexpected exception). Please report it with the output."""
    USAGE = 2
    """Bad command line (unknown option, invalid value)."""
    TARGET = 3
    """The target could not be resolved: no cluster/service given, unknown cluster or service,
    unreadable --target-file, failing ``terraform output``."""
    AWS = 4
    """An AWS call failed (credentials, permissions, throttling after retries, endpoint)."""
    NOT_FOUND = 5
    """An input names nothing: image tag not in ECR, unknown revision, no last-known-good
    revision to roll back to. Nothing was changed."""
    CONFLICT = 6
    """Refused: another deployment is in progress (deploy and redeploy; pass --force), or the
    circuit breaker is already rolling back (rollback)."""
    ROLLED_BACK = 10
    """The deployment failed and the ECS circuit breaker rolled the service back."""
    FAILED = 11
    """The deployment failed and was not rolled back (stalled or stuck)."""
    TIMED_OUT = 12
    """The deployment did not finish within --timeout; it continues in ECS."""
    UNVERIFIED = 13
    """The deployment completed but verification failed: new targets unhealthy or the
    smoke test of /health through the load balancer failed."""
    SUPERSEDED = 14
    """Another deployment replaced ours before it finished."""
    NO_SMOKE_TEST = 15
    """The deployment completed with healthy targets, but ``/health`` could not be
    smoke-tested (no URL a certificate matches): not recorded as known good. Exit 0 instead
    with --allow-no-smoke-test."""
    FAILING = 16
    """Fail fast: tasks of the deployment kept stopping for the same decisive reason (image
    pull, ResourceInitializationError, the same exit code, out of memory); opsctl stopped
    waiting before ECS decided. The deployment goes on in ECS unless rolled back."""
    BAKE_FAILED = 17
    """The deployment completed and was verified, then failed the bake window (an alarm, 5xx
    responses, an unhealthy target or a stopped task of it); the revision is marked failed."""
    PROBLEMS_FOUND = 20
    """diagnose found at least one problem."""
    UNPROVEN = 21
    """provenance --require-verified: the image has no successful run in this environment
    (never deployed here, or its newest verdict here is a failure or a rollback)."""
    # --rollback-on-failure: 3X = outcome 1X, then opsctl rolled back to the last known good
    # and that rollback succeeded; 4X = outcome 1X, and the automatic rollback failed or was
    # impossible (the service needs a person).
    FAILED_ROLLED_BACK = 31
    TIMED_OUT_ROLLED_BACK = 32
    UNVERIFIED_ROLLED_BACK = 33
    FAILING_ROLLED_BACK = 36
    BAKE_FAILED_ROLLED_BACK = 37
    FAILED_ROLLBACK_FAILED = 41
    TIMED_OUT_ROLLBACK_FAILED = 42
    UNVERIFIED_ROLLBACK_FAILED = 43
    FAILING_ROLLBACK_FAILED = 46
    BAKE_FAILED_ROLLBACK_FAILED = 47
    INTERRUPTED = 130
    """Ctrl-C while waiting; the service is left as it is (128 + SIGINT)."""


class OpsctlError(Exception):
    """Base of every error opsctl reports to its user; carries the exit code."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(OpsctlError):
    exit_code = ExitCode.USAGE


class TargetError(OpsctlError):
    """The cluster/service could not be resolved or does not exist."""

    exit_code = ExitCode.TARGET


class AwsError(OpsctlError):
    """An AWS API call failed."""

    exit_code = ExitCode.AWS

    def __init__(self, message: str, *, code: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.code = code


class NotFoundError(OpsctlError):
    """An input (image tag, revision) names nothing that exists."""

    exit_code = ExitCode.NOT_FOUND


class ConflictError(OpsctlError):
    """Refused because of the service's current state."""

    exit_code = ExitCode.CONFLICT


class Interrupted(OpsctlError):  # noqa: N818 - it is a user action, not an error condition
    """The user pressed Ctrl-C while opsctl was waiting; nothing was changed by that."""

    exit_code = ExitCode.INTERRUPTED


def _hierarchy(cls: type[OpsctlError]) -> list[type[OpsctlError]]:
    return [cls, *(c for sub in cls.__subclasses__() for c in _hierarchy(sub))]


ERROR_EXIT_CODES = tuple(sorted({int(cls.exit_code) for cls in _hierarchy(OpsctlError)}))
"""The exit codes of a command that stopped with an error (its ``error`` JSON document)."""
