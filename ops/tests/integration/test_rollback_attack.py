"""Attack path 4 (issue 10): a role that may register revisions in this service's family (task
definition actions have no resource-level permissions) plants revisions to deny or to hijack a
rollback. ``rollback`` must still find the last known good however many newer unverified
revisions exist, and refuse a revision that runs another repository's image or other roles,
changing nothing."""

from __future__ import annotations

from localcloud.testing.stacks import push_image

PLANTED = 60


def _plant(s, count: int, **changes: object) -> list[str]:
    """Register ``count`` revisions of the service's family as another role would: a copy of
    revision 1 with ``changes``, no opsctl tags. Returns their ARNs."""
    ecs = s.client("ecs")
    base = ecs.describe_task_definition(taskDefinition=f"{s.stack.family}:1")["taskDefinition"]
    keys = ("family", "networkMode", "requiresCompatibilities", "cpu", "memory")
    registration = {k: base[k] for k in keys}
    registration["containerDefinitions"] = base["containerDefinitions"]
    registration["executionRoleArn"] = base["executionRoleArn"]
    registration.update(changes)
    return [
        ecs.register_task_definition(**registration)["taskDefinition"]["taskDefinitionArn"]
        for _ in range(count)
    ]


def test_sixty_newer_unverified_revisions_do_not_hide_the_last_known_good(make_scenario):
    s = make_scenario()
    s.push("v2")
    assert s.opsctl("deploy", "--image-tag", "v2").returncode == 0  # 1 recorded good, 2 runs
    planted = _plant(s, PLANTED)
    assert planted[-1].endswith(f":{PLANTED + 2}")

    run = s.opsctl("--output", "json", "rollback", "--dry-run")
    assert run.returncode == 0, run  # before the fix: exit 5, "none of the newest 50 ..."
    assert run.json["to_revision"]["revision"] == 1
    revisions = s.opsctl("--output", "json", "revisions").json
    assert revisions["last_known_good"] == 1
    back = s.opsctl("--output", "json", "rollback")
    assert back.returncode == 0, back
    assert s.service()["taskDefinition"].endswith(":1")


def test_a_revision_with_foreign_roles_is_refused_and_nothing_changes(make_scenario):
    s = make_scenario()
    s.push("v2")
    assert s.opsctl("deploy", "--image-tag", "v2").returncode == 0
    (foreign,) = _plant(
        s,
        1,
        executionRoleArn="arn:aws:iam::123456789012:role/other-execution",
        taskRoleArn="arn:aws:iam::123456789012:role/other-task",
    )
    number = foreign.rsplit(":", 1)[-1]
    before = s.service()
    tags_before = s.client("ecs").describe_task_definition(
        taskDefinition=f"{s.stack.family}:2", include=["TAGS"]
    )["tags"]

    run = s.opsctl("--output", "json", "rollback", "--to-revision", number)
    assert run.returncode == 5, run
    message = run.json["error"]["message"]
    assert f"api:{number} is not this service's revision" in message
    assert "its execution role is arn:aws:iam::123456789012:role/other-execution, not the " in (
        message
    )
    # The service's revisions pass no task role: the planted one adds one.
    assert "it passes a task role (arn:aws:iam::123456789012:role/other-task)" in message
    after = s.service()
    assert after["taskDefinition"] == before["taskDefinition"]
    assert [d["id"] for d in after["deployments"]] == [d["id"] for d in before["deployments"]]
    tags_after = s.client("ecs").describe_task_definition(
        taskDefinition=f"{s.stack.family}:2", include=["TAGS"]
    )["tags"]
    assert tags_after == tags_before  # not even marked rolled back


def test_a_revision_running_another_repositorys_image_is_refused(make_scenario, unrestricted_iam):
    # An administrator at 3 a.m. (no deploy-role limits): the check is opsctl's, not IAM's.
    s = make_scenario()
    s.push("v2")
    assert s.opsctl("deploy", "--image-tag", "v2").returncode == 0
    ecr = s.client("ecr")
    other = ecr.create_repository(repositoryName="attacker")["repository"]["repositoryUri"]
    digest = push_image(s.harness.endpoint, "attacker", "evil")
    base = s.client("ecs").describe_task_definition(taskDefinition=f"{s.stack.family}:1")
    containers = base["taskDefinition"]["containerDefinitions"]
    containers[0]["image"] = f"{other}@{digest}"
    (foreign,) = _plant(s, 1, containerDefinitions=containers)
    number = foreign.rsplit(":", 1)[-1]

    run = s.opsctl("--output", "json", "rollback", "--to-revision", number)
    assert run.returncode == 5, run
    message = run.json["error"]["message"]
    assert f"its image comes from repository {other}, not the service's " in message
    assert s.service()["taskDefinition"].endswith(":2")
