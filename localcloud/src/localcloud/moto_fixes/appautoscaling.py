"""Application Auto Scaling: resource tags, which moto 5.2 does not implement.

Gap (docs/emulator.md, "Application Auto Scaling tags"): ListTagsForResource, TagResource and
UntagResource are not implemented and RegisterScalableTarget ignores its ``Tags``, so
Terraform's ``aws_appautoscaling_target`` fails on apply. Tags live with the region's backend, so
a moto reset empties them with everything else.
"""

from __future__ import annotations

import json
import threading
import weakref

from moto.applicationautoscaling.models import (
    ApplicationAutoscalingBackend,
    applicationautoscaling_backends,
)
from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse
from moto.utilities.tagging_service import TaggingService

_lock = threading.Lock()
_tags: weakref.WeakKeyDictionary[ApplicationAutoscalingBackend, TaggingService] = (
    weakref.WeakKeyDictionary()
)


def _tags_of(response: ApplicationAutoScalingResponse) -> TaggingService:
    backend = applicationautoscaling_backends[response.current_account][response.region]
    with _lock:
        return _tags.setdefault(backend, TaggingService())


def _tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def install() -> None:
    """Implement the three tag calls and RegisterScalableTarget's ``Tags`` (call once)."""

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
