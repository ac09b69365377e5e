"""One local cloud for every drill: started with ``localcloud up`` (what ``make local-cloud`` runs,
so Terraform applies ``infra/envs/dev`` once per session), stopped with ``localcloud down``,
after which nothing of it may still run.

Each drill starts from a healthy service (runbook 2.1 step 3: one COMPLETED deployment, tasks
RUNNING, targets healthy, ``/health`` 200 through the ALB) and must leave one. When a drill
fails half-way, the next one restores the service first (``terraform apply``, then a deploy of
the baseline image), so one failure does not hide the others.

Run with ``make drills``. Marker ``needs_terraform`` (localcloud's pytest plugin): skipped
without terraform unless ``STRICT_TOOLS=1`` (CI), where that is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from localcloud.cloud.model import Cloud
from localcloud.cloud.state import Paths, read_json, read_ref
from localcloud.net import port_in_use
from localcloud.testing.drills import Operator
from localcloud.testing.processes import processes_under

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TIME_SCALE = os.environ.get("DRILL_TIME_SCALE", "0.05")
"""Real seconds per AWS second (0.05: a 30 s health-check interval lasts 1.5 s)."""

TIMINGS = pytest.StashKey[list[tuple[str, float]]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[TIMINGS] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    timings = terminalreporter.config.stash.get(TIMINGS, [])
    if not timings:
        return
    terminalreporter.section("drill timings (wall clock)")
    for name, seconds in timings:
        terminalreporter.line(f"{name:<58} {seconds:6.1f} s")
    terminalreporter.line(f"{'total':<58} {sum(s for _, s in timings):6.1f} s")


def _localcloud(state: Path, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "localcloud"), "--state-dir", str(state), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=REPO,
    )


@pytest.fixture(scope="session")
def local_cloud(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[Operator]:
    """The shared local cloud, started as ``make local-cloud`` starts it (free ports)."""
    if shutil.which("terraform") is None:
        if os.environ.get("STRICT_TOOLS") == "1":
            pytest.fail("STRICT_TOOLS=1 but terraform is not on PATH")
        pytest.skip("terraform is not on PATH")
    state = tmp_path_factory.mktemp("localcloud")
    began = time.monotonic()
    up = _localcloud(
        state,
        "up",
        "--repo",
        str(REPO),
        "--port",
        "0",
        "--alb-port",
        "0",
        "--time-scale",
        TIME_SCALE,
        timeout=900,
    )
    pytestconfig.stash[TIMINGS].append(
        ("localcloud up (Terraform apply, first deploy)", time.monotonic() - began)
    )
    document = read_json(Paths(state).cloud)
    if up.returncode != 0 or document is None:
        _localcloud(state, "down", timeout=120)
        pytest.fail(f"localcloud up failed (exit {up.returncode}):\n{up.stdout}\n{up.stderr}")
    cloud = Cloud.from_json(document)
    operator = Operator(cloud, bin_dir=BIN, state_dir=state)
    daemon = read_ref(Paths(state).daemon_pid)
    try:
        yield operator
    finally:
        began = time.monotonic()
        down = _localcloud(state, "down", timeout=120)
        pytestconfig.stash[TIMINGS].append(("localcloud down", time.monotonic() - began))
        leftovers = processes_under(state)
        assert down.returncode == 0, f"localcloud down failed:\n{down.stdout}\n{down.stderr}"
        assert daemon is not None, "the daemon left no pid file"
        assert not daemon.alive(), "the daemon still runs after down"
        assert not leftovers, f"task processes still run after down: {leftovers}"
        for url in (cloud.endpoint, cloud.alb_url):
            port = int(url.rsplit(":", 1)[1])
            assert not port_in_use(port), f"{url} still answers after down"


def restore(operator: Operator) -> None:
    """Put the shape back (Terraform) and run the baseline image again."""
    operator.terraform("apply", "-auto-approve", "-input=false")
    baseline = operator.cloud.image_tags[0]
    deployed = operator.opsctl("deploy", "--image-tag", baseline, "--force")
    if "unchanged" in deployed.stdout:
        operator.opsctl("redeploy", "--force")


@pytest.fixture
def cloud(local_cloud: Operator, request: pytest.FixtureRequest) -> Iterator[Operator]:
    """The shared local cloud, healthy at the start of the drill; it must be healthy at the end."""
    try:
        local_cloud.wait("a healthy service before the drill", local_cloud.healthy, timeout=30)
    except AssertionError:
        restore(local_cloud)
        local_cloud.wait("the service restored before the drill", local_cloud.healthy, 120)
    began = time.monotonic()
    yield local_cloud
    request.config.stash[TIMINGS].append(
        (request.node.nodeid.split("::")[0], time.monotonic() - began)
    )
    local_cloud.wait("the drill to leave the service healthy", local_cloud.healthy, timeout=60)
