"""CloudWatch Logs JSON filter patterns in the emulator.

`opsctl logs --filter '{ $.status >= 500 }'` (runbook 4.1) selects on fields in the local cloud
as it does in AWS, instead of returning every event as moto alone does."""

from __future__ import annotations

import json
import time

import botocore.exceptions
import pytest
from localcloud.emulator import Endpoint, client
from localcloud.moto_fixes.logs import FilterPatternError, compile_json_pattern

ACCESS = json.dumps(
    {
        "level": "INFO",
        "message": "request",
        "request_id": "req-7f3a",
        "method": "POST",
        "path": "/process",
        "status": 503,
        "duration_ms": 12.5,
        "tags": ["a", "b"],
        "error": None,
        "sampled": True,
    }
)


@pytest.mark.parametrize(
    ("pattern", "matches"),
    [
        ("{ $.status >= 500 }", True),
        ("{ $.status < 500 }", False),
        ("{ $.status = 503 }", True),
        ("{ $.status != 503 }", False),
        ('{ $.request_id = "req-7f3a" }', True),
        ("{ $.request_id = req-* }", True),
        ('{ $.path = "/health" }', False),
        ('{ $.path != "/health" }', True),
        ('{ $.method = "POST" && $.duration_ms > 10 }', True),
        ('{ $.method = "GET" && $.duration_ms > 10 }', False),
        ('{ $.method = "GET" || $.status >= 500 }', True),
        ('{ ($.method = "GET" || $.method = "POST") && $.status = 200 }', False),
        ("{ $.tags[1] = b }", True),
        ("{ $.tags[5] = b }", False),
        ("{ $.error IS NULL }", True),
        ("{ $.sampled IS TRUE }", True),
        ("{ $.sampled IS FALSE }", False),
        ("{ $.trace_id NOT EXISTS }", True),
        ("{ $.status NOT EXISTS }", False),
        ("{ $.missing = 1 }", False),
        ('{ $.status = "503" }', False),  # a number is not the string "503"
    ],
)
def test_json_patterns_select_on_fields(pattern: str, matches: bool) -> None:
    assert compile_json_pattern(pattern)(ACCESS) is matches


def test_a_message_that_is_not_json_never_matches() -> None:
    assert compile_json_pattern("{ $.status >= 500 }")("status 503 from upstream") is False


@pytest.mark.parametrize(
    "pattern",
    ["{ $.status >> 5 }", "{ status = 5 }", "{ $.path > abc }", "{ ($.a = 1 }", "{ $.a = }"],
)
def test_a_pattern_it_cannot_read_is_refused(pattern: str) -> None:
    with pytest.raises(FilterPatternError):
        compile_json_pattern(pattern)


def test_the_emulator_filters_json_events_over_http(endpoint: Endpoint) -> None:
    logs = client(endpoint.url, endpoint.region, "logs")
    group = f"/aws/ecs/filter-{time.time_ns()}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="ecs/app/1")
    now = int(time.time() * 1000)
    messages = [ACCESS, json.dumps({"status": 200, "path": "/health"}), "plain text line"]
    logs.put_log_events(
        logGroupName=group,
        logStreamName="ecs/app/1",
        logEvents=[{"timestamp": now + i, "message": m} for i, m in enumerate(messages)],
    )

    def found(pattern: str) -> list[str]:
        events = logs.filter_log_events(logGroupName=group, filterPattern=pattern)["events"]
        return [e["message"] for e in events]

    assert found("{ $.status >= 500 }") == [ACCESS]
    assert found("plain") == ["plain text line"]  # moto's term patterns still work
    with pytest.raises(botocore.exceptions.ClientError, match="InvalidParameterException"):
        found("{ $.status >> 5 }")
