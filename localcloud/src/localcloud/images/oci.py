"""Image manifests and configurations, as a registry stores them (no I/O here).

An image in a registry is a manifest naming a configuration blob and layer blobs by digest
(https://github.com/opencontainers/image-spec/blob/main/manifest.md). The configuration says how
to run the image: entrypoint, command, environment, working directory
(https://github.com/opencontainers/image-spec/blob/main/config.md). The local cloud records
images this way in the emulated ECR and its task runtime reads the configuration back, so an
image's baked-in environment matters exactly as it does on Fargate.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MANIFEST_MEDIA_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
CONFIG_MEDIA_TYPE = "application/vnd.docker.container.image.v1+json"
LAYER_MEDIA_TYPE = "application/vnd.docker.image.rootfs.diff.tar.gzip"


class ImageFormatError(ValueError):
    """A manifest or configuration that is not what the image specification describes."""


def digest_of(blob: bytes) -> str:
    """The content digest of ``blob`` (``sha256:<hex>``)."""
    return "sha256:" + hashlib.sha256(blob).hexdigest()


@dataclass(frozen=True)
class ImageConfig:
    """How to run an image: the parts of its configuration a container runtime honours."""

    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    """``Env`` as a mapping; a later duplicate wins, as in Docker."""
    working_dir: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)

    def to_json(self, *, rootfs_digests: Sequence[str] = ()) -> bytes:
        """The configuration blob (canonical JSON: the same image always has the same digest)."""
        document = {
            "architecture": "amd64",
            "os": "linux",
            "config": {
                "Entrypoint": list(self.entrypoint) or None,
                "Cmd": list(self.cmd) or None,
                "Env": [f"{key}={value}" for key, value in self.env.items()],
                "WorkingDir": self.working_dir,
                "Labels": dict(self.labels),
            },
            "rootfs": {"type": "layers", "diff_ids": list(rootfs_digests)},
        }
        return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, blob: bytes) -> ImageConfig:
        """Parse a configuration blob; raises :class:`ImageFormatError`."""
        try:
            document = json.loads(blob)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ImageFormatError(f"image configuration is not JSON: {error}") from error
        config = document.get("config") if isinstance(document, dict) else None
        if config is None:
            return cls()
        if not isinstance(config, dict):
            raise ImageFormatError("image configuration: 'config' is not an object")
        env: dict[str, str] = {}
        for item in _strings(config.get("Env"), "Env"):
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise ImageFormatError(f"image configuration: Env entry {item!r} is not KEY=VALUE")
            env[key] = value
        labels = config.get("Labels") or {}
        if not isinstance(labels, dict):
            raise ImageFormatError("image configuration: 'Labels' is not an object")
        return cls(
            entrypoint=tuple(_strings(config.get("Entrypoint"), "Entrypoint")),
            cmd=tuple(_strings(config.get("Cmd"), "Cmd")),
            env=env,
            working_dir=str(config.get("WorkingDir") or ""),
            labels={str(k): str(v) for k, v in labels.items()},
        )


def _strings(value: Any, name: str) -> list[str]:  # noqa: ANN401 - parsed JSON
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ImageFormatError(f"image configuration: {name!r} is not a list of strings")
    return list(value)


@dataclass(frozen=True)
class Manifest:
    """An image manifest: which configuration and layers make the image."""

    config_digest: str
    config_size: int
    layers: tuple[tuple[str, int], ...]
    """``(digest, size)`` of each layer, bottom first."""

    def to_json(self) -> str:
        return json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": MANIFEST_MEDIA_TYPE,
                "config": {
                    "mediaType": CONFIG_MEDIA_TYPE,
                    "size": self.config_size,
                    "digest": self.config_digest,
                },
                "layers": [
                    {"mediaType": LAYER_MEDIA_TYPE, "size": size, "digest": digest}
                    for digest, size in self.layers
                ],
            },
            sort_keys=True,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        """Parse a single-platform manifest; raises :class:`ImageFormatError`."""
        try:
            document = json.loads(text)
            config = document["config"]
            layers = tuple((str(x["digest"]), int(x["size"])) for x in document["layers"])
            return cls(str(config["digest"]), int(config["size"]), layers)
        except (ValueError, TypeError, KeyError) as error:
            raise ImageFormatError(f"not a single-platform image manifest: {error!r}") from error
