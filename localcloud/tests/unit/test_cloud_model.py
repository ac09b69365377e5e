"""cloud.json round-trips, and a damaged one is refused with the errors ``current()`` turns
into "no local cloud is running" (exit 3), never a traceback."""

from __future__ import annotations

import json

import pytest
from localcloud.cloud.model import Cloud

CLOUD = Cloud(
    endpoint="http://127.0.0.1:5100",
    region="us-east-1",
    alb_url="http://127.0.0.1:8100",
    cluster="fastapi-dev",
    service="fastapi-dev",
    log_group="/aws/ecs/fastapi-dev",
    repository="fastapi-dev",
    image_tags=("0123456789ab", "latest"),
    image_digest="sha256:" + "0" * 64,
    target_file="/tmp/target.json",
    env_file="/tmp/env",
    terraform_dir="/tmp/terraform",
    daemon_pid=4242,
    time_scale=0.1,
    started_at="2026-12-03T13:00:00+00:00",
    seconds={"total": 112.5, "terraform apply": 77.0},
)


def test_cloud_json_round_trips():
    assert Cloud.from_json(json.loads(json.dumps(CLOUD.to_json()))) == CLOUD


@pytest.mark.parametrize(
    ("field", "value"), [("daemon_pid", "not a pid"), ("time_scale", None), ("seconds", [])]
)
def test_a_field_of_the_wrong_kind_is_refused(field, value):
    document = CLOUD.to_json() | {field: value}
    with pytest.raises((TypeError, ValueError)):
        Cloud.from_json(document)


def test_a_missing_field_is_refused():
    document = CLOUD.to_json()
    del document["region"]
    with pytest.raises(KeyError):
        Cloud.from_json(document)
