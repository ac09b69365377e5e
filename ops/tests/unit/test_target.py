"""Target resolution: flags, target file / terraform output, environment."""

from __future__ import annotations

import json

import pytest
from opsctl.errors import TargetError, UsageError
from opsctl.target import resolve_spec

OUTPUT = {
    "region": "eu-west-1",
    "cluster": "prod-cluster",
    "service": "api",
    "container_name": "app",
    "task_family": "api",
    "ecr_repository_url": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api",
    "target_group_arn": "arn:tg",
    "alb_url": "https://api.example.com",
    "log_group": "/aws/ecs/api",
}


def test_flags_win_over_file_and_environment(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(OUTPUT))
    env = {"OPSCTL_CLUSTER": "env-c", "OPSCTL_SERVICE": "env-s"}
    spec = resolve_spec(cluster="flag-c", service=None, tf_dir=None, target_file=path, environ=env)
    assert (spec.cluster, spec.service, spec.region, spec.alb_url) == (
        "flag-c",
        "api",
        "eu-west-1",
        OUTPUT["alb_url"],
    )
    assert spec.source == f"command line, target file {path}"


def test_environment_alone(tmp_path):
    spec = resolve_spec(
        cluster=None,
        service=None,
        tf_dir=None,
        target_file=None,
        environ={"OPSCTL_CLUSTER": "c", "OPSCTL_SERVICE": "s"},
    )
    assert (spec.cluster, spec.service, spec.region) == ("c", "s", None)


def test_terraform_wrapped_output_and_target_file_from_environment(tmp_path):
    path = tmp_path / "all.json"
    path.write_text(json.dumps({"sensitive": False, "type": ["object", {}], "value": OUTPUT}))
    spec = resolve_spec(
        cluster=None,
        service=None,
        tf_dir=None,
        target_file=None,
        environ={"OPSCTL_TARGET_FILE": str(path)},
    )
    assert spec.cluster == "prod-cluster"


def test_missing_service_names_what_is_missing():
    with pytest.raises(TargetError, match="no service given") as error:
        resolve_spec(cluster="c", service=None, tf_dir=None, target_file=None, environ={})
    assert "--tf-dir" in (error.value.hint or "")


@pytest.mark.parametrize(
    "content", ["not json", "[1, 2]", json.dumps({"cluster": 3, "service": "s"})]
)
def test_bad_target_files(tmp_path, content):
    path = tmp_path / "t.json"
    path.write_text(content)
    with pytest.raises(TargetError, match="target file"):
        resolve_spec(cluster=None, service=None, tf_dir=None, target_file=path, environ={})


def test_unreadable_file_and_both_sources(tmp_path):
    with pytest.raises(TargetError, match="cannot read target file"):
        resolve_spec(
            cluster=None, service=None, tf_dir=None, target_file=tmp_path / "nope.json", environ={}
        )
    with pytest.raises(UsageError):
        resolve_spec(
            cluster=None, service=None, tf_dir=tmp_path, target_file=tmp_path / "x", environ={}
        )
