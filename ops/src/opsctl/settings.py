"""What opsctl reads from its environment besides AWS's default chain and its own options: the
CI run it is part of.

GitHub Actions sets these variables in every job
(https://docs.github.com/en/actions/reference/workflows-and-actions/variables#default-environment-variables);
a run's page is ``$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID``. opsctl
names the run in its notifications and in the verdicts it records, so "who deployed" reaches
past the role's name to the run and the person who started it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

_SAFE = re.compile(r"^[A-Za-z0-9._/-]+$")


@dataclass(frozen=True)
class CiRun:
    """The GitHub Actions run opsctl runs in."""

    url: str
    actor: str | None
    """``GITHUB_ACTOR``: who started the run (or re-ran it: ``GITHUB_TRIGGERING_ACTOR``)."""
    workflow: str | None


def ci_run(environ: Mapping[str, str] | None = None) -> CiRun | None:
    """The run, when opsctl runs in GitHub Actions with the run's variables set."""
    env = os.environ if environ is None else environ
    if env.get("GITHUB_ACTIONS") != "true":
        return None
    server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    repository, run_id = env.get("GITHUB_REPOSITORY", ""), env.get("GITHUB_RUN_ID", "")
    # Values go into URLs, tags and messages: anything but a plain name or number is refused.
    if not (server.startswith("https://") and _SAFE.match(repository) and run_id.isdigit()):
        return None
    url = f"{server}/{repository}/actions/runs/{run_id}"
    attempt = env.get("GITHUB_RUN_ATTEMPT", "1")
    if attempt.isdigit() and attempt != "1":
        url += f"/attempts/{attempt}"
    actor = env.get("GITHUB_TRIGGERING_ACTOR") or env.get("GITHUB_ACTOR")
    return CiRun(url, actor if actor and _SAFE.match(actor) else None, env.get("GITHUB_WORKFLOW"))
