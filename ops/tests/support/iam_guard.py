"""IAM on the AWS side of the wire (test support): opsctl's requests to the emulator are
authorized against the deploy role's policy, as Terraform renders it from infra/bootstrap/iam.tf
(infra/bootstrap/iam.golden.json, read by :mod:`deploy_policy`), as AWS would, and refused when
it does not grant them.

moto serves every request through one ``DomainDispatcherApplication``; :func:`install` wraps
its ``__call__``. Requests whose User-Agent carries ``opsctl/`` (the only ones the deploy role
makes) are decoded (JSON, query and RPCv2-CBOR protocols), turned into the authorizations AWS
performs for them (:func:`authorizations`, after the Service Authorization Reference:
https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html),
evaluated with :mod:`deploy_policy`, recorded, and answered with AWS's access-denied error when
refused. The harness's own requests (building the platform) pass untouched.

Resource names: the bootstrap policy names every resource after the environment's service
(cluster, service, family, repository, log group, roles); the simulated platform names its
cluster ``<service>-cluster``. :class:`Environment` maps that one name to the policy's
convention before evaluating, so everything else is compared exactly.
"""

from __future__ import annotations

import io
import json
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ops.tests.support.deploy_policy import ACCOUNT_ID, Request, Statement, allowed, load

SIGNING_TO_IAM = {
    "ecs": "ecs",
    "ecr": "ecr",
    "logs": "logs",
    "monitoring": "cloudwatch",
    "elasticloadbalancing": "elasticloadbalancing",
    "ec2": "ec2",
    "sts": "sts",
    "tagging": "tag",
    "cloudtrail": "cloudtrail",
    "s3": "s3",
}
_CREDENTIAL = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")


@dataclass(frozen=True)
class Environment:
    service: str
    cluster: str

    def cluster_name(self, value: str) -> str:
        name = value.rsplit("/", 1)[-1] if value.startswith("arn:") else value
        return self.service if name == self.cluster else name


@dataclass(frozen=True)
class Call:
    """One API call opsctl made, what it needed and whether the policy granted it."""

    operation: str
    requests: tuple[Request, ...]
    refused: tuple[Request, ...]


def _arn(service: str, region: str, resource: str) -> str:
    return f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{resource}"


def _tags(tags: Iterable[Mapping[str, str]]) -> dict[str, str | tuple[str, ...]]:
    pairs = [(str(t.get("key")), str(t.get("value"))) for t in tags]
    context: dict[str, str | tuple[str, ...]] = {"aws:TagKeys": tuple(k for k, _ in pairs)}
    context.update({f"aws:RequestTag/{k}": v for k, v in pairs})
    return context


def _in_policy_names(arn: str, env: Environment) -> str:
    """``...:<kind>/<cluster>/<service>/<id>`` (service deployments and revisions) with the
    cluster named as the policy names it."""
    head, _, path = arn.partition(":service-")
    kind, _, rest = path.partition("/")
    cluster, _, tail = rest.partition("/")
    return f"{head}:service-{kind}/{env.cluster_name(cluster)}/{tail}" if path else arn


def authorizations(
    prefix: str, operation: str, params: Mapping[str, Any], region: str, env: Environment
) -> tuple[Request, ...] | None:
    """The authorizations AWS performs for this call; ``None`` for a call not modelled here
    (refused: a new call opsctl makes must be added, and the policy checked for it)."""
    action = f"{prefix}:{operation}"
    if prefix == "sts" and operation == "GetCallerIdentity":
        # No permission is needed, and none can refuse it:
        # https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
        return ()
    if prefix == "ecs":
        cluster = env.cluster_name(str(params.get("cluster") or "default"))
        on_cluster = {"ecs:cluster": _arn("ecs", region, f"cluster/{cluster}")}
        if operation == "ListServiceDeployments":
            service = str(params["service"]).rsplit("/", 1)[-1]
            return (Request(action, (_arn("ecs", region, f"service/{cluster}/{service}"),)),)
        if operation in ("DescribeServiceDeployments", "DescribeServiceRevisions"):
            key = (
                "serviceDeploymentArns"
                if operation == "DescribeServiceDeployments"
                else "serviceRevisionArns"
            )
            arns = tuple(_in_policy_names(str(a), env) for a in params.get(key, []))
            return (Request(action, arns),)
        if operation in ("DescribeTaskDefinition", "ListTaskDefinitions"):
            return (Request(action),)  # no resource-level permissions
        if operation == "DescribeServices":
            names = [str(s).rsplit("/", 1)[-1] for s in params.get("services", [])]
            arns = tuple(_arn("ecs", region, f"service/{cluster}/{n}") for n in names)
            return (Request(action, arns, on_cluster),)
        if operation == "UpdateService":
            service = str(params["service"]).rsplit("/", 1)[-1]
            context = dict(on_cluster)
            if params.get("taskDefinition"):
                definition = str(params["taskDefinition"])
                if not definition.startswith("arn:"):
                    definition = _arn("ecs", region, f"task-definition/{definition}")
                context["ecs:task-definition"] = definition
            return (
                Request(action, (_arn("ecs", region, f"service/{cluster}/{service}"),), context),
            )
        if operation == "ListTasks":
            return (Request(action, ("*",), on_cluster),)
        if operation == "DescribeTasks":
            ids = [str(t).rsplit("/", 1)[-1] for t in params.get("tasks", [])]
            arns = tuple(_arn("ecs", region, f"task/{cluster}/{i}") for i in ids)
            return (Request(action, arns, on_cluster),)
        if operation == "TagResource":
            return (Request(action, (str(params["resourceArn"]),), _tags(params.get("tags", []))),)
        if operation == "ListServiceDeployments":
            service = str(params["service"]).rsplit("/", 1)[-1]
            arn = _arn("ecs", region, f"service/{cluster}/{service}")
            return (Request(action, (arn,), on_cluster),)
        if operation in ("DescribeServiceDeployments", "StopServiceDeployment"):
            arns = params.get("serviceDeploymentArns") or [params.get("serviceDeploymentArn")]
            return (Request(action, tuple(_in_cluster(str(a), env) for a in arns)),)
        if operation == "DescribeServiceRevisions":
            arns = params.get("serviceRevisionArns") or []
            return (Request(action, tuple(_in_cluster(str(a), env) for a in arns)),)
        if operation == "RegisterTaskDefinition":
            # ECS authorizes the revision the call creates (task-definition/<family>:<n>, n not
            # known before the call): any revision of the family matches the same statements.
            revision = _arn("ecs", region, f"task-definition/{params['family']}:*")
            needed = [Request(action, (revision,))]
            for key in ("taskRoleArn", "executionRoleArn"):
                if params.get(key):
                    needed.append(
                        Request(
                            "iam:PassRole",
                            (str(params[key]),),
                            {"iam:PassedToService": "ecs-tasks.amazonaws.com"},
                        )
                    )
            if params.get("tags"):
                # Tag on create: ECS also authorizes ecs:TagResource, with ecs:CreateAction
                # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/supported-iam-actions-tagging.html
                context = _tags(params["tags"])
                context["ecs:CreateAction"] = "RegisterTaskDefinition"
                needed.append(Request("ecs:TagResource", (revision,), context))
            return tuple(needed)
        return None
    if prefix == "ecr" and operation in (
        "DescribeImages",
        "BatchGetImage",
        "PutImage",
        "GetDownloadUrlForLayer",
    ):
        registry = str(params.get("registryId") or ACCOUNT_ID)
        arn = f"arn:aws:ecr:{region}:{registry}:repository/{params['repositoryName']}"
        return (Request(action, (arn,)),)
    if prefix == "logs" and operation == "FilterLogEvents":
        group = str(params.get("logGroupName") or params.get("logGroupIdentifier"))
        # A log group's ARN as CloudWatch Logs reports it (DescribeLogGroups) ends in ":*".
        return (Request(action, (_arn("logs", region, f"log-group:{group}:*"),)),)
    if prefix in ("elasticloadbalancing", "ec2") and operation.startswith("Describe"):
        return (Request(action),)  # no resource-level permissions for Describe*
    if prefix == "cloudwatch" and operation in ("GetMetricData", "GetMetricStatistics"):
        return (Request(action),)  # no resource-level permissions
    if prefix == "cloudtrail" and operation == "LookupEvents":
        return (Request(action),)  # no resource-level permissions
    if prefix == "cloudwatch" and operation == "DescribeAlarmHistory":
        name = params.get("AlarmName")
        return (
            Request(action, (_arn("cloudwatch", region, f"alarm:{name}"),) if name else ("*",)),
        )
    if prefix == "s3" and operation == "ListObjectVersions":
        # Authorized as s3:ListBucketVersions on the bucket, with the prefix asked for:
        # https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html
        return (
            Request(
                "s3:ListBucketVersions",
                (f"arn:aws:s3:::{params['Bucket']}",),
                {"s3:prefix": str(params.get("prefix", ""))},
            ),
        )
    if prefix == "cloudwatch" and operation == "DescribeAlarms":
        if params.get("AlarmNames"):
            return (
                Request(
                    action,
                    tuple(_arn("cloudwatch", region, f"alarm:{n}") for n in params["AlarmNames"]),
                ),
            )
        # A listing (no names) cannot be narrowed by the alarm ARNs a policy names.
        return (Request(action),)
    if prefix == "cloudwatch" and operation == "DescribeAlarmHistory":
        if params.get("AlarmName"):
            return (Request(action, (_arn("cloudwatch", region, f"alarm:{params['AlarmName']}"),)),)
        return (Request(action),)
    if prefix == "tag" and operation == "GetResources":
        return (Request(action),)  # no resource-level permissions
    return None


def _in_cluster(arn: str, env: Environment) -> str:
    """A service deployment or revision ARN (``.../<kind>/<cluster>/<service>/<id>``) with its
    cluster named as the policy names it."""
    head, _, path = arn.partition(":service-")
    kind, cluster, rest = path.split("/", 2) if path.count("/") >= 2 else (path, "", "")
    return f"{head}:service-{kind}/{env.cluster_name(cluster)}/{rest}" if rest else arn


# --- the wire ---------------------------------------------------------------------------------


def _cbor_text(text: str) -> bytes:
    data = text.encode()
    n = len(data)
    if n < 24:
        return bytes([0x60 | n]) + data
    if n < 256:
        return bytes([0x78, n]) + data
    return bytes([0x79]) + n.to_bytes(2, "big") + data


def _denied(protocol: str, code: str, message: str) -> tuple[str, list[tuple[str, str]], bytes]:
    if protocol == "json":
        body = json.dumps({"__type": code, "message": message}).encode()
        return (
            "400 Bad Request",
            [
                ("Content-Type", "application/x-amz-json-1.1"),
                ("x-amzn-ErrorType", code),
            ],
            body,
        )
    if protocol == "cbor":
        body = bytes([0xA2]) + _cbor_text("__type") + _cbor_text(code)
        body += _cbor_text("message") + _cbor_text(message)
        return (
            "400 Bad Request",
            [
                ("Content-Type", "application/cbor"),
                ("smithy-protocol", "rpc-v2-cbor"),
            ],
            body,
        )
    escaped = message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if protocol == "s3":
        xml = (
            "<?xml version='1.0' encoding='UTF-8'?><Error><Code>AccessDenied</Code>"
            f"<Message>{escaped}</Message><RequestId>iam-guard</RequestId></Error>"
        )
    elif protocol == "ec2":
        xml = (
            "<?xml version='1.0' encoding='UTF-8'?><Response><Errors><Error>"
            f"<Code>UnauthorizedOperation</Code><Message>{escaped}</Message></Error></Errors>"
            "<RequestID>iam-guard</RequestID></Response>"
        )
    else:
        xml = (
            "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
            f"<Message>{escaped}</Message></Error><RequestId>iam-guard</RequestId></ErrorResponse>"
        )
    return "403 Forbidden", [("Content-Type", "text/xml")], xml.encode()


def _cbor(body: bytes) -> dict[str, Any]:
    """An RPCv2-CBOR request body as a dict (CloudWatch's protocol in current botocore), read
    with botocore's own CBOR decoder."""
    if not body:
        return {}
    from botocore.parsers import BaseCBORParser

    parser = BaseCBORParser()
    decoded = parser.parse_data_item(parser.get_peekable_stream_from_bytes(body))
    return decoded if isinstance(decoded, dict) else {}


def _decode_s3(environ: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """S3's REST calls opsctl makes (path-style, as botocore addresses a custom endpoint)."""
    path = environ.get("PATH_INFO", "").lstrip("/")
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    bucket, _, key = path.partition("/")
    if environ.get("REQUEST_METHOD") == "GET" and bucket and not key and "versions" in query:
        params = {"Bucket": bucket, "prefix": query.get("prefix", [""])[0]}
        return "s3", "ListObjectVersions", params
    return "s3", f"{environ.get('REQUEST_METHOD')} /{path}", {}


def _decode(environ: dict[str, Any], body: bytes) -> tuple[str, str, dict[str, Any]] | None:
    """(protocol, operation, params) of a request, or None when it is not an API call."""
    if "/s3/aws4_request" in environ.get("HTTP_AUTHORIZATION", ""):
        return _decode_s3(environ)
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        params = json.loads(body or b"{}")
        return "json", target.rsplit(".", 1)[-1], params
    path = environ.get("PATH_INFO", "")
    if "/operation/" in path:
        return "cbor", path.rsplit("/", 1)[-1], _cbor(body)
    form = urllib.parse.parse_qs(body.decode(errors="replace")) if body else {}
    if not form:
        form = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" in form:
        flat = {k: v[0] for k, v in form.items()}
        protocol = "ec2" if "ec2" in environ.get("HTTP_AUTHORIZATION", "") else "query"
        return protocol, flat["Action"], flat
    return None


@dataclass
class Guard:
    """The installed guard: which policy applies, and every call opsctl made."""

    enabled: bool = False
    unrestricted: bool = False
    """Set by a test that runs opsctl with more rights than the deploy role."""
    expect_refusals: bool = False
    """Set by a test that expects (and checks) refused calls."""
    env: Environment | None = None
    statements: tuple[Statement, ...] = ()
    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def use(self, env: Environment, region: str) -> None:
        """Authorize opsctl as the deploy role of an environment whose service is ``env``."""
        self.env = env
        self.statements = load("dev", env.service, region)
        self.enabled = True

    def check(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes] | None:
        """None to let the request through, else the error response."""
        if not self.enabled or "opsctl/" not in environ.get("HTTP_USER_AGENT", ""):
            return None
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        decoded = _decode(environ, body)
        credential = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        if decoded is None or credential is None or self.env is None:
            return None
        protocol, operation, params = decoded
        region, signing = credential.groups()
        prefix = SIGNING_TO_IAM.get(signing, signing)
        requests = authorizations(prefix, operation, params, region, self.env)
        if requests is None:
            unknown = Request(f"{prefix}:{operation}", ("<not modelled in iam_guard.py>",))
            self._record(Call(f"{prefix}:{operation}", (unknown,), (unknown,)))
            return _denied(
                protocol,
                "AccessDeniedException" if protocol == "json" else "AccessDenied",
                f"iam_guard: {prefix}:{operation} is not modelled; add it to authorizations()",
            )
        refused = tuple(r for r in requests if not allowed(self.statements, r))
        self._record(Call(f"{prefix}:{operation}", requests, refused))
        if not refused:
            return None
        first = refused[0]
        return _denied(
            protocol,
            "AccessDeniedException" if protocol in ("json", "cbor") else "AccessDenied",
            f"User: arn:aws:sts::{ACCOUNT_ID}:assumed-role/deploy/opsctl is not authorized to "
            f"perform: {first.action} on resource: {first.resources[0]} because no "
            "identity-based policy allows the action (iam_guard: infra/bootstrap/iam.golden.json)",
        )

    def _record(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)

    def refusals(self) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.refused]


GUARD = Guard()
_installed = False


def install() -> Guard:
    """Wrap moto's dispatcher once per process; returns the (disabled) guard."""
    global _installed
    if _installed:
        return GUARD
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original: Callable[..., Any] = DomainDispatcherApplication.__call__

    def guarded(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        denied = GUARD.check(environ)
        if denied is None:
            return original(self, environ, start_response)
        status, headers, body = denied
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]

    DomainDispatcherApplication.__call__ = guarded  # type: ignore[method-assign]
    _installed = True
    return GUARD
