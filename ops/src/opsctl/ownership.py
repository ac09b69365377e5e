"""Is a task definition revision this service's own? The check before a rollback.

Task definition actions have no resource-level permissions
(https://github.com/aws/containers-roadmap/issues/929): any role that may register revisions
(another environment's deploy role, for one) can register a revision in this service's family
that runs another repository's image, or passes other roles. A rollback to it would then run
foreign code with foreign permissions, under this service's name. So a rollback target must run
the service's image repository and pass the same task and execution roles as the revision the
service runs now; anything else is refused before anything changes.
"""

from __future__ import annotations

from opsctl.images import parse_image
from opsctl.model import TaskDefinition


def differences(
    candidate: TaskDefinition, current: TaskDefinition, container: str, repository: str | None
) -> list[str]:
    """What makes ``candidate`` not this service's revision (empty when nothing does).

    ``repository``: the service's image repository (the target's ``ecr_repository_url``), else
    the repository of the image ``current`` runs.
    """
    try:
        running = current.container(container)
    except KeyError:
        running = current.container(None)
    try:
        theirs = candidate.container(container)
    except KeyError:
        return [f"it has no container named {container!r}"]
    found: list[str] = []
    own = parse_image(repository).name if repository else parse_image(running.image).name
    other = parse_image(theirs.image).name
    if other != own:
        found.append(f"its image comes from repository {other}, not the service's {own}")
    for key, what in (("taskRoleArn", "task role"), ("executionRoleArn", "execution role")):
        mine, its = current.registration.get(key), candidate.registration.get(key)
        if its == mine:
            continue
        if not mine:
            found.append(f"it passes a {what} ({its}), the service's revision none")
        elif not its:
            found.append(f"it has no {what}, the service's revision {mine}")
        else:
            found.append(f"its {what} is {its}, not the service's {mine}")
    return found
