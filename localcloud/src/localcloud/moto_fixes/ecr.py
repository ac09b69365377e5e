"""ECR: the bytes of uploaded blobs, which moto counts but does not keep, and
GetDownloadUrlForLayer, which moto does not implement.

Gap (docs/emulator.md, "ECR layer uploads"): moto's CompleteLayerUpload records a blob's digest
and size only, so nothing can read an image's configuration back as a registry would serve it.
Blobs up to :data:`MAX_RETAINED_BLOB_BYTES` (image configurations are a few KiB) keep their
bytes here, with their repository, so the ECS simulator can read the configuration of the image
a task runs (:func:`ecr_blob`).

GetDownloadUrlForLayer answers with a URL the blob can be read from, as ECR answers with a
pre-signed S3 URL (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_GetDownloadUrlForLayer.html):
here a path of the emulator's own server (:data:`BLOB_PATH`), served by a wrapper of moto's
dispatcher. A blob whose bytes were not kept (a manifest put without its layers, or a layer
over the size limit) is ``LayersNotFoundException``, as ECR answers for a layer it lacks.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.ecr.models import ECRBackend, Repository, ecr_backends
from moto.ecr.responses import ECRResponse

BLOB_PATH = "/_localcloud/ecr-blob/"
"""Where the emulator serves kept blobs: ``<BLOB_PATH><account>/<region>/<repository>/<digest>``
(the repository name URL-quoted)."""

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


class LayersNotFoundError(JsonRESTError):
    """ECR's ``LayersNotFoundException``."""

    def __init__(self, message: str) -> None:
        super().__init__("LayersNotFoundException", message)


def _serve_blob(path: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """The WSGI answer for a GET of ``BLOB_PATH...``: the blob, or 404."""
    parts = path[len(BLOB_PATH) :].split("/")
    if len(parts) == 4:
        account, region, repository, digest = (urllib.parse.unquote(p) for p in parts)
        try:
            blob = ecr_blob(account, region, repository, digest)
        except KeyError:
            blob = None
        if blob is not None:
            return "200 OK", [("Content-Type", "application/octet-stream")], blob
    return "404 Not Found", [("Content-Type", "text/plain")], b"no such blob\n"


def _install_download_url() -> None:
    def get_download_url_for_layer(self: ECRResponse) -> str:
        repository_name = str(self._get_param("repositoryName"))
        digest = str(self._get_param("layerDigest"))
        registry = str(self._get_param("registryId") or self.current_account)
        # Raises RepositoryNotFoundException as ECR does for an unknown repository.
        self.ecr_backend._get_repository(repository_name, registry)
        if ecr_blob(registry, self.region, repository_name, digest) is None:
            raise LayersNotFoundError(
                f"The layer with digest '{digest}' does not exist in the repository with name "
                f"'{repository_name}' in the registry with id '{registry}'"
            )
        host = self.headers.get("Host") or "127.0.0.1"
        quoted = "/".join(
            urllib.parse.quote(part, safe="")
            for part in (registry, self.region, repository_name, digest)
        )
        return json.dumps(
            {"downloadUrl": f"http://{host}{BLOB_PATH}{quoted}", "layerDigest": digest}
        )

    ECRResponse.get_download_url_for_layer = get_download_url_for_layer  # type: ignore[assignment,method-assign]

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original: Callable[..., Iterable[bytes]] = DomainDispatcherApplication.__call__

    def dispatch(
        self: DomainDispatcherApplication,
        environ: dict[str, Any],
        start_response: Callable[..., object],
    ) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if path.startswith(BLOB_PATH) and environ.get("REQUEST_METHOD") == "GET":
            status, headers, body = _serve_blob(path)
            start_response(status, [*headers, ("Content-Length", str(len(body)))])
            return [body]
        return original(self, environ, start_response)

    DomainDispatcherApplication.__call__ = dispatch  # type: ignore[method-assign]


def install() -> None:
    """Keep small blobs' bytes on CompleteLayerUpload, and serve them through
    GetDownloadUrlForLayer (call once)."""
    _install_download_url()
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
