"""Notifications: what is posted (Slack's text and blocks, the structured opsctl copy), within
a bounded time, and that a failure is a warning that never names the webhook's secret path."""

from __future__ import annotations

import socket
import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from opsctl import notify
from opsctl.errors import UsageError
from opsctl.results import (
    Change,
    ErrorInfo,
    Outcome,
    RevisionRef,
    RolloutResult,
    TargetInfo,
)

from ops.tests.support.webhook import receiver

NOW = datetime(2026, 11, 27, 3, 19, tzinfo=UTC)
TARGET = TargetInfo("api-cluster", "api", "us-east-1", "target file")
DIGEST = "sha256:02768d18" + "2" * 56
IMAGE = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/api@{DIGEST}"
WHO = notify.Who(
    "arn:aws:sts::123456789012:assumed-role/deploy/GitHubActions",
    "https://github.com/acme/api/actions/runs/7",
    "jane",
)
CHANGE = Change("containerDefinitions[0].image", "api@sha256:0a6f", IMAGE)


def result(outcome: Outcome = Outcome.SUCCEEDED, **changes: object) -> RolloutResult:
    base = RolloutResult(
        command="deploy",
        outcome=outcome,
        exit_code=int(outcome.exit_code),
        target=TARGET,
        deployment_id="ecs-svc/2",
        from_revision=RevisionRef(1, "arn:td:1", "api@sha256:0a6f"),
        to_revision=RevisionRef(2, "arn:td:2", IMAGE),
        image=None,
        diff=None,
        changes=(CHANGE,),
        rollout=None,
        verification=None,
        stopped_tasks=(),
        events=(),
        explanation=(),
        elapsed_seconds=1.0,
        resume_command=None,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def notifier(url: str, **kwargs: object) -> notify.Notifier:
    return notify.Notifier(url, "deploy", lambda: TARGET, lambda: WHO, now=lambda: NOW, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.slack.com/services/T/B/x",
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://[::1]:9/h",
    ],
)
def test_https_or_loopback_http_is_accepted(url):
    assert notify.check_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/services/x",
        "ftp://example.com/x",
        "file:///etc/passwd",
        # pragma: allowlist nextline secret - a made-up URL with credentials, which must be refused
        "https://user:pass@hooks.example.com/x",
        "hooks.slack.com/services/x",
    ],
)
def test_anything_else_is_a_usage_error_that_does_not_repeat_the_url(url):
    with pytest.raises(UsageError) as raised:
        notify.check_url(url)
    assert url not in raised.value.message
    assert "pass" not in raised.value.message


def test_start_and_outcome_are_posted_as_slack_messages_with_the_facts():
    with receiver() as hook:
        n = notifier(hook.url)
        assert n.started("ecs-svc/2", result().from_revision, result().to_revision, [CHANGE]) == ()
        finished = n.finished(result())
        started, done = hook.wait_for(2)
    assert finished.warnings == ()
    assert hook.headers[0]["Content-Type"] == "application/json"
    assert hook.headers[0]["User-Agent"].startswith("opsctl/")
    assert started["text"].startswith(
        "🚀 deploy started: api (api-cluster, us-east-1), revision 1 → 2"
    )
    assert done["text"].startswith("✅ deploy succeeded: api (api-cluster, us-east-1)")
    assert [b["type"] for b in done["blocks"]] == ["header", "section", "section", "context"]
    context = done["blocks"][-1]["elements"][0]["text"]
    assert "<https://github.com/acme/api/actions/runs/7|GitHub Actions run> (jane)" in context
    facts = done["opsctl"]
    assert facts["event"] == "finished"
    assert (facts["outcome"], facts["exit_code"]) == ("succeeded", 0)
    assert (facts["from_revision"], facts["to_revision"]) == (1, 2)
    assert facts["image_digest"] == DIGEST
    assert facts["deployment_id"] == "ecs-svc/2"
    assert facts["who"]["caller_arn"] == WHO.caller_arn
    assert facts["who"]["ci_run_url"] == WHO.ci_run_url
    assert facts["diff_summary"] == [
        "containerDefinitions[0].image: api@sha256:0a6f → api@sha256:02768d18…"
    ]
    assert facts["at"] == "2026-11-27T03:19:00Z"
    assert started["opsctl"]["event"] == "started"
    assert started["opsctl"]["outcome"] is None


def test_a_rolled_back_deploy_reads_as_a_failure():
    with receiver() as hook:
        notifier(hook.url).finished(result(Outcome.ROLLED_BACK))
        (posted,) = hook.wait_for(1)
    assert posted["text"].startswith("❌ deploy FAILED and was ROLLED BACK")
    assert posted["opsctl"]["exit_code"] == 10


def test_an_error_is_posted_too():
    with receiver() as hook:
        notifier(hook.url).failed(ErrorInfo("NotFoundError", "image tag 'x' <b>", None, 5))
        (posted,) = hook.wait_for(1)
    assert posted["opsctl"]["error"]["type"] == "NotFoundError"
    assert "image tag 'x' &lt;b&gt;" in posted["blocks"][-2]["text"]["text"]  # mrkdwn escaped


def test_a_dry_run_sends_nothing():
    with receiver() as hook:
        notifier(hook.url).finished(result(Outcome.DRY_RUN))
        time.sleep(0.2)
    assert hook.received == []


def test_a_refused_notification_is_a_warning_without_the_secret(capsys):
    with receiver() as hook:
        hook.status = 404
        out = notifier(hook.url).finished(result())
    (warning,) = out.warnings
    assert warning.startswith("could not notify http://127.0.0.1 (finished): HTTP 404")
    assert "not-a-real-secret" not in warning
    assert out.exit_code == 0
    assert out.outcome == Outcome.SUCCEEDED
    assert "not-a-real-secret" not in capsys.readouterr().err


def test_nobody_listening_is_a_warning():
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = notifier(f"http://127.0.0.1:{port}/hook").finished(result())
    assert "could not notify http://127.0.0.1 (finished)" in out.warnings[0]


def test_a_slow_webhook_holds_the_deploy_a_few_seconds_at_most(monkeypatch):
    monkeypatch.setattr(notify, "TIMEOUT_SECONDS", 0.5)
    with receiver() as hook:
        hook.delay = 3
        began = time.monotonic()
        out = notifier(hook.url).finished(result())
        spent = time.monotonic() - began
    assert spent < 1.5
    assert "could not notify" in out.warnings[0]


def test_a_redirect_is_not_followed():
    with receiver() as elsewhere, receiver() as hook:
        hook.redirect_to = elsewhere.url
        out = notifier(hook.url).finished(result())
        time.sleep(0.2)
    assert elsewhere.received == []
    assert "HTTP 307" in out.warnings[0]
