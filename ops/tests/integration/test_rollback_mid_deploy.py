"""Rolling back while a bad deployment still rolls out (StopServiceDeployment), and
``deploy --rollback-on-failure``: the exit code says what failed and whether the rollback
restored the service."""

from __future__ import annotations

from localcloud.runtime import scripted
from localcloud.testing.stacks import StackOptions

from ops.tests.integration.test_deploy_role import _without


def _status_of(s, deployment_id: str) -> str:
    """The service deployment status of DescribeServices' ``ecs-svc/<n>`` deployment."""
    for found in s.service_deployments():
        revision = found.get("targetServiceRevisionArn", "")
        if revision.rsplit("/", 1)[-1] == deployment_id.rsplit("/", 1)[-1]:
            return str(found["status"])
    raise AssertionError(f"no service deployment for {deployment_id}")


NO_BREAKER = StackOptions(circuit_breaker=False, rollback=False)


def test_rollback_stops_a_bad_deployment_in_progress_with_ecs_rollback(make_scenario):
    # Without a circuit breaker ECS retries the crashing tasks forever: someone must act.
    s = make_scenario(NO_BREAKER, {"v2": scripted.CRASHES_SLOWLY})
    s.push("v2")
    started = s.opsctl("--output", "json", "deploy", "--image-tag", "v2", "--no-wait")
    assert started.returncode == 0, started
    bad = started.json["deployment_id"]

    run = s.opsctl("--output", "json", "rollback")
    assert run.returncode == 0, run
    doc = run.json
    assert doc["outcome"] == "succeeded"
    assert doc["method"] == "stop_service_deployment"
    assert (doc["from_revision"]["revision"], doc["to_revision"]["revision"]) == (2, 1)
    assert doc["deployment_id"] != bad  # ECS's rollback deployment, followed and verified
    assert doc["verification"]["smoke_ok"] is True
    assert "stopped deployment" in run.stderr
    assert "StopServiceDeployment" in run.stderr
    # ECS's own record says it was rolled back (an UpdateService over it would say STOPPED).
    s.wait(lambda: _status_of(s, bad) == "ROLLBACK_SUCCESSFUL", what="ROLLBACK_SUCCESSFUL")
    assert s.service()["taskDefinition"].endswith(":1")
    text = s.opsctl("revisions").stdout
    assert "rolled back" in text


def test_without_permission_to_stop_it_falls_back_to_update_service_and_says_so(
    make_scenario, iam_guard
):
    s = make_scenario(NO_BREAKER, {"v2": scripted.CRASHES_SLOWLY})
    s.push("v2")
    bad = s.opsctl("--output", "json", "deploy", "--image-tag", "v2", "--no-wait").json
    _without(iam_guard, "ecs:ListServiceDeployments")
    run = s.opsctl("--output", "json", "rollback")
    assert run.returncode == 0, run
    doc = run.json
    assert doc["method"] == "update_service"
    assert any(
        "could not read the service's deployments" in n and "UpdateService instead" in n
        for n in doc["notes"]
    ), doc
    assert s.service()["taskDefinition"].endswith(":1")
    assert _status_of(s, bad["deployment_id"]) == "STOPPED"
    assert {r.action for c in iam_guard.refusals() for r in c.refused} == {
        "ecs:ListServiceDeployments"
    }


def test_rollback_to_a_revision_ecs_would_not_return_to_updates_the_service(make_scenario):
    s = make_scenario(NO_BREAKER, {"v3": scripted.CRASHES_SLOWLY})
    s.push("v2")
    s.push("v3")
    assert s.opsctl("deploy", "--image-tag", "v2").returncode == 0
    assert s.opsctl("deploy", "--image-tag", "v3", "--no-wait").returncode == 0
    run = s.opsctl("--output", "json", "rollback", "--to-revision", "1")
    assert run.returncode == 0, run
    doc = run.json
    assert doc["method"] == "update_service"
    assert any("would return to what it started from (api:2)" in n for n in doc["notes"]), doc
    assert s.service()["taskDefinition"].endswith(":1")


def test_rollback_on_failure_after_fail_fast_stops_the_deployment_exit_36(make_scenario):
    s = make_scenario(NO_BREAKER, {"v2": scripted.CRASHES_AT_START})
    s.push("v2")
    run = s.opsctl("--output", "json", "deploy", "--image-tag", "v2", "--rollback-on-failure")
    assert run.returncode == 36, run
    doc = run.json
    assert doc["outcome"] == "failing"  # what failed
    back = doc["automatic_rollback"]  # and what the rollback did
    assert back["outcome"] == "succeeded"
    assert back["method"] == "stop_service_deployment"
    assert back["to_revision"]["revision"] == 1
    assert back["verification"]["smoke_ok"] is True
    assert s.service()["taskDefinition"].endswith(":1")
    assert (
        "ROLLED BACK to the last known good (--rollback-on-failure)"
        in s.opsctl("deploy", "--image-tag", "v2", "--rollback-on-failure").stdout
    )


def test_rollback_on_failure_after_a_failed_verification_exit_33(make_scenario):
    s = make_scenario(StackOptions(health_check_path="/"), {"v2": scripted.HEALTH_ENDPOINT_BROKEN})
    s.push("v2")
    run = s.opsctl(
        "--output",
        "json",
        "deploy",
        "--image-tag",
        "v2",
        "--verify-timeout",
        "1",
        "--rollback-on-failure",
    )
    assert run.returncode == 33, run
    doc = run.json
    assert doc["outcome"] == "unverified"
    assert doc["automatic_rollback"]["method"] == "update_service"  # COMPLETED: nothing to stop
    assert doc["automatic_rollback"]["outcome"] == "succeeded"
    assert s.service()["taskDefinition"].endswith(":1")


def test_a_rollback_that_cannot_restore_the_service_exits_4x(make_scenario):
    s = make_scenario(NO_BREAKER, {"v2": scripted.CRASHES_AT_START})
    s.push("v2")
    # The last known good revision's image is gone from ECR: the rollback must refuse.
    s.client("ecr").batch_delete_image(
        repositoryName=s.stack.repository_name, imageIds=[{"imageTag": "v1"}]
    )
    run = s.opsctl("--output", "json", "deploy", "--image-tag", "v2", "--rollback-on-failure")
    assert run.returncode == 46, run
    doc = run.json
    assert doc["outcome"] == "failing"
    back = doc["automatic_rollback"]
    assert back["outcome"] == "failed"
    assert back["method"] is None
    assert "no longer exists in ECR" in back["explanation"][0]
    assert (
        "the automatic ROLLBACK FAILED too"
        in s.opsctl("deploy", "--image-tag", "v2", "--rollback-on-failure").stdout
    )


def test_a_circuit_breaker_rollback_needs_no_second_one(make_scenario):
    s = make_scenario(behaviours={"v2": scripted.CRASHES_AT_START})
    s.push("v2")
    run = s.opsctl("--output", "json", "deploy", "--image-tag", "v2", "--rollback-on-failure")
    assert run.returncode == 10, run
    assert run.json["automatic_rollback"] is None
