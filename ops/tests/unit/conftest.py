"""Builders for opsctl's model values (unit tests need no AWS)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from opsctl.model import (
    Container,
    Deployment,
    Listener,
    LoadBalancer,
    LoadBalancerRef,
    Rule,
    SecurityGroup,
    Service,
    ServiceEvent,
    SubnetRoute,
    TargetGroup,
    TargetHealth,
    Task,
    TaskContainer,
    TaskDefinition,
)

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
ARN = "arn:aws:ecs:us-east-1:123456789012:task-definition/api:{}"
REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api"
DIGEST = "sha256:" + "a" * 64


def deployment(id_: str = "ecs-svc/1", revision: int = 1, **changes: object) -> Deployment:
    base = Deployment(
        id=id_,
        status="PRIMARY",
        task_definition=ARN.format(revision),
        desired=2,
        running=2,
        pending=0,
        failed_tasks=0,
        rollout_state="COMPLETED",
        rollout_reason=f"ECS deployment {id_} completed.",
        created_at=T0,
        updated_at=T0 + timedelta(minutes=2),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def service(*deployments: Deployment, **changes: object) -> Service:
    base = Service(
        arn="arn:aws:ecs:us-east-1:123456789012:service/api-cluster/api",
        name="api",
        cluster_arn="arn:aws:ecs:us-east-1:123456789012:cluster/api-cluster",
        status="ACTIVE",
        desired=2,
        running=2,
        pending=0,
        task_definition=(deployments[0] if deployments else deployment()).task_definition,
        deployments=deployments or (deployment(),),
        events=(),
        load_balancers=(LoadBalancerRef("arn:tg", "app", 8000),),
        grace_period=60,
        circuit_breaker_enabled=True,
        circuit_breaker_rollback=True,
        minimum_healthy_percent=100,
        maximum_percent=200,
        subnets=("subnet-1",),
        security_groups=("sg-task",),
        assign_public_ip=False,
        launch_type="FARGATE",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def task_definition(
    revision: int = 1, image: str = f"{REPO}@{DIGEST}", **changes: object
) -> TaskDefinition:
    env = changes.pop("environment", ())
    registration = {
        "family": "api",
        "networkMode": "awsvpc",
        "containerDefinitions": [
            {
                "name": "app",
                "image": image,
                "portMappings": [{"containerPort": 8000}],
                "environment": list(env),
            }
        ],
    }
    base = TaskDefinition(
        arn=ARN.format(revision),
        family="api",
        revision=revision,
        status="ACTIVE",
        containers=(
            Container(
                name="app",
                image=image,
                essential=True,
                container_ports=(8000,),
                environment=tuple(env),  # type: ignore[arg-type]
                log_driver="awslogs",
                log_options=(("awslogs-group", "/aws/ecs/api"), ("awslogs-stream-prefix", "ecs")),
            ),
        ),
        registered_at=T0,
        tags={},
        registration=registration,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def task(
    id_: str = "t1",
    *,
    started_by: str = "ecs-svc/1",
    stop_code: str | None = None,
    reason: str | None = None,
    exit_code: int | None = None,
    last_status: str = "STOPPED",
) -> Task:
    return Task(
        arn=f"arn:aws:ecs:us-east-1:123456789012:task/api-cluster/{id_}",
        id=id_,
        last_status=last_status,
        desired_status="STOPPED" if last_status == "STOPPED" else "RUNNING",
        started_by=started_by,
        task_definition=ARN.format(1),
        stop_code=stop_code,
        stopped_reason=reason,
        created_at=T0,
        started_at=T0,
        stopped_at=T0 + timedelta(minutes=1),
        private_ip="10.0.0.5",
        containers=(TaskContainer("app", REPO, DIGEST, last_status, exit_code, None),),
    )


def target_group(**changes: object) -> TargetGroup:
    base = TargetGroup(
        arn="arn:tg",
        name="api-tg",
        port=8000,
        protocol="HTTP",
        target_type="ip",
        vpc_id="vpc-1",
        health_check_enabled=True,
        health_check_path="/health",
        health_check_port="traffic-port",
        health_check_interval=30,
        health_check_timeout=5,
        healthy_threshold=2,
        unhealthy_threshold=2,
        matcher="200",
        load_balancer_arns=("arn:lb",),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def health(
    state: str = "healthy", reason: str | None = None, description: str | None = None
) -> TargetHealth:
    return TargetHealth("10.0.0.5", 8000, state, reason, description)


def load_balancer() -> LoadBalancer:
    return LoadBalancer(
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/api-alb/abc",
        "api-alb",
        "api-alb-1.us-east-1.elb.amazonaws.com",
        ("sg-alb",),
        (Listener(80, "HTTP"),),
    )


def security_group(
    ingress: tuple[Rule, ...] = (), egress: tuple[Rule, ...] | None = None
) -> SecurityGroup:
    everything = (Rule("-1", None, None, ("0.0.0.0/0",), (), ()),)
    return SecurityGroup("sg-task", "vpc-1", ingress, everything if egress is None else egress)


def event(message: str, minutes: int = 0) -> ServiceEvent:
    return ServiceEvent(f"e{minutes}{len(message)}", T0 + timedelta(minutes=minutes), message)


@pytest.fixture
def make() -> SimpleNamespace:
    return SimpleNamespace(
        deployment=deployment,
        service=service,
        task_definition=task_definition,
        task=task,
        target_group=target_group,
        health=health,
        load_balancer=load_balancer,
        security_group=security_group,
        event=event,
        rule=Rule,
        route=SubnetRoute,
        T0=T0,
        REPO=REPO,
        DIGEST=DIGEST,
        ARN=ARN,
    )
