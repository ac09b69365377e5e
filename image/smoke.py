"""Smoke test of the service's container image: build the real Dockerfile, run it, check it.

`make image-smoke` runs this. It needs podman and root (debootstrap), and no registry: the official
base image cannot be pulled on machines that reach only PyPI and Debian (this repository's CI), so
it builds a stand-in base from Debian packages (image/standin/Containerfile), caches it in podman
storage under a tag keyed by a hash of its recipe, and substitutes it for the Dockerfile's `base`
stage through a named build context. Nothing else about the Dockerfile changes.

The run itself mirrors ECS Fargate: read-only root filesystem with only /tmp writable, all
capabilities dropped, no-new-privileges, the image's own USER, SIGTERM then SIGKILL after 30 s.
Checks (each reported by name, pass or fail):
  config      numeric non-root USER, exec-form ENTRYPOINT app-serve, STOPSIGNAL SIGTERM,
              HEALTHCHECK, HOST=0.0.0.0, port 8000, OCI labels = build arguments
  contents    the image's Python distributions are exactly the service and its locked runtime
              dependencies (uv export of uv.lock): no dev tools, no opsctl, no localcloud
  health      GET /health answers 200 {"status": "ok", "version": <VERSION>, "commit": <REVISION>}
  process     POST /process answers a sample (JMESPath and a JSON Schema) correctly
  problem     POST /process with data breaking the schema answers 4xx application/problem+json
  user        the server process is PID 1 in the container and runs as uid/gid 10001, not root
  healthcheck the image's HEALTHCHECK command reports healthy
  logs        no traceback, permission or read-only errors in the container's output
  sigterm     the stop signal ends the server with exit code 0 well within the grace period
  settings    an invalid setting (PORT=not-a-port) stops the container non-zero, naming PORT
  writes      a second run, on a writable root filesystem, changes nothing outside /tmp
              (podman diff)
Figures: image size (and the part above the base), start-to-healthy seconds, stop seconds, build
seconds, whether the stand-in base came from the cache.

Exit codes: 0 every check passed; 1 a check failed; 2 the smoke test could not run (no podman,
not root, build failed). Progress goes to stderr, the report to stdout (--report FILE adds JSON).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess  # nosec B404 - argv lists only, never a shell
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from packaging.markers import Marker

ROOT = Path(__file__).resolve().parent.parent
IMAGE_DIR = ROOT / "image"
STANDIN_CONTAINERFILE = IMAGE_DIR / "standin" / "Containerfile"
CONTAINERS_CONF = IMAGE_DIR / "containers.conf"

SMOKE_IMAGE = "localhost/aws-fastapi-service:smoke"
STANDIN_REPO = "localhost/aws-fastapi-standin"
MINBASE_REPO = "localhost/aws-fastapi-minbase"
STANDIN_LABEL = "dev.aws-fastapi-devsecops.stand-in"
SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
SERVICE_DISTRIBUTION = "aws-fastapi-service"

APP_UID = 10001
CONTAINER_PORT = "8000"
# The one writable path in the container (a tmpfs here, an ECS volume in the task definition).
CONTAINER_TMP = "/tmp"  # noqa: S108 (a path inside the container, not on this machine)  # nosec B108
TMPFS = f"{CONTAINER_TMP}:rw,size=16m,mode=1777"
STOP_GRACE_SECONDS = 30  # ECS stopTimeout default: SIGKILL follows SIGTERM after 30 s.
HEALTHY_TIMEOUT_SECONDS = 60.0
BUILD_TIMEOUT_SECONDS = 1200
# Paths the container runtime itself writes or mounts into every container; not the app's doing.
RUNTIME_OWNED_PATHS = ("/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/run/.containerenv")

PROCESS_SAMPLE: dict[str, Any] = {
    "data": {
        "orders": [
            {"id": 1, "total": 12.5, "status": "paid"},
            {"id": 2, "total": 7.0, "status": "open"},
            {"id": 3, "total": 30.0, "status": "paid"},
        ]
    },
    "expression": "{paid: orders[?status=='paid'].id, revenue: sum(orders[?status=='paid'].total)}",
    # Validated by jsonschema-rs, a native wheel: proves the image's compiled deps load.
    "schema": {
        "type": "object",
        "required": ["orders"],
        "properties": {"orders": {"type": "array", "items": {"required": ["id", "status"]}}},
    },
}
PROCESS_EXPECTED: dict[str, Any] = {"result": {"paid": [1, 3], "revenue": 42.5}}
# The same request with data that breaks the schema: a client error as problem details, not a 500.
PROCESS_INVALID: dict[str, Any] = {**PROCESS_SAMPLE, "data": {"orders": [{"id": 1}]}}
# Run by the image's venv Python: its installed distributions and its PEP 508 marker values.
INSPECT_PYTHON = """
import importlib.metadata as m, json, os, platform, sys
markers = {
    "implementation_name": sys.implementation.name,
    "implementation_version": platform.python_version(),
    "os_name": os.name,
    "platform_machine": platform.machine(),
    "platform_python_implementation": platform.python_implementation(),
    "platform_release": platform.release(),
    "platform_system": platform.system(),
    "platform_version": platform.version(),
    "python_full_version": platform.python_version(),
    "python_version": ".".join(platform.python_version_tuple()[:2]),
    "sys_platform": sys.platform,
}
dists = {d.metadata["Name"]: d.version for d in m.distributions()}
print(json.dumps({"distributions": dists, "markers": markers}))
"""
LOG_ERROR_PATTERN = re.compile(r"Traceback|Read-only file system|Permission denied|PermissionError")


class SmokeError(Exception):
    """The smoke test could not run at all (exit code 2), as opposed to a failed check."""


@dataclasses.dataclass(frozen=True)
class Check:
    """One named check and its outcome, with the evidence in ``detail``."""

    name: str
    passed: bool
    detail: str


@dataclasses.dataclass(frozen=True)
class BuildInfo:
    """The values the image is built with, which the checks expect to find again."""

    version: str
    revision: str
    source: str


@dataclasses.dataclass(frozen=True)
class Report:
    """Everything `make image-smoke` measured: checks and figures."""

    image: str
    base_image: str
    base_from_cache: bool
    checks: tuple[Check, ...]
    figures: dict[str, float]

    @property
    def passed(self) -> bool:
        """True when every check passed."""
        return all(check.passed for check in self.checks)


def progress(message: str) -> None:
    """Progress goes to stderr so stdout holds only the report."""
    print(f"image-smoke: {message}", file=sys.stderr, flush=True)


def run(
    argv: Sequence[str],
    *,
    timeout: float,
    check: bool = True,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command without a shell, capture its output, raise SmokeError on failure if asked."""
    try:
        result = subprocess.run(  # noqa: S603 (fixed argv lists, never a shell)  # nosec B603
            list(argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    except FileNotFoundError as error:
        raise SmokeError(f"{argv[0]} not found: {error}") from error
    except subprocess.TimeoutExpired as error:
        raise SmokeError(f"{' '.join(argv[:3])} ... timed out after {timeout:.0f} s") from error
    if check and result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
        raise SmokeError(f"{' '.join(argv[:3])} ... exited {result.returncode}:\n{tail}")
    return result


def podman_env() -> dict[str, str]:
    """The environment for podman: this repository's containers.conf (see the file for why)."""
    return {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}


def podman(
    *args: str, timeout: float = 120, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run ``podman ARGS`` with this repository's containers.conf."""
    return run(["podman", *args], timeout=timeout, check=check, env=podman_env())


def image_exists(name: str) -> bool:
    """True if podman storage holds an image called ``name``."""
    return podman("image", "exists", name, check=False).returncode == 0


def standin_tag() -> str:
    """The stand-in's tag: a hash of everything that decides its content, so edits rebuild it."""
    digest = hashlib.sha256()
    digest.update(STANDIN_CONTAINERFILE.read_bytes())
    digest.update(f"debootstrap minbase {SUITE}".encode())
    return f"{STANDIN_REPO}:py311-{SUITE}-{digest.hexdigest()[:12]}"


def debian_mirror(sources_dir: Path = Path("/etc/apt")) -> str:
    """The Debian mirror apt is configured with (deb822 or one-line format), or the default.

    STANDIN_MIRROR overrides it. The security suite's URI is skipped: debootstrap needs the main
    archive.
    """
    override = os.environ.get("STANDIN_MIRROR", "").strip()
    if override:
        return override
    files = sorted(sources_dir.glob("sources.list.d/*.sources"))
    files += [sources_dir / "sources.list", *sorted(sources_dir.glob("sources.list.d/*.list"))]
    for path in files:
        if not path.is_file():
            continue
        for line in path.read_text(errors="replace").splitlines():
            words = line.split()
            candidates = []
            if words[:1] == ["URIs:"]:
                candidates = words[1:]
            elif words[:1] == ["deb"]:
                candidates = [w for w in words[1:] if "://" in w][:1]
            for uri in candidates:
                if uri.rstrip("/").endswith("/debian"):
                    return uri.rstrip("/")
    return DEFAULT_MIRROR


def ensure_standin() -> tuple[str, bool, float]:
    """Build the stand-in base unless podman storage has it: (name, came from cache, seconds)."""
    tag = standin_tag()
    if image_exists(tag):
        progress(f"stand-in base {tag} found in podman storage (cached)")
        return tag, True, 0.0
    if os.geteuid() != 0:
        raise SmokeError(
            "building the stand-in base needs root (debootstrap); run `make image-smoke` as root"
        )
    if shutil.which("debootstrap") is None:
        raise SmokeError("debootstrap not found: apt-get install debootstrap")
    started = time.monotonic()
    mirror = debian_mirror()
    minbase = f"{MINBASE_REPO}:{tag.rsplit(':', 1)[1]}"
    # A private mkdtemp directory. /var/tmp, not /tmp: debootstrap creates device nodes and
    # executes in the chroot, which a /tmp tmpfs mounted nodev/noexec (systemd's default) refuses.
    with tempfile.TemporaryDirectory(prefix="standin-", dir="/var/tmp") as workdir:  # nosec B108
        rootfs = Path(workdir) / "rootfs"
        progress(f"debootstrap --variant=minbase {SUITE} from {mirror} (about 30 s)")
        run(["debootstrap", "--variant=minbase", SUITE, str(rootfs), mirror], timeout=900)
        archive = Path(workdir) / "rootfs.tar"
        # apt's caches and package lists are re-fetched by the Containerfile; leave them out.
        run(
            [
                "tar", "-C", str(rootfs), "--numeric-owner",
                "--exclude=./var/cache/apt/*", "--exclude=./var/lib/apt/lists/*",
                "-cf", str(archive), ".",
            ],
            timeout=300,
        )  # fmt: skip
        podman("import", str(archive), minbase, timeout=300)
    progress(f"building the stand-in base {tag}")
    podman(
        "build", "--network", "host", "--pull=never",
        "--build-arg", f"MINBASE={minbase}",
        "--file", str(STANDIN_CONTAINERFILE), "--tag", tag, str(STANDIN_CONTAINERFILE.parent),
        timeout=BUILD_TIMEOUT_SECONDS,
    )  # fmt: skip
    return tag, False, time.monotonic() - started


def prune_old_standins(current: str) -> None:
    """Remove stand-in and minbase images of earlier recipes (this harness's own tags only)."""
    keep_key = current.rsplit(":", 1)[1]
    listing = podman("images", "--format", "{{.Repository}}:{{.Tag}}", check=False).stdout
    for name in listing.split():
        repository, _, key = name.rpartition(":")
        if repository in (STANDIN_REPO, MINBASE_REPO) and key != keep_key:
            podman("rmi", name, check=False)


def build_info() -> BuildInfo:
    """The version (service/pyproject.toml), revision (git HEAD) and source this build claims."""
    with (ROOT / "service" / "pyproject.toml").open("rb") as handle:
        version = str(tomllib.load(handle)["project"]["version"])
    git = run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], timeout=30, check=False)
    revision = git.stdout.strip() if git.returncode == 0 else "unknown"
    return BuildInfo(version=version, revision=revision, source="local image-smoke build")


def ca_bundle() -> Path | None:
    """The host's CA bundle, mounted into build steps so pip and uv trust a TLS-inspecting proxy.

    SMOKE_CA_BUNDLE overrides the Debian location. Mounted at build time only: no layer keeps it.
    """
    path = Path(os.environ.get("SMOKE_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt"))
    return path if path.is_file() else None


def build_image(base: str, info: BuildInfo) -> float:
    """Build the repository's Dockerfile with ``base`` substituted; return the seconds taken."""
    argv = [
        "build", "--format", "docker", "--network", "host", "--pull=never",
        # The stand-in replaces the Dockerfile's `base` stage (its digest-pinned official image).
        "--build-context", f"base=docker-image://{base}",
        "--build-arg", f"VERSION={info.version}",
        "--build-arg", f"REVISION={info.revision}",
        "--build-arg", f"SOURCE={info.source}",
        "--file", str(ROOT / "Dockerfile"), "--tag", SMOKE_IMAGE,
    ]  # fmt: skip
    bundle = ca_bundle()
    if bundle is not None:
        # The Debian bundle path in the base is the same path: the mount shadows it in RUN steps.
        argv += ["--volume", f"{bundle}:/etc/ssl/certs/ca-certificates.crt:ro"]
    previous = podman("image", "inspect", "--format", "{{.Id}}", SMOKE_IMAGE, check=False)
    started = time.monotonic()
    progress(f"building {SMOKE_IMAGE} from ./Dockerfile on {base}")
    podman(*argv, str(ROOT), timeout=BUILD_TIMEOUT_SECONDS)
    seconds = time.monotonic() - started
    old_id = previous.stdout.strip()
    if previous.returncode == 0 and old_id:
        # The previous smoke image is now untagged: remove it alone (shared layers stay cached).
        current = podman("image", "inspect", "--format", "{{.Id}}", SMOKE_IMAGE).stdout.strip()
        if current != old_id:
            podman("rmi", old_id, check=False)
    return seconds


def image_config(name: str) -> dict[str, Any]:
    """`podman image inspect` of one image, as a dict."""
    data = json.loads(podman("image", "inspect", name).stdout)
    if not isinstance(data, list) or not data or not isinstance(data[0], dict):
        raise SmokeError(f"podman image inspect {name}: unexpected output")
    return data[0]


def check_config(inspect: dict[str, Any], info: BuildInfo) -> Check:
    """The image's configuration says what the Dockerfile promises."""
    config = inspect.get("Config") or {}
    env = dict(item.split("=", 1) for item in config.get("Env") or [] if "=" in item)
    labels = config.get("Labels") or {}
    problems = []
    user = str(config.get("User", ""))
    uid, _, gid = user.partition(":")
    if not (uid.isdigit() and int(uid) != 0 and (not gid or (gid.isdigit() and int(gid) != 0))):
        problems.append(f"USER is {user!r}, want a numeric non-root uid:gid")
    if config.get("Entrypoint") != ["app-serve"]:
        problems.append(f"ENTRYPOINT is {config.get('Entrypoint')!r}, want ['app-serve']")
    if config.get("StopSignal") not in ("SIGTERM", "15"):
        problems.append(f"STOPSIGNAL is {config.get('StopSignal')!r}, want SIGTERM")
    healthcheck = inspect.get("Healthcheck") or config.get("Healthcheck") or {}
    if not healthcheck.get("Test"):
        problems.append("no HEALTHCHECK (built with --format docker?)")
    if env.get("HOST") != "0.0.0.0":  # noqa: S104 (the image must listen on the task's interface)  # nosec B104
        problems.append(f"HOST is {env.get('HOST')!r}, want 0.0.0.0")
    if env.get("PORT") != CONTAINER_PORT or f"{CONTAINER_PORT}/tcp" not in (
        config.get("ExposedPorts") or {}
    ):
        problems.append(f"PORT/EXPOSE is not {CONTAINER_PORT}")
    if env.get("PYTHONDONTWRITEBYTECODE") != "1":
        problems.append("PYTHONDONTWRITEBYTECODE is not 1")
    expected_labels = {
        "org.opencontainers.image.version": info.version,
        "org.opencontainers.image.revision": info.revision,
        "org.opencontainers.image.source": info.source,
    }
    for key, value in expected_labels.items():
        if labels.get(key) != value:
            problems.append(f"label {key} is {labels.get(key)!r}, want {value!r}")
    detail = "; ".join(problems) or (
        f"USER {user}, ENTRYPOINT ['app-serve'], STOPSIGNAL SIGTERM, HEALTHCHECK, "
        f"HOST=0.0.0.0, PORT={CONTAINER_PORT}, OCI labels match the build arguments"
    )
    return Check("config", not problems, detail)


def locked_runtime_packages(uv: str, environment: dict[str, str]) -> dict[str, str]:
    """The service's locked runtime dependencies, from uv.lock: {normalised name: version}.

    Environment markers (e.g. uvloop's "not on Windows") are evaluated for ``environment``, the
    image's own marker values, so a platform-specific package is expected only where it belongs.
    """
    result = run(
        [
            uv, "export", "--frozen", "--no-dev", "--package", SERVICE_DISTRIBUTION,
            "--no-hashes", "--no-emit-workspace", "--no-header", "--no-annotate",
        ],
        timeout=60,
    )  # fmt: skip
    packages = {}
    for line in result.stdout.splitlines():
        requirement, _, marker = (part.strip() for part in line.partition(";"))
        if "==" not in requirement or requirement.startswith(("#", "-")):
            continue
        if marker and not Marker(marker).evaluate(environment):
            continue
        name, version = requirement.split("==", 1)
        packages[normalise(name)] = version.strip()
    if not packages:
        raise SmokeError("uv export listed no packages for the service")
    return packages


def normalise(name: str) -> str:
    """PEP 503 normalised distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def check_contents(uv: str) -> Check:
    """The image holds exactly the service and its locked runtime dependencies."""
    listing = podman(
        "run", "--rm", "--network", "none", "--entrypoint", "/opt/app/bin/python", SMOKE_IMAGE,
        "-I", "-c", INSPECT_PYTHON,
    )  # fmt: skip
    found = json.loads(listing.stdout)
    installed = {normalise(k): v for k, v in found["distributions"].items()}
    expected = locked_runtime_packages(uv, found["markers"])
    service_version = installed.pop(SERVICE_DISTRIBUTION, None)
    problems = []
    if service_version is None:
        problems.append(f"{SERVICE_DISTRIBUTION} is not installed")
    extra = sorted(set(installed) - set(expected))
    missing = sorted(set(expected) - set(installed))
    wrong = sorted(n for n in set(installed) & set(expected) if installed[n] != expected[n])
    if extra:
        problems.append(f"not in the service's locked runtime deps: {', '.join(extra)}")
    if missing:
        problems.append(f"locked but missing: {', '.join(missing)}")
    if wrong:
        problems.append(
            "versions differ from uv.lock: "
            + ", ".join(f"{n} {installed[n]} != {expected[n]}" for n in wrong)
        )
    detail = "; ".join(problems) or (
        f"{SERVICE_DISTRIBUTION} {service_version} + {len(expected)} locked runtime "
        "dependencies, nothing else (no dev tools, opsctl or localcloud)"
    )
    return Check("contents", not problems, detail)


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago (other servers run on this machine)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def http(
    method: str, url: str, body: dict[str, Any] | None = None, timeout: float = 5.0
) -> tuple[int, Any]:
    """(status, decoded JSON body or raw text) of one HTTP request."""
    status, _, decoded = http_full(method, url, body, timeout)
    return status, decoded


def http_full(
    method: str, url: str, body: dict[str, Any] | None = None, timeout: float = 5.0
) -> tuple[int, str, Any]:
    """(status, content type, decoded JSON body or raw text) of one HTTP request."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 (loopback http)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310  # nosec B310 - loopback http URL built by the harness
            status, kind, raw = (
                response.status,
                response.headers.get_content_type(),
                response.read(),
            )
    except urllib.error.HTTPError as error:
        status, kind, raw = error.code, error.headers.get_content_type(), error.read()
    try:
        return status, kind, json.loads(raw)
    except ValueError:
        return status, kind, raw.decode(errors="replace")


@dataclasses.dataclass
class Container:
    """A running smoke container on the host network, removed on exit."""

    name: str
    port: int
    started_at: float


@contextlib.contextmanager
def container(*, read_only: bool) -> Iterator[Container]:
    """Run the smoke image detached, as ECS would; remove it whatever happens."""
    name = f"image-smoke-{secrets.token_hex(4)}"
    port = free_port()
    argv = [
        "run", "--detach", "--name", name, "--network", "host",
        "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
        "--health-interval", "disable",
        # Loopback only: on the host network the image's HOST=0.0.0.0 would listen on every
        # interface of this machine. The config check verifies the image's default instead.
        "--env", "HOST=127.0.0.1", "--env", f"PORT={port}",
    ]  # fmt: skip
    if read_only:
        # Like ECS readonlyRootFilesystem with a /tmp volume: /tmp is the only writable path
        # (podman would otherwise also make /run and /var/tmp writable).
        argv += ["--read-only", "--read-only-tmpfs=false", "--tmpfs", TMPFS]
    started = time.monotonic()
    podman(*argv, SMOKE_IMAGE)
    try:
        yield Container(name=name, port=port, started_at=started)
    finally:
        podman("rm", "--force", "--time", "0", name, check=False)


def wait_healthy(box: Container) -> float:
    """Seconds from `podman run` to the first 200 on /health; SmokeError if it never comes."""
    url = f"http://127.0.0.1:{box.port}/health"
    deadline = box.started_at + HEALTHY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            status, _ = http("GET", url, timeout=1.0)
            if status == 200:
                return time.monotonic() - box.started_at
        state = podman("inspect", "--format", "{{.State.Status}}", box.name, check=False)
        if state.stdout.strip() in ("exited", "stopped"):
            logs = podman("logs", box.name, check=False)
            raise SmokeError(f"the container exited before answering:\n{logs.stderr[-2000:]}")
        time.sleep(0.05)
    raise SmokeError(f"/health did not answer 200 within {HEALTHY_TIMEOUT_SECONDS:.0f} s")


def check_health(box: Container, info: BuildInfo) -> Check:
    """GET /health: 200, status ok, and the version and commit the image was built with."""
    status, body = http("GET", f"http://127.0.0.1:{box.port}/health")
    want = {"status": "ok", "version": info.version, "commit": info.revision}
    got = {key: body.get(key) for key in want} if isinstance(body, dict) else body
    passed = status == 200 and got == want
    return Check("health", passed, f"GET /health -> {status} {json.dumps(body)}")


def check_process(box: Container) -> Check:
    """POST /process with a sample document answers the expected result."""
    status, body = http("POST", f"http://127.0.0.1:{box.port}/process", PROCESS_SAMPLE)
    passed = status == 200 and body == PROCESS_EXPECTED
    detail = f"POST /process -> {status} {json.dumps(body)[:300]}"
    if not passed:
        detail += f" (want 200 {json.dumps(PROCESS_EXPECTED)})"
    return Check("process", passed, detail)


def check_problem(box: Container) -> Check:
    """POST /process with data that breaks the schema: a 4xx RFC 9457 problem, never a 500."""
    status, kind, body = http_full("POST", f"http://127.0.0.1:{box.port}/process", PROCESS_INVALID)
    passed = 400 <= status < 500 and kind == "application/problem+json"
    detail = f"POST /process (data breaks the schema) -> {status} {kind} {json.dumps(body)[:200]}"
    return Check("problem", passed, detail)


def check_bad_settings() -> Check:
    """An invalid setting stops the container at once, non-zero, with a line naming it."""
    started = time.monotonic()
    result = podman(
        "run", "--rm", "--network", "none", "--read-only", "--cap-drop", "ALL",
        "--env", "PORT=not-a-port", SMOKE_IMAGE,
        check=False, timeout=60,
    )  # fmt: skip
    seconds = time.monotonic() - started
    output = (result.stdout + result.stderr).strip().splitlines()
    named = [line for line in output if "PORT" in line]
    passed = result.returncode not in (0, 137) and bool(named) and seconds < 30
    detail = f"PORT=not-a-port -> exit {result.returncode} in {seconds:.1f} s: " + (
        named[0][:200] if named else "no line names PORT"
    )
    return Check("settings", passed, detail)


def check_user(box: Container) -> Check:
    """The server is PID 1 in the container (exec form) and runs as the image's non-root user."""
    host_pid = podman("inspect", "--format", "{{.State.Pid}}", box.name).stdout.strip()
    status = Path(f"/proc/{host_pid}/status").read_text()
    pairs = (line.split(":", 1) for line in status.splitlines() if ":" in line)
    fields = {key: value.split() for key, value in pairs}
    uids, gids, ns_pids = fields.get("Uid", []), fields.get("Gid", []), fields.get("NSpid", [])
    argv = Path(f"/proc/{host_pid}/cmdline").read_bytes().split(b"\0")
    command = " ".join(part.decode() for part in argv if part)
    problems = []
    if not uids or any(int(uid) != APP_UID for uid in uids):
        problems.append(f"uids {uids}, want {APP_UID}")
    if not gids or any(int(gid) != APP_UID for gid in gids):
        problems.append(f"gids {gids}, want {APP_UID}")
    if ns_pids[-1:] != ["1"]:
        problems.append(f"not PID 1 in its namespace (NSpid {ns_pids})")
    if "app-serve" not in command:
        problems.append(f"PID 1 runs {command!r}, not app-serve")
    detail = "; ".join(problems) or f"PID 1 = {command!r}, uid/gid {APP_UID} (real, effective)"
    return Check("user", not problems, detail)


def check_healthcheck(box: Container) -> Check:
    """The image's HEALTHCHECK command, run by podman inside the container, says healthy."""
    result = podman("healthcheck", "run", box.name, check=False, timeout=30)
    output = (result.stdout + result.stderr).strip().splitlines()
    detail = f"podman healthcheck run -> exit {result.returncode} {output[-1] if output else ''}"
    return Check("healthcheck", result.returncode == 0, detail.strip())


def check_logs(box: Container, name: str) -> Check:
    """The container printed no traceback and hit no read-only or permission error."""
    logs = podman("logs", box.name, check=False)
    text = logs.stdout + logs.stderr
    hits = [line for line in text.splitlines() if LOG_ERROR_PATTERN.search(line)]
    detail = f"{len(text.splitlines())} log lines, none with errors" if not hits else hits[0]
    return Check(name, not hits, detail)


def check_sigterm(box: Container) -> tuple[Check, float]:
    """`podman stop` sends the image's STOPSIGNAL; the server must exit 0 before the SIGKILL."""
    started = time.monotonic()
    podman("stop", "--time", str(STOP_GRACE_SECONDS), box.name, timeout=STOP_GRACE_SECONDS + 30)
    seconds = time.monotonic() - started
    state = podman("inspect", "--format", "{{.State.ExitCode}}", box.name).stdout.strip()
    passed = state == "0" and seconds < STOP_GRACE_SECONDS - 5
    detail = (
        f"exit code {state} after {seconds:.2f} s (grace period {STOP_GRACE_SECONDS} s; "
        "137 would mean SIGKILL)"
    )
    return Check("sigterm", passed, detail), seconds


def outside_tmp(changes: dict[str, list[str] | None]) -> list[str]:
    """The paths in a `podman diff --format json` result that are neither /tmp nor runtime-owned."""
    paths = [path for group in changes.values() for path in (group or [])]
    allowed_dirs = (CONTAINER_TMP,)
    # Parents of an allowed path show up as "changed" directories when a child is added.
    parents = {"/", "/etc", "/run"}
    flagged = []
    for path in paths:
        if path in RUNTIME_OWNED_PATHS or path in parents:
            continue
        if any(path == d or path.startswith(d + "/") for d in allowed_dirs):
            continue
        flagged.append(path)
    return sorted(flagged)


def check_writes(info: BuildInfo) -> Check:
    """With a writable root filesystem, serving requests changes nothing outside /tmp."""
    with container(read_only=False) as box:
        wait_healthy(box)
        check_health(box, info)
        check_process(box)
        podman("stop", "--time", str(STOP_GRACE_SECONDS), box.name, timeout=STOP_GRACE_SECONDS + 30)
        changes = json.loads(podman("diff", "--format", "json", box.name).stdout or "{}")
    flagged = outside_tmp(changes)
    detail = (
        "podman diff: nothing changed outside /tmp"
        if not flagged
        else f"podman diff: written outside /tmp: {', '.join(flagged[:10])}"
    )
    return Check("writes", not flagged, detail)


def image_size(name: str) -> int:
    """Uncompressed size in bytes, as podman reports it."""
    return int(podman("image", "inspect", "--format", "{{.Size}}", name).stdout.strip())


def smoke(uv: str, starts: int) -> Report:
    """Build the stand-in base (cached) and the image, run every check, collect the figures."""
    if shutil.which("podman") is None:
        raise SmokeError("podman not found: apt-get install podman (see .ci/run)")
    total_started = time.monotonic()
    base, cached, base_seconds = ensure_standin()
    info = build_info()
    build_seconds = build_image(base, info)
    inspect = image_config(SMOKE_IMAGE)
    checks = [check_config(inspect, info), check_contents(uv)]
    start_times = []
    with container(read_only=True) as box:
        progress(f"running {box.name} read-only on 127.0.0.1:{box.port}")
        start_times.append(wait_healthy(box))
        checks += [check_health(box, info), check_process(box), check_problem(box)]
        checks.append(check_user(box))
        checks.append(check_healthcheck(box))
        sigterm, stop_seconds = check_sigterm(box)
        checks += [check_logs(box, "logs"), sigterm]
    for _ in range(starts - 1):
        with container(read_only=True) as box:
            start_times.append(wait_healthy(box))
    progress("second run with a writable root filesystem, to diff what it writes")
    checks.append(check_writes(info))
    checks.append(check_bad_settings())
    size = image_size(SMOKE_IMAGE)
    prune_old_standins(base)
    start_times.sort()
    figures = {
        "image_size_mb": round(size / 1e6, 1),
        "above_base_mb": round((size - image_size(base)) / 1e6, 1),
        "start_to_healthy_s": round(start_times[len(start_times) // 2], 3),
        "start_to_healthy_runs": float(len(start_times)),
        "stop_s": round(stop_seconds, 3),
        "standin_base_build_s": round(base_seconds, 1),
        "image_build_s": round(build_seconds, 1),
        "total_s": round(time.monotonic() - total_started, 1),
    }
    return Report(SMOKE_IMAGE, base, cached, tuple(checks), figures)


def render(report: Report) -> str:
    """The human-readable report."""
    lines = [f"image-smoke: {report.image} (base: {report.base_image})"]
    lines += [f"  {'PASS' if c.passed else 'FAIL'}  {c.name:<12} {c.detail}" for c in report.checks]
    f = report.figures
    lines += [
        f"  image size {f['image_size_mb']} MB ({f['above_base_mb']} MB above the stand-in base)",
        f"  start to healthy {f['start_to_healthy_s']} s (median of "
        f"{int(f['start_to_healthy_runs'])}), SIGTERM to exit {f['stop_s']} s",
        f"  stand-in base {'from cache' if report.base_from_cache else 'built'} "
        f"({f['standin_base_build_s']} s), image build {f['image_build_s']} s, "
        f"total {f['total_s']} s",
        f"image-smoke: {'passed' if report.passed else 'FAILED'} "
        f"({sum(c.passed for c in report.checks)} passed, "
        f"{sum(not c.passed for c in report.checks)} failed)",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: `smoke.py [--report FILE] [--starts N]` or `smoke.py standin`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", choices=("smoke", "standin"), default="smoke")
    parser.add_argument("--report", type=Path, help="also write the report as JSON to this file")
    parser.add_argument("--starts", type=int, default=1, help="cold starts to time (median)")
    parser.add_argument("--uv", default=os.environ.get("UV", str(ROOT / ".tools" / "bin" / "uv")))
    args = parser.parse_args(argv)
    if args.starts < 1:
        parser.error("--starts must be at least 1")
    try:
        if args.command == "standin":
            name, _, _ = ensure_standin()
            print(name)
            return 0
        report = smoke(args.uv, args.starts)
    except SmokeError as error:
        print(f"image-smoke: cannot run: {error}", file=sys.stderr)
        return 2
    print(render(report))
    if args.report:
        args.report.write_text(json.dumps(dataclasses.asdict(report) | {"passed": report.passed}))
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
