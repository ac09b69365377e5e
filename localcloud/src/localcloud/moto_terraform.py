"""Fixes that let Terraform read back from moto what it wrote, so a plan after apply is empty.

Each fix covers one gap of moto 5.2 that shows up as a perpetual diff (or a 403) when
infra/envs/dev and infra/bootstrap are applied to the emulator and planned again. They change
what moto remembers or how it reads a policy, never what the code under test sends:

* **TLS-only bucket policies.** Every bucket here denies requests made without TLS
  (``aws:SecureTransport`` false). moto evaluates bucket policies on object requests but knows
  only the ``StringEquals`` condition operator and treats every other condition as met, so that
  Deny refuses every object request: the S3 backend gets 403 on its state. AWS is always reached
  over HTTPS, so the emulator's loopback HTTP stands in for TLS: statements that apply only to
  non-TLS requests are left out when moto evaluates a bucket policy.
* **ECS CreateService** drops healthCheckGracePeriodSeconds, deploymentConfiguration,
  enableECSManagedTags, enableExecuteCommand and availabilityZoneRebalancing (UpdateService
  keeps them): they are stored on the service, where DescribeServices returns them.
* **Security group rules** lose their description when they reference a security group or a
  prefix list (DescribeSecurityGroupRules reads it from CIDR ranges only).
* **Application Auto Scaling RegisterScalableTarget** ignores its Tags; the emulator's tag
  handlers (:func:`localcloud.emulator.patch_moto`) then report none.

:func:`patch_for_terraform` installs all of them; it is idempotent.
"""

from __future__ import annotations

import inspect
import json
import threading
from typing import Any

from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse
from moto.core.responses import ActionResult
from moto.ec2.models.security_groups import SecurityGroupRule
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.s3.models import FakeBucket

from localcloud import emulator

_lock = threading.Lock()
_patched = False

_SERVICE_FIELDS_DROPPED_ON_CREATE = {
    "healthCheckGracePeriodSeconds": "health_check_grace_period_seconds",
    "deploymentConfiguration": "deployment_configuration",
    "enableECSManagedTags": "enable_ecs_managed_tags",
    "enableExecuteCommand": "enable_execute_command",
    "availabilityZoneRebalancing": "availability_zone_rebalancing",
}


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


def _patch_create_service() -> None:
    original = EC2ContainerServiceResponse.create_service

    def create_service(self: EC2ContainerServiceResponse) -> ActionResult:
        result = original(self)
        services, _ = self.ecs_backend.describe_services(
            self._get_param("cluster", "default"), [self._get_param("serviceName")]
        )
        for param, attribute in _SERVICE_FIELDS_DROPPED_ON_CREATE.items():
            value = self._get_param(param)
            if value is not None:
                for service in services:
                    setattr(service, attribute, value)
        return result

    EC2ContainerServiceResponse.create_service = create_service  # type: ignore[method-assign]


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


def _patch_register_scalable_target_tags() -> None:
    original = ApplicationAutoScalingResponse.register_scalable_target

    def register_scalable_target(self: ApplicationAutoScalingResponse) -> str:
        body = original(self)
        tags: dict[str, str] = self._get_param("Tags") or {}
        if tags:
            arn = json.loads(body)["ScalableTargetARN"]
            # The emulator's tag store is private to emulator.py, which this part may not edit;
            # the lead can fold this fix into emulator.patch_moto() and drop the reach-in.
            emulator._AUTOSCALING_TAGS.tag_resource(
                arn, [{"Key": k, "Value": v} for k, v in tags.items()]
            )
        return body

    ApplicationAutoScalingResponse.register_scalable_target = register_scalable_target  # type: ignore[method-assign]


def patch_for_terraform() -> None:
    """Install every fix of this module into moto (in this process); idempotent."""
    global _patched
    with _lock:
        if _patched:
            return
        emulator.patch_moto()
        FakeBucket.get_permission = _bucket_permission  # type: ignore[method-assign]
        _patch_create_service()
        _patch_rule_descriptions()
        _patch_register_scalable_target_tags()
        _patched = True
