"""The bake window (``deploy --bake``): after COMPLETED and a passing smoke test, opsctl keeps
watching what only shows under real traffic, and a breach fails the deploy (exit 17), marks the
revision failed and, with --rollback-on-failure, rolls back (exit 37)."""

from __future__ import annotations

import json
import subprocess

from localcloud.runtime import scripted
from localcloud.testing.stacks import put_target_5xx_alarm


def _baking(process: subprocess.Popen[str], marker: str = "baking for") -> list[str]:
    """Read opsctl's progress until the bake window begins (or its first look is done, with
    ``marker="bake: requests"``); the lines read."""
    seen = []
    assert process.stderr is not None
    for line in process.stderr:
        seen.append(line)
        if marker in line:
            return seen
    raise AssertionError(f"opsctl never printed {marker!r}:\n" + "".join(seen))


def _finish(process: subprocess.Popen[str], seen: list[str]) -> tuple[int, dict, str]:
    try:
        out, rest = process.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return process.returncode, json.loads(out), "".join(seen) + rest


def test_a_release_that_fails_under_traffic_fails_the_bake_and_is_rolled_back(make_scenario):
    # /health answers 200 (the targets are healthy, the smoke test passes); every real request
    # answers 500.
    s = make_scenario(behaviours={"v2": scripted.SERVER_ERRORS})
    s.push("v2")
    process = s.spawn(
        "--output", "json", "deploy", "--image-tag", "v2", "--bake", "30s", "--rollback-on-failure"
    )
    seen = _baking(process)
    statuses = s.traffic(12)
    assert statuses.count(500) == 12
    code, doc, stderr = _finish(process, seen)
    assert code == 37, stderr
    assert doc["outcome"] == "bake_failed"
    assert doc["verification"]["smoke_ok"] is True  # it passed everything ECS and /health check
    bake = doc["bake"]
    assert bake["passed"] is False
    assert bake["watched_seconds"] < 30  # the breach ended the bake early
    assert any(b.startswith("5xx responses:") for b in bake["breaches"]), bake
    assert max(bake["target_5xx"] or 0, bake["service_5xx"] or 0) >= 5
    assert doc["automatic_rollback"]["outcome"] == "succeeded"
    assert doc["automatic_rollback"]["to_revision"]["revision"] == 1
    assert s.service()["taskDefinition"].endswith(":1")
    tags = s.client("ecs").describe_task_definition(
        taskDefinition=f"{s.stack.family}:2", include=["TAGS"]
    )["tags"]
    assert {"key": "opsctl:failed-outcome", "value": "bake_failed"} in tags


def test_a_healthy_release_under_traffic_passes_the_bake(make_scenario):
    s = make_scenario()
    s.push("v2")
    process = s.spawn("--output", "json", "deploy", "--image-tag", "v2", "--bake", "3s")
    seen = _baking(process)
    assert s.traffic(10) == [200] * 10
    code, doc, stderr = _finish(process, seen)
    assert code == 0, stderr
    assert doc["outcome"] == "succeeded"
    bake = doc["bake"]
    assert bake["passed"] is True
    assert bake["breaches"] == []
    assert bake["watched_seconds"] >= 3
    assert bake["requests"] >= 10
    assert bake["target_5xx"] == 0
    assert bake["service_5xx"] == 0
    assert "bake: passed" in s.opsctl("deploy", "--image-tag", "v1", "--bake", "1s").stdout


def test_an_alarm_that_went_to_alarm_and_back_between_two_looks_still_fails_the_bake(
    make_scenario,
):
    s = make_scenario()
    alarm = put_target_5xx_alarm(s.harness.endpoint, s.stack, "api-target-5xx")
    s.push("v2")
    process = s.spawn(
        "--output", "json", "deploy", "--image-tag", "v2", "--bake", "20s", "--poll-interval", "5"
    )
    seen = _baking(process, "bake: requests")  # its first look is done; the next is 5 s away
    cloudwatch = s.client("cloudwatch")
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="5xx burst")
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="over")
    code, doc, stderr = _finish(process, seen)
    assert code == 17, stderr
    bake = doc["bake"]
    assert bake["alarms"] == [alarm]
    assert any(
        b.startswith(f"alarm {alarm} went to ALARM at") and "(now back to OK)" in b
        for b in bake["breaches"]
    ), bake


def test_an_alarm_already_in_alarm_before_the_deploy_cannot_judge_it(make_scenario):
    s = make_scenario()
    alarm = put_target_5xx_alarm(s.harness.endpoint, s.stack, "api-target-5xx")
    s.client("cloudwatch").set_alarm_state(
        AlarmName=alarm, StateValue="ALARM", StateReason="before the deploy"
    )
    s.push("v2")
    run = s.opsctl("--output", "json", "deploy", "--image-tag", "v2", "--bake", "2s")
    assert run.returncode == 0, run
    bake = run.json["bake"]
    assert bake["passed"] is True
    assert any(
        n.startswith(f"alarm {alarm}: in ALARM since") and "before this deployment began" in n
        for n in bake["not_watched"]
    ), bake


def test_without_the_alarm_history_the_state_is_still_watched(make_scenario, iam_guard):
    from ops.tests.integration.test_deploy_role import _without

    s = make_scenario()
    alarm = put_target_5xx_alarm(s.harness.endpoint, s.stack, "api-target-5xx")
    s.push("v2")
    _without(iam_guard, "cloudwatch:DescribeAlarmHistory")
    process = s.spawn("--output", "json", "deploy", "--image-tag", "v2", "--bake", "20s")
    seen = _baking(process, "bake: requests")
    s.client("cloudwatch").set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="5xx")
    code, doc, stderr = _finish(process, seen)
    assert code == 17, stderr
    bake = doc["bake"]
    assert any(b.startswith(f"alarm {alarm} in ALARM since") for b in bake["breaches"]), bake
    assert any(n.startswith(f"history of alarm {alarm}") for n in bake["not_watched"]), bake


def test_the_bake_defaults_to_the_targets_deploy_bake(make_scenario):
    s = make_scenario()
    target = json.loads(s.target_file.read_text())
    target["deploy_bake"] = "2s"
    s.target_file.write_text(json.dumps(target))
    s.push("v2")
    run = s.opsctl("--output", "json", "deploy", "--image-tag", "v2")
    assert run.returncode == 0, run
    assert run.json["bake"]["seconds"] == 2
    target["deploy_bake"] = "soon"
    s.target_file.write_text(json.dumps(target))
    bad = s.opsctl("deploy", "--image-tag", "v1")
    assert bad.returncode == 3, bad
    assert "the target's deploy_bake" in bad.stderr
    assert s.opsctl("deploy", "--image-tag", "v1", "--bake", "soon").returncode == 2
