"""Image records: the service's image as the emulated ECR keeps it, pushed over the ECR API.

Nothing is built and no filesystem is shipped: a record is a real manifest whose configuration
blob says what the Dockerfile says (``ENTRYPOINT ["app-serve"]``, its ``ENV`` lines with
``APP_VERSION``/``APP_COMMIT``, ``WORKDIR``, OCI labels), and whose layers are small placeholder
blobs, distinct per record so each record has its own digest. The local cloud's task runtime
reads the configuration back and runs ``app-serve`` from this checkout's virtual environment
with that environment: what differs between two records (their baked-in environment, say
``APP_ENVIRONMENT=broken`` in a bad release) changes what the task does, as it would on Fargate.

:func:`push` uploads the blobs with InitiateLayerUpload, UploadLayerPart and
CompleteLayerUpload, then PutImage for each tag: the ECR API calls a registry client makes, over
HTTP to the emulator (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_Operations.html).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from localcloud.errors import PushRefusedError
from localcloud.images.oci import MANIFEST_MEDIA_TYPE, ImageConfig, Manifest, digest_of

SERVICE_ENTRYPOINT = ("app-serve",)
"""The image's ENTRYPOINT: the image runs exactly ``app-serve`` (the image contract,
docs/architecture.md#contracts)."""

# What the Dockerfile sets, recorded in the image's configuration; the local runtime binds
# 127.0.0.1 whatever it says (localcloud.runtime.processes): nothing here listens on every
# interface.
IMAGE_HOST = "0.0.0.0"  # noqa: S104  # nosec B104

RECORD_LABEL = "dev.localcloud.record"
"""Label marking a record: its layers are placeholders, not a filesystem."""


def service_environment(version: str, commit: str) -> dict[str, str]:
    """The ``ENV`` lines of the Dockerfile's final stage, in order."""
    return {
        "PATH": "/opt/app/bin:/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        # The image's own values, recorded as the Dockerfile sets them; no path or socket here
        # uses them: the local runtime gives each task its own directory for HOME/TMPDIR and
        # binds 127.0.0.1 whatever HOST says (localcloud.runtime.processes).
        "HOME": "/tmp",  # noqa: S108  # nosec B108
        "TMPDIR": "/tmp",  # noqa: S108  # nosec B108
        "HOST": IMAGE_HOST,
        "PORT": "8000",
        "APP_VERSION": version,
        "APP_COMMIT": commit,
    }


@dataclass(frozen=True)
class ImageRecord:
    """A manifest, its configuration blob and its layer blobs."""

    config: ImageConfig
    config_blob: bytes
    layer_blobs: tuple[bytes, ...]
    manifest: Manifest

    @property
    def blobs(self) -> tuple[bytes, ...]:
        return (self.config_blob, *self.layer_blobs)


def service_image(
    version: str, commit: str, environment: Mapping[str, str] | None = None
) -> ImageRecord:
    """The record of the service's image built from ``commit``; ``environment`` adds or
    overrides ``ENV`` lines (a release that bakes in a bad setting, for a drill)."""
    env = service_environment(version, commit)
    env.update(environment or {})
    config = ImageConfig(
        entrypoint=SERVICE_ENTRYPOINT,
        env=env,
        working_dir="/opt/app",
        labels={
            "org.opencontainers.image.title": "aws-fastapi-service",
            "org.opencontainers.image.version": version,
            "org.opencontainers.image.revision": commit,
            RECORD_LABEL: "placeholder layers; the local cloud runs app-serve from the checkout",
        },
    )
    # The app layer depends on everything the record says, so a different environment is a
    # different image with its own digest (moto derives an image's digest from its layers).
    base = b"localcloud placeholder layer: base (python 3.11, Debian bookworm)\n"
    app = b"localcloud placeholder layer: app\n" + config.to_json()
    layers = (base, app)
    blob = config.to_json(rootfs_digests=[digest_of(layer) for layer in layers])
    manifest = Manifest(
        config_digest=digest_of(blob),
        config_size=len(blob),
        layers=tuple((digest_of(layer), len(layer)) for layer in layers),
    )
    return ImageRecord(config, blob, layers, manifest)


@dataclass(frozen=True)
class PushResult:
    repository: str
    digest: str
    tags: tuple[str, ...]


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _upload(ecr: Any, repository: str, blob: bytes) -> None:  # noqa: ANN401 - boto3 client
    digest = digest_of(blob)
    known = ecr.batch_check_layer_availability(repositoryName=repository, layerDigests=[digest])
    if any(layer.get("layerAvailability") == "AVAILABLE" for layer in known.get("layers", [])):
        return
    upload = ecr.initiate_layer_upload(repositoryName=repository)["uploadId"]
    ecr.upload_layer_part(
        repositoryName=repository,
        uploadId=upload,
        partFirstByte=0,
        partLastByte=len(blob) - 1,
        layerPartBlob=blob,
    )
    done = ecr.complete_layer_upload(
        repositoryName=repository, uploadId=upload, layerDigests=[digest]
    )
    if done["layerDigest"] != digest:
        raise RuntimeError(f"ECR computed {done['layerDigest']} for a blob of digest {digest}")


def push(
    ecr: Any,  # noqa: ANN401 - a boto3 ECR client
    repository: str,
    record: ImageRecord,
    tags: Sequence[str],
) -> PushResult:
    """Upload ``record`` to ``repository`` and tag it; idempotent for tags it already has.

    Raises :class:`~localcloud.errors.PushRefusedError` when an immutable tag already names
    another image (nothing is tagged then, beyond the tags pushed before that one).
    """
    if not tags:
        raise ValueError("push needs at least one tag")
    for blob in record.blobs:
        _upload(ecr, repository, blob)
    manifest = record.manifest.to_json()
    digest = ""
    for tag in tags:
        try:
            image = ecr.put_image(
                repositoryName=repository,
                imageManifest=manifest,
                imageManifestMediaType=MANIFEST_MEDIA_TYPE,
                imageTag=tag,
            )["image"]
            digest = str(image["imageId"]["imageDigest"])
        except ClientError as error:
            if _error_code(error) not in (
                "ImageAlreadyExistsException",
                "ImageTagAlreadyExistsException",
            ):
                raise
            existing = ecr.batch_get_image(repositoryName=repository, imageIds=[{"imageTag": tag}])
            images = existing.get("images", [])
            if not images or images[0].get("imageManifest") != manifest:
                raise PushRefusedError(
                    f"tag {tag!r} already names another image in {repository} (ECR tags are "
                    "immutable here)",
                    hint="push under a new tag",
                ) from error
            digest = str(images[0]["imageId"]["imageDigest"])
    return PushResult(repository, digest, tuple(tags))
