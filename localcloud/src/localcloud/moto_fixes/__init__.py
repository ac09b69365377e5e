"""What AWS does that moto does not: moto 5.2's gaps that this platform meets, fixed in place.

One module per AWS service; each fix names the gap it fills and docs/emulator.md lists them all
with the evidence. This package depends on moto alone (nothing else of localcloud), and its
fixes model AWS, so they are on whether or not an ECS simulator runs. What AWS does *by itself*
(ECS deployments, task states, target health) is the ECS simulator's job, in
:mod:`localcloud.ecs`, whose hooks into moto are separate from these fixes: each moto method is
wrapped by exactly one of the two, so a fix and a hook never fight over the same call.

:func:`install` installs every fix exactly once per process (idempotent, thread-safe).
"""

from __future__ import annotations

import threading

from localcloud.moto_fixes import appautoscaling, cloudtrail, cloudwatch, ec2, ecr, ecs, logs, s3

_lock = threading.Lock()
_installed = False


def install() -> None:
    """Install every fix of this package into moto (in this process); idempotent.

    Roots that attach AWS managed policies (infra/bootstrap) also need
    ``MOTO_IAM_LOAD_MANAGED_POLICIES=true`` in the environment before moto's IAM backend is
    first used.
    """
    global _installed
    with _lock:
        if _installed:
            return
        for fix in (appautoscaling, s3, ec2, ecr, logs, ecs, cloudwatch, cloudtrail):
            fix.install()
        _installed = True
