"""What a local cloud is, as ``cloud.json`` records it, and the options and results of
``localcloud up`` / ``down``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from localcloud.emulator import Endpoint

DEFAULT_PORT = 5100
"""The emulator's port on 127.0.0.1 (not moto's 5000, which macOS's AirPlay receiver holds)."""
DEFAULT_ALB_PORT = 8100
"""The local listener playing the load balancer."""

ENV_ROOT = "envs/dev"

Say = Callable[[str], None]


@dataclass(frozen=True)
class UpOptions:
    repo: Path
    """The checkout: ``infra/`` is applied from it."""
    state_dir: Path
    port: int = DEFAULT_PORT
    alb_port: int = DEFAULT_ALB_PORT
    time_scale: float = 0.1
    bin_dir: Path = field(default_factory=lambda: Path(sys.executable).parent)
    """Where ``app-serve`` and ``opsctl`` live (this virtual environment's ``bin``)."""
    start_timeout: float = 60.0
    deploy_timeout: float = 300.0


@dataclass(frozen=True)
class Cloud:
    """A running local cloud, as ``cloud.json`` records it."""

    endpoint: str
    region: str
    alb_url: str
    cluster: str
    service: str
    log_group: str
    repository: str
    image_tags: tuple[str, ...]
    image_digest: str
    target_file: str
    env_file: str
    terraform_dir: str
    daemon_pid: int
    time_scale: float
    started_at: str
    seconds: Mapping[str, float]

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"image_tags": list(self.image_tags)}

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> Cloud:
        """The cloud ``document`` (``cloud.json``) records; raises ``KeyError``, ``TypeError``
        or ``ValueError`` when a field is missing or of the wrong kind."""
        scalars = {"str": str, "int": int, "float": float}
        values: dict[str, Any] = {
            f.name: scalars[str(f.type)](document[f.name])
            for f in fields(cls)
            if str(f.type) in scalars
        }
        values["image_tags"] = tuple(str(t) for t in document["image_tags"])
        seconds = document["seconds"]
        if not isinstance(seconds, Mapping):
            raise TypeError(f"seconds is not an object: {seconds!r}")
        values["seconds"] = {str(k): float(v) for k, v in seconds.items()}
        return cls(**values)

    @property
    def endpoint_obj(self) -> Endpoint:
        return Endpoint(url=self.endpoint, region=self.region)


@dataclass(frozen=True)
class UpResult:
    cloud: Cloud
    already_running: bool


@dataclass(frozen=True)
class DownResult:
    daemon: int | None
    """The daemon's pid, if one was running."""
    tasks_killed: int
    """Task processes a crashed daemon had left behind, killed by ``down``."""
