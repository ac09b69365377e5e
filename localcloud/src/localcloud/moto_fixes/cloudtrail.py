"""CloudTrail event history: who changed ECS and ECR, served by LookupEvents.

Gap (docs/emulator.md, "CloudTrail"): moto's CloudTrail manages trails but records no event and
does not implement LookupEvents. AWS records every management event of the last 90 days in the
event history of its region, with or without a trail
(https://docs.aws.amazon.com/awscloudtrail/latest/userguide/view-cloudtrail-events.html).

Here every ECS and ECR call that changes something (any action but Describe*, List*, Get*,
BatchGet* and BatchCheck*) is recorded as AWS records it: the caller's identity (the principal
behind the request's access key as moto's STS and IAM know it: an assumed role's session, an IAM
user, or moto's default user), the user agent (Terraform's, opsctl's, the AWS CLI's), the
request parameters, the response elements and, for a refused call, its error code. LookupEvents
(https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html) serves them
newest first, with one lookup attribute, a time range and pages of at most 50. Calls to the other
services are not recorded.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from moto.cloudtrail.models import CloudTrailBackend, cloudtrail_backends
from moto.cloudtrail.responses import CloudTrailResponse
from moto.core.common_types import TYPE_RESPONSE
from moto.core.exceptions import JsonRESTError
from moto.core.responses import BaseResponse
from moto.ecr.responses import ECRResponse
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.sts.models import sts_backends

READ_ONLY_PREFIXES = ("Describe", "List", "Get", "BatchGet", "BatchCheck")
ATTRIBUTE_KEYS = (
    "EventId",
    "EventName",
    "ReadOnly",
    "Username",
    "ResourceType",
    "ResourceName",
    "EventSource",
    "AccessKeyId",
)
MAX_RESULTS = 50
MAX_RESPONSE_ELEMENTS = 100_000
"""Bytes: a larger response is recorded without its elements."""

_lock = threading.Lock()
_events: weakref.WeakKeyDictionary[CloudTrailBackend, list[Event]] = weakref.WeakKeyDictionary()


class CloudTrailError(JsonRESTError):
    """One of LookupEvents' documented errors (``code``: its exception name)."""


@dataclass(frozen=True)
class Event:
    """One management event, as LookupEvents returns it."""

    event_id: str
    event_name: str
    event_source: str
    event_time: datetime
    username: str
    access_key_id: str
    resources: tuple[tuple[str, str], ...]
    """(ResourceType, ResourceName)."""
    document: str
    """The ``CloudTrailEvent`` JSON."""

    def to_api(self) -> dict[str, Any]:
        return {
            "EventId": self.event_id,
            "EventName": self.event_name,
            "ReadOnly": "false",
            "AccessKeyId": self.access_key_id,
            "EventTime": self.event_time.timestamp(),
            "EventSource": self.event_source,
            "Username": self.username,
            "Resources": [{"ResourceType": t, "ResourceName": n} for t, n in self.resources],
            "CloudTrailEvent": self.document,
        }

    def matches(self, key: str, value: str) -> bool:
        if key == "ResourceType":
            return any(t == value for t, _ in self.resources)
        if key == "ResourceName":
            return any(n == value for _, n in self.resources)
        return {
            "EventId": self.event_id,
            "EventName": self.event_name,
            "ReadOnly": "false",
            "Username": self.username,
            "EventSource": self.event_source,
            "AccessKeyId": self.access_key_id,
        }[key] == value


def events(account: str, region: str) -> list[Event]:
    """The recorded events of ``account`` in ``region``, oldest first (a copy)."""
    backend = cloudtrail_backends[account][region]
    with _lock:
        return list(_events.get(backend, []))


def identity(account: str, region: str, access_key: str) -> dict[str, Any]:
    """CloudTrail's ``userIdentity`` for the principal behind ``access_key``."""
    user_id, arn, owner = sts_backends[account]["global"].get_caller_identity(access_key, region)
    if ":assumed-role/" in arn:
        role, session = arn.split(":assumed-role/", 1)[1].split("/", 1)
        return {
            "type": "AssumedRole",
            "principalId": user_id,
            "arn": arn,
            "accountId": owner,
            "accessKeyId": access_key,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": user_id.split(":", 1)[0],
                    "arn": f"arn:aws:iam::{owner}:role/{role}",
                    "accountId": owner,
                    "userName": role,
                },
            },
            "userName": session,
        }
    return {
        "type": "IAMUser",
        "principalId": user_id,
        "arn": arn,
        "accountId": owner,
        "accessKeyId": access_key,
        "userName": arn.rsplit("/", 1)[-1],
    }


def _resources(source: str, request: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The resources an event names (its ``Resources``), from its request."""
    found: list[tuple[str, str]] = []
    if source == "ecr.amazonaws.com" and request.get("repositoryName"):
        found.append(("AWS::ECR::Repository", str(request["repositoryName"])))
    if source == "ecs.amazonaws.com":
        service = request.get("service") or request.get("serviceName")
        if service:
            found.append(("AWS::ECS::Service", str(service).rsplit("/", 1)[-1]))
        if request.get("cluster"):
            found.append(("AWS::ECS::Cluster", str(request["cluster"]).rsplit("/", 1)[-1]))
        definition = request.get("taskDefinition") or request.get("family")
        if definition:
            found.append(("AWS::ECS::TaskDefinition", str(definition).rsplit("/", 1)[-1]))
        if request.get("serviceDeploymentArn"):
            found.append(("AWS::ECS::ServiceDeployment", str(request["serviceDeploymentArn"])))
    return tuple(found)


def _json(text: Any) -> Any:  # noqa: ANN401 - a request or response body
    try:
        return json.loads(text or "{}")
    except (TypeError, ValueError):
        return None


def record(response: BaseResponse, source: str, result: TYPE_RESPONSE) -> None:
    """Record the call ``response`` answered with ``result``, if it changed something."""
    action = response._get_action()
    if not action or action.startswith(READ_ONLY_PREFIXES):
        return
    status, _, body = result
    account, region = response.current_account, response.region
    access_key = response.get_access_key()
    who = identity(account, region, access_key)
    request = _json(response.body) or {}
    now = datetime.now(UTC)
    document: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": who,
        "eventTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": source,
        "eventName": action,
        "awsRegion": region,
        "sourceIPAddress": "127.0.0.1",
        "userAgent": response.headers.get("User-Agent", ""),
        "requestParameters": request or None,
        "responseElements": None,
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }
    if int(status) >= 400:
        error = _json(body) or {}
        document["errorCode"] = str(error.get("__type", status)).rsplit("#", 1)[-1]
        document["errorMessage"] = str(error.get("message") or error.get("Message") or "")
    elif isinstance(body, str) and len(body) <= MAX_RESPONSE_ELEMENTS:
        document["responseElements"] = _json(body)
    event = Event(
        event_id=document["eventID"],
        event_name=action,
        event_source=source,
        event_time=now,
        username=str(who["userName"]),
        access_key_id=access_key,
        resources=_resources(source, request),
        document=json.dumps(document, default=str),
    )
    backend = cloudtrail_backends[account][region]
    with _lock:
        _events.setdefault(backend, []).append(event)


def _time(value: Any, name: str) -> datetime | None:  # noqa: ANN401 - raw JSON value
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(float(value), UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as error:
        raise CloudTrailError("InvalidTimeRangeException", f"{name} is not a time.") from error
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def lookup(
    recorded: list[Event],
    *,
    attributes: list[dict[str, str]],
    start: datetime | None,
    end: datetime | None,
    max_results: int,
    token: str | None,
) -> tuple[list[Event], str | None]:
    """LookupEvents' filters and pages, newest first."""
    if len(attributes) > 1:
        raise CloudTrailError(
            "InvalidLookupAttributesException", "You can specify at most one lookup attribute."
        )
    for attribute in attributes:
        if attribute.get("AttributeKey") not in ATTRIBUTE_KEYS:
            raise CloudTrailError(
                "InvalidLookupAttributesException",
                f"AttributeKey must be one of {', '.join(ATTRIBUTE_KEYS)}.",
            )
    if start is not None and end is not None and start > end:
        raise CloudTrailError("InvalidTimeRangeException", "StartTime must be before EndTime.")
    if not 1 <= max_results <= MAX_RESULTS:
        raise CloudTrailError(
            "InvalidMaxResultsException", f"MaxResults must be between 1 and {MAX_RESULTS}."
        )
    chosen = [
        e
        for e in reversed(recorded)
        if all(e.matches(a["AttributeKey"], a.get("AttributeValue", "")) for a in attributes)
        and (start is None or e.event_time >= start)
        and (end is None or e.event_time <= end)
    ]
    offset = 0
    if token:
        try:
            wanted = base64.urlsafe_b64decode(token.encode()).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            wanted = ""
        positions = [i for i, e in enumerate(chosen) if e.event_id == wanted]
        if not positions:
            raise CloudTrailError("InvalidNextTokenException", "Invalid NextToken.")
        offset = positions[0]
    page = chosen[offset : offset + max_results]
    rest = chosen[offset + max_results :]
    next_token = base64.urlsafe_b64encode(rest[0].event_id.encode()).decode() if rest else None
    return page, next_token


def _recording(
    response_class: type[BaseResponse], source: str
) -> Callable[[BaseResponse], TYPE_RESPONSE]:
    original = response_class.call_action

    def call_action(self: BaseResponse) -> TYPE_RESPONSE:
        result = original(self)
        record(self, source, result)
        return result

    return call_action


def install() -> None:
    """Record ECS and ECR changes and serve LookupEvents (call once)."""
    EC2ContainerServiceResponse.call_action = _recording(  # type: ignore[method-assign,assignment]
        EC2ContainerServiceResponse, "ecs.amazonaws.com"
    )
    ECRResponse.call_action = _recording(ECRResponse, "ecr.amazonaws.com")  # type: ignore[method-assign,assignment]

    def lookup_events(self: BaseResponse) -> str:
        if (self._get_param("EventCategory") or "") == "insight":
            return json.dumps({"Events": []})  # no Insights events are generated here
        page, token = lookup(
            events(self.current_account, self.region),
            attributes=list(self._get_param("LookupAttributes") or []),
            start=_time(self._get_param("StartTime"), "StartTime"),
            end=_time(self._get_param("EndTime"), "EndTime"),
            max_results=int(self._get_param("MaxResults") or MAX_RESULTS),
            token=self._get_param("NextToken"),
        )
        result: dict[str, Any] = {"Events": [e.to_api() for e in page]}
        if token:
            result["NextToken"] = token
        return json.dumps(result)

    CloudTrailResponse.lookup_events = lookup_events  # type: ignore[attr-defined]
