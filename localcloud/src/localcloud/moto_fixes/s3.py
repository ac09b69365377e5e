"""S3: bucket policies that deny requests made without TLS.

Gap (docs/emulator.md, "TLS-only bucket policies"): moto evaluates bucket policies on object
requests but knows only the ``StringEquals`` condition operator and treats every other condition
as met, so a Deny on ``aws:SecureTransport = false`` refuses *every* request (Terraform's S3
backend gets 403 on its state). AWS is always reached over HTTPS; the emulator's loopback HTTP
stands in for TLS, so the policy is evaluated as a TLS request sees it.
"""

from __future__ import annotations

import json
from typing import Any

from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.s3.models import FakeBucket


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


def install() -> None:
    """Evaluate bucket policies as requests over TLS see them (call once)."""
    FakeBucket.get_permission = _bucket_permission  # type: ignore[method-assign]
