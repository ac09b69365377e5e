"""``localcloud``: the whole platform on one machine (``make local-cloud`` runs ``localcloud up``).

Commands: ``up``, ``down``, ``status``, ``env``, ``image push``. What each step does:
:mod:`localcloud.cloud.control`; exit codes: :mod:`localcloud.errors`. Results go to stdout,
progress to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from localcloud.cloud import control
from localcloud.cloud.model import DEFAULT_ALB_PORT, DEFAULT_PORT, Cloud, UpOptions
from localcloud.cloud.provision import service_version
from localcloud.cloud.state import Paths
from localcloud.emulator import client
from localcloud.errors import LocalCloudError
from localcloud.images import records

DEFAULT_STATE_DIR = Path(".localcloud")


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _positive_scale(text: str) -> float:
    value = float(text)
    if not 0 < value <= 10:
        raise argparse.ArgumentTypeError("must be in (0, 10]: real seconds per AWS second")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("must be a TCP port (0: any free port)")
    return value


def _assignment(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE")
    return key, value


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="localcloud",
        description="An emulated AWS on 127.0.0.1 running the platform: infra/envs/dev applied "
        "with Terraform, an ECS simulator whose tasks are real app-serve processes, a local "
        "listener playing the ALB.",
    )
    top.add_argument(
        "--state-dir",
        type=Path,
        default=DEFAULT_STATE_DIR,
        help="where the local cloud keeps its state (default: .localcloud)",
    )
    commands = top.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="start the local cloud (or report the running one)")
    up.add_argument("--repo", type=Path, default=Path(), help="the checkout (default: .)")
    up.add_argument("--port", type=_port, default=DEFAULT_PORT, help="emulator port")
    up.add_argument("--alb-port", type=_port, default=DEFAULT_ALB_PORT, help="local ALB port")
    up.add_argument(
        "--time-scale",
        type=_positive_scale,
        default=0.1,
        help="real seconds per simulated AWS second (default 0.1: a 30 s health-check "
        "interval lasts 3 s)",
    )
    commands.add_parser("down", help="stop everything the local cloud runs")
    status = commands.add_parser("status", help="is it running, where, and does /health answer")
    status.add_argument("--json", action="store_true", help="print cloud.json")
    commands.add_parser("env", help='print the shell exports (eval "$(localcloud env)")')

    image = commands.add_parser("image", help="image records in the local cloud's ECR")
    image_commands = image.add_subparsers(dest="image_command", required=True)
    push = image_commands.add_parser(
        "push",
        help="record the service's image under new tags (what `make image-push` does for AWS)",
    )
    push.add_argument("--tag", action="append", required=True, help="a tag (repeatable)")
    push.add_argument(
        "--env",
        type=_assignment,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an ENV line baked into the image (repeatable), e.g. APP_ENVIRONMENT=broken",
    )
    push.add_argument("--commit", help="APP_COMMIT of the image (default: the tag)")
    push.add_argument("--version", help="APP_VERSION of the image (default: the service's)")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    paths = Paths(args.state_dir.resolve())
    try:
        return _run(args, paths)
    except LocalCloudError as error:
        print(f"localcloud: {error.message}", file=sys.stderr)
        if error.hint:
            print(f"  hint: {error.hint}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace, paths: Paths) -> int:
    if args.command == "up":
        result = control.up(
            UpOptions(
                repo=args.repo.resolve(),
                state_dir=paths.root,
                port=args.port,
                alb_port=args.alb_port,
                time_scale=args.time_scale,
            ),
            _say,
        )
        print(summary(result.cloud, already_running=result.already_running))
        return 0
    if args.command == "down":
        outcome = control.down(paths)
        if outcome.daemon is None and not outcome.tasks_killed:
            print("local cloud: none was running; nothing runs now")
        else:
            extra = (
                f"; killed {outcome.tasks_killed} task process(es) left behind"
                if outcome.tasks_killed
                else ""
            )
            print(f"local cloud: stopped (daemon pid {outcome.daemon}){extra}; nothing runs now")
        return 0
    cloud = control.require(paths)
    if args.command == "status":
        if args.json:
            print(json.dumps(cloud.to_json(), indent=2, sort_keys=True))
        else:
            print(summary(cloud, already_running=True))
            print(f"  GET {cloud.alb_url}/health -> {control.health(cloud)}")
        return 0
    if args.command == "env":
        print(Path(cloud.env_file).read_text(encoding="utf-8"), end="")
        return 0
    if args.command == "image":
        tags: list[str] = args.tag
        record = records.service_image(
            args.version or service_version(),
            args.commit or tags[0],
            dict(args.env),
        )
        ecr = client(cloud.endpoint, cloud.region, "ecr")
        pushed = records.push(ecr, cloud.repository, record, tags)
        print(f"{cloud.repository}@{pushed.digest} tagged {', '.join(pushed.tags)}")
        return 0
    raise AssertionError(f"unhandled command {args.command}")  # argparse allows no other


def _shown(path: str) -> str:
    """``path`` relative to the working directory when it lies below it (shorter to type)."""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return path


def summary(cloud: Cloud, *, already_running: bool) -> str:
    """What a person needs to use the local cloud."""
    state = "is already running" if already_running else "is ready"
    took = cloud.seconds.get("total")
    timing = f" (started in {took:.0f} s)" if took and not already_running else ""
    speed = 1 / cloud.time_scale
    return "\n".join(
        (
            f"local cloud {state}{timing}: daemon pid {cloud.daemon_pid}, since {cloud.started_at}",
            f"  emulated AWS  {cloud.endpoint}  ({cloud.region}, account 123456789012)",
            f"  local ALB     {cloud.alb_url}  -> service {cloud.service} in cluster "
            f"{cloud.cluster}",
            f"  image         {cloud.repository}:{cloud.image_tags[0]} "
            f"({cloud.image_digest[:19]}...)",
            f"  AWS's clock   {speed:g}x faster (health checks every {30 * cloud.time_scale:g} s)",
            "use it:",
            f"  source {_shown(cloud.env_file)}   # AWS_ENDPOINT_URL, .venv/bin on PATH",
            f"  opsctl --target-file {_shown(cloud.target_file)} status",
            f"  curl {cloud.alb_url}/health",
            f"  aws ecs describe-services --cluster {cloud.cluster} --services {cloud.service}",
            f"  opsctl logs --since 10m        # the tasks' output, CloudWatch {cloud.log_group}",
            f"  terraform -chdir={_shown(cloud.terraform_dir)} plan",
            "stop it: make local-cloud-down",
        )
    )


if __name__ == "__main__":
    raise SystemExit(main())
