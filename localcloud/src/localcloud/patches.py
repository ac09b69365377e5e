"""The one patch layer over moto: every gap the platform meets, filled once, in one place.

moto 5.2 is an excellent emulator with gaps that matter here (../shared/notes/aws-emulation.md).
Terraform applying ``infra/`` needs some fixes, the ECS simulator needs hooks, and the local
cloud applies Terraform to an emulator that runs the simulator, so all of them must coexist.
:func:`install` installs every one of them exactly once (idempotent, thread-safe); each moto
method is wrapped by exactly one function below, so two fixes never fight over the same call.
Everything that is not a simulator hook models what AWS does, so it is on whether or not a
simulator runs; the simulator hooks do nothing while no simulator is active.

What AWS does that moto does not (always on):

* **Application Auto Scaling tags**: ListTagsForResource, TagResource and UntagResource are not
  implemented and RegisterScalableTarget ignores its ``Tags``, so ``aws_appautoscaling_target``
  fails on apply. Tags live with the region's backend (a moto reset empties them).
* **TLS-only bucket policies**: moto evaluates bucket policies on object requests but knows only
  the ``StringEquals`` operator and treats every other condition as met, so a Deny on
  ``aws:SecureTransport = false`` refuses every request (Terraform's S3 backend gets 403 on its
  state). AWS is always reached over HTTPS; the emulator's loopback HTTP stands in for TLS.
* **Security group rules** keep their description when they reference a security group or a
  prefix list (DescribeSecurityGroupRules reads it from CIDR ranges only).
* **ECS RegisterTaskDefinition** records ``registeredAt``.
* **ECS CreateService** keeps ``deploymentConfiguration`` (with AWS's defaults filled in),
  ``healthCheckGracePeriodSeconds``, ``enableECSManagedTags``, ``enableExecuteCommand`` and
  ``availabilityZoneRebalancing``; moto drops them (UpdateService keeps them).
* **CloudWatch Logs JSON filter patterns** (``{ $.status >= 500 }``) are evaluated
  (:mod:`localcloud.logfilter`); moto returns every event for them.
* **ECR layer uploads** keep the bytes of small blobs (image configurations), so the local cloud
  can read an image's configuration as a registry would serve it (:func:`ecr_blob`).

Simulator hooks (inert unless a :class:`SimulatorHooks` is active, see :func:`activate`):

* ECS CreateService hands the new service to the simulator; UpdateService stores the full
  task-definition ARN, merges a partial ``deploymentConfiguration`` into the current one and
  lets the simulator start a new PRIMARY deployment (new revision, ``forceNewDeployment`` or a
  new network configuration) before the response is written, so the caller sees its deployment
  id in the response as with AWS; DeleteService and StopTask go through the scheduler.
* ECS ListTasks honours ``serviceName`` and defaults ``desiredStatus`` to RUNNING, as AWS does
  (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTasks.html).
* ELBv2 DescribeTargetHealth reports the simulator's health for the targets it registered.
"""

from __future__ import annotations

import copy
import inspect
import json
import threading
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from moto.applicationautoscaling.models import (
    ApplicationAutoscalingBackend,
    applicationautoscaling_backends,
)
from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse
from moto.core.responses import ActionResult
from moto.ec2.models.security_groups import SecurityGroupRule
from moto.ecr.models import ECRBackend, Repository, ecr_backends
from moto.ecs.models import EC2ContainerServiceBackend, Service, Task, TaskDefinition
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.elbv2.models import FakeHealthStatus, FakeTargetGroup
from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.logs import models as logs_models
from moto.logs.exceptions import InvalidParameterException
from moto.logs.utils import EventMessageFilter
from moto.s3.models import FakeBucket
from moto.utilities.tagging_service import TaggingService

from localcloud import logfilter

if TYPE_CHECKING:
    from localcloud.sim.tasks import SimTask

DEFAULT_DEPLOYMENT_CONFIGURATION: dict[str, Any] = {
    "deploymentCircuitBreaker": {"enable": False, "rollback": False},
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
}
"""What DescribeServices shows for a service created without a deployment configuration."""

MAX_RETAINED_BLOB_BYTES = 1024 * 1024
"""ECR blobs up to this size keep their bytes (image configurations are a few KiB); larger
ones (real layers) are only counted, as moto does, so the emulator's memory stays small."""


class SimulatorHooks(Protocol):
    """What the ECS simulator is told by the patched moto calls (request threads)."""

    def on_service_created(self, backend: EC2ContainerServiceBackend, service: Service) -> None:
        """A service was created (its deployment configuration is read lazily)."""

    def on_service_updated(
        self, backend: EC2ContainerServiceBackend, service: Service, *, new_deployment: bool
    ) -> None:
        """UpdateService ran; ``new_deployment``: ECS would start a new PRIMARY deployment."""

    def on_service_deleted(self, backend: EC2ContainerServiceBackend, service: Service) -> None:
        """DeleteService ran."""

    def on_task_stopped_by_user(self, task: SimTask, reason: str) -> bool:
        """StopTask on a simulated task; ``False`` lets moto handle it."""

    def target_health(
        self, group_arn: str, target_id: str
    ) -> tuple[str, str | None, str | None] | None:
        """``(state, reason, description)`` of a target the simulator registered; ``None``
        for any other target (moto answers for it)."""


_lock = threading.Lock()
_installed = False
_active: SimulatorHooks | None = None

_autoscaling_tags: weakref.WeakKeyDictionary[ApplicationAutoscalingBackend, TaggingService] = (
    weakref.WeakKeyDictionary()
)
_ecr_blobs: weakref.WeakKeyDictionary[Repository, dict[str, bytes]] = weakref.WeakKeyDictionary()


# --- lifecycle ----------------------------------------------------------------------------------


class _JsonAwareEventMessageFilter(EventMessageFilter):
    """moto's term filter, plus JSON filter patterns (see :mod:`localcloud.logfilter`)."""

    def __init__(self, pattern: str) -> None:
        self._json: Callable[[str], bool] | None = None
        if logfilter.is_json_pattern(pattern or ""):
            try:
                self._json = logfilter.compile_json_pattern(pattern)
            except logfilter.FilterPatternError as error:
                # What AWS answers for a pattern it cannot parse.
                raise InvalidParameterException(msg=f"Invalid filter pattern: {error}") from error
        else:
            super().__init__(pattern)

    def matches(self, message: str) -> bool:
        return self._json(message) if self._json is not None else super().matches(message)


def _patch_log_filters() -> None:
    # moto.logs.models imported the class by name: replace it where it is used.
    setattr(logs_models, "EventMessageFilter", _JsonAwareEventMessageFilter)  # noqa: B010 - moto re-exports it implicitly


def install() -> None:
    """Install every fix and hook of this module into moto (in this process); idempotent."""
    global _installed
    with _lock:
        if _installed:
            return
        _patch_autoscaling_tags()
        FakeBucket.get_permission = _bucket_permission  # type: ignore[method-assign]
        _patch_rule_descriptions()
        _patch_ecr_blobs()
        _patch_log_filters()
        _patch_ecs()
        _patch_target_health(FakeTargetGroup.health_for)
        _installed = True


def activate(simulator: SimulatorHooks) -> None:
    """Route the ECS and ELBv2 hooks to ``simulator`` (one per process: moto's state is global)."""
    global _active
    install()
    with _lock:
        if _active is not None and _active is not simulator:
            raise RuntimeError("another ECS simulator is already active in this process")
        _active = simulator


def deactivate(simulator: SimulatorHooks) -> None:
    """Stop routing hooks to ``simulator`` (moto behaves as without it again)."""
    global _active
    with _lock:
        if _active is simulator:
            _active = None


def active() -> SimulatorHooks | None:
    """The simulator the hooks call, if any."""
    return _active


# --- Application Auto Scaling tags --------------------------------------------------------------


def _tags_of(response: ApplicationAutoScalingResponse) -> TaggingService:
    backend = applicationautoscaling_backends[response.current_account][response.region]
    with _lock:
        return _autoscaling_tags.setdefault(backend, TaggingService())


def _tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def _patch_autoscaling_tags() -> None:
    # moto dispatches an action to the response method of the same snake_case name, so adding
    # the three methods implements the three calls.
    def list_tags_for_resource(self: ApplicationAutoScalingResponse) -> str:
        arn = self._get_param("ResourceARN")
        return json.dumps({"Tags": _tags_of(self).get_tag_dict_for_resource(arn)})

    def tag_resource(self: ApplicationAutoScalingResponse) -> str:
        tags: dict[str, str] = self._get_param("Tags") or {}
        _tags_of(self).tag_resource(self._get_param("ResourceARN"), _tag_list(tags))
        return "{}"

    def untag_resource(self: ApplicationAutoScalingResponse) -> str:
        keys: list[str] = self._get_param("TagKeys") or []
        _tags_of(self).untag_resource_using_names(self._get_param("ResourceARN"), keys)
        return "{}"

    original_register = ApplicationAutoScalingResponse.register_scalable_target

    def register_scalable_target(self: ApplicationAutoScalingResponse) -> str:
        body = original_register(self)
        tags: dict[str, str] = self._get_param("Tags") or {}
        if tags:
            _tags_of(self).tag_resource(json.loads(body)["ScalableTargetARN"], _tag_list(tags))
        return body

    response = ApplicationAutoScalingResponse
    response.list_tags_for_resource = list_tags_for_resource  # type: ignore[attr-defined]
    response.tag_resource = tag_resource  # type: ignore[attr-defined]
    response.untag_resource = untag_resource  # type: ignore[attr-defined]
    response.register_scalable_target = register_scalable_target  # type: ignore[method-assign]


# --- S3: TLS-only bucket policies -----------------------------------------------------------------


def _applies_only_without_tls(statement: dict[str, Any]) -> bool:
    condition = statement.get("Condition")
    if not isinstance(condition, dict) or list(condition) != ["Bool"]:
        return False
    tested = condition["Bool"]
    if not isinstance(tested, dict) or list(tested) != ["aws:SecureTransport"]:
        return False
    values = tested["aws:SecureTransport"]
    values = values if isinstance(values, list) else [values]
    return [str(v).lower() for v in values] == ["false"]


def policy_over_tls(policy: bytes) -> bytes:
    """``policy`` without the statements that apply only to requests made without TLS."""
    document = json.loads(policy)
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    document["Statement"] = [s for s in statements if not _applies_only_without_tls(s)]
    return json.dumps(document).encode()


def _bucket_permission(self: FakeBucket, action: str, resource: str) -> PermissionResult:
    # moto's FakeBucket.get_permission, fed the policy as a TLS request sees it.
    if self.policy is None:
        return PermissionResult.NEUTRAL
    return IAMPolicy(policy_over_tls(self.policy).decode()).is_action_permitted(action, resource)


# --- EC2: security group rule descriptions ----------------------------------------------------


def _patch_rule_descriptions() -> None:
    original_init = SecurityGroupRule.__init__
    signature = inspect.signature(original_init)

    def init(self: SecurityGroupRule, *args: object, **kwargs: object) -> None:
        original_init(self, *args, **kwargs)  # type: ignore[arg-type]
        prefix_list = signature.bind(self, *args, **kwargs).arguments.get("prefix_list_id")
        self._prefix_list_description = (  # type: ignore[attr-defined]
            prefix_list.get("Description") if isinstance(prefix_list, dict) else None
        )

    def description(self: SecurityGroupRule) -> str | None:
        return (
            self.ip_range.get("Description")
            or self.source_group.get("Description")
            or getattr(self, "_prefix_list_description", None)
        )

    SecurityGroupRule.__init__ = init  # type: ignore[method-assign]
    SecurityGroupRule.description = property(description)  # type: ignore[assignment,method-assign]


# --- ECR: blobs ---------------------------------------------------------------------------------


def _patch_ecr_blobs() -> None:
    original = ECRBackend.complete_layer_upload

    def complete_layer_upload(
        self: ECRBackend,
        repository_name: str,
        upload_id: str,
        layer_digests: list[str],
        registry_id: str | None = None,
    ) -> dict[str, Any]:
        repository = self._get_repository(repository_name, registry_id)
        upload = repository.uploads.get(upload_id)
        content = bytes(upload.layer_parts) if upload is not None else b""
        result = original(self, repository_name, upload_id, layer_digests, registry_id)
        if len(content) <= MAX_RETAINED_BLOB_BYTES:
            with _lock:
                _ecr_blobs.setdefault(repository, {})[str(result["layerDigest"])] = content
        return result

    ECRBackend.complete_layer_upload = complete_layer_upload  # type: ignore[method-assign]


def ecr_blob(account: str, region: str, repository_name: str, digest: str) -> bytes | None:
    """The bytes of a blob uploaded to a repository of the emulated ECR, if it kept them."""
    repository = ecr_backends[account][region].repositories.get(repository_name)
    if repository is None:
        return None
    with _lock:
        return _ecr_blobs.get(repository, {}).get(digest)


# --- ECS ----------------------------------------------------------------------------------------

_SERVICE_FIELDS_DROPPED_ON_CREATE = {
    "healthCheckGracePeriodSeconds": "health_check_grace_period_seconds",
    "enableECSManagedTags": "enable_ecs_managed_tags",
    "enableExecuteCommand": "enable_execute_command",
    "availabilityZoneRebalancing": "availability_zone_rebalancing",
}


def merged_deployment_configuration(
    current: dict[str, Any] | None, update: dict[str, Any] | None
) -> dict[str, Any]:
    """AWS's defaults, overlaid with ``current``, then with the partial ``update``."""
    merged = copy.deepcopy(DEFAULT_DEPLOYMENT_CONFIGURATION)
    for source in (current or {}, update or {}):
        for key, value in source.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            elif value is not None:
                merged[key] = value
    return merged


def _patch_ecs() -> None:
    _patch_register_task_definition()
    _patch_create_service()
    _patch_update_service()
    _patch_delete_service()
    _patch_list_tasks()
    _patch_stop_task()


def _patch_register_task_definition() -> None:
    original = EC2ContainerServiceBackend.register_task_definition

    def register_task_definition(
        self: EC2ContainerServiceBackend,
        *args: Any,  # noqa: ANN401 - forwards moto's own signature
        **kwargs: Any,  # noqa: ANN401
    ) -> TaskDefinition:
        definition = original(self, *args, **kwargs)
        definition.registered_at = datetime.now(UTC)  # type: ignore[attr-defined]
        return definition

    EC2ContainerServiceBackend.register_task_definition = register_task_definition  # type: ignore[method-assign]


def _patch_create_service() -> None:
    original_response = EC2ContainerServiceResponse.create_service

    def create_service_response(self: EC2ContainerServiceResponse) -> ActionResult:
        result = original_response(self)
        service = result.result["service"]  # type: ignore[index]
        service.deployment_configuration = merged_deployment_configuration(
            None, self._get_param("deploymentConfiguration")
        )
        for param, attribute in _SERVICE_FIELDS_DROPPED_ON_CREATE.items():
            value = self._get_param(param)
            if value is not None:
                setattr(service, attribute, value)
        return result

    EC2ContainerServiceResponse.create_service = create_service_response  # type: ignore[method-assign]

    original = EC2ContainerServiceBackend.create_service

    def create_service(
        self: EC2ContainerServiceBackend,
        *args: Any,  # noqa: ANN401 - forwards moto's own signature
        **kwargs: Any,  # noqa: ANN401
    ) -> Service:
        service = original(self, *args, **kwargs)
        simulator = _active
        if simulator is not None:
            if service.task_definition is not None:
                service.task_definition = self.describe_task_definition(service.task_definition).arn
            simulator.on_service_created(self, service)
        return service

    EC2ContainerServiceBackend.create_service = create_service  # type: ignore[method-assign]


def _patch_update_service() -> None:
    original = EC2ContainerServiceBackend.update_service

    def update_service(
        self: EC2ContainerServiceBackend, service_properties: dict[str, Any]
    ) -> Service:
        simulator = _active
        if simulator is None:
            return original(self, service_properties)
        properties = dict(service_properties)
        before = self._get_service(
            properties.get("cluster", "default"), str(properties["service"]).split("/")[-1]
        )
        old_configuration = getattr(before, "deployment_configuration", None)
        old_network = copy.deepcopy(getattr(before, "network_configuration", None))
        old_task_definition = before.task_definition
        service = original(self, service_properties)
        if properties.get("task_definition"):
            service.task_definition = self.describe_task_definition(
                properties["task_definition"]
            ).arn
        service.deployment_configuration = merged_deployment_configuration(  # type: ignore[attr-defined]
            old_configuration, properties.get("deployment_configuration")
        )
        new_deployment = bool(properties.get("force_new_deployment")) or (
            service.task_definition != old_task_definition
        )
        if (
            properties.get("network_configuration")
            and properties["network_configuration"] != old_network
        ):
            new_deployment = True
        simulator.on_service_updated(self, service, new_deployment=new_deployment)
        return service

    EC2ContainerServiceBackend.update_service = update_service  # type: ignore[method-assign]


def _patch_delete_service() -> None:
    original = EC2ContainerServiceBackend.delete_service

    def delete_service(
        self: EC2ContainerServiceBackend, cluster_name: str, service_name: str, force: bool
    ) -> Service:
        service = original(self, cluster_name, service_name, force)
        simulator = _active
        if simulator is not None:
            simulator.on_service_deleted(self, service)
        return service

    EC2ContainerServiceBackend.delete_service = delete_service  # type: ignore[method-assign]


def _patch_list_tasks() -> None:
    original = EC2ContainerServiceBackend.list_tasks

    def list_tasks(
        self: EC2ContainerServiceBackend,
        cluster_str: str | None = None,
        container_instance: str | None = None,
        family: str | None = None,
        started_by: str | None = None,
        service_name: str | None = None,
        desiredStatus: str | None = None,  # noqa: N803 - moto's parameter name
    ) -> list[Task]:
        if _active is None:
            return original(
                self,
                cluster_str,
                container_instance,
                family,
                started_by,
                service_name,
                desiredStatus,
            )
        tasks = original(
            self,
            cluster_str,
            container_instance,
            family,
            started_by,
            None,
            desiredStatus or "RUNNING",
        )
        if service_name:
            group = f"service:{service_name.split('/')[-1]}"
            tasks = [t for t in tasks if t.group == group]
        return tasks

    EC2ContainerServiceBackend.list_tasks = list_tasks  # type: ignore[method-assign]


def _patch_stop_task() -> None:
    # Imported here: sim.tasks subclasses moto's Task, and this module must stay importable
    # without the simulator's modules.
    from localcloud.sim.tasks import SimTask

    original = EC2ContainerServiceBackend.stop_task

    def stop_task(
        self: EC2ContainerServiceBackend, cluster_str: str, task_str: str, reason: str
    ) -> Task:
        simulator = _active
        if simulator is not None:
            task_id = task_str.split("/")[-1]
            for task in self.tasks.get(self._get_cluster(cluster_str).name, {}).values():
                if (
                    isinstance(task, SimTask)
                    and task.id == task_id
                    and simulator.on_task_stopped_by_user(task, reason)
                ):
                    return task
        return original(self, cluster_str, task_str, reason)

    EC2ContainerServiceBackend.stop_task = stop_task  # type: ignore[method-assign]


# --- ELBv2 --------------------------------------------------------------------------------------


def _patch_target_health(original: Callable[..., FakeHealthStatus]) -> None:
    def health_for(
        self: FakeTargetGroup,
        target: dict[str, Any],
        ec2_backend: Any,  # noqa: ANN401 - moto's own signature
    ) -> FakeHealthStatus:
        simulator = _active
        if simulator is not None:
            health = simulator.target_health(self.arn, str(target["Id"]))
            if health is not None:
                state, reason, description = health
                registered = self.targets.get(target["Id"]) or {}
                port = target.get("Port") or registered.get("Port") or self.port
                return FakeHealthStatus(
                    target["Id"], port, self.health_check_port, state, reason, description
                )
        return original(self, target, ec2_backend)

    FakeTargetGroup.health_for = health_for  # type: ignore[method-assign]
