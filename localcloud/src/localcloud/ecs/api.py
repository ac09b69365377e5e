"""The service deployment calls moto does not implement, answered from the simulator's state.

ListServiceDeployments, DescribeServiceDeployments, StopServiceDeployment and
DescribeServiceRevisions (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/) with
the request checks, errors and paging AWS documents. moto dispatches each action to the response
method of the same snake_case name; :func:`install` adds the four. The records they read and
change are the simulator's (:mod:`localcloud.ecs.history`), reached through a
:class:`Deployments` (the active simulator); with none active, a service has no deployments.
"""

from __future__ import annotations

import base64
import binascii
import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from moto.core.responses import ActionResult
from moto.ecs.exceptions import (
    ClusterNotFoundException,
    ECSException,
    InvalidParameterException,
    ServiceNotFoundException,
)
from moto.ecs.models import EC2ContainerServiceBackend
from moto.ecs.responses import EC2ContainerServiceResponse

from localcloud.ecs.servicedeployments import ALL_STATUSES, ServiceDeployment, ServiceRevision

DEFAULT_PAGE = 20
MAX_PAGE = 100
MAX_ARNS = 20


class ConflictException(ECSException):
    def __init__(self, message: str) -> None:
        super().__init__("ConflictException", message)


class ServiceDeploymentNotFoundException(ECSException):
    def __init__(self, arn: str) -> None:
        super().__init__(
            "ServiceDeploymentNotFoundException",
            f"The service deployment {arn} does not exist. Use ListServiceDeployments to find "
            "the service deployment ARNs.",
        )


class Stop(enum.Enum):
    """What StopServiceDeployment did."""

    REQUESTED = "requested"
    """PENDING/IN_PROGRESS: now ROLLBACK_REQUESTED; the rollback starts at the next pass."""
    CONTINUES = "continues"
    """Already stopping or rolling back: it goes on."""
    FINISHED = "finished"
    NO_SOURCE = "no-source"
    """Nothing COMPLETED before it: there is no service revision to roll back to."""


class Deployments(Protocol):
    """The simulator's service deployments, as these calls need them."""

    def service_deployments(
        self, account: str, region: str, cluster: str, service: str
    ) -> list[ServiceDeployment] | None:
        """The service's deployments, newest first; ``None`` when the simulator does not know
        the service."""

    def service_deployment(self, arn: str) -> ServiceDeployment | None: ...

    def stop_service_deployment(self, arn: str) -> Stop | None:
        """Roll back the service deployment ``arn``; ``None`` when there is none."""

    def service_revision(self, arn: str) -> ServiceRevision | None: ...


@dataclass(frozen=True)
class Page:
    items: list[ServiceDeployment]
    next_token: str | None


def _token(arn: str) -> str:
    return base64.urlsafe_b64encode(arn.encode()).decode()


def select(
    records: list[ServiceDeployment],
    *,
    statuses: list[str] | None,
    after: datetime | None,
    before: datetime | None,
    max_results: int,
    next_token: str | None,
) -> Page:
    """ListServiceDeployments' filters and paging, newest first. A token names the first
    deployment of the next page, so deployments created meanwhile do not shift the pages."""
    chosen = [
        r
        for r in records
        if (not statuses or r.status in statuses)
        and (after is None or r.created_at >= after)
        and (before is None or r.created_at <= before)
    ]
    start = 0
    if next_token:
        try:
            arn = base64.urlsafe_b64decode(next_token.encode()).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            arn = ""
        positions = [i for i, r in enumerate(chosen) if r.arn == arn]
        if not positions:
            raise InvalidParameterException("Invalid nextToken.")
        start = positions[0]
    page = chosen[start : start + max_results]
    rest = chosen[start + max_results :]
    return Page(page, _token(rest[0].arn) if rest else None)


def _timestamp(value: Any, name: str) -> datetime | None:  # noqa: ANN401 - raw JSON value
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(float(value), UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as error:
        raise InvalidParameterException(f"createdAt.{name} is not a timestamp.") from error
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _arns(response: EC2ContainerServiceResponse, name: str) -> list[str]:
    arns = response._get_param(name)
    if not isinstance(arns, list) or not arns:
        raise InvalidParameterException(f"{name} must contain at least one ARN.")
    if len(arns) > MAX_ARNS:
        raise InvalidParameterException(f"{name} can have at most {MAX_ARNS} ARNs.")
    return [str(a) for a in arns]


def install(active: Callable[[], Deployments | None]) -> None:
    """Add the four calls to moto's ECS; ``active`` returns the simulator answering them."""

    def list_service_deployments(self: EC2ContainerServiceResponse) -> ActionResult:
        service = self._get_param("service")
        if not service:
            raise InvalidParameterException("service must be specified.")
        backend: EC2ContainerServiceBackend = self.ecs_backend
        cluster = backend._get_cluster(self._get_param("cluster") or "default")
        if cluster is None:
            raise ClusterNotFoundException
        name = str(service).split("/")[-1]
        if f"{cluster.name}:{name}" not in backend.services:
            raise ServiceNotFoundException
        max_results = self._get_param("maxResults")
        max_results = DEFAULT_PAGE if max_results is None else int(max_results)
        if not 1 <= max_results <= MAX_PAGE:
            raise InvalidParameterException(f"maxResults must be between 1 and {MAX_PAGE}.")
        statuses = self._get_param("status") or []
        unknown = sorted(set(statuses) - ALL_STATUSES)
        if unknown:
            raise InvalidParameterException(f"status {', '.join(unknown)} is not valid.")
        created = self._get_param("createdAt") or {}
        simulator = active()
        records = (
            simulator.service_deployments(self.current_account, self.region, cluster.name, name)
            if simulator is not None
            else None
        )
        page = select(
            records or [],
            statuses=statuses,
            after=_timestamp(created.get("after"), "after"),
            before=_timestamp(created.get("before"), "before"),
            max_results=max_results,
            next_token=self._get_param("nextToken"),
        )
        result: dict[str, Any] = {"serviceDeployments": [r.to_brief() for r in page.items]}
        if page.next_token:
            result["nextToken"] = page.next_token
        return ActionResult(result)

    def describe_service_deployments(self: EC2ContainerServiceResponse) -> ActionResult:
        simulator = active()
        found, failures = [], []
        for arn in _arns(self, "serviceDeploymentArns"):
            record = simulator.service_deployment(arn) if simulator is not None else None
            if record is None:
                failures.append({"arn": arn, "reason": "MISSING"})
            else:
                found.append(record.to_api())
        return ActionResult({"serviceDeployments": found, "failures": failures})

    def stop_service_deployment(self: EC2ContainerServiceResponse) -> ActionResult:
        arn = self._get_param("serviceDeploymentArn")
        if not arn:
            raise InvalidParameterException("serviceDeploymentArn must be specified.")
        stop_type = self._get_param("stopType") or "ROLLBACK"
        if stop_type not in ("ROLLBACK", "ABORT"):
            raise InvalidParameterException(f"stopType {stop_type} is not valid.")
        if stop_type == "ABORT":
            # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_StopServiceDeployment.html
            # ("The valid values are ROLLBACK"): a rolling update stops only by rolling back.
            raise InvalidParameterException(
                "stopType ABORT is not supported for a service deployment of the rolling "
                "update (ECS) deployment controller; the valid value is ROLLBACK."
            )
        simulator = active()
        outcome = simulator.stop_service_deployment(arn) if simulator is not None else None
        if outcome is None:
            raise ServiceDeploymentNotFoundException(arn)
        if outcome is Stop.FINISHED:
            raise ConflictException(
                f"The service deployment {arn} has already finished: only a PENDING or "
                "IN_PROGRESS service deployment can be stopped."
            )
        if outcome is Stop.NO_SOURCE:
            raise ConflictException(
                f"The service deployment {arn} cannot be rolled back: no earlier service "
                "deployment of the service completed."
            )
        return ActionResult({"serviceDeploymentArn": arn})

    def describe_service_revisions(self: EC2ContainerServiceResponse) -> ActionResult:
        simulator = active()
        found, failures = [], []
        for arn in _arns(self, "serviceRevisionArns"):
            revision = simulator.service_revision(arn) if simulator is not None else None
            if revision is None:
                failures.append({"arn": arn, "reason": "MISSING"})
            else:
                found.append(revision.to_api())
        return ActionResult({"serviceRevisions": found, "failures": failures})

    response = EC2ContainerServiceResponse
    response.list_service_deployments = list_service_deployments  # type: ignore[attr-defined]
    response.describe_service_deployments = describe_service_deployments  # type: ignore[attr-defined]
    response.stop_service_deployment = stop_service_deployment  # type: ignore[attr-defined]
    response.describe_service_revisions = describe_service_revisions  # type: ignore[attr-defined]
