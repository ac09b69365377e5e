"""A small platform in the emulator, built with boto3 as Terraform would build it.

VPC with public subnets and an internet gateway, security groups (ALB open on 80, tasks open
to the ALB on the container port), an ALB with a target group (type ``ip``) and an HTTP
listener, an ECR repository with images, the ``/aws/ecs/<service>`` log group, a Fargate task
definition with the awslogs driver and an ECS service behind the target group. Tests of the
simulator and of opsctl start from it; every knob a runbook scenario turns is an option.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from localcloud.emulator import Endpoint, client


@dataclass(frozen=True)
class StackOptions:
    name: str = "api"
    desired_count: int = 2
    circuit_breaker: bool = True
    rollback: bool = True
    minimum_healthy_percent: int = 100
    maximum_percent: int = 200
    grace_period: int = 60
    container_port: int = 8000
    environment: dict[str, str] = field(default_factory=dict)
    health_check_path: str = "/health"
    health_check_port: str = "traffic-port"
    health_check_interval: int = 30
    health_check_timeout: int = 5
    healthy_threshold: int = 2
    unhealthy_threshold: int = 2
    deregistration_delay: int = 30
    initial_tag: str = "v1"
    extra_tags: tuple[str, ...] = ()
    log_group: bool = True
    """Create ``/aws/ecs/<name>`` (without it, tasks fail with ResourceInitializationError)."""
    deployment_alarms: tuple[str, ...] = ()
    """Alarm names for the service's ``deploymentConfiguration.alarms`` (enabled when given;
    the alarms themselves: :func:`put_target_5xx_alarm`)."""
    alarm_rollback: bool = True
    """``deploymentConfiguration.alarms.rollback``."""


@dataclass(frozen=True)
class Stack:
    region: str
    cluster: str
    service: str
    container_name: str
    family: str
    repository_name: str
    repository_url: str
    target_group_arn: str
    load_balancer_arn: str
    load_balancer_dns: str
    log_group: str
    vpc_id: str
    subnet_ids: tuple[str, ...]
    task_security_group: str
    alb_security_group: str
    digests: dict[str, str]

    def opsctl_target(self, alb_url: str) -> dict[str, str]:
        """The env root's ``opsctl`` output for this stack (the opsctl output contract,
        docs/architecture.md#contracts)."""
        return {
            "region": self.region,
            "cluster": self.cluster,
            "service": self.service,
            "container_name": self.container_name,
            "task_family": self.family,
            "ecr_repository_url": self.repository_url,
            "target_group_arn": self.target_group_arn,
            "alb_url": alb_url,
            "log_group": self.log_group,
            # Tests bake only when they ask for it (--bake), as dev's terraform.tfvars does.
            "deploy_bake": "0s",
        }


def push_image(endpoint: Endpoint, repository: str, tag: str) -> str:
    """Push a fake image (distinct layers per tag, so a distinct digest); return its digest."""
    layer = "sha256:" + hashlib.sha256(f"{repository}:{tag}".encode()).hexdigest()
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 1469,
            "digest": "sha256:" + hashlib.sha256(f"config:{tag}".encode()).hexdigest(),
        },
        "layers": [
            {
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "size": 1,
                "digest": layer,
            }
        ],
    }
    ecr = _client(endpoint, "ecr")
    image = ecr.put_image(
        repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag
    )
    return str(image["image"]["imageId"]["imageDigest"])


def _client(endpoint: Endpoint, service: str) -> Any:  # noqa: ANN401 - any boto3 client
    return client(endpoint.url, endpoint.region, service)


def build_stack(
    endpoint: Endpoint,
    options: StackOptions | None = None,
    push: Callable[[Endpoint, str, str], str] = push_image,
) -> Stack:
    """Create the platform; the service starts its first deployment right away.

    ``push(endpoint, repository, tag)`` records each image and returns its digest (the local
    cloud's tests pass one that records real image configurations).
    """
    o = options or StackOptions()
    ec2, elbv2, ecr, logs, ecs = (
        _client(endpoint, s) for s in ("ec2", "elbv2", "ecr", "logs", "ecs")
    )
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    subnets = []
    for index, zone in enumerate(("a", "b")):
        subnet = ec2.create_subnet(
            VpcId=vpc, CidrBlock=f"10.20.{index}.0/24", AvailabilityZone=f"{endpoint.region}{zone}"
        )["Subnet"]["SubnetId"]
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
        subnets.append(subnet)
    alb_sg = ec2.create_security_group(GroupName=f"{o.name}-alb", Description="alb", VpcId=vpc)[
        "GroupId"
    ]
    ec2.authorize_security_group_ingress(
        GroupId=alb_sg,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 80,
                "ToPort": 80,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            }
        ],
    )
    task_sg = ec2.create_security_group(
        GroupName=f"{o.name}-tasks", Description="tasks", VpcId=vpc
    )["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=task_sg,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": o.container_port,
                "ToPort": o.container_port,
                "UserIdGroupPairs": [{"GroupId": alb_sg}],
            }
        ],
    )
    balancer = elbv2.create_load_balancer(
        Name=f"{o.name}-alb",
        Subnets=subnets,
        SecurityGroups=[alb_sg],
        Scheme="internet-facing",
        Type="application",
    )["LoadBalancers"][0]
    group = elbv2.create_target_group(
        Name=f"{o.name}-tg",
        Protocol="HTTP",
        Port=o.container_port,
        VpcId=vpc,
        TargetType="ip",
        HealthCheckPath=o.health_check_path,
        HealthCheckPort=o.health_check_port,
        HealthCheckIntervalSeconds=o.health_check_interval,
        HealthCheckTimeoutSeconds=o.health_check_timeout,
        HealthyThresholdCount=o.healthy_threshold,
        UnhealthyThresholdCount=o.unhealthy_threshold,
        Matcher={"HttpCode": "200"},
    )["TargetGroups"][0]
    elbv2.modify_target_group_attributes(
        TargetGroupArn=group["TargetGroupArn"],
        Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": str(o.deregistration_delay)}
        ],
    )
    elbv2.create_listener(
        LoadBalancerArn=balancer["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": group["TargetGroupArn"]}],
    )
    repository = ecr.create_repository(repositoryName=o.name, imageTagMutability="IMMUTABLE")[
        "repository"
    ]
    digests = {tag: push(endpoint, o.name, tag) for tag in (o.initial_tag, *o.extra_tags)}
    log_group = f"/aws/ecs/{o.name}"
    if o.log_group:
        logs.create_log_group(logGroupName=log_group)
    ecs.create_cluster(clusterName=f"{o.name}-cluster")
    family = o.name
    ecs.register_task_definition(
        family=family,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        executionRoleArn=f"arn:aws:iam::123456789012:role/{o.name}-execution",
        containerDefinitions=[
            {
                "name": "app",
                "image": f"{repository['repositoryUri']}@{digests[o.initial_tag]}",
                "essential": True,
                "portMappings": [{"containerPort": o.container_port, "protocol": "tcp"}],
                "environment": [{"name": k, "value": v} for k, v in sorted(o.environment.items())],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": log_group,
                        "awslogs-region": endpoint.region,
                        "awslogs-stream-prefix": "ecs",
                    },
                },
                "readonlyRootFilesystem": True,
            }
        ],
    )
    ecs.create_service(
        cluster=f"{o.name}-cluster",
        serviceName=o.name,
        taskDefinition=family,
        desiredCount=o.desired_count,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": subnets,
                "securityGroups": [task_sg],
                "assignPublicIp": "ENABLED",
            }
        },
        loadBalancers=[
            {
                "targetGroupArn": group["TargetGroupArn"],
                "containerName": "app",
                "containerPort": o.container_port,
            }
        ],
        healthCheckGracePeriodSeconds=o.grace_period,
        deploymentConfiguration={
            "deploymentCircuitBreaker": {"enable": o.circuit_breaker, "rollback": o.rollback},
            "maximumPercent": o.maximum_percent,
            "minimumHealthyPercent": o.minimum_healthy_percent,
            **(
                {
                    "alarms": {
                        "alarmNames": list(o.deployment_alarms),
                        "enable": True,
                        "rollback": o.alarm_rollback,
                    }
                }
                if o.deployment_alarms
                else {}
            ),
        },
    )
    return Stack(
        region=endpoint.region,
        cluster=f"{o.name}-cluster",
        service=o.name,
        container_name="app",
        family=family,
        repository_name=o.name,
        repository_url=str(repository["repositoryUri"]),
        target_group_arn=str(group["TargetGroupArn"]),
        load_balancer_arn=str(balancer["LoadBalancerArn"]),
        load_balancer_dns=str(balancer["DNSName"]),
        log_group=log_group,
        vpc_id=vpc,
        subnet_ids=tuple(subnets),
        task_security_group=task_sg,
        alb_security_group=alb_sg,
        digests=digests,
    )


def put_target_5xx_alarm(
    endpoint: Endpoint,
    stack: Stack,
    name: str,
    *,
    threshold: float = 1.0,
    periods: int = 1,
    period: int = 60,
    treat_missing_data: str = "notBreaching",
) -> str:
    """The alarm infra/modules/observability names ``<env>-target-5xx``, on this stack's target
    group: ``HTTPCode_Target_5XX_Count`` (Sum, per ``period`` s) at or above ``threshold`` in
    ``periods`` periods out of ``periods``, missing data not breaching (unless
    ``treat_missing_data`` says otherwise). Returns ``name``."""
    balancer = stack.load_balancer_arn.split(":loadbalancer/", 1)[-1]
    group = stack.target_group_arn.rsplit(":", 1)[-1]
    _client(endpoint, "cloudwatch").put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/ApplicationELB",
        MetricName="HTTPCode_Target_5XX_Count",
        Statistic="Sum",
        Dimensions=[
            {"Name": "LoadBalancer", "Value": balancer},
            {"Name": "TargetGroup", "Value": group},
        ],
        Period=period,
        EvaluationPeriods=periods,
        DatapointsToAlarm=periods,
        Threshold=threshold,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData=treat_missing_data,
    )
    return name
