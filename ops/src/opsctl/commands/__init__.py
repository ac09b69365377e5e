"""One module per command; each ``run`` returns a result dataclass (opsctl.results) and never
prints data itself (cli.py renders it)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from opsctl import lkg, settings
from opsctl.aws import Aws
from opsctl.errors import OpsctlError
from opsctl.model import Deployment, TaskDefinition
from opsctl.progress import Progress, make_progress
from opsctl.results import DeploymentInfo, TargetInfo
from opsctl.target import Target, TargetSpec, discover

if TYPE_CHECKING:
    from opsctl.notify import Notifier, Who


@dataclass
class Context:
    """What every command needs: the target as named, AWS access, progress on stderr."""

    spec: TargetSpec
    quiet: bool = False
    notifier: Notifier | None = None
    """Posts the start and outcome of a rollout (``--notify``), when asked for."""

    @cached_property
    def aws(self) -> Aws:
        return Aws(self.spec.region)

    @cached_property
    def target(self) -> Target:
        return discover(self.aws, self.spec)

    @cached_property
    def progress(self) -> Progress:
        return make_progress(self.quiet)

    def refresh(self) -> None:
        """Forget the discovered target (the service changed: after a deploy, before the
        rollback that follows it) and start a new progress display."""
        self.__dict__.pop("target", None)
        self.__dict__.pop("progress", None)

    def target_info(self) -> TargetInfo:
        return TargetInfo(
            cluster=self.spec.cluster,
            service=self.spec.service,
            region=self.aws.region,
            source=self.spec.source,
        )

    @cached_property
    def caller(self) -> str | None:
        """Who runs opsctl (the caller's ARN), or ``None`` when STS cannot say: it names
        people in notifications and verdict tags, and must never stop a command."""
        try:
            return self.aws.caller_arn()
        except OpsctlError:
            return None

    @cached_property
    def ci_run(self) -> settings.CiRun | None:
        return settings.ci_run()

    def who(self) -> Who:
        """Who runs this command, for notifications."""
        from opsctl.notify import Who

        run = self.ci_run
        return Who(self.caller, run.url if run else None, run.actor if run else None)

    @cached_property
    def recorded_by(self) -> str | None:
        """The value of the ``opsctl:*-by`` tags opsctl writes with a verdict."""
        return lkg.by_value(self.caller, self.ci_run.url if self.ci_run else None)

    def resume_command(self, deployment_id: str) -> str:
        return (
            f"opsctl --cluster {self.spec.cluster} --service {self.spec.service} "
            f"watch --deployment {deployment_id}"
        )


def revision_of(arn: str) -> int | None:
    tail = arn.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else None


def deployment_info(
    deployment: Deployment, definition: TaskDefinition | None, container: str | None
) -> DeploymentInfo:
    image = None
    if definition is not None:
        try:
            image = definition.container(container).image
        except KeyError:
            image = None
    return DeploymentInfo(
        **asdict(deployment), revision=revision_of(deployment.task_definition), image=image
    )
