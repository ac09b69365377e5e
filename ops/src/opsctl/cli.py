"""Command-line wiring (typer): parse options, run a command, render its result, exit.

No logic lives here: commands are in opsctl.commands, rendering in opsctl.output, exit codes
in opsctl.errors. Data goes to stdout, progress and errors to stderr.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from opsctl import __version__
from opsctl.cliglobals import OpsctlCommand, OpsctlGroup, overrides
from opsctl.errors import ExitCode, OpsctlError
from opsctl.output import OutputFormat, render, render_log_event
from opsctl.results import (
    DiagnoseResult,
    ErrorInfo,
    ErrorResult,
    ProvenanceResult,
    Result,
    RolloutResult,
    document_name,
)

if TYPE_CHECKING:  # imported lazily at run time: `opsctl --help` must not load boto3
    from opsctl.commands import Context
    from opsctl.commands._rollout import RolloutOptions
    from opsctl.notify import Notifier

app = typer.Typer(
    name="opsctl",
    help="The operations runbook as commands: status, deploy, rollback, redeploy, watch, "
    "revisions, logs, diagnose, provenance, changes. The options below (except --version) also "
    "work after the command. Exit codes: docs/opsctl.md.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
    cls=OpsctlGroup,
)

COMMANDS = (
    "status",
    "deploy",
    "rollback",
    "redeploy",
    "watch",
    "revisions",
    "logs",
    "diagnose",
    "provenance",
    "changes",
)


@dataclass
class Globals:
    output: OutputFormat
    cluster: str | None
    service: str | None
    tf_dir: Path | None
    target_file: Path | None
    quiet: bool


def _globals(ctx: typer.Context) -> Globals:
    """The global options, those given after the command winning (opsctl.cliglobals)."""
    state = ctx.find_root().obj
    if not isinstance(state, Globals):  # the root callback always sets it
        raise TypeError("opsctl: global options were not parsed")
    given = overrides(ctx)
    if "output" in given:
        given["output"] = OutputFormat(given["output"])
    for name in ("tf_dir", "target_file"):
        if given.get(name) is not None:
            given[name] = Path(given[name])
    return replace(state, **given)


def _version(value: bool) -> None:
    if value:
        print(f"opsctl {__version__}")
        raise typer.Exit(0)


@app.callback()
def main_options(
    ctx: typer.Context,
    output: Annotated[
        OutputFormat,
        typer.Option("--output", "-o", help="text (people), json (CI), markdown (job summaries)"),
    ] = OutputFormat.TEXT,
    cluster: Annotated[
        str | None, typer.Option(help="ECS cluster (else the target file, else $OPSCTL_CLUSTER)")
    ] = None,
    service: Annotated[
        str | None, typer.Option(help="ECS service (else the target file, else $OPSCTL_SERVICE)")
    ] = None,
    tf_dir: Annotated[
        Path | None, typer.Option(help="env root: read `terraform output -json opsctl` there")
    ] = None,
    target_file: Annotated[Path | None, typer.Option(help="a file with that output's JSON")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress on stderr")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version")
    ] = False,
) -> None:
    del version
    ctx.obj = Globals(output, cluster, service, tf_dir, target_file, quiet)


def _context(state: Globals) -> Context:
    from opsctl.commands import Context
    from opsctl.target import resolve_spec

    spec = resolve_spec(
        cluster=state.cluster,
        service=state.service,
        tf_dir=state.tf_dir,
        target_file=state.target_file,
    )
    return Context(spec=spec, quiet=state.quiet)


def _exit_code(result: Result) -> int:
    if isinstance(result, (RolloutResult, ProvenanceResult)):
        return result.exit_code
    if isinstance(result, DiagnoseResult):
        return int(ExitCode.PROBLEMS_FOUND) if result.findings else int(ExitCode.OK)
    return int(ExitCode.OK)


def _error_info(error: OpsctlError) -> ErrorInfo:
    return ErrorInfo(type(error).__name__, error.message, error.hint, int(error.exit_code))


def _fail(command: str, state: Globals, error: OpsctlError) -> NoReturn:
    print(f"opsctl {command}: error: {error.message}", file=sys.stderr)
    if error.hint:
        print(f"  hint: {error.hint}", file=sys.stderr)
    # stdout carries the error too, so a redirected stdout (a CI job summary, a JSON consumer)
    # is never empty; on a terminal the text form would only repeat stderr.
    if state.output != OutputFormat.TEXT or not sys.stdout.isatty():
        render(ErrorResult(command, _error_info(error)), state.output, sys.stdout)
    raise typer.Exit(int(error.exit_code))


def _notifier(url: str, command: str, context: Context) -> Notifier:
    from opsctl.notify import Notifier

    return Notifier(url, command, context.target_info, context.who)


def _execute(
    ctx: typer.Context,
    command: str,
    run: Callable[[Context], Result],
    notify: str | None = None,
) -> NoReturn:
    state = _globals(ctx)
    context = None
    try:
        context = _context(state)
        if notify:
            context.notifier = _notifier(notify, command, context)
        result = run(context)
    except OpsctlError as error:
        if context is not None and context.notifier is not None:
            context.notifier.failed(_error_info(error))
        _fail(command, state, error)
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        print(
            f"opsctl {command}: interrupted; nothing was changed by the interruption",
            file=sys.stderr,
        )
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    except Exception as error:
        traceback.print_exc(file=sys.stderr)
        _fail(
            command,
            state,
            OpsctlError(f"internal error: {error!r} (a bug in opsctl; please report it)"),
        )
    if context is not None and context.notifier is not None and isinstance(result, RolloutResult):
        result = context.notifier.finished(result)
    render(result, state.output, sys.stdout)
    raise typer.Exit(_exit_code(result))


# --- shared options ---------------------------------------------------------------------------

Timeout = Annotated[
    float,
    typer.Option(
        min=1, envvar="OPSCTL_TIMEOUT", help="seconds to wait for the deployment before giving up"
    ),
]
PollInterval = Annotated[
    float,
    typer.Option(
        min=0.05, max=60, envvar="OPSCTL_POLL_INTERVAL", help="seconds between polls while waiting"
    ),
]
VerifyTimeout = Annotated[
    float,
    typer.Option(
        min=0,
        envvar="OPSCTL_VERIFY_TIMEOUT",
        help="seconds for the new targets to turn healthy and /health to answer 200",
    ),
]


def _http_url(value: str | None) -> str | None:
    """Only http(s) URLs may be smoke-tested: urllib would also open file:// and ftp://."""
    if value is not None and not value.lower().startswith(("http://", "https://")):
        raise typer.BadParameter(f"{value!r} is not an http:// or https:// URL")
    return value.rstrip("/") if value else value


Url = Annotated[
    str | None,
    typer.Option(
        envvar="OPSCTL_URL",
        help="base URL for the /health smoke test (default: the ALB's)",
        callback=_http_url,
    ),
]


def _notify_url(value: str | None) -> str | None:
    """Check --notify while parsing (exit 2); the message never repeats the URL (a secret)."""
    if not value:
        return None
    from opsctl.notify import check_url

    try:
        return check_url(value)
    except OpsctlError as error:
        raise typer.BadParameter(error.message.removeprefix("--notify: ")) from None


Notify = Annotated[
    str | None,
    typer.Option(
        "--notify",
        envvar="OPSCTL_NOTIFY_URL",
        metavar="URL",
        show_default=False,
        help="webhook (https) to POST the start and the outcome to, as JSON a Slack incoming "
        "webhook takes; a failure to notify is a warning (docs/opsctl.md#notifications)",
        callback=_notify_url,
    ),
]
NoWait = Annotated[bool, typer.Option("--no-wait", help="return once ECS accepted the update")]
DryRun = Annotated[
    bool, typer.Option("--dry-run", help="show the task definition diff; change nothing")
]
Force = Annotated[
    bool, typer.Option("--force", help="deploy even while another deployment is in progress")
]
FailFast = Annotated[
    int,
    typer.Option(
        min=0,
        max=200,
        envvar="OPSCTL_FAIL_FAST",
        help="stop waiting once this many tasks stopped for the same decisive reason (image "
        "pull, ResourceInitializationError, same exit code, out of memory); 0 waits for ECS",
    ),
]
AllowNoSmokeTest = Annotated[
    bool,
    typer.Option(
        "--allow-no-smoke-test",
        help="exit 0 and record the revision good when /health could not be smoke-tested "
        "(else exit 15, not recorded)",
    ),
]


def _duration(value: str | None) -> str | None:
    """Validate --bake while parsing the command line (exit 2, before any AWS call)."""
    if value is None:
        return None
    from opsctl.bake import parse_duration

    try:
        parse_duration(value)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    return value


Bake = Annotated[
    str | None,
    typer.Option(
        callback=_duration,
        envvar="OPSCTL_BAKE",
        help="after COMPLETED and verified, keep watching alarms, 5xx, target health and the "
        "new tasks this long (0, 90s, 10m, 1h; default: the target's deploy_bake, else 0)",
    ),
]
Bake5xxPercent = Annotated[
    float,
    typer.Option(
        min=0,
        max=100,
        help="the bake fails when 5xx answers reach this share of requests (at least 5 errors)",
    ),
]
RollbackOnFailure = Annotated[
    bool,
    typer.Option(
        "--rollback-on-failure",
        help="roll back to the last known good revision after a failed, timed-out, failing, "
        "unverified or bake-failed deploy (exit 3X: rolled back, 4X: the rollback failed too)",
    ),
]


def _options(
    no_wait: bool,
    timeout: float,
    poll_interval: float,
    verify_timeout: float,
    url: str | None,
    fail_fast: int = 3,
    allow_no_smoke_test: bool = False,
    rollback_on_failure: bool = False,
) -> RolloutOptions:
    from opsctl.commands._rollout import RolloutOptions

    return RolloutOptions(
        wait=not no_wait,
        timeout=timeout,
        poll_interval=poll_interval,
        verify_timeout=verify_timeout,
        url=url,
        fail_fast=fail_fast,
        allow_no_smoke_test=allow_no_smoke_test,
        rollback_on_failure=rollback_on_failure,
    )


def _with_bake(
    c: Context, options: RolloutOptions, bake: str | None, percent: float
) -> RolloutOptions:
    """The bake asked for on the command line, else the target's ``deploy_bake``."""
    from dataclasses import replace

    from opsctl.bake import BakeOptions, parse_duration
    from opsctl.errors import TargetError

    text = bake if bake is not None else c.spec.deploy_bake
    if not text:
        return options
    try:
        seconds = parse_duration(text)
    except ValueError as error:
        raise TargetError(f"the target's deploy_bake: {error}") from None
    return replace(options, bake=BakeOptions(seconds, percent) if seconds > 0 else None)


# --- commands ---------------------------------------------------------------------------------


@app.command(cls=OpsctlCommand)
def status(
    ctx: typer.Context,
    events: Annotated[
        int, typer.Option(min=0, max=100, help="how many service events to show")
    ] = 10,
) -> None:
    """Counts, deployments (revision, image digest), events, target health, alarms in ALARM."""
    from opsctl.commands import status as command

    _execute(ctx, "status", lambda c: command.run(c, events=events))


@app.command(cls=OpsctlCommand)
def deploy(
    ctx: typer.Context,
    image_tag: Annotated[
        str, typer.Option(help="ECR tag or sha256 digest; 'latest' = the newest pushed image")
    ] = "latest",
    dry_run: DryRun = False,
    no_wait: NoWait = False,
    force: Force = False,
    timeout: Timeout = 900,
    poll_interval: PollInterval = 5,
    verify_timeout: VerifyTimeout = 60,
    url: Url = None,
    fail_fast: FailFast = 3,
    allow_no_smoke_test: AllowNoSmokeTest = False,
    bake: Bake = None,
    bake_5xx_percent: Bake5xxPercent = 5.0,
    rollback_on_failure: RollbackOnFailure = False,
    notify: Notify = None,
) -> None:
    """Deploy an image: new revision pinned by digest, follow it, verify targets and /health,
    bake it; --rollback-on-failure rolls back when any of that fails."""
    from opsctl.commands import deploy as command

    options = _options(
        no_wait,
        timeout,
        poll_interval,
        verify_timeout,
        url,
        fail_fast,
        allow_no_smoke_test,
        rollback_on_failure,
    )
    _execute(
        ctx,
        "deploy",
        lambda c: command.run(
            c,
            image_tag=image_tag,
            dry_run=dry_run,
            force=force,
            options=_with_bake(c, options, bake, bake_5xx_percent),
        ),
        None if dry_run else notify,
    )


@app.command(cls=OpsctlCommand)
def rollback(
    ctx: typer.Context,
    to_revision: Annotated[
        int | None, typer.Option(help="revision number (default: the last known good one)")
    ] = None,
    dry_run: DryRun = False,
    no_wait: NoWait = False,
    timeout: Timeout = 900,
    poll_interval: PollInterval = 5,
    verify_timeout: VerifyTimeout = 60,
    url: Url = None,
    fail_fast: FailFast = 3,
    allow_no_smoke_test: AllowNoSmokeTest = False,
    notify: Notify = None,
) -> None:
    """Roll back to the last known good revision (or --to-revision N), follow and verify it;
    a deployment still rolling out is stopped (StopServiceDeployment)."""
    from opsctl.commands import rollback as command

    options = _options(
        no_wait, timeout, poll_interval, verify_timeout, url, fail_fast, allow_no_smoke_test
    )
    _execute(
        ctx,
        "rollback",
        lambda c: command.run(c, to_revision=to_revision, dry_run=dry_run, options=options),
        None if dry_run else notify,
    )


@app.command(cls=OpsctlCommand)
def redeploy(
    ctx: typer.Context,
    dry_run: DryRun = False,
    no_wait: NoWait = False,
    force: Force = False,
    timeout: Timeout = 900,
    poll_interval: PollInterval = 5,
    verify_timeout: VerifyTimeout = 60,
    url: Url = None,
    fail_fast: FailFast = 3,
    allow_no_smoke_test: AllowNoSmokeTest = False,
    notify: Notify = None,
) -> None:
    """Force a new deployment of the current revision (fresh tasks), follow and verify it."""
    from opsctl.commands import redeploy as command

    options = _options(
        no_wait, timeout, poll_interval, verify_timeout, url, fail_fast, allow_no_smoke_test
    )
    _execute(
        ctx,
        "redeploy",
        lambda c: command.run(c, dry_run=dry_run, force=force, options=options),
        None if dry_run else notify,
    )


@app.command(cls=OpsctlCommand)
def watch(
    ctx: typer.Context,
    deployment: Annotated[
        str | None, typer.Option(help="deployment id (default: the PRIMARY one)")
    ] = None,
    timeout: Timeout = 900,
    poll_interval: PollInterval = 5,
    verify_timeout: VerifyTimeout = 60,
    url: Url = None,
    fail_fast: FailFast = 3,
    allow_no_smoke_test: AllowNoSmokeTest = False,
) -> None:
    """Follow a deployment already under way (after Ctrl-C or --no-wait) and verify it."""
    from opsctl.commands import watch as command

    options = _options(
        False, timeout, poll_interval, verify_timeout, url, fail_fast, allow_no_smoke_test
    )
    _execute(ctx, "watch", lambda c: command.run(c, deployment_id=deployment, options=options))


@app.command(cls=OpsctlCommand)
def revisions(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option(min=1, max=100, help="how many of the newest revisions to list")
    ] = 10,
) -> None:
    """The task family's revisions: image, registration time, running now, last known good."""
    from opsctl.commands import revisions as command

    _execute(ctx, "revisions", lambda c: command.run(c, limit=limit))


def _since(value: str) -> str:
    """Validate --since while parsing the command line (exit 2, before any AWS call)."""
    from opsctl.since import parse_since

    try:
        parse_since(value)
    except OpsctlError as error:
        raise typer.BadParameter(error.message.removeprefix(f"--since {value!r}: ")) from None
    return value


def _task(value: str | None) -> str | None:
    """Validate --task: a task id or ARN, nothing else (it becomes a log stream name)."""
    if value is None:
        return None
    from opsctl.commands.logs import task_id

    try:
        return task_id(value)
    except OpsctlError as error:
        raise typer.BadParameter(error.message.removeprefix(f"--task {value!r}: ")) from None


@app.command(cls=OpsctlCommand)
def logs(
    ctx: typer.Context,
    since: Annotated[
        str,
        typer.Option(help="how far back: 30s, 10m, 2h, 1d or an ISO 8601 time", callback=_since),
    ] = "10m",
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="keep printing new events until Ctrl-C")
    ] = False,
    filter_pattern: Annotated[
        str | None,
        typer.Option(
            "--filter",
            # The service logs compact JSON (no space after colons), so a text term such as
            # '"status": 500' never matches; JSON patterns select on fields:
            # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
            help="CloudWatch Logs filter pattern, e.g. ERROR or '{ $.status >= 500 }'",
        ),
    ] = None,
    task: Annotated[
        str | None,
        typer.Option(help="only this task's stream (task id or ARN)", callback=_task),
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=100_000, help="at most this many events")
    ] = 10_000,
    log_group: Annotated[
        str | None, typer.Option(help="default: the container's awslogs group")
    ] = None,
    interval: Annotated[
        float, typer.Option(min=0.2, max=60, help="seconds between polls with --follow")
    ] = 2.0,
) -> None:
    """Read the service's CloudWatch Logs (default /aws/ecs/<service>)."""
    from opsctl.commands import logs as command

    state = _globals(ctx)

    def run(c: Context) -> Result:
        first = command.run(
            c, since=since, pattern=filter_pattern, task=task, limit=limit, log_group=log_group
        )
        if not follow:
            return first
        for event in first.events:
            render_log_event(event, state.output, sys.stdout)
        try:
            for event in command.follow(
                c, first, pattern=filter_pattern, task=task, interval=interval
            ):
                render_log_event(event, state.output, sys.stdout)
        except KeyboardInterrupt:
            raise typer.Exit(int(ExitCode.OK)) from None
        raise typer.Exit(int(ExitCode.OK))

    _execute(ctx, "logs", run)


def _state_url(value: str | None) -> str | None:
    """Validate --state-url while parsing the command line (exit 2, before any AWS call)."""
    if value is None:
        return None
    from opsctl.s3url import parse_s3_url

    try:
        parse_s3_url(value)
    except OpsctlError as error:
        raise typer.BadParameter(error.message.removeprefix(f"--state-url {value!r}: ")) from None
    return value


StateUrl = Annotated[
    str | None,
    typer.Option(
        envvar="OPSCTL_STATE_URL",
        help="s3://<bucket>/<env>/terraform.tfstate: list Terraform applies (default: the "
        "S3 backend of --tf-dir, once initialised)",
        callback=_state_url,
    ),
]


@app.command(cls=OpsctlCommand)
def diagnose(ctx: typer.Context, state_url: StateUrl = None) -> None:
    """Runbook 4.2 over live evidence; exit 0 and "no problem found" with the rules checked, or
    exit 20 with findings, the first linked to the nearest change before it."""
    from opsctl.commands import diagnose as command

    _execute(ctx, "diagnose", lambda c: command.run(c, state_url=state_url))


@app.command(cls=OpsctlCommand)
def changes(
    ctx: typer.Context,
    since: Annotated[
        str,
        typer.Option(help="how far back: 30s, 10m, 6h, 1d or an ISO 8601 time", callback=_since),
    ] = "6h",
    state_url: StateUrl = None,
) -> None:
    """What changed, newest first: deployments (and who), verdicts, task-definition diffs,
    images, alarm states, Terraform applies."""
    from opsctl.commands import changes as command
    from opsctl.since import parse_since

    _execute(
        ctx, "changes", lambda c: command.run(c, since=parse_since(since), state_url=state_url)
    )


def _image_reference(value: str) -> str:
    """Validate --image while parsing the command line (exit 2, before any AWS call)."""
    from opsctl.commands.provenance import check_reference

    try:
        return check_reference(value)
    except OpsctlError as error:
        raise typer.BadParameter(error.message) from None


@app.command(cls=OpsctlCommand)
def provenance(
    ctx: typer.Context,
    image: Annotated[
        str,
        typer.Option(
            help="the commit SHA CI tagged the image with (40 hex digits) or its sha256: digest; "
            "never a tag that can be moved such as 'latest'",
            callback=_image_reference,
        ),
    ],
    require_verified: Annotated[
        bool,
        typer.Option("--require-verified", help="exit 21 unless the image ran successfully here"),
    ] = False,
    github_output: Annotated[
        Path | None,
        typer.Option(
            help="also append digest=, image=, proven=, revision=, verified_at=, deployment= "
            'lines to this file (GitHub Actions: "$GITHUB_OUTPUT")',
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Resolve an image to its digest and say whether it already ran successfully here."""
    from opsctl.commands import provenance as command

    _execute(
        ctx,
        "provenance",
        lambda c: command.run(
            c, image=image, require_verified=require_verified, github_output=github_output
        ),
    )


@app.command()
def schema(
    command: Annotated[str, typer.Argument(help=f"one of: {', '.join((*COMMANDS, 'error'))}")],
) -> None:
    """Print the JSON Schema of a command's --output json document."""
    name = document_name(command)
    if name is None:
        print(f"opsctl schema: unknown command {command!r}", file=sys.stderr)
        raise typer.Exit(int(ExitCode.USAGE))
    text = (
        resources.files("opsctl")
        .joinpath("schemas", f"{name}.schema.json")
        .read_text(encoding="utf-8")
    )
    print(json.dumps(json.loads(text), indent=2))


def main() -> None:
    app()
