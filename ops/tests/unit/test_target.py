"""Target resolution: flags, target file / terraform output, environment."""

from __future__ import annotations

import json
import os
from dataclasses import replace

import pytest
from opsctl.errors import TargetError, UsageError
from opsctl.model import Listener
from opsctl.target import (
    Target,
    TargetSpec,
    read_terraform_output,
    resolve_spec,
    smoke_target,
)

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


# --- the smoke test's URL -------------------------------------------------------------------

AWS_NAME = "api-alb-1.us-east-1.elb.amazonaws.com"


class FakeAws:
    """The two calls smoke_target makes, answering with a load balancer of these listeners."""

    def __init__(self, make, listeners):
        self.group = make.target_group()
        self.balancer = replace(make.load_balancer(), dns_name=AWS_NAME, listeners=listeners)

    def target_group(self, arn):
        return self.group

    def load_balancer(self, arn):
        return self.balancer


def _target(make, alb_url=None):
    spec = TargetSpec(cluster="c", service="api", source="test", alb_url=alb_url)
    definition = make.task_definition()
    return Target(spec, "us-east-1", make.service(), definition, "app", 8000, "arn:tg", None, None)


HTTP_FORWARD = Listener(80, "HTTP", "forward")
HTTP_REDIRECT = Listener(80, "HTTP", "redirect")
HTTPS = Listener(443, "HTTPS", "forward")


@pytest.mark.parametrize(
    ("listeners", "alb_url", "override", "url"),
    [
        ((HTTP_FORWARD,), None, None, f"http://{AWS_NAME}"),
        ((HTTPS, HTTP_FORWARD), None, None, f"http://{AWS_NAME}"),
        ((Listener(8080, "HTTP", "forward"),), None, None, f"http://{AWS_NAME}:8080"),
        # A target file's HTTPS URL on the AWS name falls back to a forwarding HTTP listener.
        ((HTTPS, HTTP_FORWARD), f"https://{AWS_NAME}", None, f"http://{AWS_NAME}"),
        ((HTTPS, HTTP_REDIRECT), "https://api.example.com/", None, "https://api.example.com"),
        ((HTTPS, HTTP_REDIRECT), None, "https://api.example.com", "https://api.example.com"),
    ],
)
def test_the_smoke_test_uses_a_url_that_can_verify(make, listeners, alb_url, override, url):
    smoke, _, _ = smoke_target(FakeAws(make, listeners), _target(make, alb_url), override)
    assert (smoke.url, smoke.skipped) == (url, None)


@pytest.mark.parametrize(
    ("listeners", "alb_url", "override"),
    [
        ((HTTPS, HTTP_REDIRECT), None, None),  # the platform's HTTPS setup (infra/modules/alb)
        ((HTTPS,), None, None),
        ((HTTPS, HTTP_REDIRECT), f"https://{AWS_NAME}", None),
        ((HTTP_FORWARD,), None, f"https://{AWS_NAME}"),  # --url asked for the impossible
    ],
)
def test_https_on_the_aws_name_skips_the_smoke_test_with_the_reason(
    make, listeners, alb_url, override
):
    smoke, _, _ = smoke_target(FakeAws(make, listeners), _target(make, alb_url), override)
    assert smoke.url is None
    assert "matches no certificate" in (smoke.skipped or "")
    assert "OPSCTL_URL" in (smoke.skipped or "")
    assert "public_url" in (smoke.skipped or "")


def test_terraform_errors_reach_opsctl_without_colour(tmp_path, monkeypatch):
    # A stand-in terraform: colours its error unless -no-color is given, as terraform does.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    argv_file = tmp_path / "argv"
    fake = bin_dir / "terraform"
    fake.write_text(
        "#!/bin/sh\n"
        f'echo "$@" > {argv_file}\n'
        'case " $* " in *" -no-color "*) echo "Error: No outputs found" >&2;;\n'
        '  *) printf "\\033[31m\\342\\225\\267\\033[0m\\n" >&2\n'
        '     printf "\\033[1;31mError: \\033[0mNo outputs found\\n" >&2;;\n'
        "esac\nexit 1\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    with pytest.raises(TargetError) as raised:
        read_terraform_output(tmp_path)
    assert "-no-color" in argv_file.read_text().split()
    assert "\x1b" not in raised.value.message
    assert "Error: No outputs found" in raised.value.message
