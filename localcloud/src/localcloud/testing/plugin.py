"""localcloud's pytest plugin, registered through the ``pytest11`` entry point in
localcloud/pyproject.toml, so every pytest run in this environment loads it before collection
with no ``-p`` flag and no ``sys.path`` edit.

Loading it also imports the real ``localcloud`` package first. That matters with
``--import-mode=importlib`` (the root pyproject.toml): pytest names a test module after its path
(``localcloud/tests/ecs/test_x.py`` becomes ``localcloud.tests.ecs.test_x``) and, when no
``localcloud`` module is loaded yet, creates an empty one for the folder ``localcloud/``, which
would shadow the package. With the package loaded, the test folders become its harmless
``localcloud.tests``/``localcloud.drills`` children: no module of the package has those names.

What it gives every suite:

* the ``harness`` fixture: the process's shared emulator and ECS simulator
  (:func:`localcloud.testing.harness.shared_harness`), started on first use;
* the ``needs_terraform`` marker (declared in the root pyproject.toml): such a test is skipped
  where terraform is not on PATH, and fails instead when ``STRICT_TOOLS=1`` (CI), where nothing
  may be skipped silently.

Heavy imports (moto, boto3) wait until a fixture is used, so suites that need none of this
(the service's) do not pay for it.
"""

from __future__ import annotations

import os
import shutil
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from localcloud.testing.harness import Harness


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("needs_terraform") is None or shutil.which("terraform"):
        return
    if os.environ.get("STRICT_TOOLS") == "1":
        pytest.fail("STRICT_TOOLS=1 but terraform is not on PATH")
    pytest.skip("terraform is not on PATH")


@pytest.fixture(scope="session")
def harness() -> Harness:
    """The shared emulator + ECS simulator + scripted runtime of this test process."""
    from localcloud.testing.harness import shared_harness

    return shared_harness()
