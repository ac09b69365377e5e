"""Deployments, tasks and events as ECS shows them, driven by the simulator."""

from __future__ import annotations

from localcloud.runtime import scripted
from localcloud.testing.stacks import StackOptions


def test_create_service_keeps_what_moto_drops(world):
    w = world(StackOptions(grace_period=45))
    service = w.service()
    assert service["healthCheckGracePeriodSeconds"] == 45
    assert service["deploymentConfiguration"] == {
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
    }
    assert service["taskDefinition"].endswith(
        "task-definition/api:1"
    )  # a full ARN, as AWS stores it
    # A partial update keeps the rest, as ECS merges it.
    w.ecs.update_service(
        cluster=w.stack.cluster,
        service=w.stack.service,
        deploymentConfiguration={"minimumHealthyPercent": 50},
    )
    configuration = w.service()["deploymentConfiguration"]
    assert configuration["minimumHealthyPercent"] == 50
    assert configuration["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}


def test_first_deployment_starts_tasks_and_completes(world):
    w = world()
    first = w.service()["deployments"]
    assert [(d["status"], d["rolloutState"]) for d in first] == [("PRIMARY", "IN_PROGRESS")]
    w.settle()
    service = w.service()
    assert (service["runningCount"], service["pendingCount"]) == (2, 0)
    deployment = service["deployments"][0]
    assert deployment["rolloutState"] == "COMPLETED"
    assert deployment["rolloutStateReason"] == f"ECS deployment {deployment['id']} completed."
    tasks = w.tasks()
    assert len(tasks) == 2
    for task in tasks:
        assert task["lastStatus"] == "RUNNING"
        assert task["startedBy"] == deployment["id"]
        assert task["group"] == "service:api"
        assert task["containers"][0]["imageDigest"] == w.stack.digests["v1"]
        assert task["startedAt"] >= task["createdAt"]
    messages = [e["message"] for e in service["events"]]
    assert messages[0] == "(service api) has reached a steady state."
    assert f"(service api) (deployment {deployment['id']}) deployment completed." in messages
    assert any(m.startswith("(service api) has started 2 tasks: (task ") for m in messages)


def test_update_service_returns_the_new_primary_deployment_at_once(world):
    w = world()
    w.settle()
    old = w.service()["deployments"][0]["id"]
    w.push("v2")
    response = w.deploy(f"{w.stack.repository_url}:v2")
    deployments = response["deployments"]
    assert [(d["status"], d["rolloutState"]) for d in deployments] == [
        ("PRIMARY", "IN_PROGRESS"),
        ("ACTIVE", "COMPLETED"),
    ]
    assert deployments[1]["id"] == old
    new = deployments[0]["id"]
    w.settle()
    after = w.service()
    assert [d["id"] for d in after["deployments"]] == [new]
    assert {t["startedBy"] for t in w.tasks()} == {new}
    replaced = w.tasks("STOPPED")
    assert len(replaced) == 2
    assert all(
        t["stoppedReason"] == f"Scaling activity initiated by (deployment {new})" for t in replaced
    )
    assert all(t["stopCode"] == "ServiceSchedulerInitiated" for t in replaced)


def test_rolling_update_keeps_minimum_healthy(world):
    w = world(StackOptions(desired_count=2, minimum_healthy_percent=100, maximum_percent=150))
    w.settle()
    w.push("v2")
    w.deploy(f"{w.stack.repository_url}:v2")
    lowest = 2
    primary_id = w.service()["deployments"][0]["id"]
    while w.service()["deployments"][0]["rolloutState"] != "COMPLETED":
        healthy = sum(h["TargetHealth"]["State"] == "healthy" for h in w.health())
        lowest = min(lowest, healthy)
        assert sum(1 for _ in w.tasks()) <= 3  # maximumPercent 150 of 2
    assert lowest >= 2, "a rolling update must keep minimumHealthyPercent"
    assert w.service()["deployments"][0]["id"] == primary_id


def test_force_new_deployment_and_desired_count(world):
    w = world()
    w.settle()
    before = w.service()["deployments"][0]["id"]
    response = w.ecs.update_service(
        cluster=w.stack.cluster, service=w.stack.service, forceNewDeployment=True
    )
    assert response["service"]["deployments"][0]["id"] != before
    w.settle()
    scaled = w.ecs.update_service(cluster=w.stack.cluster, service=w.stack.service, desiredCount=3)
    assert len(scaled["service"]["deployments"]) == 1  # scaling is not a deployment
    w.wait(lambda: w.service()["runningCount"] == 3, what="three tasks")


def test_list_tasks_filters_by_service_and_defaults_to_running(world):
    w = world()
    w.settle()
    w.ecs.update_service(cluster=w.stack.cluster, service=w.stack.service, forceNewDeployment=True)
    w.settle()
    running = w.ecs.list_tasks(cluster=w.stack.cluster, serviceName="api")["taskArns"]
    stopped = w.ecs.list_tasks(cluster=w.stack.cluster, serviceName="api", desiredStatus="STOPPED")[
        "taskArns"
    ]
    assert len(running) == 2
    assert len(stopped) == 2
    assert not set(running) & set(stopped)
    assert w.ecs.list_tasks(cluster=w.stack.cluster, serviceName="other")["taskArns"] == []


def test_stop_task_is_replaced(world):
    w = world()
    w.settle()
    victim = w.tasks()[0]["taskArn"]
    w.ecs.stop_task(cluster=w.stack.cluster, task=victim, reason="drill")
    w.wait(lambda: victim not in {t["taskArn"] for t in w.tasks()}, what="the stop")
    draining = w.ecs.describe_tasks(cluster=w.stack.cluster, tasks=[victim])["tasks"][0]
    assert draining["desiredStatus"] == "STOPPED"
    w.wait(lambda: w.service()["runningCount"] == 2, what="a replacement")

    def victim_stopped() -> bool:
        task = w.ecs.describe_tasks(cluster=w.stack.cluster, tasks=[victim])["tasks"][0]
        return task["lastStatus"] == "STOPPED"

    w.wait(victim_stopped, what="the drained task to stop")
    stopped = w.ecs.describe_tasks(cluster=w.stack.cluster, tasks=[victim])["tasks"][0]
    assert (stopped["stopCode"], stopped["stoppedReason"], stopped["lastStatus"]) == (
        "UserInitiated",
        "drill",
        "STOPPED",
    )


def test_crashing_container_reports_exit_code_and_logs(world):
    w = world(StackOptions(circuit_breaker=False), {"v1": scripted.CRASHES_AT_START})
    w.wait(lambda: len(w.tasks("STOPPED")) >= 1, what="a crash")
    task = w.tasks("STOPPED")[0]
    assert task["stopCode"] == "EssentialContainerExited"
    assert task["stoppedReason"] == "Essential container in task exited"
    assert task["containers"][0]["exitCode"] == 1
    task_id = task["taskArn"].rsplit("/", 1)[-1]
    events = w.client("logs").get_log_events(
        logGroupName="/aws/ecs/api", logStreamName=f"ecs/app/{task_id}"
    )["events"]
    assert any("Traceback" in e["message"] for e in events)
    assert w.service()["deployments"][0]["failedTasks"] >= 1


def test_deployment_alarms_and_bake_time_are_kept_through_update_service(world):
    w = world()
    alarms = {"alarmNames": ["api-target-5xx"], "enable": True, "rollback": True}
    w.ecs.update_service(
        cluster=w.stack.cluster,
        service=w.stack.service,
        deploymentConfiguration={"alarms": alarms, "bakeTimeInMinutes": 2},
    )
    configuration = w.service()["deploymentConfiguration"]
    assert configuration["alarms"] == alarms
    assert configuration["bakeTimeInMinutes"] == 2
    assert configuration["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
