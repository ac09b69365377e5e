"""The environment roots: thin callers of one stack (infra/stack), differences only in
terraform.tfvars (and the backend).

What a user would notice if it broke: a setting in terraform.tfvars that silently does nothing
(Terraform ignores, with a warning, a value for a variable the root does not declare or does not
pass on), prod behaving differently from dev for a reason nobody can see in terraform.tfvars, or
opsctl missing its target because a root grew a second output or lost the one it has.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENVS = ROOT / "infra" / "envs"
STACK = ROOT / "infra" / "stack"
ROOT_FILES = ("main.tf", "outputs.tf", "providers.tf", "variables.tf", "versions.tf")


def tfvars(env: str) -> dict[str, str]:
    """Top-level string assignments of an environment's terraform.tfvars."""
    text = (ENVS / env / "terraform.tfvars").read_text()
    return dict(re.findall(r'^(\w+)\s*=\s*"([^"]*)"', text, flags=re.MULTILINE))


def declared_variables(directory: Path) -> list[str]:
    text = "".join(p.read_text() for p in sorted(directory.glob("*.tf")))
    return re.findall(r'^variable "([^"]+)"', text, flags=re.MULTILINE)


def stack_call(env: str) -> str:
    """The body of the root's `module "stack"` block (blocks are closed at column 0, as
    `terraform fmt` writes them)."""
    text = (ENVS / env / "main.tf").read_text()
    match = re.search(r'^module "stack" \{\n(.*?)^\}', text, flags=re.MULTILINE | re.DOTALL)
    assert match, f"infra/envs/{env}/main.tf does not call the stack"
    return match[1]


def test_the_roots_share_one_copy_of_their_wiring() -> None:
    """Each root's *.tf files are links to infra/envs/common: an edit reaches every environment
    at once, and a difference between them can only be in terraform.tfvars or the backend."""
    for env in ("dev", "prod"):
        for name in ROOT_FILES:
            path = ENVS / env / name
            assert path.is_symlink(), f"infra/envs/{env}/{name} is not a link to ../common/{name}"
            assert str(path.readlink()) == f"../common/{name}", path
            assert path.resolve() == (ENVS / "common" / name).resolve()


def test_no_other_configuration_file_in_either_environment() -> None:
    for env in ("dev", "prod"):
        assert {p.name for p in (ENVS / env).glob("*.tf")} == set(ROOT_FILES), env
        assert {p.name for p in (ENVS / env).glob("*.tfvars")} == {"terraform.tfvars"}, env


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_every_stack_variable_reaches_the_stack_from_terraform_tfvars(env: str) -> None:
    stack = declared_variables(STACK)
    assert len(stack) > 15, stack
    # Declared by the root, so terraform.tfvars may set it...
    assert sorted(declared_variables(ENVS / env)) == sorted(stack)
    # ...and passed on unchanged: the root holds no logic of its own.
    passed = dict(re.findall(r"^  (\w+)\s+= (.+)$", stack_call(env), flags=re.MULTILINE))
    assert passed.pop("source") == '"../../stack"'
    assert passed.pop("providers") == "{"
    assert passed == {name: f"var.{name}" for name in stack}


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_stack_is_the_only_module_a_root_calls(env: str) -> None:
    text = "".join(p.read_text() for p in (ENVS / env).glob("*.tf"))
    assert re.findall(r'^module "([^"]+)"', text, flags=re.MULTILINE) == ["stack"]
    assert not re.search(r"^(resource|data|locals) ", text, flags=re.MULTILINE), env


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


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_only_output_is_opsctl(env: str) -> None:
    outputs = re.findall(r'^output "([^"]+)"', (ENVS / env / "outputs.tf").read_text(), re.M)
    assert outputs == ["opsctl"]
    assert "value       = module.stack.opsctl" in (ENVS / env / "outputs.tf").read_text()


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
