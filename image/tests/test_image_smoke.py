"""`make image-smoke`, for real: the Dockerfile built with podman on the stand-in base, run
read-only and checked (image/smoke.py). One build and run per session; one test per check so a
failure names what broke."""

import json
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECKS = [
    "config",
    "contents",
    "health",
    "process",
    "problem",
    "settings",
    "user",
    "healthcheck",
    "logs",
    "sigterm",
    "writes",
]

pytestmark = [pytest.mark.needs_podman, pytest.mark.timeout(1500)]


@pytest.fixture(scope="module")
def smoke_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], dict]:
    report = tmp_path_factory.mktemp("image-smoke") / "report.json"
    result = subprocess.run(
        ["make", "--no-print-directory", "image-smoke", f"SMOKE_REPORT={report}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1400,
        check=False,
    )
    print(result.stdout)  # the figures, for the CI log (pytest -s or on failure)
    data = json.loads(report.read_text()) if report.exists() else {}
    return result, data


def test_make_image_smoke_passes(smoke_run) -> None:
    result, data = smoke_run
    assert data, f"no report; make image-smoke exited {result.returncode}:\n{result.stderr[-3000:]}"
    assert result.returncode == 0, result.stdout
    assert data["passed"]


@pytest.mark.parametrize("name", CHECKS)
def test_check(smoke_run, name: str) -> None:
    _, data = smoke_run
    checks = {check["name"]: check for check in data.get("checks", [])}
    assert name in checks, f"check {name} did not run"
    assert checks[name]["passed"], checks[name]["detail"]


def test_figures_are_measured(smoke_run) -> None:
    _, data = smoke_run
    figures = data["figures"]
    assert 0 < figures["start_to_healthy_s"] < 30
    assert 0 < figures["stop_s"] < 25
    assert 0 < figures["above_base_mb"] < figures["image_size_mb"]


def test_push_refuses_the_smoke_image(smoke_run, push: ModuleType, capsys) -> None:
    """The smoke image is built on the stand-in: image-push must never ship it."""
    assert push.main(["--engine", "podman", "localhost/aws-fastapi-service:smoke"]) == 2
    assert "stand-in" in capsys.readouterr().err
