"""The Terraform harness without Terraform: a stand-in `terraform` script records its arguments.

What a caller would notice if it broke: the provider mirror is not found or silently ignored, the
root's source tree gets written to, the backend settings do not reach `init`, a plan with changes
is reported as clean, or a hung command never returns.
"""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest
from localcloud.cloud.terraform import (
    LocalBackend,
    S3Backend,
    TerraformCommandError,
    TerraformError,
    TerraformNotFoundError,
    TerraformRoot,
    TerraformTimeoutError,
    cli_config,
    find_plugin_mirror,
)
from localcloud.emulator import Endpoint

ENDPOINT = Endpoint(url="http://127.0.0.1:1")

# A stand-in for terraform: logs argv, cwd and chosen environment variables as JSON lines, then
# behaves as FAKE_TF_MODE says.
FAKE_TERRAFORM = """#!/usr/bin/env python3
import json, os, sys, time
with open(os.environ["FAKE_TF_LOG"], "a") as log:
    log.write(json.dumps({
        "argv": sys.argv[1:],
        "cwd": os.getcwd(),
        "env": {k: os.environ.get(k) for k in (
            "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_PROFILE",
            "AWS_MAX_ATTEMPTS", "TF_CLI_CONFIG_FILE", "TF_IN_AUTOMATION")},
    }) + "\\n")
mode = os.environ.get("FAKE_TF_MODE", "ok")
command = sys.argv[1]
if mode == "hang" and command == "apply":
    time.sleep(60)
if mode == "fail" and command == "apply":
    sys.stderr.write("Error: creating thing: api error 500\\n")
    sys.exit(1)
if command == "plan":
    sys.exit(2 if mode == "changes" else 0)
if command == "show":
    print(json.dumps({"resource_changes": [
        {"address": "aws_ecs_service.this", "change": {"actions": ["update"]}},
        {"address": "aws_vpc.this", "change": {"actions": ["no-op"]}},
    ]}))
if command == "output":
    print(json.dumps({"opsctl": {"value": {"cluster": "c"}}}))
"""


@pytest.fixture
def fake_terraform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "terraform"
    script.write_text(FAKE_TERRAFORM)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_TF_LOG", str(log))
    monkeypatch.setenv("AWS_PROFILE", "someones-real-profile")
    monkeypatch.delenv("TF_PLUGIN_MIRROR", raising=False)
    return log


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A source tree: a root that calls a module by relative path, plus clutter of a local run."""
    source = tmp_path / "infra"
    (source / "modules" / "thing").mkdir(parents=True)
    (source / "modules" / "thing" / "main.tf").write_text("# module\n")
    root = source / "envs" / "dev"
    root.mkdir(parents=True)
    (root / "main.tf").write_text('module "thing" {\n  source = "../../modules/thing"\n}\n')
    (root / ".terraform").mkdir()
    (root / "terraform.tfstate").write_text("{}")
    (root / "backend.hcl").write_text('bucket = "real-bucket"\n')
    return source


def calls(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def make_root(tree: Path, tmp_path: Path, **kwargs: object) -> TerraformRoot:
    return TerraformRoot(tree, "envs/dev", workdir=tmp_path / "work", endpoint=ENDPOINT, **kwargs)  # type: ignore[arg-type]


def test_mirror_from_environment_must_hold_a_registry(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "registry.terraform.io").mkdir(parents=True)
    assert find_plugin_mirror({"TF_PLUGIN_MIRROR": str(mirror)}) == mirror
    with pytest.raises(TerraformError, match=r"holds no registry\.terraform\.io"):
        find_plugin_mirror({"TF_PLUGIN_MIRROR": str(tmp_path)})


def test_cli_config_installs_registry_providers_only_from_the_mirror() -> None:
    text = cli_config(Path("/opt/tf-plugins"))
    assert 'path    = "/opt/tf-plugins"' in text
    assert 'exclude = ["registry.terraform.io/*/*"]' in text


def test_s3_backend_settings_reach_init() -> None:
    backend = S3Backend(
        bucket="b", key="dev/terraform.tfstate", region="us-east-1", dynamodb_table="locks"
    )
    assert backend.override() is None
    assert set(backend.init_args()) == {
        "-backend-config=bucket=b",
        "-backend-config=key=dev/terraform.tfstate",
        "-backend-config=region=us-east-1",
        "-backend-config=encrypt=true",
        "-backend-config=use_lockfile=true",
        "-backend-config=use_path_style=true",
        "-backend-config=dynamodb_table=locks",
    }


def test_missing_terraform_is_a_clear_error(tmp_path: Path, tree: Path) -> None:
    with pytest.raises(TerraformNotFoundError, match="terraform is not on PATH"):
        TerraformRoot(
            tree, "envs/dev", workdir=tmp_path, endpoint=ENDPOINT, environ={"PATH": str(tmp_path)}
        )


def test_runs_in_a_copy_against_the_emulator_only(
    fake_terraform: Path, tree: Path, tmp_path: Path
) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "registry.terraform.io").mkdir(parents=True)
    root = make_root(
        tree, tmp_path, backend=LocalBackend(), variables={"enable_compute": True}, mirror=mirror
    )
    root.init()
    root.apply()
    assert root.output("opsctl") == {"opsctl": {"value": {"cluster": "c"}}}

    copy = root.directory
    assert copy != tree / "envs" / "dev"
    assert (copy.parent.parent / "modules" / "thing" / "main.tf").is_file()
    # State, data directories and backend settings of a local run are not copied.
    assert not (copy / ".terraform").exists()
    assert not (copy / "terraform.tfstate").exists()
    assert not (copy / "backend.hcl").exists()
    assert 'backend "local"' in (copy / "backend_override.tf").read_text()
    assert json.loads((copy / "zz_harness.auto.tfvars.json").read_text()) == {
        "enable_compute": True
    }
    # Nothing was written into the source tree.
    assert sorted(p.name for p in (tree / "envs" / "dev").iterdir()) == [
        ".terraform",
        "backend.hcl",
        "main.tf",
        "terraform.tfstate",
    ]

    recorded = calls(fake_terraform)
    assert [c["argv"][0] for c in recorded] == ["init", "apply", "output"]  # type: ignore[index]
    for call in recorded:
        env = call["env"]
        assert isinstance(env, dict)
        assert call["cwd"] == str(copy)
        assert env["AWS_ENDPOINT_URL"] == ENDPOINT.url == env["AWS_ENDPOINT_URL_S3"]
        assert env["AWS_ACCESS_KEY_ID"] == "testing"
        assert env["AWS_PROFILE"] is None
        assert env["TF_CLI_CONFIG_FILE"] == str(tmp_path / "work" / "terraform.tfrc")
    assert [s.name for s in root.steps] == ["init", "apply", "output"]
    assert all(s.seconds >= 0 for s in root.steps)


def test_plan_with_changes_lists_them(
    fake_terraform: Path, tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TF_MODE", "changes")
    root = make_root(tree, tmp_path)
    root.init()
    plan = root.plan()
    assert plan.has_changes
    assert [(c.address, c.actions) for c in plan.changes] == [("aws_ecs_service.this", ("update",))]
    assert "-detailed-exitcode" in calls(fake_terraform)[1]["argv"]  # type: ignore[operator]


def test_clean_plan_has_no_changes(fake_terraform: Path, tree: Path, tmp_path: Path) -> None:
    root = make_root(tree, tmp_path)
    root.init()
    assert not root.plan().has_changes


def test_failed_command_carries_its_output(
    fake_terraform: Path, tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TF_MODE", "fail")
    root = make_root(tree, tmp_path)
    root.init()
    with pytest.raises(TerraformCommandError, match="api error 500") as raised:
        root.apply()
    assert raised.value.step.returncode == 1


def test_hung_command_is_killed_at_its_timeout(
    fake_terraform: Path, tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TF_MODE", "hang")
    root = make_root(tree, tmp_path, timeout=1.0)
    root.init()
    started = time.monotonic()
    with pytest.raises(TerraformTimeoutError, match="did not finish within 1 s"):
        root.apply()
    assert time.monotonic() - started < 10


def test_commands_before_init_are_refused(fake_terraform: Path, tree: Path, tmp_path: Path) -> None:
    with pytest.raises(TerraformError, match="call init"):
        make_root(tree, tmp_path).apply()


def test_migrating_to_s3_drops_the_local_override(
    fake_terraform: Path, tree: Path, tmp_path: Path
) -> None:
    root = make_root(tree, tmp_path)
    root.init()
    root.migrate_backend(S3Backend(bucket="b", key="k", region="us-east-1"))
    assert not (root.directory / "backend_override.tf").exists()
    argv = calls(fake_terraform)[-1]["argv"]
    assert isinstance(argv, list)
    assert argv[:3] == ["init", "-migrate-state", "-force-copy"]
    assert "-backend-config=bucket=b" in argv
