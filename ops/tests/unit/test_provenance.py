"""Where opsctl's history comes from besides AWS: the CI run (settings), the value of the
``opsctl:*-by`` tags, the Terraform state's location (--state-url, an initialised --tf-dir)."""

from __future__ import annotations

import json

import pytest
from opsctl import lkg, settings
from opsctl.errors import UsageError
from opsctl.s3url import parse_s3_url
from opsctl.target import resolve_spec, state_url_of

GITHUB = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "acme/api",
    "GITHUB_RUN_ID": "12345",
    "GITHUB_RUN_ATTEMPT": "2",
    "GITHUB_ACTOR": "jane",
    "GITHUB_WORKFLOW": "ECS Deploy",
}


def test_the_github_run_is_named_by_its_url_and_actor():
    run = settings.ci_run(GITHUB)
    assert run == settings.CiRun(
        "https://github.com/acme/api/actions/runs/12345/attempts/2", "jane", "ECS Deploy"
    )
    assert settings.ci_run({}) is None
    assert settings.ci_run({**GITHUB, "GITHUB_ACTIONS": "false"}) is None


@pytest.mark.parametrize(
    "changes",
    [
        {"GITHUB_REPOSITORY": "acme/api?x=<script>"},
        {"GITHUB_RUN_ID": "12 OR 1"},
        {"GITHUB_SERVER_URL": "http://github.example"},
    ],
)
def test_odd_run_variables_name_no_run(changes):
    assert settings.ci_run({**GITHUB, **changes}) is None


def test_by_tags_hold_who_and_the_run_in_what_ecs_allows():
    arn = "arn:aws:sts::123456789012:assumed-role/deploy/GitHubActions"
    url = "https://github.com/acme/api/actions/runs/12345"
    assert lkg.by_value(arn, url) == f"{arn} {url}"
    assert lkg.by_value(None) is None
    odd = lkg.by_value("arn:aws:iam::1:user/a,b;c" + "x" * 400)
    assert odd is not None
    assert len(odd) == lkg.TAG_VALUE_LIMIT
    assert "," not in odd
    assert ";" not in odd


@pytest.mark.parametrize(
    "value",
    ["https://x/y", "s3://", "s3://bucket", "s3://bucket/", "s3://Bad_Bucket/k", "s3://b/k/"],
)
def test_bad_state_urls_are_usage_errors(value):
    with pytest.raises(UsageError, match="expected s3://<bucket>/<key>"):
        parse_s3_url(value)


def test_a_state_url():
    assert parse_s3_url("s3://tfstate-1-us-east-1/prod/terraform.tfstate") == (
        "tfstate-1-us-east-1",
        "prod/terraform.tfstate",
    )


def _initialised(root, backend):
    (root / ".terraform").mkdir()
    (root / ".terraform" / "terraform.tfstate").write_text(json.dumps({"backend": backend}))


def test_an_initialised_root_names_its_s3_state(tmp_path):
    _initialised(
        tmp_path,
        {"type": "s3", "config": {"bucket": "tfstate-1-eu", "key": "prod/terraform.tfstate"}},
    )
    assert state_url_of(tmp_path) == "s3://tfstate-1-eu/prod/terraform.tfstate"


def test_other_roots_name_no_state(tmp_path):
    assert state_url_of(tmp_path) is None  # not initialised
    _initialised(tmp_path, {"type": "local", "config": {"path": "x"}})
    assert state_url_of(tmp_path) is None


def test_target_file_sources_carry_no_state_url(tmp_path):
    target = tmp_path / "t.json"
    target.write_text(json.dumps({"cluster": "c", "service": "s"}))
    spec = resolve_spec(cluster=None, service=None, tf_dir=None, target_file=target, environ={})
    assert spec.state_url is None
