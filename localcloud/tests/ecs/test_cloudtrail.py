"""CloudTrail's event history: ECS and ECR changes with who made them, through LookupEvents."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.exceptions import ClientError


def lookup(w, **request):
    return w.client("cloudtrail").lookup_events(**request)["Events"]


def by_name(w, name):
    return lookup(w, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}])


def assumed_role_client(w, service, session):
    """A client with credentials of a role assumed as ``session`` (as GitHub's OIDC role)."""
    iam = w.client("iam")
    role = iam.create_role(
        RoleName="deploy",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    credentials = w.client("sts").assume_role(RoleArn=role, RoleSessionName=session)["Credentials"]
    return boto3.client(
        service,
        endpoint_url=w.harness.endpoint.url,
        region_name=w.stack.region,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def test_an_update_records_who_made_it_and_what_it_asked(world):
    w = world()
    ecs = assumed_role_client(w, "ecs", "github-actions-1234")
    ecs.update_service(cluster=w.stack.cluster, service=w.stack.service, forceNewDeployment=True)
    (event,) = by_name(w, "UpdateService")
    assert event["Username"] == "github-actions-1234"
    assert event["EventSource"] == "ecs.amazonaws.com"
    assert event["ReadOnly"] == "false"
    assert {"ResourceType": "AWS::ECS::Service", "ResourceName": w.stack.service} in (
        event["Resources"]
    )
    detail = json.loads(event["CloudTrailEvent"])
    identity = detail["userIdentity"]
    assert identity["type"] == "AssumedRole"
    assert identity["arn"].endswith(":assumed-role/deploy/github-actions-1234")
    assert identity["sessionContext"]["sessionIssuer"]["arn"].endswith(":role/deploy")
    assert detail["requestParameters"]["forceNewDeployment"] is True
    assert detail["responseElements"]["service"]["serviceName"] == w.stack.service
    assert "Boto3/" in detail["userAgent"]


def test_only_changes_are_recorded_each_with_its_source(world):
    w = world()  # build_stack: CreateCluster, RegisterTaskDefinition, CreateService, PutImage
    names = {(e["EventSource"], e["EventName"]) for e in lookup(w)}
    assert {
        ("ecs.amazonaws.com", "CreateCluster"),
        ("ecs.amazonaws.com", "RegisterTaskDefinition"),
        ("ecs.amazonaws.com", "CreateService"),
        ("ecr.amazonaws.com", "CreateRepository"),
        ("ecr.amazonaws.com", "PutImage"),
    } <= names
    w.service()
    w.tasks()
    assert not any(
        n.startswith(("Describe", "List"))
        for _, n in {*names, *((e["EventSource"], e["EventName"]) for e in lookup(w))}
    )
    (put,) = by_name(w, "PutImage")
    assert put["Username"] == "moto"  # moto's default user behind unknown keys
    assert json.loads(put["CloudTrailEvent"])["userIdentity"]["type"] == "IAMUser"
    assert {"ResourceType": "AWS::ECR::Repository", "ResourceName": "api"} in put["Resources"]


def test_a_refused_call_is_recorded_with_its_error(world):
    w = world()
    with pytest.raises(ClientError):
        w.ecs.update_service(cluster=w.stack.cluster, service="nope", desiredCount=1)
    (event,) = by_name(w, "UpdateService")
    detail = json.loads(event["CloudTrailEvent"])
    assert detail["errorCode"] == "ServiceNotFoundException"
    assert detail["responseElements"] is None


def test_lookup_filters_a_time_range_and_pages(world):
    w = world()
    time.sleep(0.05)
    before = datetime.now(UTC)
    for count in (3, 1, 2):
        w.ecs.update_service(cluster=w.stack.cluster, service=w.stack.service, desiredCount=count)
    recent = lookup(w, StartTime=before)
    assert [e["EventName"] for e in recent] == ["UpdateService"] * 3
    assert [
        json.loads(e["CloudTrailEvent"])["requestParameters"]["desiredCount"] for e in recent
    ] == [2, 1, 3]  # newest first
    assert lookup(w, EndTime=before - timedelta(hours=1)) == []
    pages = (
        w.client("cloudtrail")
        .get_paginator("lookup_events")
        .paginate(PaginationConfig={"PageSize": 2})
    )
    everything = [e["EventId"] for page in pages for e in page["Events"]]
    assert everything == [e["EventId"] for e in lookup(w)]
    assert len(everything) > 2
    services = lookup(
        w,
        LookupAttributes=[{"AttributeKey": "ResourceType", "AttributeValue": "AWS::ECS::Service"}],
    )
    assert {e["EventName"] for e in services} == {"CreateService", "UpdateService"}
    named = lookup(
        w, LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": w.stack.service}]
    )  # the stack names its service, repository and task family alike
    assert {"CreateService", "UpdateService", "PutImage"} <= {e["EventName"] for e in named}


def test_lookup_refuses_what_cloudtrail_refuses(world):
    w = world()
    cloudtrail = w.client("cloudtrail")
    two = [
        {"AttributeKey": "EventName", "AttributeValue": "UpdateService"},
        {"AttributeKey": "Username", "AttributeValue": "moto"},
    ]
    for request, code in (
        ({"LookupAttributes": two}, "InvalidLookupAttributesException"),
        ({"MaxResults": 51}, "InvalidMaxResultsException"),
        (
            {"StartTime": datetime.now(UTC), "EndTime": datetime.now(UTC) - timedelta(hours=1)},
            "InvalidTimeRangeException",
        ),
        ({"NextToken": "bm9wZQ=="}, "InvalidNextTokenException"),
    ):
        with pytest.raises(ClientError) as caught:
            cloudtrail.lookup_events(**request)
        assert caught.value.response["Error"]["Code"] == code
