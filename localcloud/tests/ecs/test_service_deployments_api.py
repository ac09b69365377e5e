"""ListServiceDeployments, DescribeServiceDeployments, StopServiceDeployment and
DescribeServiceRevisions through boto3, as opsctl calls them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError
from localcloud.runtime import scripted
from localcloud.testing.stacks import StackOptions


def describe(w, arn):
    found = w.ecs.describe_service_deployments(serviceDeploymentArns=[arn])
    assert found["failures"] == []
    return found["serviceDeployments"][0]


def error(call, **kwargs):
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_each_deployment_is_a_service_deployment_with_its_revisions(world):
    w = world()
    w.settle()
    first = w.service()["deployments"][0]
    w.push("v2")
    second = w.deploy(f"{w.stack.repository_url}:v2")["deployments"][0]
    w.settle()
    listed = w.service_deployments()
    assert [d["status"] for d in listed] == ["SUCCESSFUL", "SUCCESSFUL"]
    newest = describe(w, listed[0]["serviceDeploymentArn"])
    assert newest["serviceArn"].endswith(f":service/{w.stack.cluster}/{w.stack.service}")
    assert newest["startedAt"] >= newest["createdAt"]
    assert newest["finishedAt"] >= newest["startedAt"]
    assert newest["deploymentCircuitBreaker"] == {
        "status": "MONITORING_COMPLETE",
        "failureCount": 0,
        "threshold": 3,
    }
    assert newest["alarms"]["status"] == "DISABLED"
    assert newest["deploymentConfiguration"]["maximumPercent"] == 200
    target, source = newest["targetServiceRevision"], newest["sourceServiceRevisions"][0]
    assert target["arn"] == listed[0]["targetServiceRevisionArn"]
    assert target["arn"].endswith("/" + second["id"].split("/")[1])
    assert source["arn"].endswith("/" + first["id"].split("/")[1])
    assert (target["requestedTaskCount"], target["runningTaskCount"]) == (2, 2)
    revisions = w.ecs.describe_service_revisions(serviceRevisionArns=[target["arn"], source["arn"]])
    assert revisions["failures"] == []
    new, old = revisions["serviceRevisions"]
    assert new["taskDefinition"].endswith(":2")
    assert old["taskDefinition"].endswith(":1")
    assert new["containerImages"] == [
        {
            "containerName": "app",
            "image": f"{w.stack.repository_url}:v2",
            "imageDigest": w.stack.digests.get("v2") or new["containerImages"][0]["imageDigest"],
        }
    ]
    assert old["containerImages"][0]["imageDigest"] == w.stack.digests["v1"]
    assert new["loadBalancers"][0]["targetGroupArn"] == w.stack.target_group_arn
    assert new["networkConfiguration"]["awsvpcConfiguration"]["subnets"] == list(w.stack.subnet_ids)


def test_list_filters_and_pages_as_aws_does(world):
    w = world(StackOptions(desired_count=1))
    w.settle()
    for tag in ("v2", "v3"):
        w.push(tag)
        w.deploy(f"{w.stack.repository_url}:{tag}")
        w.settle()
    everything = w.service_deployments()
    assert len(everything) == 3
    assert [d["createdAt"] for d in everything] == sorted(
        (d["createdAt"] for d in everything), reverse=True
    )
    page = w.ecs.list_service_deployments(
        cluster=w.stack.cluster, service=w.stack.service, maxResults=2
    )
    assert len(page["serviceDeployments"]) == 2
    rest = w.ecs.list_service_deployments(
        cluster=w.stack.cluster, service=w.stack.service, nextToken=page["nextToken"]
    )
    assert [
        d["serviceDeploymentArn"] for d in page["serviceDeployments"] + rest["serviceDeployments"]
    ] == [d["serviceDeploymentArn"] for d in everything]
    assert "nextToken" not in rest
    assert w.service_deployments(status=["IN_PROGRESS"]) == []
    assert len(w.service_deployments(status=["SUCCESSFUL", "STOPPED"])) == 3
    second = everything[1]["createdAt"]
    after = w.service_deployments(createdAt={"after": second})
    assert [d["serviceDeploymentArn"] for d in after] == [
        d["serviceDeploymentArn"] for d in everything[:2]
    ]
    future = datetime.now(UTC) + timedelta(hours=1)
    assert w.service_deployments(createdAt={"after": future}) == []
    assert len(w.service_deployments(createdAt={"before": future})) == 3


def test_list_refuses_what_aws_refuses(world):
    w = world()
    list_ = w.ecs.list_service_deployments
    assert error(list_, cluster=w.stack.cluster, service="nope")[0] == "ServiceNotFoundException"
    assert error(list_, cluster="nope", service=w.stack.service)[0] == "ClusterNotFoundException"
    assert (
        error(list_, cluster=w.stack.cluster, service=w.stack.service, maxResults=101)[0]
        == "InvalidParameterException"
    )
    assert (
        error(
            list_, cluster=w.stack.cluster, service=w.stack.service, nextToken="bm90LWEtdG9rZW4="
        )[0]
        == "InvalidParameterException"
    )


def test_unknown_arns_are_failures_not_errors(world):
    w = world()
    arn = f"arn:aws:ecs:{w.stack.region}:123456789012:service-deployment/c/s/nope"
    found = w.ecs.describe_service_deployments(serviceDeploymentArns=[arn])
    assert found == {"serviceDeployments": [], "failures": [{"arn": arn, "reason": "MISSING"}]} | {
        "ResponseMetadata": found["ResponseMetadata"]
    }
    code, _ = error(w.ecs.describe_service_revisions, serviceRevisionArns=[arn] * 21)
    assert code == "InvalidParameterException"


def test_stop_with_rollback_returns_the_service_to_the_last_completed_revision(world):
    w = world(behaviours={"v2": scripted.CRASHES_SLOWLY})
    w.settle()
    completed = w.service()["deployments"][0]["id"]
    w.push("v2")
    w.deploy(f"{w.stack.repository_url}:v2")
    arn = w.service_deployments()[0]["serviceDeploymentArn"]
    w.wait(lambda: describe(w, arn)["status"] == "IN_PROGRESS", what="IN_PROGRESS")
    stopped = w.ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")
    assert stopped["serviceDeploymentArn"] == arn
    assert describe(w, arn)["status"] in ("ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS")
    # Stopping it again while it rolls back lets the rollback go on.
    w.ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")
    w.wait(lambda: describe(w, arn)["status"] == "ROLLBACK_SUCCESSFUL", what="rolled back")
    record = describe(w, arn)
    assert record["rollback"]["serviceRevisionArn"] != record["targetServiceRevision"]["arn"]
    service = w.service()
    assert service["taskDefinition"].endswith(":1")
    messages = [e["message"] for e in service["events"]]
    assert f"(service api) rolling back to deployment {completed}." in messages
    assert any(m.endswith("deployment failed: rollback requested.") for m in messages)
    # A finished service deployment cannot be stopped.
    code, message = error(w.ecs.stop_service_deployment, serviceDeploymentArn=arn)
    assert code == "ConflictException"
    assert "already finished" in message


def test_stop_refuses_abort_unknown_and_what_has_nothing_to_roll_back_to(world):
    w = world(behaviours={"v1": scripted.CRASHES_SLOWLY})
    arn = w.service_deployments()[0]["serviceDeploymentArn"]
    stop = w.ecs.stop_service_deployment
    assert error(stop, serviceDeploymentArn=arn, stopType="ABORT")[0] == (
        "InvalidParameterException"
    )
    code, message = error(stop, serviceDeploymentArn=arn, stopType="ROLLBACK")
    assert code == "ConflictException"
    assert "no earlier service deployment of the service completed" in message
    code, _ = error(stop, serviceDeploymentArn=arn.rsplit("/", 1)[0] + "/nope")
    assert code == "ServiceDeploymentNotFoundException"


def test_a_circuit_breaker_rollback_shows_in_the_service_deployment(world):
    w = world(behaviours={"v2": scripted.CRASHES_AT_START})
    w.settle()
    w.push("v2")
    w.deploy(f"{w.stack.repository_url}:v2")
    arn = w.service_deployments()[0]["serviceDeploymentArn"]
    w.wait(lambda: describe(w, arn)["status"] == "ROLLBACK_SUCCESSFUL", what="rolled back")
    record = describe(w, arn)
    assert record["deploymentCircuitBreaker"]["status"] == "TRIGGERED"
    assert record["deploymentCircuitBreaker"]["failureCount"] >= 3
    assert record["statusReason"] == "ECS deployment circuit breaker: tasks failed to start."


def test_deleting_the_service_deletes_its_service_deployments(world):
    w = world()
    w.settle()
    arn = w.service_deployments()[0]["serviceDeploymentArn"]
    w.ecs.update_service(cluster=w.stack.cluster, service=w.stack.service, desiredCount=0)
    w.ecs.delete_service(cluster=w.stack.cluster, service=w.stack.service)
    found = w.ecs.describe_service_deployments(serviceDeploymentArns=[arn])
    assert found["failures"] == [{"arn": arn, "reason": "MISSING"}]
