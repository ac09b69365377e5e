"""compose.yaml, for real: built and started with podman-compose, then checked over HTTP.

podman-compose is what `podman compose` delegates to (pinned in uv.lock). No registry answers
here, so the build replaces the Dockerfile's `base` stage with the cached stand-in base of the
image smoke test, through the same named build context (`--build-context base=docker-image://`),
passed as podman-compose's build arguments: compose.yaml itself names no stand-in. The service
gets its settings from a scratch settings file (SERVICE_ENV_FILE), never from your .env, and its
port from SERVICE_PORT (a free one), so the test runs beside anything else on this machine.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PODMAN_COMPOSE = ROOT / ".venv" / "bin" / "podman-compose"
COMPOSE_IMAGE = "localhost/aws-fastapi-service:compose"

pytestmark = [pytest.mark.needs_podman, pytest.mark.timeout(1200)]


@dataclass(frozen=True)
class Stack:
    """A running compose project: its name, the published port, the settings it was given."""

    project: str
    port: int
    version: str
    container: str
    up_seconds: float


def compose(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(PODMAN_COMPOSE), "-f", str(ROOT / "compose.yaml"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def compose_env(smoke: ModuleType, settings: Path, port: int) -> dict[str, str]:
    return {
        **smoke.podman_env(),
        "SERVICE_ENV_FILE": str(settings),
        "SERVICE_PORT": str(port),
    }


@pytest.fixture(scope="module")
def settings_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """.env.example with a version only this run uses: /health proves the file was loaded."""
    version = f"compose-{secrets.token_hex(4)}"
    text = (ROOT / ".env.example").read_text()
    assert "\nAPP_VERSION=" in text
    lines = [
        f"APP_VERSION={version}" if line.startswith("APP_VERSION=") else line
        for line in text.splitlines()
    ]
    path = tmp_path_factory.mktemp("compose") / "settings.env"
    path.write_text("\n".join(lines) + "\n")
    return path, version


@pytest.fixture(scope="module")
def stack(smoke: ModuleType, settings_file: tuple[Path, str]) -> Iterator[Stack]:
    settings, version = settings_file
    base, _, _ = smoke.ensure_standin()
    project = f"compose-test-{secrets.token_hex(4)}"
    port = smoke.free_port()
    env = compose_env(smoke, settings, port)
    build_args = [
        "--build-context",
        f"base=docker-image://{base}",
        "--pull=never",
        "--network",
        "host",
    ]
    if (bundle := smoke.ca_bundle()) is not None:
        # As in image/smoke.py: pip and uv in the builder trust a TLS-inspecting proxy.
        build_args += ["--volume", f"{bundle}:/etc/ssl/certs/ca-certificates.crt:ro"]
    previous = smoke.podman("image", "inspect", "--format", "{{.Id}}", COMPOSE_IMAGE, check=False)
    started = time.monotonic()
    up = compose(
        "-p",
        project,
        "--podman-build-args",
        shlex.join(build_args),
        "up",
        "-d",
        "--build",
        env=env,
        timeout=900,
    )
    try:
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        names = smoke.podman(
            "ps", "--filter", f"label=io.podman.compose.project={project}", "--format", "{{.Names}}"
        ).stdout.split()
        assert len(names) == 1, names
        url = f"http://127.0.0.1:{port}/health"
        deadline = time.monotonic() + 60
        status = 0
        while time.monotonic() < deadline and status != 200:
            try:
                status, _ = smoke.http("GET", url, timeout=1.0)
            except OSError:
                time.sleep(0.1)
        assert status == 200, f"{url} did not answer 200 within 60 s"
        yield Stack(project, port, version, names[0], time.monotonic() - started)
    finally:
        down = compose("-p", project, "down", env=env)
        left = smoke.podman(
            "ps", "-a", "--filter", f"label=io.podman.compose.project={project}", "-q", check=False
        ).stdout.split()
        # The image stays cached for the next run; one it replaced (now untagged) goes.
        current = smoke.podman(
            "image", "inspect", "--format", "{{.Id}}", COMPOSE_IMAGE, check=False
        )
        if previous.returncode == 0 and previous.stdout.strip() != current.stdout.strip():
            smoke.podman("rmi", previous.stdout.strip(), check=False)
        assert down.returncode == 0, down.stderr[-2000:]
        assert not left, f"podman-compose down left containers: {left}"


def test_compose_config_is_valid_and_says_what_the_issue_asks(tmp_path: Path) -> None:
    """`podman-compose config` (compose's `config` validation) resolves the file as expected."""
    settings = tmp_path / "settings.env"
    settings.write_text("APP_ENVIRONMENT=development\n")
    env = {**os.environ, "SERVICE_ENV_FILE": str(settings), "SERVICE_PORT": "18000"}
    result = compose("config", env=env)
    assert result.returncode == 0, result.stderr
    service = yaml.safe_load(result.stdout)["services"]["service"]
    assert service["build"] == {"context": str(ROOT), "dockerfile": "Dockerfile"}
    assert service["read_only"] is True
    assert service["env_file"] == [str(settings)]
    assert service["ports"] == ["127.0.0.1:18000:8000"]
    assert service["environment"]["HOST"] == "0.0.0.0"
    assert "/opt/healthcheck.py" in service["healthcheck"]["test"]
    assert service["image"].startswith("localhost/")
    assert service["cap_drop"] == ["ALL"]


def test_compose_defaults_are_dot_env_and_port_8000() -> None:
    """Without the variables: the repository's .env and port 8000, as the README says."""
    data = yaml.safe_load((ROOT / "compose.yaml").read_text())
    service = data["services"]["service"]
    assert service["env_file"] == ["${SERVICE_ENV_FILE:-.env}"]
    assert service["ports"] == ["127.0.0.1:${SERVICE_PORT:-8000}:8000"]


def test_health_answers_with_the_settings_file_loaded(stack: Stack, smoke: ModuleType) -> None:
    status, body = smoke.http("GET", f"http://127.0.0.1:{stack.port}/health")
    assert status == 200
    assert body["status"] == "ok"
    # APP_VERSION came from the settings file: env_file is loaded (and wins over the image's).
    assert body["version"] == stack.version
    print(f"compose up --build to healthy: {stack.up_seconds:.1f} s")


def test_process_answers(stack: Stack, smoke: ModuleType) -> None:
    status, body = smoke.http(
        "POST", f"http://127.0.0.1:{stack.port}/process", smoke.PROCESS_SAMPLE
    )
    assert (status, body) == (200, smoke.PROCESS_EXPECTED)


def test_container_runs_read_only_non_root_without_capabilities(
    stack: Stack, smoke: ModuleType
) -> None:
    inspect = json.loads(smoke.podman("inspect", stack.container).stdout)[0]
    host = inspect["HostConfig"]
    assert host["ReadonlyRootfs"] is True
    assert inspect["Config"]["User"] == "10001:10001"
    assert "CAP_NET_RAW" in host["CapDrop"]
    assert "CAP_SETUID" in host["CapDrop"]
    assert host["PortBindings"]["8000/tcp"] == [
        {"HostIp": "127.0.0.1", "HostPort": str(stack.port)}
    ]


def test_the_compose_health_check_reports_healthy(stack: Stack, smoke: ModuleType) -> None:
    """compose's healthcheck (GET /health from inside the container), run by podman on demand:
    without systemd here, podman's timer for the periodic checks cannot be created."""
    result = smoke.podman("healthcheck", "run", stack.container, check=False, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    status = smoke.podman(
        "inspect", "--format", "{{.State.Health.Status}}", stack.container
    ).stdout.strip()
    assert status == "healthy"


def test_the_compose_image_is_never_pushed(stack: Stack, push: ModuleType, capsys) -> None:
    """Built here on the stand-in: image-push must refuse it like the smoke image."""
    assert push.main(["--engine", "podman", COMPOSE_IMAGE]) == 2
    assert "stand-in" in capsys.readouterr().err
