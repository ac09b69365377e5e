"""Push a locally built image to its registry: `make image-push IMAGE=<registry>/<repo>:<tag>`.

`--also <registry>/<repo>:<tag>` (repeatable; `make image-push IMAGE_ALSO=...`) pushes the same
local image under more names, after IMAGE: CI builds each commit once and pushes those bytes to
every environment's repository, so that prod deploys exactly the digest that ran in dev
(docs/pipelines.md). Every name must end up with the same digest, or the command fails.
`--from <local image>` (`IMAGE_FROM=...`) names the local image to push when it was built or
loaded under another name (CI's `aws-fastapi-service:<sha>`): it is tagged with each name first.

For Amazon ECR it logs in first when the AWS CLI is installed (`aws ecr get-login-password`, the
runbook's 2.2 step, with whatever credentials the AWS CLI finds: SSO session, OIDC role); for any
other registry it expects `<engine> login` to have been done. It refuses an image built on the
smoke test's stand-in base (label dev.aws-fastapi-devsecops.stand-in), which must never ship.
On success it prints the pushed reference with its digest (`<registry>/<repo>@sha256:...`) on
stdout: deploy that, not the tag.

Exit codes: 0 pushed; 2 nothing pushed because IMAGE is wrong (no registry host, not built
locally, built on the stand-in base); 3 registry login failed; 4 the push failed; 5 pushed, but
the registries report different digests for the names (or none): do not deploy them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess  # nosec B404 - argv lists only, never a shell
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

STANDIN_LABEL = "dev.aws-fastapi-devsecops.stand-in"
# <account>.dkr.ecr.<region>.amazonaws.com (also the -fips and China partition forms).
# https://docs.aws.amazon.com/AmazonECR/latest/userguide/Registries.html
ECR_REGISTRY = re.compile(r"^\d{12}\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$")
EXIT_BAD_IMAGE, EXIT_LOGIN, EXIT_PUSH, EXIT_DIGESTS = 2, 3, 4, 5
CONTAINERS_CONF = Path(__file__).resolve().parent / "containers.conf"


class PushError(Exception):
    """A push that did not happen, with the exit code that says why."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def registry_of(image: str) -> str | None:
    """The registry host of an image reference, or None for a bare Docker Hub-style name.

    As Docker reads references: the first path component is a registry only if it contains a
    dot or a port, or is `localhost`.
    """
    first, slash, _ = image.partition("/")
    if not slash:
        return None
    if "." in first or ":" in first or first == "localhost":
        return first
    return None


def ecr_region(registry: str) -> str | None:
    """The AWS region of an ECR registry host, or None if it is not ECR."""
    match = ECR_REGISTRY.match(registry)
    return match.group(1) if match else None


def engine_env(engine: str) -> dict[str, str]:
    """The environment for the engine: podman gets this repository's containers.conf by default."""
    env = dict(os.environ)
    if engine == "podman":
        env.setdefault("CONTAINERS_CONF", str(CONTAINERS_CONF))
    return env


def run(
    argv: Sequence[str], engine: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command without a shell and capture its output."""
    return subprocess.run(  # noqa: S603 (fixed argv, never a shell)  # nosec B603
        list(argv),
        input=stdin,
        capture_output=True,
        text=True,
        env=engine_env(engine),
        timeout=1800,
        check=False,
    )


def labels_of(engine: str, image: str) -> dict[str, str]:
    """The labels of a local image; PushError(2) if there is no such local image."""
    result = run([engine, "image", "inspect", "--format", "{{json .Config.Labels}}", image], engine)
    if result.returncode != 0:
        raise PushError(
            f"{image} is not a local image ({engine}): build it first with "
            f"`make image IMAGE={image}`",
            EXIT_BAD_IMAGE,
        )
    return json.loads(result.stdout.strip() or "null") or {}


def login(engine: str, registry: str, region: str) -> None:
    """Log the engine in to an ECR registry with a token from the AWS CLI (valid 12 hours)."""
    token = run(["aws", "ecr", "get-login-password", "--region", region], engine)
    if token.returncode != 0:
        raise PushError(
            f"aws ecr get-login-password --region {region} failed (are you logged in? "
            f"`aws sso login`): {token.stderr.strip()}",
            EXIT_LOGIN,
        )
    result = run(
        [engine, "login", "--username", "AWS", "--password-stdin", registry],
        engine,
        stdin=token.stdout.strip(),
    )
    if result.returncode != 0:
        raise PushError(f"{engine} login {registry} failed: {result.stderr.strip()}", EXIT_LOGIN)


def push(engine: str, image: str) -> str:
    """Push and return `<repository>@<digest>` as the registry stored it."""
    repository = image.rsplit("@", 1)[0]
    if ":" in repository.rsplit("/", 1)[-1]:
        repository = repository.rsplit(":", 1)[0]
    if engine == "podman":
        with tempfile.TemporaryDirectory() as workdir:
            digest_file = Path(workdir) / "digest"
            result = run([engine, "push", "--digestfile", str(digest_file), image], engine)
            digest = digest_file.read_text().strip() if digest_file.exists() else ""
    else:
        result = run([engine, "push", image], engine)
        found = re.search(r"digest: (sha256:[0-9a-f]{64})", result.stdout)
        digest = found.group(1) if found else ""
    if result.returncode != 0:
        raise PushError(f"{engine} push {image} failed: {result.stderr.strip()}", EXIT_PUSH)
    return f"{repository}@{digest}" if digest else image


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: `push.py [--engine docker|podman] IMAGE [--also NAME]...`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", help="<registry>/<repository>:<tag>")
    parser.add_argument(
        "--also",
        action="append",
        default=[],
        metavar="NAME",
        help="push the same image under this <registry>/<repository>:<tag> too",
    )
    parser.add_argument(
        "--from",
        dest="source",
        metavar="LOCAL",
        help="the local image to push (default: IMAGE itself)",
    )
    parser.add_argument("--engine", default=os.environ.get("CONTAINER_ENGINE", "docker"))
    args = parser.parse_args(argv)
    image: str = args.image
    also: list[str] = args.also
    engine: str = args.engine
    source: str = args.source or image
    try:
        registries = {}
        for name in (image, *also):
            registry = registry_of(name)
            if registry is None:
                raise PushError(
                    f"{name} names no registry: use <registry>/<repository>:<tag>, e.g. "
                    "<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>",
                    EXIT_BAD_IMAGE,
                )
            registries[name] = registry
        if labels_of(engine, source).get(STANDIN_LABEL) == "true":
            raise PushError(
                f"{source} was built on the smoke test's stand-in base, not the official image: "
                f"rebuild it with `make image IMAGE={source}` on a machine that can pull the base",
                EXIT_BAD_IMAGE,
            )
        for registry in dict.fromkeys(registries.values()):
            region = ecr_region(registry)
            if region is not None and shutil.which("aws"):
                print(f"image-push: logging {engine} in to {registry}", file=sys.stderr)
                login(engine, registry, region)
            elif region is not None:
                print(
                    f"image-push: no AWS CLI; assuming `{engine} login {registry}` was done",
                    file=sys.stderr,
                )
        pushed = []
        for name in (image, *also):
            if name != source:
                tag(engine, source, name)
            print(f"image-push: pushing {name}", file=sys.stderr)
            pushed.append(push(engine, name))
            print(pushed[-1])
        if also:
            check_same_digest(pushed)
    except PushError as error:
        print(f"image-push: {error}", file=sys.stderr)
        return error.exit_code
    return 0


def tag(engine: str, image: str, name: str) -> None:
    """Give the local image another name (the same image id: the same bytes)."""
    result = run([engine, "tag", image, name], engine)
    if result.returncode != 0:
        raise PushError(f"{engine} tag {image} {name} failed: {result.stderr.strip()}", EXIT_PUSH)


def check_same_digest(pushed: Sequence[str]) -> None:
    """PushError(5) unless every pushed `<repository>@<digest>` carries one and the same digest:
    a digest that differs is another image, which a promotion by digest would not find."""
    digests = {ref: ref.rpartition("@")[2] if "@sha256:" in ref else "" for ref in pushed}
    if "" in digests.values():
        unknown = ", ".join(ref for ref, digest in digests.items() if not digest)
        raise PushError(f"pushed, but no digest was reported for {unknown}", EXIT_DIGESTS)
    if len(set(digests.values())) > 1:
        listing = "; ".join(pushed)
        raise PushError(
            f"pushed, but the registries stored different digests: {listing}; these are not "
            "the same bytes, so a promotion by digest would not find them: do not deploy them",
            EXIT_DIGESTS,
        )


if __name__ == "__main__":
    sys.exit(main())
