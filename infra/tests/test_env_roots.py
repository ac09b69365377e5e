"""The environment roots: one code base, differences only in terraform.tfvars (and the backend).

What a user would notice if it broke: prod behaving differently from dev for a reason nobody can
see in terraform.tfvars, or opsctl missing its target because a root grew a second output or lost
the one it has.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENVS = ROOT / "infra" / "envs"
SHARED = ("main.tf", "outputs.tf", "providers.tf", "variables.tf", "versions.tf")


def tfvars(env: str) -> dict[str, str]:
    """Top-level string assignments of an environment's terraform.tfvars."""
    text = (ENVS / env / "terraform.tfvars").read_text()
    return dict(re.findall(r'^(\w+)\s*=\s*"([^"]*)"', text, flags=re.MULTILINE))


@pytest.mark.parametrize("name", SHARED)
def test_prod_runs_the_same_code_as_dev(name: str) -> None:
    assert (ENVS / "prod" / name).read_text() == (ENVS / "dev" / name).read_text(), (
        f"infra/envs/prod/{name} differs from dev's: environment differences go in terraform.tfvars"
    )


def test_no_other_configuration_file_in_either_environment() -> None:
    for env in ("dev", "prod"):
        assert {p.name for p in (ENVS / env).glob("*.tf")} == set(SHARED), env
        assert {p.name for p in (ENVS / env).glob("*.tfvars")} == {"terraform.tfvars"}, env


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_tfvars_name_their_own_environment(env: str) -> None:
    values = tfvars(env)
    assert values["environment"] == env
    assert values["service_name"].endswith(f"-{env}")
    backend = (ENVS / env / "backend.hcl.example").read_text()
    assert f'key            = "{env}/terraform.tfstate"' in backend
    assert "use_lockfile   = true" in backend
    assert "dynamodb_table" in backend


def test_environments_do_not_share_names() -> None:
    assert tfvars("dev")["service_name"] != tfvars("prod")["service_name"]


def test_the_only_output_is_opsctl() -> None:
    outputs = re.findall(r'^output "([^"]+)"', (ENVS / "dev" / "outputs.tf").read_text(), re.M)
    assert outputs == ["opsctl"]


@pytest.mark.parametrize(
    "args", ["-var enable_compute=false", "-var=enable_compute=true -var image_tag=abc"]
)
def test_the_cost_toggle_is_never_a_command_line_override(args: str) -> None:
    # ADR 0003: terraform.yml applies the committed terraform.tfvars on every infrastructure
    # merge, so a -var toggle would be undone by the next merge. Refused before Terraform runs.
    result = subprocess.run(
        ["make", "-C", str(ROOT), "--no-print-directory", "tf-plan", "ENV=dev", f"TF_ARGS={args}"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**os.environ, "TF": "false"},
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "change it in infra/envs/dev/terraform.tfvars and merge it" in result.stderr


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_committed_tfvars_hold_the_cost_toggle(env: str) -> None:
    # The value the pipeline applies is the one in git, in plain sight (ADR 0003).
    text = (ENVS / env / "terraform.tfvars").read_text()
    assert re.search(r"^enable_compute\s*=\s*(true|false)\s*$", text, re.MULTILINE), env
