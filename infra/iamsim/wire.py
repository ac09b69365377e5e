"""An HTTP request to AWS (the emulated AWS here) turned into the authorizations IAM performs.

:func:`decode` reads what any SDK sends: the JSON protocol (``X-Amz-Target``), the query protocol
(``Action=``), RPCv2-CBOR (``/service/<name>/operation/<Op>``) and S3's REST API; the service is
the SigV4 credential scope's signing name. :func:`authorizations` gives the IAM requests the
call needs: the action is ``<prefix>:<Operation>`` for the services this repository uses, except
where the Service Authorization Reference names another (S3's REST operations, Budgets, STS's
GetCallerIdentity, which needs no permission). Resources are the ARNs a policy of this
repository scopes by (S3 buckets and objects, the DynamoDB table and its item keys); everything
else is ``*``, which an Allow on ``*`` covers and a narrower Allow does not.

A call this module cannot map returns ``None``: the caller reports it instead of guessing.
https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .evaluate import Request

# Signing name (credential scope) -> IAM service prefix, where they differ.
SIGNING_TO_IAM = {"monitoring": "cloudwatch"}

_CREDENTIAL = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")

# S3 REST: the subresource of a GET on a bucket -> its IAM action.
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
_S3_BUCKET_READS = {
    "accelerate": "GetAccelerateConfiguration",
    "acl": "GetBucketAcl",
    "analytics": "GetAnalyticsConfiguration",
    "cors": "GetBucketCORS",
    "encryption": "GetEncryptionConfiguration",
    "intelligent-tiering": "GetIntelligentTieringConfiguration",
    "inventory": "GetInventoryConfiguration",
    "lifecycle": "GetLifecycleConfiguration",
    "location": "GetBucketLocation",
    "logging": "GetBucketLogging",
    "metrics": "GetMetricsConfiguration",
    "notification": "GetBucketNotification",
    "object-lock": "GetBucketObjectLockConfiguration",
    "ownershipControls": "GetBucketOwnershipControls",
    "policy": "GetBucketPolicy",
    "policyStatus": "GetBucketPolicyStatus",
    "publicAccessBlock": "GetBucketPublicAccessBlock",
    "replication": "GetReplicationConfiguration",
    "requestPayment": "GetBucketRequestPayment",
    "tagging": "GetBucketTagging",
    "uploads": "ListBucketMultipartUploads",
    "versioning": "GetBucketVersioning",
    "versions": "ListBucketVersions",
    "website": "GetBucketWebsite",
}
_S3_OBJECT_READS = {
    "acl": "GetObjectAcl",
    "attributes": "GetObjectAttributes",
    "tagging": "GetObjectTagging",
}
# Operations whose IAM action is not named like the operation.
_RENAMED = {
    "budgets:DescribeBudget": "budgets:ViewBudget",
    "budgets:DescribeBudgets": "budgets:ViewBudget",
    "budgets:DescribeNotificationsForBudget": "budgets:ViewBudget",
    "budgets:DescribeSubscribersForNotification": "budgets:ViewBudget",
}
# No authorization at all: "No permissions are required to perform this operation."
# https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
_FREE = {"sts:GetCallerIdentity"}


@dataclass(frozen=True)
class Call:
    """One API call as it arrived: the IAM service prefix, the operation, its parameters (for
    S3: bucket, key, method and subresources), and the user agent that made it."""

    prefix: str
    operation: str
    params: Mapping[str, Any] = field(default_factory=dict)
    region: str = ""
    user_agent: str = ""

    @property
    def action(self) -> str:
        return f"{self.prefix}:{self.operation}"


def decode(environ: Mapping[str, Any], body: bytes) -> Call | None:
    """The call a WSGI request carries, or None when it is not a signed API call."""
    credential = _CREDENTIAL.search(str(environ.get("HTTP_AUTHORIZATION", "")))
    if credential is None:
        return None
    region, signing = credential.groups()
    prefix = SIGNING_TO_IAM.get(signing, signing)
    agent = str(environ.get("HTTP_USER_AGENT", ""))
    if prefix == "s3":
        return _decode_s3(environ, region, agent)
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        params = json.loads(body or b"{}")
        return Call(prefix, str(target).rsplit(".", 1)[-1], params, region, agent)
    path = str(environ.get("PATH_INFO", ""))
    if "/operation/" in path:
        return Call(prefix, path.rsplit("/", 1)[-1], {}, region, agent)
    form = urllib.parse.parse_qs(body.decode(errors="replace")) if body else {}
    if not form:
        form = urllib.parse.parse_qs(str(environ.get("QUERY_STRING", "")))
    if "Action" in form:
        flat = {k: v[0] for k, v in form.items()}
        return Call(prefix, flat["Action"], flat, region, agent)
    return None


def _decode_s3(environ: Mapping[str, Any], region: str, agent: str) -> Call:
    host = str(environ.get("HTTP_HOST", "")).split(":", 1)[0]
    path = urllib.parse.unquote(str(environ.get("PATH_INFO", "")))
    virtual = not re.fullmatch(r"[0-9.]+|localhost|s3[.-].*", host) and "." in host
    if virtual:  # bucket.s3.<region>.amazonaws.com/key
        bucket, key = host.split(".", 1)[0], path.lstrip("/")
    else:  # path style: /bucket/key
        bucket, _, key = path.lstrip("/").partition("/")
    query = urllib.parse.parse_qs(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)
    params = {
        "method": str(environ.get("REQUEST_METHOD", "GET")),
        "bucket": bucket,
        "key": key,
        "subresources": tuple(sorted(query)),
    }
    return Call("s3", "REST", params, region, agent)


def _s3_action(params: Mapping[str, Any]) -> str | None:
    method, key = params["method"], params["key"]
    subresources = set(params["subresources"])
    if not params["bucket"]:
        return "ListAllMyBuckets" if method == "GET" else None
    if key:
        if method in ("GET", "HEAD"):
            named = [_S3_OBJECT_READS[s] for s in subresources if s in _S3_OBJECT_READS]
            return named[0] if named else "GetObject"
        if method == "PUT" and not subresources & {"tagging", "acl"}:
            return "PutObject"
        if method == "DELETE" and not subresources:
            return "DeleteObject"
        return None
    if method in ("GET", "HEAD"):
        named = [_S3_BUCKET_READS[s] for s in subresources if s in _S3_BUCKET_READS]
        # ListObjects(V2) and HeadBucket both need s3:ListBucket.
        return named[0] if named else "ListBucket"
    return None


def authorizations(
    call: Call, account_id: str, partition: str = "aws"
) -> tuple[Request, ...] | None:
    """The IAM requests ``call`` needs (empty: none), or None when it cannot be mapped."""
    if call.action in _FREE:
        return ()
    if call.prefix == "s3":
        action = _s3_action(call.params)
        if action is None:
            return None
        bucket, key = call.params["bucket"], call.params["key"]
        resource = f"arn:{partition}:s3:::{bucket}" + (f"/{key}" if key else "")
        return (Request(f"s3:{action}", (resource,) if bucket else ("*",)),)
    if call.prefix == "dynamodb" and "TableName" in call.params:
        table = (
            f"arn:{partition}:dynamodb:{call.region}:{account_id}:table/{call.params['TableName']}"
        )
        context: dict[str, str | tuple[str, ...]] = {}
        key = call.params.get("Key") or call.params.get("Item")
        if isinstance(key, Mapping):
            # The lock table's only key attribute is its partition key (LockID).
            context["dynamodb:LeadingKeys"] = tuple(
                str(next(iter(v.values()))) for v in key.values() if isinstance(v, Mapping)
            )
        return (Request(f"dynamodb:{call.operation}", (table,), context),)
    return (Request(_RENAMED.get(call.action, call.action)),)
