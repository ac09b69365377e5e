"""The only module of opsctl that talks to AWS (boto3).

Credentials, region and endpoint come from boto3's default chain: SSO profiles, OIDC web
identity in CI, ``AWS_ENDPOINT_URL`` for an emulator, all with no special code path. Clients are
created lazily (each costs tens of milliseconds of model loading) and retry throttling and
transient errors in botocore's ``adaptive`` mode unless ``AWS_RETRY_MODE`` says otherwise
(https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html).
Every AWS error leaves this module as an :class:`~opsctl.errors.OpsctlError`.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

import boto3
import botocore.config
import botocore.exceptions

from opsctl import __version__
from opsctl.errors import AwsError, NotFoundError, TargetError
from opsctl.model import (
    Alarm,
    AlarmStateChange,
    Container,
    Deployment,
    Image,
    Listener,
    LoadBalancer,
    LoadBalancerRef,
    LogEvent,
    ObjectVersion,
    Rule,
    SecurityGroup,
    Service,
    ServiceDeploymentRecord,
    ServiceEvent,
    ServiceRevisionRecord,
    SubnetRoute,
    TargetGroup,
    TargetHealth,
    Task,
    TaskContainer,
    TaskDefinition,
    TrailEvent,
)

if TYPE_CHECKING:
    from mypy_boto3_cloudtrail import CloudTrailClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ecr import ECRClient
    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_elbv2 import ElasticLoadBalancingv2Client
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_resourcegroupstaggingapi import ResourceGroupsTaggingAPIClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sts import STSClient

T = TypeVar("T")

# The RegisterTaskDefinition parameters a described revision carries (everything else in
# DescribeTaskDefinition's output is read-only metadata).
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html
REGISTRATION_KEYS = (
    "family",
    "taskRoleArn",
    "executionRoleArn",
    "networkMode",
    "containerDefinitions",
    "volumes",
    "placementConstraints",
    "requiresCompatibilities",
    "cpu",
    "memory",
    "pidMode",
    "ipcMode",
    "proxyConfiguration",
    "inferenceAccelerators",
    "ephemeralStorage",
    "runtimePlatform",
    "enableFaultInjection",
)

_PERMISSION_CODES = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
}
PERMISSION_CODES = frozenset(_PERMISSION_CODES)
"""The error codes AWS answers a call the caller may not make with."""


@contextmanager
def _aws(action: str) -> Iterator[None]:
    """Turn botocore's exceptions into opsctl's, naming what we were doing."""
    try:
        yield
    except botocore.exceptions.NoRegionError as error:
        raise AwsError(
            f"{action}: no AWS region configured",
            hint="set AWS_REGION, use a profile with a region, or a target with `region`",
        ) from error
    except (
        botocore.exceptions.NoCredentialsError,
        botocore.exceptions.TokenRetrievalError,
    ) as error:
        raise AwsError(
            f"{action}: no valid AWS credentials ({error})",
            hint="log in with `aws sso login --profile <profile>` and set AWS_PROFILE",
        ) from error
    except botocore.exceptions.EndpointConnectionError as error:
        raise AwsError(f"{action}: cannot reach AWS ({error})") from error
    except botocore.exceptions.ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", "Unknown"))
        message = str(error.response.get("Error", {}).get("Message", error))
        hint = None
        if code in _PERMISSION_CODES:
            hint = "the role opsctl runs as lacks this permission (see docs/opsctl.md, IAM)"
        raise AwsError(f"{action}: {code}: {message}", code=code, hint=hint) from error
    except botocore.exceptions.BotoCoreError as error:
        raise AwsError(f"{action}: {error}") from error


def _int(value: object) -> int | None:
    text = str(value) if isinstance(value, (int, str)) else ""
    return int(text) if text.lstrip("-").isdigit() else None


class Aws:
    """Typed access to the AWS APIs opsctl uses, for one region."""

    def __init__(self, region: str | None = None) -> None:
        retries: dict[str, Any] = {}
        if not os.environ.get("AWS_RETRY_MODE"):
            retries["mode"] = "adaptive"
        if not os.environ.get("AWS_MAX_ATTEMPTS"):
            retries["total_max_attempts"] = 5
        self._config = botocore.config.Config(
            retries=retries,  # type: ignore[arg-type]
            connect_timeout=5,
            read_timeout=30,
            user_agent_extra=f"opsctl/{__version__}",
        )
        with _aws("configuring the AWS session"):
            self._session = boto3.session.Session(region_name=region or None)
        self.region = self._session.region_name or ""

    def _client(self, name: str, region: str | None = None) -> Any:  # noqa: ANN401 - typed by callers
        with _aws(f"creating the {name} client"):
            return self._session.client(
                name, region_name=region or self.region or None, config=self._config
            )  # type: ignore[call-overload]

    @cached_property
    def ecs(self) -> ECSClient:
        client: ECSClient = self._client("ecs")
        return client

    @cached_property
    def elbv2(self) -> ElasticLoadBalancingv2Client:
        client: ElasticLoadBalancingv2Client = self._client("elbv2")
        return client

    @cached_property
    def logs(self) -> CloudWatchLogsClient:
        client: CloudWatchLogsClient = self._client("logs")
        return client

    @cached_property
    def cloudwatch(self) -> CloudWatchClient:
        client: CloudWatchClient = self._client("cloudwatch")
        return client

    @cached_property
    def ec2(self) -> EC2Client:
        client: EC2Client = self._client("ec2")
        return client

    @cached_property
    def tagging(self) -> ResourceGroupsTaggingAPIClient:
        client: ResourceGroupsTaggingAPIClient = self._client("resourcegroupstaggingapi")
        return client

    @cached_property
    def cloudtrail(self) -> CloudTrailClient:
        client: CloudTrailClient = self._client("cloudtrail")
        return client

    @cached_property
    def s3(self) -> S3Client:
        client: S3Client = self._client("s3")
        return client

    @cached_property
    def sts(self) -> STSClient:
        client: STSClient = self._client("sts")
        return client

    def ecr(self, region: str | None = None) -> ECRClient:
        key = region or self.region
        cache: dict[str, ECRClient] = self.__dict__.setdefault("_ecr_clients", {})
        if key not in cache:
            cache[key] = self._client("ecr", key)
        return cache[key]

    # --- ECS ------------------------------------------------------------------------------

    def describe_service(self, cluster: str, service: str) -> Service:
        """The service, or TargetError naming what does not exist."""
        try:
            with _aws(f"describing service {service} in cluster {cluster}"):
                response = self.ecs.describe_services(cluster=cluster, services=[service])
        except AwsError as error:
            if error.code == "ClusterNotFoundException":
                raise TargetError(
                    f"cluster {cluster!r} not found in region {self.region}",
                    hint="check --cluster / OPSCTL_CLUSTER and the region",
                ) from error
            raise
        services = [s for s in response.get("services", []) if s.get("status") != "INACTIVE"]
        if not services:
            raise TargetError(
                f"service {service!r} not found in cluster {cluster!r} (region {self.region})",
                hint="check --service / OPSCTL_SERVICE; `aws ecs list-services --cluster "
                f"{cluster}` lists them",
            )
        return _service(services[0])

    def describe_task_definition(self, name: str) -> TaskDefinition:
        """A revision by ARN or ``family:revision``, with its tags; NotFoundError if unknown."""
        try:
            with _aws(f"describing task definition {name}"):
                response = self.ecs.describe_task_definition(taskDefinition=name, include=["TAGS"])
        except AwsError as error:
            if error.code in ("ClientException", "InvalidParameterException"):
                raise NotFoundError(f"task definition {name!r} does not exist") from error
            raise
        return _task_definition(response["taskDefinition"], response.get("tags", []))

    def task_definition_revisions(self, family: str) -> list[str]:
        """ARNs of the family's ACTIVE revisions, newest (highest revision) first."""
        arns: list[str] = []
        with _aws(f"listing revisions of {family}"):
            paginator = self.ecs.get_paginator("list_task_definitions")
            for page in paginator.paginate(familyPrefix=family, status="ACTIVE", sort="DESC"):
                arns.extend(page.get("taskDefinitionArns", []))
        # Filter and sort ourselves: familyPrefix is a prefix and not every endpoint sorts.
        own = [a for a in arns if a.rsplit("/", 1)[-1].rsplit(":", 1)[0] == family]
        return sorted(own, key=lambda a: int(a.rsplit(":", 1)[-1]), reverse=True)

    def register_task_definition(
        self, registration: Mapping[str, Any], tags: Mapping[str, str]
    ) -> TaskDefinition:
        params = dict(registration)
        if tags:
            params["tags"] = [{"key": k, "value": v} for k, v in sorted(tags.items())]
        with _aws(f"registering a revision of {registration.get('family')}"):
            response = self.ecs.register_task_definition(**params)
        return _task_definition(response["taskDefinition"], response.get("tags", []))

    def tag_resource(self, arn: str, tags: Mapping[str, str]) -> None:
        with _aws(f"tagging {arn}"):
            self.ecs.tag_resource(
                resourceArn=arn, tags=[{"key": k, "value": v} for k, v in tags.items()]
            )

    def update_service(
        self, cluster: str, service: str, *, task_definition: str | None = None, force: bool = False
    ) -> Service:
        params: dict[str, Any] = {"cluster": cluster, "service": service}
        if task_definition is not None:
            params["taskDefinition"] = task_definition
        if force:
            params["forceNewDeployment"] = True
        with _aws(f"updating service {service}"):
            response = self.ecs.update_service(**params)
        return _service(response["service"])

    def service_tasks(self, cluster: str, service: str, desired_status: str) -> list[Task]:
        """The service's tasks whose desired status is ``desired_status`` (RUNNING or STOPPED)."""
        arns: list[str] = []
        with _aws(f"listing tasks of {service}"):
            paginator = self.ecs.get_paginator("list_tasks")
            for page in paginator.paginate(
                cluster=cluster,
                serviceName=service,
                desiredStatus=desired_status,  # type: ignore[arg-type]
            ):
                arns.extend(page.get("taskArns", []))
        return self.describe_tasks(cluster, arns)

    def describe_tasks(self, cluster: str, arns: Sequence[str]) -> list[Task]:
        tasks: list[Task] = []
        for start in range(0, len(arns), 100):
            with _aws("describing tasks"):
                response = self.ecs.describe_tasks(
                    cluster=cluster, tasks=list(arns[start : start + 100])
                )
            tasks.extend(_task(t) for t in response.get("tasks", []))
        return tasks

    # --- ELBv2 ----------------------------------------------------------------------------

    def target_health(
        self, target_group_arn: str, targets: Sequence[tuple[str, int]] = ()
    ) -> list[TargetHealth]:
        params: dict[str, Any] = {"TargetGroupArn": target_group_arn}
        if targets:
            params["Targets"] = [{"Id": i, "Port": p} for i, p in targets]
        with _aws("describing target health"):
            response = self.elbv2.describe_target_health(**params)
        return [
            TargetHealth(
                id=str(d["Target"]["Id"]),
                port=_int(d["Target"].get("Port")),
                state=str(d.get("TargetHealth", {}).get("State", "unknown")),
                reason=d.get("TargetHealth", {}).get("Reason"),
                description=d.get("TargetHealth", {}).get("Description"),
            )
            for d in response.get("TargetHealthDescriptions", [])
        ]

    def target_group(self, arn: str) -> TargetGroup:
        with _aws(f"describing target group {arn}"):
            group = self.elbv2.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"][0]
        return TargetGroup(
            arn=group["TargetGroupArn"],
            name=group.get("TargetGroupName", ""),
            port=_int(group.get("Port")),
            protocol=group.get("Protocol"),
            target_type=group.get("TargetType"),
            vpc_id=group.get("VpcId"),
            health_check_enabled=bool(group.get("HealthCheckEnabled", True)),
            health_check_path=group.get("HealthCheckPath"),
            health_check_port=group.get("HealthCheckPort"),
            health_check_interval=_int(group.get("HealthCheckIntervalSeconds")),
            health_check_timeout=_int(group.get("HealthCheckTimeoutSeconds")),
            healthy_threshold=_int(group.get("HealthyThresholdCount")),
            unhealthy_threshold=_int(group.get("UnhealthyThresholdCount")),
            matcher=(group.get("Matcher") or {}).get("HttpCode"),
            load_balancer_arns=tuple(group.get("LoadBalancerArns", [])),
        )

    def load_balancer(self, arn: str) -> LoadBalancer:
        with _aws(f"describing load balancer {arn}"):
            balancer = self.elbv2.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][
                0
            ]
            listeners = self.elbv2.describe_listeners(LoadBalancerArn=arn).get("Listeners", [])
        return LoadBalancer(
            arn=balancer["LoadBalancerArn"],
            name=balancer.get("LoadBalancerName", ""),
            dns_name=balancer.get("DNSName", ""),
            security_groups=tuple(balancer.get("SecurityGroups", [])),
            listeners=tuple(
                Listener(
                    port=int(listener.get("Port", 0)),
                    protocol=str(listener.get("Protocol", "")),
                    default_action=next(
                        (
                            str(a["Type"])
                            for a in sorted(
                                listener.get("DefaultActions", []),
                                key=lambda a: int(a.get("Order", 0)),
                            )
                            if "Type" in a
                        ),
                        None,
                    ),
                )
                for listener in listeners
            ),
        )

    # --- ECR ------------------------------------------------------------------------------

    def find_image(
        self,
        registry_id: str,
        region: str,
        repository: str,
        *,
        tag: str | None = None,
        digest: str | None = None,
    ) -> Image | None:
        """The image with this tag or digest, ``None`` if the repository lacks it.

        A missing repository is a NotFoundError: it means the target is misconfigured.
        """
        image_id = {"imageDigest": digest} if digest else {"imageTag": tag or "latest"}
        try:
            with _aws(f"looking up {repository} in ECR"):
                response = self.ecr(region).describe_images(
                    registryId=registry_id,
                    repositoryName=repository,
                    imageIds=[image_id],  # type: ignore[list-item]
                )
        except AwsError as error:
            if error.code == "ImageNotFoundException":
                return None
            if error.code == "RepositoryNotFoundException":
                raise NotFoundError(
                    f"ECR repository {repository!r} does not exist in {registry_id}/{region}"
                ) from error
            raise
        details = response.get("imageDetails", [])
        return _image(details[0]) if details else None

    def list_images(self, registry_id: str, region: str, repository: str) -> list[Image]:
        images: list[Image] = []
        try:
            with _aws(f"listing images of {repository}"):
                paginator = self.ecr(region).get_paginator("describe_images")
                for page in paginator.paginate(registryId=registry_id, repositoryName=repository):
                    images.extend(_image(d) for d in page.get("imageDetails", []))
        except AwsError as error:
            if error.code == "RepositoryNotFoundException":
                raise NotFoundError(
                    f"ECR repository {repository!r} does not exist in {registry_id}/{region}"
                ) from error
            raise
        return images

    def add_image_tag(
        self, registry_id: str, region: str, repository: str, digest: str, tag: str
    ) -> None:
        """Give the image ``digest`` one more tag, without pulling or pushing layers.

        ECR's documented retag: read the manifest (BatchGetImage) and put it back under the
        new tag (PutImage); allowed on an immutable repository as long as the tag is new.
        https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-retag.html
        """
        with _aws(f"reading the manifest of {repository}@{digest}"):
            response = self.ecr(region).batch_get_image(
                registryId=registry_id,
                repositoryName=repository,
                imageIds=[{"imageDigest": digest}],
            )
        images = response.get("images", [])
        if not images or "imageManifest" not in images[0]:
            failures = response.get("failures", [])
            why = (
                f"{failures[0].get('failureCode')}: {failures[0].get('failureReason')}"
                if failures
                else "no image returned"
            )
            raise NotFoundError(f"image {repository}@{digest} has no manifest in ECR ({why})")
        params: dict[str, Any] = {
            "registryId": registry_id,
            "repositoryName": repository,
            # Byte for byte as read: the digest is the hash of exactly this text.
            "imageManifest": images[0]["imageManifest"],
            "imageTag": tag,
            "imageDigest": digest,
        }
        if images[0].get("imageManifestMediaType"):
            params["imageManifestMediaType"] = images[0]["imageManifestMediaType"]
        with _aws(f"tagging {repository}@{digest} {tag}"):
            self.ecr(region).put_image(**params)

    # --- CloudWatch Logs and metrics ------------------------------------------------------

    def filter_log_events(
        self,
        group: str,
        *,
        start: datetime,
        streams: Sequence[str] = (),
        pattern: str | None = None,
        limit: int = 10_000,
    ) -> list[LogEvent]:
        """Events of ``group`` since ``start``, oldest first, at most ``limit``."""
        params: dict[str, Any] = {"logGroupName": group, "startTime": int(start.timestamp() * 1000)}
        if streams:
            params["logStreamNames"] = list(streams)
        if pattern:
            params["filterPattern"] = pattern
        events: list[LogEvent] = []
        try:
            with _aws(f"reading log group {group}"):
                paginator = self.logs.get_paginator("filter_log_events")
                for page in paginator.paginate(**params):
                    for event in page.get("events", []):
                        events.append(
                            LogEvent(
                                timestamp=datetime.fromtimestamp(
                                    int(event.get("timestamp", 0)) / 1000
                                ).astimezone(),
                                stream=str(event.get("logStreamName", "")),
                                message=str(event.get("message", "")).rstrip("\n"),
                                event_id=str(event.get("eventId", "")),
                            )
                        )
                    if len(events) >= limit:
                        break
        except AwsError as error:
            if error.code == "ResourceNotFoundException":
                raise NotFoundError(
                    f"log group {group!r} (or stream) does not exist",
                    hint="the service's awslogs configuration names the group; check --log-group",
                ) from error
            raise
        events.sort(key=lambda e: e.timestamp)
        return events[:limit]

    def alarms_in_alarm(self) -> list[Alarm]:
        alarms: list[Alarm] = []
        with _aws("describing alarms"):
            paginator = self.cloudwatch.get_paginator("describe_alarms")
            for page in paginator.paginate(StateValue="ALARM", AlarmTypes=["MetricAlarm"]):
                alarms.extend(_alarm(a) for a in page.get("MetricAlarms", []))
        return alarms

    def metric_sums(
        self,
        namespace: str,
        metrics: Sequence[str],
        dimensions: Mapping[str, str],
        start: datetime,
        end: datetime,
    ) -> dict[str, float]:
        """The sum of each metric over [start, end), in one GetMetricData request.

        GetMetricData rather than one GetMetricStatistics per metric: one round trip, and the
        action the deploy role grants (infra/bootstrap/iam.tf).
        https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html
        """
        queries: list[Any] = [
            {
                "Id": f"m{index}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": namespace,
                        "MetricName": metric,
                        "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
                    },
                    "Period": 60,
                    "Stat": "Sum",
                },
                "ReturnData": True,
            }
            for index, metric in enumerate(metrics)
        ]
        sums = dict.fromkeys(metrics, 0.0)
        with _aws(f"reading metrics {namespace}/{', '.join(metrics)}"):
            paginator = self.cloudwatch.get_paginator("get_metric_data")
            for page in paginator.paginate(MetricDataQueries=queries, StartTime=start, EndTime=end):
                for series in page.get("MetricDataResults", []):
                    metric = metrics[int(str(series.get("Id", "m0"))[1:])]
                    sums[metric] += float(sum(series.get("Values", [])))
        return sums

    # --- EC2 (network evidence for diagnose) ----------------------------------------------

    def security_groups(self, ids: Sequence[str]) -> list[SecurityGroup]:
        if not ids:
            return []
        with _aws("describing security groups"):
            response = self.ec2.describe_security_groups(GroupIds=list(ids))
        return [
            SecurityGroup(
                id=g["GroupId"],
                vpc_id=g.get("VpcId"),
                ingress=tuple(_rule(p) for p in g.get("IpPermissions", [])),
                egress=tuple(_rule(p) for p in g.get("IpPermissionsEgress", [])),
            )
            for g in response.get("SecurityGroups", [])
        ]

    def subnet_routes(self, subnet_ids: Sequence[str]) -> list[SubnetRoute]:
        routes: list[SubnetRoute] = []
        with _aws("describing subnets and route tables"):
            subnets = (
                self.ec2.describe_subnets(SubnetIds=list(subnet_ids)).get("Subnets", [])
                if subnet_ids
                else []
            )
            for subnet in subnets:
                tables = self.ec2.describe_route_tables(
                    Filters=[{"Name": "association.subnet-id", "Values": [subnet["SubnetId"]]}]
                ).get("RouteTables", [])
                if not tables:
                    tables = self.ec2.describe_route_tables(
                        Filters=[
                            {"Name": "vpc-id", "Values": [subnet["VpcId"]]},
                            {"Name": "association.main", "Values": ["true"]},
                        ]
                    ).get("RouteTables", [])
                target = None
                for table in tables:
                    for route in table.get("Routes", []):
                        if route.get("DestinationCidrBlock") == "0.0.0.0/0":
                            target = (
                                route.get("NatGatewayId")
                                or route.get("GatewayId")
                                or route.get("TransitGatewayId")
                                or route.get("NetworkInterfaceId")
                                or route.get("InstanceId")
                            )
                routes.append(SubnetRoute(subnet["SubnetId"], subnet["VpcId"], target))
        return routes

    def vpc_endpoint_services(self, vpc_id: str) -> list[str]:
        with _aws("describing VPC endpoints"):
            response = self.ec2.describe_vpc_endpoints(
                Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]
            )
        return [str(e.get("ServiceName", "")) for e in response.get("VpcEndpoints", [])]

    # --- Who is calling -------------------------------------------------------------------

    def caller_arn(self) -> str:
        """The ARN of the identity behind the credentials (no permission is needed for it:
        https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html)."""
        with _aws("asking STS who the caller is"):
            return str(self.sts.get_caller_identity()["Arn"])

    # --- History (opsctl changes) ---------------------------------------------------------

    def service_deployments(
        self,
        cluster: str,
        service: str,
        *,
        since: datetime | None = None,
        statuses: Sequence[str] = (),
    ) -> list[ServiceDeploymentRecord]:
        """The service's deployments created since ``since`` and/or in ``statuses``, newest
        first, with their details (ListServiceDeployments, then DescribeServiceDeployments, 20
        ARNs a call). ``changes`` reads the history; ``rollback`` finds the one in progress to
        stop it with ECS's own rollback (StopServiceDeployment,
        https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stop-service-deployment.html)."""
        arns: list[str] = []
        with _aws(f"listing the service deployments of {service}"):
            request: dict[str, Any] = {
                "cluster": cluster,
                "service": service,
                "maxResults": 100,
            }
            if since is not None:
                request["createdAt"] = {"after": since}
            if statuses:
                request["status"] = list(statuses)
            while True:
                page = self.ecs.list_service_deployments(**request)
                arns.extend(
                    str(d["serviceDeploymentArn"])
                    for d in page.get("serviceDeployments", [])
                    if d.get("serviceDeploymentArn")
                )
                if not page.get("nextToken"):
                    break
                request["nextToken"] = page["nextToken"]
        records: list[ServiceDeploymentRecord] = []
        for start in range(0, len(arns), 20):
            with _aws(f"describing the service deployments of {service}"):
                response = self.ecs.describe_service_deployments(
                    serviceDeploymentArns=arns[start : start + 20]
                )
            records.extend(_service_deployment(d) for d in response.get("serviceDeployments", []))
        oldest = datetime.min.replace(tzinfo=UTC)
        return sorted(records, key=lambda r: r.created_at or oldest, reverse=True)

    def service_revisions(self, arns: Sequence[str]) -> list[ServiceRevisionRecord]:
        """The service revisions (DescribeServiceRevisions, 20 ARNs a call); unknown ones are
        left out."""
        unique = sorted(set(arns))
        revisions: list[ServiceRevisionRecord] = []
        for start in range(0, len(unique), 20):
            with _aws("describing service revisions"):
                response = self.ecs.describe_service_revisions(
                    serviceRevisionArns=unique[start : start + 20]
                )
            for raw in response.get("serviceRevisions", []):
                revisions.append(
                    ServiceRevisionRecord(
                        arn=str(raw.get("serviceRevisionArn", "")),
                        task_definition=str(raw.get("taskDefinition", "")),
                        images=tuple(
                            (str(i.get("image", "")), i.get("imageDigest"))
                            for i in raw.get("containerImages", [])
                        ),
                    )
                )
        return revisions

    def trail_events(
        self, event_name: str, since: datetime, until: datetime, max_pages: int = 5
    ) -> list[TrailEvent]:
        """CloudTrail's management events named ``event_name`` in [since, until], newest first
        (LookupEvents: one lookup attribute a call, 50 events a page; at most ``max_pages``
        pages, since LookupEvents answers 2 requests a second per account and region:
        https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html)."""
        events: list[TrailEvent] = []
        with _aws(f"looking up {event_name} events in CloudTrail"):
            paginator = self.cloudtrail.get_paginator("lookup_events")
            pages = paginator.paginate(
                LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": event_name}],
                StartTime=since,
                EndTime=until,
                PaginationConfig={"MaxItems": 50 * max_pages, "PageSize": 50},
            )
            for page in pages:
                events.extend(_trail_event(e) for e in page.get("Events", []))
        return events

    def metric_alarms(self, names: Sequence[str] = ()) -> list[Alarm]:
        """Metric alarms in any state: every one of the region, or those named (at most 100,
        DescribeAlarms' limit for AlarmNames)."""
        params: dict[str, Any] = {"AlarmTypes": ["MetricAlarm"]}
        if names:
            params["AlarmNames"] = list(names)[:100]
        alarms: list[Alarm] = []
        with _aws("describing alarms"):
            paginator = self.cloudwatch.get_paginator("describe_alarms")
            for page in paginator.paginate(**params):
                alarms.extend(_alarm(a) for a in page.get("MetricAlarms", []))
        return alarms

    def alarm_state_changes(self, name: str, since: datetime) -> list[AlarmStateChange]:
        """The alarm's changes of state since ``since`` (DescribeAlarmHistory, ``StateUpdate``
        items, newest first), each with the reason CloudWatch gave."""
        changes: list[AlarmStateChange] = []
        with _aws(f"reading the history of alarm {name}"):
            paginator = self.cloudwatch.get_paginator("describe_alarm_history")
            for page in paginator.paginate(
                AlarmName=name,
                HistoryItemType="StateUpdate",
                StartDate=since,
                EndDate=datetime.now(UTC),
                ScanBy="TimestampDescending",
            ):
                for item in page.get("AlarmHistoryItems", []):
                    data = _json_object(item.get("HistoryData"))
                    old = _mapping(data.get("oldState"))
                    new = _mapping(data.get("newState"))
                    changes.append(
                        AlarmStateChange(
                            alarm=str(item.get("AlarmName", name)),
                            at=item["Timestamp"],
                            old=_str(old.get("stateValue")),
                            new=_str(new.get("stateValue")),
                            reason=str(new.get("stateReason") or item.get("HistorySummary", "")),
                        )
                    )
        return changes

    def object_versions(self, bucket: str, key: str) -> list[ObjectVersion]:
        """The versions (and delete markers) of exactly ``s3://bucket/key``, newest first."""
        versions: list[ObjectVersion] = []
        with _aws(f"listing the versions of s3://{bucket}/{key}"):
            paginator = self.s3.get_paginator("list_object_versions")
            for page in paginator.paginate(Bucket=bucket, Prefix=key):
                for raw in page.get("Versions", []):
                    if raw.get("Key") == key:
                        versions.append(_object_version(raw, delete_marker=False))
                for marker in page.get("DeleteMarkers", []):
                    if marker.get("Key") == key:
                        versions.append(_object_version(marker, delete_marker=True))
        return sorted(versions, key=lambda v: v.at, reverse=True)

    def stop_service_deployment(self, arn: str) -> None:
        """StopServiceDeployment with ``stopType=ROLLBACK``: ECS fails the deployment and
        returns to the last deployment that completed."""
        with _aws(f"stopping service deployment {arn}"):
            self.ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")

    # --- Resource Groups Tagging (last known good by tag) ---------------------------------

    def tagged_task_definitions(self, family: str, tag_key: str) -> dict[str, dict[str, str]]:
        """The family's task definition revisions that carry ``tag_key``, with all their
        tags, every page (GetResources): finds verified revisions however many untagged ones
        were registered after them."""
        found: dict[str, dict[str, str]] = {}
        with _aws(f"looking up revisions of {family} tagged {tag_key}"):
            paginator = self.tagging.get_paginator("get_resources")
            for page in paginator.paginate(
                ResourceTypeFilters=["ecs:task-definition"],
                TagFilters=[{"Key": tag_key}],
            ):
                for mapping in page.get("ResourceTagMappingList", []):
                    arn = str(mapping.get("ResourceARN", ""))
                    if arn.rsplit("/", 1)[-1].rsplit(":", 1)[0] != family:
                        continue
                    found[arn] = {
                        str(t.get("Key")): str(t.get("Value")) for t in mapping.get("Tags", [])
                    }
        return found

    # --- ECR image configuration (the smoke test's commit check) --------------------------

    def image_labels(
        self, registry_id: str, region: str, repository: str, digest: str
    ) -> dict[str, str] | None:
        """The OCI labels of the image's configuration, None when ECR does not hold the
        configuration blob. Reads the manifest (BatchGetImage), then the configuration blob
        through the URL GetDownloadUrlForLayer gives (a pre-signed S3 URL on AWS)."""
        manifest = self._manifest(registry_id, region, repository, digest)
        if manifest.get("manifests"):  # an index (multi-platform, or with attestations)
            chosen = next(
                (
                    m
                    for m in manifest["manifests"]
                    if (m.get("platform") or {}).get("os") not in (None, "unknown")
                ),
                None,
            )
            if chosen is None:
                return None
            manifest = self._manifest(registry_id, region, repository, str(chosen["digest"]))
        config_digest = (manifest.get("config") or {}).get("digest")
        if not config_digest:
            return None
        try:
            with _aws(f"locating the configuration of {repository}@{digest}"):
                url = self.ecr(region).get_download_url_for_layer(
                    registryId=registry_id, repositoryName=repository, layerDigest=config_digest
                )["downloadUrl"]
        except AwsError as error:
            if error.code in ("LayersNotFoundException", "LayerInaccessibleException"):
                return None
            raise
        if not url.lower().startswith(("https://", "http://")):
            raise AwsError(f"ECR gave a download URL that is not HTTP(S): {url[:60]}")
        try:
            # B310: the scheme is checked above; the URL is ECR's answer.
            with urllib.request.urlopen(url, timeout=15) as response:  # noqa: S310  # nosec B310
                config = json.loads(response.read(1024 * 1024))
        except (OSError, ValueError) as error:
            raise AwsError(
                f"reading the configuration of {repository}@{digest}: {error}"
            ) from error
        labels = ((config or {}).get("config") or {}).get("Labels") or {}
        return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}

    def _manifest(
        self, registry_id: str, region: str, repository: str, digest: str
    ) -> dict[str, Any]:
        with _aws(f"reading the manifest of {repository}@{digest}"):
            response = self.ecr(region).batch_get_image(
                registryId=registry_id,
                repositoryName=repository,
                imageIds=[{"imageDigest": digest}],
                acceptedMediaTypes=[
                    "application/vnd.docker.distribution.manifest.v2+json",
                    "application/vnd.oci.image.manifest.v1+json",
                    "application/vnd.docker.distribution.manifest.list.v2+json",
                    "application/vnd.oci.image.index.v1+json",
                ],
            )
        images = response.get("images", [])
        if not images:
            return {}
        try:
            loaded = json.loads(str(images[0].get("imageManifest") or "{}"))
        except ValueError:
            return {}
        return loaded if isinstance(loaded, dict) else {}


def _rule(permission: Mapping[str, Any]) -> Rule:
    return Rule(
        protocol=str(permission.get("IpProtocol", "-1")),
        from_port=_int(permission.get("FromPort")),
        to_port=_int(permission.get("ToPort")),
        cidrs=tuple(r["CidrIp"] for r in permission.get("IpRanges", []) if "CidrIp" in r),
        groups=tuple(
            p["GroupId"] for p in permission.get("UserIdGroupPairs", []) if "GroupId" in p
        ),
        prefix_lists=tuple(
            p["PrefixListId"] for p in permission.get("PrefixListIds", []) if "PrefixListId" in p
        ),
    )


def _str(value: object) -> str | None:
    return str(value) if value is not None else None


def _mapping(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def _json_object(text: object) -> dict[str, Any]:
    """A JSON object from a string AWS returns (CloudTrail events, alarm history data)."""
    try:
        parsed = json.loads(str(text)) if text else {}
    except ValueError:
        return {}
    return _mapping(parsed)


def _alarm(alarm: Mapping[str, Any]) -> Alarm:
    return Alarm(
        name=alarm.get("AlarmName", ""),
        state=alarm.get("StateValue", ""),
        reason=alarm.get("StateReason", ""),
        namespace=alarm.get("Namespace"),
        metric=alarm.get("MetricName"),
        dimensions=tuple((d["Name"], d["Value"]) for d in alarm.get("Dimensions", [])),
        updated_at=alarm.get("StateUpdatedTimestamp"),
    )


def _service_deployment(raw: Mapping[str, Any]) -> ServiceDeploymentRecord:
    rollback = _mapping(raw.get("rollback"))
    breaker = _mapping(raw.get("deploymentCircuitBreaker"))
    alarms = _mapping(raw.get("alarms"))
    return ServiceDeploymentRecord(
        arn=str(raw.get("serviceDeploymentArn", "")),
        status=str(raw.get("status", "")),
        status_reason=raw.get("statusReason"),
        created_at=raw.get("createdAt"),
        finished_at=raw.get("finishedAt") or raw.get("stoppedAt"),
        target_revision=str(_mapping(raw.get("targetServiceRevision")).get("arn", "")),
        source_revisions=tuple(
            str(r.get("arn")) for r in raw.get("sourceServiceRevisions", []) if r.get("arn")
        ),
        rollback_reason=rollback.get("reason"),
        rollback_started_at=rollback.get("startedAt"),
        rollback_revision=rollback.get("serviceRevisionArn"),
        triggered_alarms=tuple(str(a) for a in alarms.get("triggeredAlarmNames", [])),
        circuit_breaker_failures=_int(breaker.get("failureCount")),
    )


def _trail_event(raw: Mapping[str, Any]) -> TrailEvent:
    document = _json_object(raw.get("CloudTrailEvent"))
    identity = _mapping(document.get("userIdentity"))
    return TrailEvent(
        id=str(raw.get("EventId", "")),
        name=str(raw.get("EventName", "")),
        at=raw["EventTime"],
        who=_str(identity.get("arn")),
        user_agent=_str(document.get("userAgent")),
        request=_mapping(document.get("requestParameters")),
        response=_mapping(document.get("responseElements")),
        error=_str(document.get("errorCode")),
    )


def _object_version(raw: Mapping[str, Any], *, delete_marker: bool) -> ObjectVersion:
    return ObjectVersion(
        key=str(raw.get("Key", "")),
        version_id=str(raw.get("VersionId", "")),
        at=raw["LastModified"],
        size=None if delete_marker else _int(raw.get("Size")),
        latest=bool(raw.get("IsLatest", False)),
        delete_marker=delete_marker,
    )


def _service(raw: Mapping[str, Any]) -> Service:
    configuration = raw.get("deploymentConfiguration") or {}
    breaker = configuration.get("deploymentCircuitBreaker") or {}
    network = (raw.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
    return Service(
        arn=str(raw.get("serviceArn", "")),
        name=str(raw.get("serviceName", "")),
        cluster_arn=str(raw.get("clusterArn", "")),
        status=str(raw.get("status", "")),
        desired=int(raw.get("desiredCount", 0)),
        running=int(raw.get("runningCount", 0)),
        pending=int(raw.get("pendingCount", 0)),
        task_definition=str(raw.get("taskDefinition", "")),
        deployments=tuple(
            Deployment(
                id=str(d.get("id", "")),
                status=d.get("status", ""),
                task_definition=str(d.get("taskDefinition", "")),
                desired=int(d.get("desiredCount", 0)),
                running=int(d.get("runningCount", 0)),
                pending=int(d.get("pendingCount", 0)),
                failed_tasks=int(d.get("failedTasks", 0)),
                rollout_state=d.get("rolloutState"),
                rollout_reason=d.get("rolloutStateReason"),
                created_at=d.get("createdAt"),
                updated_at=d.get("updatedAt"),
            )
            for d in raw.get("deployments", [])
        ),
        events=tuple(
            ServiceEvent(
                id=str(e.get("id", "")),
                created_at=e["createdAt"],
                message=str(e.get("message", "")),
            )
            for e in raw.get("events", [])
            if "createdAt" in e
        ),
        load_balancers=tuple(
            LoadBalancerRef(
                target_group_arn=str(lb["targetGroupArn"]),
                container_name=str(lb.get("containerName", "")),
                container_port=int(lb.get("containerPort", 0)),
            )
            for lb in raw.get("loadBalancers", [])
            if lb.get("targetGroupArn")
        ),
        grace_period=_int(raw.get("healthCheckGracePeriodSeconds")),
        circuit_breaker_enabled=bool(breaker.get("enable", False)),
        circuit_breaker_rollback=bool(breaker.get("rollback", False)),
        minimum_healthy_percent=_int(configuration.get("minimumHealthyPercent")),
        maximum_percent=_int(configuration.get("maximumPercent")),
        subnets=tuple(network.get("subnets", [])),
        security_groups=tuple(network.get("securityGroups", [])),
        assign_public_ip=network.get("assignPublicIp") == "ENABLED",
        launch_type=raw.get("launchType"),
    )


def _task_definition(
    raw: Mapping[str, Any], tags: Sequence[Mapping[str, object]]
) -> TaskDefinition:
    registration = {k: raw[k] for k in REGISTRATION_KEYS if raw.get(k) not in (None, [], {})}
    containers = []
    for definition in raw.get("containerDefinitions", []):
        log = definition.get("logConfiguration") or {}
        containers.append(
            Container(
                name=str(definition.get("name", "")),
                image=str(definition.get("image", "")),
                essential=bool(definition.get("essential", True)),
                container_ports=tuple(
                    int(m["containerPort"])
                    for m in definition.get("portMappings", [])
                    if "containerPort" in m
                ),
                environment=tuple(
                    (str(e.get("name", "")), str(e.get("value", "")))
                    for e in definition.get("environment", [])
                ),
                log_driver=log.get("logDriver"),
                log_options=tuple((str(k), str(v)) for k, v in (log.get("options") or {}).items()),
            )
        )
    return TaskDefinition(
        arn=str(raw.get("taskDefinitionArn", "")),
        family=str(raw.get("family", "")),
        revision=int(raw.get("revision", 0)),
        status=str(raw.get("status", "")),
        containers=tuple(containers),
        registered_at=raw.get("registeredAt"),
        tags={str(t.get("key")): str(t.get("value")) for t in tags},
        registration=registration,
    )


def _task(raw: Mapping[str, Any]) -> Task:
    private_ip = None
    for attachment in raw.get("attachments", []):
        for detail in attachment.get("details", []):
            if detail.get("name") == "privateIPv4Address":
                private_ip = str(detail.get("value"))
    return Task(
        arn=str(raw.get("taskArn", "")),
        id=str(raw.get("taskArn", "")).rsplit("/", 1)[-1],
        last_status=str(raw.get("lastStatus", "")),
        desired_status=str(raw.get("desiredStatus", "")),
        started_by=raw.get("startedBy"),
        task_definition=str(raw.get("taskDefinitionArn", "")),
        stop_code=raw.get("stopCode"),
        stopped_reason=raw.get("stoppedReason"),
        created_at=raw.get("createdAt"),
        started_at=raw.get("startedAt"),
        stopped_at=raw.get("stoppedAt"),
        private_ip=private_ip,
        containers=tuple(
            TaskContainer(
                name=str(c.get("name", "")),
                image=c.get("image"),
                image_digest=c.get("imageDigest"),
                last_status=c.get("lastStatus"),
                exit_code=c.get("exitCode"),
                reason=c.get("reason"),
            )
            for c in raw.get("containers", [])
        ),
    )


def _image(raw: Mapping[str, Any]) -> Image:
    return Image(
        repository=str(raw.get("repositoryName", "")),
        registry_id=str(raw.get("registryId", "")),
        digest=str(raw.get("imageDigest", "")),
        tags=tuple(raw.get("imageTags", [])),
        pushed_at=raw.get("imagePushedAt"),
    )


def parallel(calls: Sequence[Callable[[], T]], workers: int = 8) -> list[T]:
    """Run independent AWS calls of one result type concurrently (boto3 clients are thread-safe)."""
    if len(calls) <= 1:
        return [call() for call in calls]
    with ThreadPoolExecutor(max_workers=min(workers, len(calls))) as pool:
        return list(pool.map(lambda call: call(), calls))


def concurrently(workers: int = 8) -> ThreadPoolExecutor:
    """A pool for independent AWS calls of different result types (``submit`` keeps types)."""
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="opsctl-aws")
