"""Notifications: ``--notify URL`` (or ``OPSCTL_NOTIFY_URL``) posts the start and the outcome of
``deploy``, ``rollback`` and ``redeploy`` as JSON to a webhook.

The body is a Slack incoming-webhook message (``text`` plus Block Kit ``blocks``:
https://api.slack.com/messaging/webhooks, https://api.slack.com/reference/block-kit/blocks) with
the same facts, structured, under ``opsctl`` for any other consumer (docs/opsctl.md,
"Notifications").

A notification is bookkeeping, never part of the outcome: it is sent with a total budget of
:data:`TIMEOUT_SECONDS`, a failure (refused, unreachable, slow, not 2xx) is a warning on stderr
and in the result's ``warnings``, and the exit code stays the deploy's. The URL is a secret
(a Slack webhook's path is its credential): messages name only its scheme and host, and opsctl
never follows a redirect (it could take the payload to another host, or to plain HTTP). Only
``https://`` is accepted, ``http://`` only to a loopback address (tests, a local relay).
"""

from __future__ import annotations

import ipaddress
import json
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from opsctl import __version__
from opsctl.errors import UsageError
from opsctl.results import Change, ErrorInfo, Outcome, RevisionRef, RolloutResult, TargetInfo

TIMEOUT_SECONDS = 5.0
"""The most a notification may hold up a deploy (connect, send and answer together)."""
SCHEMA_VERSION = 1
DIFF_LINES = 10
Event = Literal["started", "finished"]


def check_url(value: str) -> str:
    """The webhook URL, or UsageError (exit 2) saying what is wrong without repeating it."""
    parts = urllib.parse.urlsplit(value)
    if parts.username is not None or parts.password is not None:
        raise UsageError(
            "--notify: credentials in the URL are not supported (webhooks carry their secret "
            "in the path)"
        )
    if parts.scheme == "https" and parts.hostname:
        return value
    if parts.scheme == "http" and parts.hostname and _loopback(parts.hostname):
        return value
    raise UsageError(
        "--notify: expected an https:// URL (http:// only to a loopback address such as 127.0.0.1)"
    )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redacted(url: str) -> str:
    """What may be shown of the URL: its scheme and host (the path is the secret)."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}"


# --- what is sent ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Who:
    """Who ran opsctl: the AWS identity and, in GitHub Actions, the run."""

    caller_arn: str | None
    ci_run_url: str | None
    ci_actor: str | None


@dataclass(frozen=True)
class Message:
    """The ``opsctl`` part of a notification (stable: consumers read it; add fields only)."""

    schema_version: int
    event: Event
    """``started``: ECS accepted the update and the deployment runs; ``finished``: opsctl
    reached an outcome (or stopped on an error, then ``error`` says why)."""
    command: str
    outcome: str | None
    """The outcome (docs/opsctl.md, exit codes); ``None`` when started or on an error."""
    exit_code: int | None
    target: TargetInfo
    deployment_id: str | None
    from_revision: int | None
    to_revision: int | None
    image: str | None
    image_digest: str | None
    diff_summary: tuple[str, ...]
    """The task definition's differences, one line each (``app.image: a → b``)."""
    warnings: tuple[str, ...]
    error: ErrorInfo | None
    who: Who
    at: datetime


def _digest(image: str | None) -> str | None:
    from opsctl.images import parse_image  # imported late: `--notify` is checked without boto3

    return parse_image(image).digest if image else None


def _mrkdwn(text: str) -> str:
    """Text for Slack's mrkdwn: &, < and > escaped (https://api.slack.com/reference/surfaces/formatting#escaping)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def payload(message: Message, headline: str) -> dict[str, Any]:
    """The JSON body: Slack's ``text`` and ``blocks``, and the structured ``opsctl`` copy."""
    from opsctl.output import jsonable

    t = message.target
    revision = (
        f"{message.from_revision if message.from_revision is not None else '?'} → "
        f"{message.to_revision if message.to_revision is not None else 'new'}"
    )
    image = _short_image(message.image)
    text = f"{headline}: {t.service} ({t.cluster}, {t.region}), revision {revision}"
    if image:
        text += f", {image}"
    fields = [
        f"*Service*\n{_mrkdwn(t.service)} in {_mrkdwn(t.cluster)} ({_mrkdwn(t.region)})",
        f"*Revision*\n{revision}",
    ]
    if image:
        fields.append(f"*Image*\n`{_mrkdwn(image)}`")
    if message.deployment_id:
        fields.append(f"*Deployment*\n`{_mrkdwn(message.deployment_id)}`")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": headline[:150]}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]},
    ]
    notes = [f"• {_mrkdwn(line)}" for line in message.diff_summary[:DIFF_LINES]]
    if notes:
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "*Changes*\n" + "\n".join(notes)},
            }
        )
    problems = [f"⚠️ {_mrkdwn(w)}" for w in message.warnings]
    if message.error is not None:
        problems.insert(0, f"❌ {_mrkdwn(message.error.message)}")
    if problems:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(problems)[:3000]}}
        )
    who = [f"by `{_mrkdwn(message.who.caller_arn or 'an unknown caller')}`"]
    if message.who.ci_run_url:
        actor = f" ({_mrkdwn(message.who.ci_actor)})" if message.who.ci_actor else ""
        who.append(f"<{message.who.ci_run_url}|GitHub Actions run>{actor}")
    who.append(f"opsctl {__version__}")
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(who)}]})
    return {"text": text, "blocks": blocks, "opsctl": jsonable(message)}


def _short_image(image: str | None) -> str | None:
    if not image:
        return None
    name = image.rsplit("/", 1)[-1]
    repository, _, digest = name.partition("@")
    return f"{repository}@{digest[:15]}…" if digest else name


# --- sending -----------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:  # noqa: ANN401 - urllib's
        return None


def post(url: str, body: bytes, timeout: float) -> None:
    """POST ``body`` as JSON; raise OSError (urllib's errors are OSErrors) unless answered
    2xx. No redirect is followed; loopback URLs bypass any proxy of the environment."""
    handlers: list[urllib.request.BaseHandler] = [_NoRedirect()]
    if _loopback(urllib.parse.urlsplit(url).hostname or ""):
        handlers.append(urllib.request.ProxyHandler({}))
    opener = urllib.request.build_opener(*handlers)
    # S310: check_url admitted https:// (and http:// to a loopback address) only; not file://.
    request = urllib.request.Request(  # noqa: S310
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": f"opsctl/{__version__}"},
    )
    with opener.open(request, timeout=timeout) as response:
        status = int(response.status)
        response.read(4096)
    if not 200 <= status < 300:
        raise OSError(f"HTTP {status}")


Sender = Callable[[str, bytes, float], None]


def send(url: str, body: dict[str, Any], sender: Sender = post) -> str | None:
    """Send within :data:`TIMEOUT_SECONDS` in all; the warning to show, or None when sent."""
    data = json.dumps(body).encode()
    outcome: list[str | None] = []

    def attempt() -> None:
        try:
            sender(url, data, TIMEOUT_SECONDS)
        except urllib.error.HTTPError as error:
            outcome.append(f"HTTP {error.code}")
        except (OSError, ValueError) as error:  # refused, unreachable, TLS, a timeout
            reason = getattr(error, "reason", None) or error
            outcome.append(str(reason) or type(error).__name__)
        else:
            outcome.append(None)

    # A thread bounds the whole exchange (urllib's timeout bounds each socket operation):
    # a webhook that trickles its answer must not hold the deploy. A daemon thread still
    # waiting ends with the process.
    worker = threading.Thread(target=attempt, name="opsctl-notify", daemon=True)
    worker.start()
    worker.join(TIMEOUT_SECONDS + 0.5)
    if not outcome:
        return f"no answer within {TIMEOUT_SECONDS:.0f} s"
    return outcome[0]


class Notifier:
    """Posts a command's start and outcome; never raises: failures become warnings."""

    def __init__(
        self,
        url: str,
        command: str,
        target: Callable[[], TargetInfo],
        who: Callable[[], Who],
        sender: Sender = post,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.url = url
        self.command = command
        self._target = target
        self._who = who
        self._sender = sender
        self._now = now

    def _send(self, message: Message, headline: str) -> tuple[str, ...]:
        problem = send(self.url, payload(message, headline), self._sender)
        if problem is None:
            return ()
        warning = (
            f"could not notify {redacted(self.url)} ({message.event}): {problem}; the "
            f"{self.command} itself is not affected"
        )
        print(f"opsctl {self.command}: warning: {warning}", file=sys.stderr)
        return (warning,)

    def _message(self, event: Event, **fields: Any) -> Message:  # noqa: ANN401 - Message's fields
        base = Message(
            schema_version=SCHEMA_VERSION,
            event=event,
            command=self.command,
            outcome=None,
            exit_code=None,
            target=self._target(),
            deployment_id=None,
            from_revision=None,
            to_revision=None,
            image=None,
            image_digest=None,
            diff_summary=(),
            warnings=(),
            error=None,
            who=self._who(),
            at=self._now(),
        )
        return replace(base, **fields)

    def started(
        self,
        deployment_id: str,
        from_revision: RevisionRef | None,
        to_revision: RevisionRef | None,
        changes: Sequence[Change],
    ) -> tuple[str, ...]:
        """ECS accepted the update: post the start; the warnings to add to the result."""
        image = to_revision.image if to_revision else None
        message = self._message(
            "started",
            deployment_id=deployment_id,
            from_revision=from_revision.revision if from_revision else None,
            to_revision=to_revision.revision if to_revision else None,
            image=image,
            image_digest=_digest(image),
            diff_summary=_summary(changes),
        )
        return self._send(message, f"🚀 {self.command} started")

    def finished(self, result: RolloutResult) -> RolloutResult:
        """Post the outcome; the result with any warning about the notification added.
        Nothing is sent for a dry run (nothing happened)."""
        if result.outcome == Outcome.DRY_RUN:
            return result
        from opsctl.output import outcome_words

        image = result.to_revision.image if result.to_revision else None
        message = self._message(
            "finished",
            outcome=result.outcome.value,
            exit_code=result.exit_code,
            deployment_id=result.deployment_id,
            from_revision=result.from_revision.revision if result.from_revision else None,
            to_revision=result.to_revision.revision if result.to_revision else None,
            image=image,
            image_digest=_digest(image),
            diff_summary=_summary(result.changes),
            warnings=result.warnings,
        )
        icon = "✅" if result.exit_code == 0 and not result.warnings else "⚠️"
        icon = "❌" if result.exit_code != 0 else icon
        sent = self._send(message, f"{icon} {self.command} {outcome_words(result.outcome)}")
        return replace(result, warnings=(*result.warnings, *sent)) if sent else result

    def failed(self, error: ErrorInfo) -> None:
        """The command stopped on an error: post that (a warning on stderr if it fails)."""
        message = self._message("finished", exit_code=error.exit_code, error=error)
        self._send(message, f"❌ {self.command} failed ({error.type}, exit {error.exit_code})")


def _summary(changes: Sequence[Change]) -> tuple[str, ...]:
    from opsctl.timeline import describe_change

    return tuple(describe_change(c) for c in changes)
