"""How the task runtime turns a task definition and an image configuration into a process
(pure decisions; the processes themselves run in test_runtime.py)."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest
from localcloud.ecs.clock import SimClock
from localcloud.ecs.taskruntime import ContainerSpec, LaunchError, TaskSpec
from localcloud.images.oci import ImageConfig
from localcloud.runtime.processes import exit_status, plan_launch

BIN = Path(sys.executable).parent
IMAGE = ImageConfig(
    entrypoint=("app-serve",),
    env={"HOST": "0.0.0.0", "PORT": "8000", "APP_COMMIT": "abc", "PATH": "/opt/app/bin:/bin"},
)


def spec(**container: object) -> TaskSpec:
    base = ContainerSpec(
        name="app",
        image="123456789012.dkr.ecr.us-east-1.amazonaws.com/api:v1",
        image_digest="sha256:" + "0" * 64,
        image_tags=("v1",),
        command=(),
        entry_point=(),
        environment={"HOST": "0.0.0.0", "PORT": "8000"},
        container_ports=(8000,),
        stop_timeout=30,
        image_config=IMAGE,
    )
    return TaskSpec(
        task_arn="arn:aws:ecs:us-east-1:123456789012:task/c/t1",
        task_id="t1",
        cluster="c",
        service="api",
        task_definition_arn="arn:aws:ecs:us-east-1:123456789012:task-definition/api:1",
        container=replace(base, **container),  # type: ignore[arg-type]
        private_ip="10.0.0.5",
        clock=SimClock(1.0),
    )


def test_runs_the_image_entrypoint_from_the_checkout_on_a_mapped_loopback_port(
    tmp_path: Path,
) -> None:
    launch = plan_launch(spec(), bin_dir=BIN, task_dir=tmp_path, ports={8000: 41000})
    assert launch.argv == (str(BIN / "app-serve"),)
    assert launch.environment["PORT"] == "41000"
    assert launch.app_port == 41000
    # Never every interface: the task's network is loopback here.
    assert launch.environment["HOST"] == "127.0.0.1"
    assert launch.environment["APP_COMMIT"] == "abc"
    assert launch.environment["PATH"].split(":")[0] == str(BIN)
    assert launch.environment["HOME"] == str(tmp_path)


def test_the_task_definition_environment_wins_over_the_image(tmp_path: Path) -> None:
    launch = plan_launch(
        spec(environment={"APP_COMMIT": "override", "PORT": "8000"}),
        bin_dir=BIN,
        task_dir=tmp_path,
        ports={8000: 41000},
    )
    assert launch.environment["APP_COMMIT"] == "override"


def test_nothing_of_the_daemons_environment_reaches_the_task(
    tmp_path: Path, clean_env: None
) -> None:
    launch = plan_launch(spec(), bin_dir=BIN, task_dir=tmp_path, ports={8000: 41000})
    assert not any(k.startswith("AWS_") and k != "AWS_EXECUTION_ENV" for k in launch.environment)


def test_a_port_the_mapping_does_not_expose_listens_where_nothing_routes(
    tmp_path: Path,
) -> None:
    launch = plan_launch(
        spec(environment={"PORT": "8081"}),
        bin_dir=BIN,
        task_dir=tmp_path,
        ports={8000: 41000},
        spare_port=41001,
    )
    assert launch.environment["PORT"] == "41001"
    assert launch.app_port != launch.ports[8000]


def test_command_overrides_follow_dockers_rules(tmp_path: Path) -> None:
    image = replace(IMAGE, entrypoint=("app-serve",), cmd=("--reload",))
    kept = plan_launch(spec(image_config=image), bin_dir=BIN, task_dir=tmp_path, ports={})
    assert kept.argv[1:] == ("--reload",)
    replaced = plan_launch(
        spec(image_config=image, command=("--help",)), bin_dir=BIN, task_dir=tmp_path, ports={}
    )
    assert replaced.argv[1:] == ("--help",)
    # A new entrypoint drops the image's command.
    entry = plan_launch(
        spec(image_config=image, entry_point=("/opt/app/bin/app-serve",)),
        bin_dir=BIN,
        task_dir=tmp_path,
        ports={},
    )
    assert entry.argv == (str(BIN / "app-serve"),)


@pytest.mark.parametrize(
    ("entry_point", "message"),
    [
        (("python", "-c", "print(1)"), "runs only app-serve"),
        (("not-a-program",), 'exec: "not-a-program": executable file not found'),
        (("/tmp/app-serve",), 'exec: "/tmp/app-serve": executable file not found'),
    ],
)
def test_only_the_allowed_programs_run(
    tmp_path: Path, entry_point: tuple[str, ...], message: str
) -> None:
    with pytest.raises(LaunchError, match="CannotStartContainerError") as error:
        plan_launch(spec(entry_point=entry_point), bin_dir=BIN, task_dir=tmp_path, ports={})
    assert message in error.value.reason


def test_an_image_without_a_configuration_cannot_be_pulled(tmp_path: Path) -> None:
    with pytest.raises(LaunchError, match=r"^CannotPullContainerError"):
        plan_launch(spec(image_config=None), bin_dir=BIN, task_dir=tmp_path, ports={})


def test_exit_codes_as_docker_reports_them() -> None:
    assert exit_status(2).exit_code == 2
    assert exit_status(-9).exit_code == 137
    assert exit_status(-15).exit_code == 143
