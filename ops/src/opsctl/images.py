"""Container image references: parse them, resolve tags to digests, check they exist in ECR.

Deploys pin images by digest (``repo@sha256:...``): a tag can be moved or deleted, a digest
names exactly the bytes that were tested (ADR 0007, "Mutable references"; how ECS resolves tags:
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html#deployment-container-image-stability).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from opsctl.aws import Aws
from opsctl.errors import NotFoundError, OpsctlError, UsageError
from opsctl.model import Image

_ECR_HOST = re.compile(
    r"^(?P<registry>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$"
)
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")

#: Images with a tag starting with this are what deploys ran: the ECR module's lifecycle policy
#: never expires them with CI's other builds (infra/modules/ecr, `protected_tag_prefix`).
PROTECTED_TAG_PREFIX = "deployed-"


@dataclass(frozen=True)
class ImageRef:
    """``registry/repository[:tag][@digest]``."""

    registry: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def name(self) -> str:
        """The reference without tag or digest."""
        return f"{self.registry}/{self.repository}" if self.registry else self.repository

    @property
    def ecr(self) -> tuple[str, str] | None:
        """``(registry_id, region)`` for an ECR image, ``None`` for any other registry."""
        match = _ECR_HOST.match(self.registry)
        return (match["registry"], match["region"]) if match else None

    def pinned(self, digest: str) -> str:
        return f"{self.name}@{digest}"

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def parse_image(reference: str) -> ImageRef:
    """Split an image reference; the registry is the first path part when it looks like a host."""
    rest, _, digest = reference.partition("@")
    first, _, remainder = rest.partition("/")
    if remainder and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, remainder
    else:
        registry, path = "", rest
    repository, tag = path, None
    last = path.rsplit("/", 1)[-1]
    if ":" in last:
        repository, tag = path.rsplit(":", 1)
    return ImageRef(registry, repository, tag, digest or None)


def check_tag(tag: str) -> str:
    if not _TAG.match(tag):
        raise UsageError(f"invalid image tag {tag!r} (letters, digits, '_', '.', '-'; at most 128)")
    return tag


@dataclass(frozen=True)
class ResolvedImage:
    """An image that exists in ECR, with the digest a task definition should pin."""

    reference: ImageRef
    image: Image
    requested: str
    """What the user asked for (``latest``, a tag or a digest)."""
    note: str | None = None

    @property
    def pinned(self) -> str:
        return self.reference.pinned(self.image.digest)


def _ecr_of(reference: ImageRef) -> tuple[str, str]:
    location = reference.ecr
    if location is None:
        raise UsageError(
            f"{reference.name} is not an Amazon ECR repository; opsctl deploys images from ECR "
            "(set the target's ecr_repository_url)"
        )
    return location


def resolve_tag(aws: Aws, repository_url: str, tag: str) -> ResolvedImage:
    """The image ``tag`` names in the repository; ``latest`` means the newest pushed image
    unless a tag literally called ``latest`` exists. NotFoundError when nothing matches."""
    reference = parse_image(repository_url)
    registry_id, region = _ecr_of(reference)
    if _DIGEST.match(tag):
        image = aws.find_image(registry_id, region, reference.repository, digest=tag)
        if image is None:
            raise NotFoundError(
                f"image {reference.name}@{tag} does not exist in ECR; nothing was changed"
            )
        return ResolvedImage(reference, image, tag)
    check_tag(tag)
    image = aws.find_image(registry_id, region, reference.repository, tag=tag)
    if image is not None:
        return ResolvedImage(reference, image, tag)
    if tag != "latest":
        raise NotFoundError(
            f"image tag {tag!r} does not exist in ECR repository {reference.repository}; "
            "nothing was changed",
            hint="push the image first (`make image-push`), or list tags with "
            f"`aws ecr describe-images --repository-name {reference.repository}`",
        )
    images = [
        i
        for i in aws.list_images(registry_id, region, reference.repository)
        if i.pushed_at is not None
    ]
    if not images:
        raise NotFoundError(
            f"ECR repository {reference.repository} holds no image; nothing was changed"
        )
    newest = max(i.pushed_at for i in images if i.pushed_at is not None)
    candidates = [i for i in images if i.pushed_at == newest]
    if len({i.digest for i in candidates}) > 1:
        raise UsageError(
            f"'latest' is ambiguous: {len(candidates)} images of {reference.repository} were "
            "pushed at "
            f"{newest.isoformat()}; pass --image-tag with an explicit tag or digest"
        )
    image = candidates[0]
    note = (
        f"'latest' resolved to the newest image ({', '.join(image.tags) or 'untagged'}, "
        f"pushed {newest.isoformat()})"
    )
    return ResolvedImage(reference, image, tag, note)


def check_exists(aws: Aws, image: str) -> tuple[ImageRef, Image | None, bool]:
    """Whether a task definition's image still exists: ``(ref, image, checked)``.

    ``checked`` is False for registries other than ECR (opsctl cannot look there).
    """
    reference = parse_image(image)
    location = reference.ecr
    if location is None:
        return reference, None, False
    registry_id, region = location
    found = aws.find_image(
        registry_id, region, reference.repository, tag=reference.tag, digest=reference.digest
    )
    return reference, found, True


REVISION_LABEL = "org.opencontainers.image.revision"
"""The OCI label naming the commit an image was built from (`make image` sets it from the git
commit, with ``APP_COMMIT`` that ``/health`` reports: docs/architecture.md#the-image-contract)."""


def revision_label(aws: Aws, image: str) -> tuple[str | None, str | None]:
    """The commit the image's revision label names, and a note when there is none to check
    ``/health`` against (a note starting "could not" is a failure to read, a warning).

    Only images pinned by digest in ECR are read: a tag may point elsewhere by now."""
    reference = parse_image(image)
    location = reference.ecr
    if location is None or reference.digest is None:
        return None, None
    registry_id, region = location
    try:
        labels = aws.image_labels(registry_id, region, reference.repository, reference.digest)
    except OpsctlError as error:
        return None, (
            f"could not read the labels of {reference.repository}@{reference.digest[:19]} "
            f"({error.message}): /health's commit was not checked against the image"
        )
    if labels is None:
        return None, (
            f"ECR holds no configuration for {reference.repository}@{reference.digest[:19]}: "
            "/health's commit was not checked against the image"
        )
    value = labels.get(REVISION_LABEL, "").strip()
    if not value:
        return None, (
            f"{reference.repository}@{reference.digest[:19]} has no {REVISION_LABEL} label: "
            "/health's commit was not checked against the image"
        )
    return value, None


def protect(aws: Aws, found: ResolvedImage, now: datetime) -> str:
    """Tag the image a rollout is about to run ``deployed-<UTC time>`` unless it has such a tag.

    ``found`` is the image as the command looked it up in ECR before acting. Returns a note
    saying what was done. Raises OpsctlError when the image cannot be tagged (callers report
    that as a warning: bookkeeping never blocks a rollout).
    """
    reference, image = found.reference, found.image
    short = f"{reference.repository}@{image.digest[:19]}"
    kept = sorted(t for t in image.tags if t.startswith(PROTECTED_TAG_PREFIX))
    if kept:
        return f"{short} already carries {kept[0]}: ECR's lifecycle policy keeps it"
    registry_id, region = _ecr_of(reference)
    tag = PROTECTED_TAG_PREFIX + now.strftime("%Y%m%dT%H%M%SZ")
    aws.add_image_tag(registry_id, region, reference.repository, image.digest, tag)
    return f"tagged {short} {tag}: ECR's lifecycle policy keeps it"
