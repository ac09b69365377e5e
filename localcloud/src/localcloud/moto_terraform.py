"""What Terraform needs from moto, for callers that apply Terraform roots to the emulator.

The fixes themselves live in the one patch layer, :mod:`localcloud.patches` (TLS-only bucket
policies, ECS CreateService fields, security group rule descriptions, Application Auto Scaling
tags), together with the ECS simulator's hooks, so that Terraform and the simulator can share
one emulator. This module keeps the names the infrastructure tests import.
"""

from __future__ import annotations

from localcloud import patches
from localcloud.patches import policy_over_tls

__all__ = ["patch_for_terraform", "policy_over_tls"]


def patch_for_terraform() -> None:
    """Install the patch layer (:func:`localcloud.patches.install`); idempotent.

    Roots that attach AWS managed policies (infra/bootstrap) also need
    ``MOTO_IAM_LOAD_MANAGED_POLICIES=true`` in the environment before moto's IAM backend is
    first used.
    """
    patches.install()
