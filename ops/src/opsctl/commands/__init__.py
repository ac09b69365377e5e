"""One module per command; each ``run`` returns a result dataclass (opsctl.results) and never
prints data itself (cli.py renders it)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cached_property

from opsctl.aws import Aws
from opsctl.model import Deployment, TaskDefinition
from opsctl.progress import Progress, make_progress
from opsctl.results import DeploymentInfo, TargetInfo
from opsctl.target import Target, TargetSpec, discover


@dataclass
class Context:
    """What every command needs: the target as named, AWS access, progress on stderr."""

    spec: TargetSpec
    quiet: bool = False

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
