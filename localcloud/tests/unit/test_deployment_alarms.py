"""ECS deployment alarms: an alarm in ALARM fails the deployment (and rolls it back when asked),
a steady deployment bakes before it completes (no HTTP, a clock the test moves)."""

from __future__ import annotations

from localcloud.ecs.model import Phase
from localcloud.ecs.servicedeployments import Monitor, Status

ALARMS = {"alarmNames": ["api-5xx"], "enable": True, "rollback": True}


def complete(rig):
    rig.until(lambda: rig.primary.rollout_state == "COMPLETED")
    return rig.primary


def test_a_steady_deployment_bakes_for_the_alarms_evaluation_window(make_rig):
    rig = make_rig(desired=2, alarms=ALARMS)
    rig.alarm("api-5xx", period=60, periods=3)
    complete(rig)  # the first deployment bakes too
    deployment = rig.deploy("app:v2")
    rig.until(lambda: deployment.bake_until is not None)
    baking_from = rig.clock.t
    assert deployment.service_deployment.lifecycle_stage == "BAKE_TIME"
    assert not any(t.active for t in rig.tasks("app:v1"))  # the old revision is gone first
    rig.until(lambda: deployment.rollout_state == "COMPLETED")
    assert rig.clock.t - baking_from == 180  # 60 s x 3 periods
    assert deployment.service_deployment.status == Status.SUCCESSFUL
    assert deployment.service_deployment.alarm_status == Monitor.MONITORING_COMPLETE


def test_bake_time_in_minutes_overrides_the_alarms_window(make_rig):
    rig = make_rig(desired=1, alarms=ALARMS)
    rig.svc.service.deployment_configuration["bakeTimeInMinutes"] = 1
    rig.alarm("api-5xx", period=60, periods=5)
    rig.until(lambda: rig.primary.bake_until is not None)
    assert rig.primary.bake_until - rig.clock.t == 60


def test_without_alarms_a_steady_deployment_completes_at_once(make_rig):
    rig = make_rig(desired=1)
    deployment = rig.primary
    rig.until(lambda: any(t.healthy for t in rig.tasks()))
    rig.step()
    assert deployment.rollout_state == "COMPLETED"
    assert deployment.bake_until is None


def test_an_alarm_in_alarm_fails_the_deployment_and_rolls_back(make_rig):
    rig = make_rig(desired=2, alarms=ALARMS)
    alarm = rig.alarm("api-5xx", period=10, periods=1)
    completed = complete(rig)
    failed = rig.deploy("app:v2")
    # Watched from the moment one of its tasks runs.
    rig.until(lambda: any(t.phase == Phase.RUNNING for t in rig.tasks("app:v2")))
    alarm.update_state("Threshold Crossed", "{}", "ALARM")
    rig.step()
    assert failed.rollout_state == "FAILED"
    assert failed.rollout_reason == "ECS deployment alarms: alarm(s) in ALARM state: api-5xx."
    assert (
        f"(service api) (deployment {failed.id}) deployment failed: alarm(s) api-5xx in ALARM "
        "state." in rig.messages()
    )
    record = failed.service_deployment
    assert record.status == Status.ROLLBACK_IN_PROGRESS
    assert record.alarm_status == Monitor.TRIGGERED
    assert record.triggered_alarms == ("api-5xx",)
    rollback = rig.primary
    assert rollback.rollout_reason == (
        f"ECS deployment alarms: rolling back to deploymentId {completed.id}."
    )
    # The alarm is still in ALARM: the rollback is not watched by it, and completes.
    complete(rig)
    assert rig.primary is rollback
    assert record.status == Status.ROLLBACK_SUCCESSFUL


def test_an_alarm_during_the_bake_time_fails_a_steady_deployment(make_rig):
    rig = make_rig(desired=1, alarms=ALARMS)
    alarm = rig.alarm("api-5xx", period=60, periods=3)
    complete(rig)
    deployment = rig.deploy("app:v2")
    rig.until(lambda: deployment.bake_until is not None)
    rig.run(60)
    assert deployment.rollout_state == "IN_PROGRESS"
    alarm.update_state("Threshold Crossed", "{}", "ALARM")
    rig.step()
    assert deployment.rollout_state == "FAILED"
    complete(rig)
    assert rig.primary.task_definition == rig.revisions["app:v1"]


def test_alarms_without_rollback_fail_and_stall(make_rig):
    rig = make_rig(desired=1, alarms={**ALARMS, "rollback": False})
    alarm = rig.alarm("api-5xx", period=10, periods=1)
    complete(rig)
    failed = rig.deploy("app:v2")
    rig.until(lambda: any(t.phase == Phase.RUNNING for t in rig.tasks("app:v2")))
    alarm.update_state("Threshold Crossed", "{}", "ALARM")
    rig.step()
    assert failed.rollout_state == "FAILED"
    assert rig.primary is failed
    assert failed.service_deployment.status == Status.STOPPED


def test_disabled_or_unknown_alarms_watch_nothing(make_rig):
    rig = make_rig(desired=1, alarms={**ALARMS, "enable": False})
    alarm = rig.alarm("api-5xx", period=60, periods=3)
    alarm.update_state("Threshold Crossed", "{}", "ALARM")
    complete(rig)
    assert rig.primary.service_deployment.alarm_status == Monitor.DISABLED
    unknown = make_rig(desired=1, alarms={**ALARMS, "alarmNames": ["no-such-alarm"]})
    took = unknown.until(lambda: unknown.primary.rollout_state == "COMPLETED")
    assert took < 60  # no alarm to read: no bake either
