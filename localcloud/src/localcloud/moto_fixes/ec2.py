"""EC2: descriptions of security group rules that reference a group or a prefix list.

Gap (docs/emulator.md, "Security group rule descriptions"): moto's DescribeSecurityGroupRules
reads a rule's description from its CIDR range only, so a rule that references another security
group or a prefix list loses its description and Terraform plans a change on every run.
"""

from __future__ import annotations

import inspect

from moto.ec2.models.security_groups import SecurityGroupRule


def install() -> None:
    """Keep the description of every kind of rule (call once)."""
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
