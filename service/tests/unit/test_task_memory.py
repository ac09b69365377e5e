"""The service's memory settings against the task sizes Terraform gives it (infra/).

The task memory lives in the ecs_service module's default and in each environment's
terraform.tfvars; the service's own settings (`APP_TASK_MEMORY_MB` and what its processes can
take) must agree with them, or a task is OOM-killed under load instead of refusing to start.
The values are read from the Terraform files directly; a file that no longer has them fails
the test, naming what it looked for.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from app.settings import Settings

INFRA = Path(__file__).resolve().parents[3] / "infra"
MODULE_VARIABLES = INFRA / "modules" / "ecs_service" / "variables.tf"
TFVARS = sorted(INFRA.glob("envs/*/terraform.tfvars"))


def _block(text: str, opening: str, where: Path) -> str:
    """The body of the brace block that starts at the first line matching `opening`."""
    match = re.search(opening + r"\s*\{", text, re.MULTILINE)
    if match is None:
        pytest.fail(f"{where}: no block matching {opening!r}")
    depth, start = 1, match.end()
    for index in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return text[start:index]
    pytest.fail(f"{where}: the block {opening!r} never closes")


def module_default_memory() -> int:
    task = _block(MODULE_VARIABLES.read_text(), r'^variable\s+"task"', MODULE_VARIABLES)
    found = re.search(r"^\s*memory\s*=\s*optional\(\s*number\s*,\s*(\d+)\s*\)", task, re.M)
    if found is None:
        pytest.fail(f"{MODULE_VARIABLES}: variable task has no `memory = optional(number, N)`")
    return int(found.group(1))


def env_task_memory(tfvars: Path) -> int:
    text = tfvars.read_text()
    if re.search(r"^task\s*=", text, re.M) is None:
        return module_default_memory()
    found = re.search(r"^\s*memory\s*=\s*(\d+)", _block(text, r"^task\s*=", tfvars), re.M)
    if found is None:
        pytest.fail(f"{tfvars}: the task block sets no `memory = N`")
    return int(found.group(1))


def env_container_environment(tfvars: Path) -> dict[str, str]:
    text = tfvars.read_text()
    if re.search(r"^container_environment\s*=", text, re.M) is None:
        return {}
    block = _block(text, r"^container_environment\s*=", tfvars)
    pairs = dict(re.findall(r'^\s*"?([A-Z0-9_]+)"?\s*=\s*"([^"]*)"', block, re.M))
    entries = [line for line in block.splitlines() if "=" in line and line.strip()[:1] != "#"]
    if len(pairs) != len(entries):
        pytest.fail(f'{tfvars}: container_environment has entries that are not NAME = "value"')
    return pairs


def test_the_default_task_memory_setting_is_the_modules_default_task_size() -> None:
    assert Settings().task_memory_mb == module_default_memory()


def test_the_default_settings_fit_the_modules_default_task() -> None:
    assert Settings().memory_needed_mb() <= module_default_memory()


@pytest.mark.parametrize("tfvars", TFVARS, ids=lambda p: p.parent.name)
def test_each_environment_task_fits_the_service_as_it_is_configured_there(
    tfvars: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    memory = env_task_memory(tfvars)
    environment = env_container_environment(tfvars)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = Settings()  # also refuses settings that do not fit APP_TASK_MEMORY_MB
    assert settings.memory_needed_mb() <= memory, (
        f"{tfvars}: the service could need {settings.memory_needed_mb()} MiB; the task has "
        f"{memory} MiB"
    )
    # APP_TASK_MEMORY_MB may understate the task (a safe refusal), never overstate it.
    assert settings.task_memory_mb <= memory


def test_there_are_environments_to_check() -> None:
    assert {p.parent.name for p in TFVARS} >= {"dev", "prod"}
