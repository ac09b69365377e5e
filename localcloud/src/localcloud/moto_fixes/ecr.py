"""ECR: the bytes of uploaded blobs, which moto counts but does not keep.

Gap (docs/emulator.md, "ECR layer uploads"): moto's CompleteLayerUpload records a blob's digest
and size only, so nothing can read an image's configuration back as a registry would serve it.
Blobs up to :data:`MAX_RETAINED_BLOB_BYTES` (image configurations are a few KiB) keep their
bytes here, with their repository, so the ECS simulator can read the configuration of the image
a task runs (:func:`ecr_blob`).
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from moto.ecr.models import ECRBackend, Repository, ecr_backends

MAX_RETAINED_BLOB_BYTES = 1024 * 1024
"""ECR blobs up to this size keep their bytes; larger ones (real layers) are only counted, as
moto does, so the emulator's memory stays small."""

_lock = threading.Lock()
_blobs: weakref.WeakKeyDictionary[Repository, dict[str, bytes]] = weakref.WeakKeyDictionary()


def ecr_blob(account: str, region: str, repository_name: str, digest: str) -> bytes | None:
    """The bytes of a blob uploaded to a repository of the emulated ECR, if it kept them."""
    repository = ecr_backends[account][region].repositories.get(repository_name)
    if repository is None:
        return None
    with _lock:
        return _blobs.get(repository, {}).get(digest)


def install() -> None:
    """Keep small blobs' bytes on CompleteLayerUpload (call once)."""
    original = ECRBackend.complete_layer_upload

    def complete_layer_upload(
        self: ECRBackend,
        repository_name: str,
        upload_id: str,
        layer_digests: list[str],
        registry_id: str | None = None,
    ) -> dict[str, Any]:
        repository = self._get_repository(repository_name, registry_id)
        upload = repository.uploads.get(upload_id)
        content = bytes(upload.layer_parts) if upload is not None else b""
        result = original(self, repository_name, upload_id, layer_digests, registry_id)
        if len(content) <= MAX_RETAINED_BLOB_BYTES:
            with _lock:
                _blobs.setdefault(repository, {})[str(result["layerDigest"])] = content
        return result

    ECRBackend.complete_layer_upload = complete_layer_upload  # type: ignore[method-assign]
