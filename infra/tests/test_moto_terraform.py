"""The moto fixes the apply test relies on (localcloud.moto_terraform), through boto3 over HTTP.

Each test is what Terraform would otherwise see: a 403 on the state object, or a value it wrote
missing when it reads the resource back (a diff on every plan).
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from localcloud.emulator import MOTO_DUMMY_CREDENTIAL, Endpoint
from localcloud.moto_fixes.s3 import policy_over_tls


def client(endpoint: Endpoint, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint.url,
        region_name=endpoint.region,
        aws_access_key_id=MOTO_DUMMY_CREDENTIAL,
        aws_secret_access_key=MOTO_DUMMY_CREDENTIAL,
    )


def tls_only_policy(bucket: str, *extra: dict[str, Any]) -> str:
    deny_plain_http = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [deny_plain_http, *extra]})


def test_tls_only_bucket_policy_lets_the_emulator_read_and_write(emulator: Endpoint) -> None:
    s3 = client(emulator, "s3")
    s3.create_bucket(Bucket="state-bucket")
    deny_secrets = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::state-bucket/secret/*",
    }
    s3.put_bucket_policy(
        Bucket="state-bucket", Policy=tls_only_policy("state-bucket", deny_secrets)
    )

    s3.put_object(Bucket="state-bucket", Key="dev/terraform.tfstate", Body=b"{}")
    assert s3.get_object(Bucket="state-bucket", Key="dev/terraform.tfstate")["Body"].read() == b"{}"
    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket="state-bucket", Key="secret/x", Body=b"1")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # The stored policy is unchanged: only its evaluation sees TLS.
    assert "aws:SecureTransport" in s3.get_bucket_policy(Bucket="state-bucket")["Policy"]


def test_policy_over_tls_drops_only_statements_for_plain_http() -> None:
    mixed = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": "*",
        "Condition": {"Bool": {"aws:SecureTransport": "false", "aws:ViaAWSService": "false"}},
    }
    document = json.loads(policy_over_tls(tls_only_policy("b", mixed).encode()))
    assert document["Statement"] == [mixed]


def test_ecs_service_keeps_what_create_service_was_given(emulator: Endpoint) -> None:
    ecs = client(emulator, "ecs")
    ecs.create_cluster(clusterName="c")
    ecs.register_task_definition(
        family="f", containerDefinitions=[{"name": "app", "image": "x", "memory": 128}]
    )
    configuration = {
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
    }
    ecs.create_service(
        cluster="c",
        serviceName="s",
        taskDefinition="f",
        desiredCount=1,
        healthCheckGracePeriodSeconds=60,
        enableECSManagedTags=True,
        availabilityZoneRebalancing="ENABLED",
        deploymentConfiguration=configuration,
    )
    (service,) = ecs.describe_services(cluster="c", services=["s"])["services"]
    assert service["healthCheckGracePeriodSeconds"] == 60
    assert service["enableECSManagedTags"] is True
    assert service["availabilityZoneRebalancing"] == "ENABLED"
    assert service["deploymentConfiguration"] == configuration


def test_security_group_rules_keep_their_descriptions(emulator: Endpoint) -> None:
    ec2 = client(emulator, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    alb = ec2.create_security_group(GroupName="alb", Description="alb", VpcId=vpc)["GroupId"]
    tasks = ec2.create_security_group(GroupName="tasks", Description="t", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_egress(
        GroupId=alb,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 8000,
                "ToPort": 8000,
                "UserIdGroupPairs": [{"GroupId": tasks, "Description": "to the tasks"}],
            },
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "PrefixListIds": [{"PrefixListId": "pl-63a5400a", "Description": "to S3"}],
            },
        ],
    )
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [alb]}])
    described = {
        r.get("Description") for r in rules["SecurityGroupRules"] if r["FromPort"] in (443, 8000)
    }
    assert described == {"to the tasks", "to S3"}


def test_scalable_target_keeps_its_tags(emulator: Endpoint) -> None:
    ecs = client(emulator, "ecs")
    ecs.create_cluster(clusterName="scaled")
    ecs.register_task_definition(
        family="scaled", containerDefinitions=[{"name": "app", "image": "x", "memory": 128}]
    )
    ecs.create_service(
        cluster="scaled", serviceName="tagged", taskDefinition="scaled", desiredCount=1
    )
    autoscaling = client(emulator, "application-autoscaling")
    arn = autoscaling.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId="service/scaled/tagged",
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=1,
        MaxCapacity=2,
        Tags={"Environment": "dev"},
    )["ScalableTargetARN"]
    assert autoscaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"Environment": "dev"}
