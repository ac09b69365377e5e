"""Fixtures and tool markers for the infrastructure tests.

A test marked ``needs_terraform`` is skipped when terraform is not on PATH, unless STRICT_TOOLS=1
(CI), where a missing tool is a failure: nothing may be skipped silently there.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from localcloud.emulator import Emulator, Endpoint
from localcloud.moto_fixes import install as patch_for_terraform

TIMINGS_KEY = pytest.StashKey[list[tuple[str, float]]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="write infra/bootstrap/iam.golden.json from iam.tf (make iam-golden)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.stash[TIMINGS_KEY] = []


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("needs_terraform") is None or shutil.which("terraform") is not None:
        return
    if os.environ.get("STRICT_TOOLS") == "1":
        pytest.fail("STRICT_TOOLS=1 but terraform is not on PATH")
    pytest.skip("terraform is not on PATH")


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    timings = config.stash.get(TIMINGS_KEY, [])
    if not timings:
        return
    terminalreporter.section("terraform step timings (emulated AWS)")
    for name, seconds in timings:
        terminalreporter.line(f"{name:<40} {seconds:7.1f} s")
    terminalreporter.line(f"{'total':<40} {sum(s for _, s in timings):7.1f} s")


@pytest.fixture(scope="session")
def timings(pytestconfig: pytest.Config) -> list[tuple[str, float]]:
    """Where tests record (step, seconds); printed at the end of the run."""
    return pytestconfig.stash[TIMINGS_KEY]


@pytest.fixture(scope="module")
def emulator() -> Iterator[Endpoint]:
    """moto on 127.0.0.1 (a free port) for the module's tests.

    The bootstrap attaches AWS managed policies (ReadOnlyAccess, PowerUserAccess), which moto
    only knows with MOTO_IAM_LOAD_MANAGED_POLICIES=true (read when its IAM backend is created, in
    this process since the server runs in a thread). :mod:`localcloud.moto_terraform` fills
    the gaps in moto that would otherwise show up as diffs or a 403 on the state bucket.
    """
    patch_for_terraform()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        with Emulator() as endpoint:
            yield endpoint
