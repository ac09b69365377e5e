"""Fixtures for the image tests: the harness modules under image/, and the needs_podman marker.

needs_podman tests skip when podman is missing, unless STRICT_TOOLS=1 (CI), where they fail:
nothing is skipped silently there.
"""

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

IMAGE_DIR = Path(__file__).resolve().parent.parent


def _load(name: str) -> ModuleType:
    """Import image/<name>.py under a name no other part's module can clash with."""
    spec = importlib.util.spec_from_file_location(f"image_{name}", IMAGE_DIR / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module through sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def smoke() -> ModuleType:
    return _load("smoke")


@pytest.fixture(scope="session")
def push() -> ModuleType:
    return _load("push")


@pytest.fixture(scope="session")
def healthcheck() -> ModuleType:
    return _load("healthcheck")


def _podman_missing() -> str | None:
    """Why the podman smoke test cannot run here, or None when it can."""
    if shutil.which("podman") is None:
        return "podman is not installed (apt-get install podman; see .ci/run)"
    if os.geteuid() != 0:
        # The stand-in base is made with debootstrap, which needs root (image/smoke.py). GitHub's
        # runners are not root: there the image job builds the real Dockerfile with docker.
        return "the podman smoke test needs root (debootstrap builds its stand-in base)"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("needs_podman") and (why := _podman_missing()) is not None:
        if os.environ.get("STRICT_TOOLS") == "1":
            pytest.fail(f"{why}, and STRICT_TOOLS=1")
        pytest.skip(why)
