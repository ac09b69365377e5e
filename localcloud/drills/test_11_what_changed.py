"""Drill 11, runbook 7 "Escalation path: review ECS events": what changed, and who changed it.

Someone edits the task definition by hand (a setting the service refuses) and points the
service at it with the AWS CLI, outside any pipeline. The tasks exit at start, the ECS circuit
breaker fails the deployment and rolls it back: the service is healthy again and nobody knows
why there was an outage. ``opsctl changes`` answers from one timeline: the deployment, who
started it (CloudTrail), its rollback, and the one line of the task definition that changed::

    aws ecs register-task-definition --cli-input-json file://taskdef.json   # APP_ENVIRONMENT=broken
    aws ecs update-service --cluster fastapi-dev --service fastapi-dev --task-definition <it>
    opsctl changes --since 1h                 # the deployment, by whom, rolled back, the diff
    opsctl -o markdown changes --since 1h     # the same, for docs/incidents/<date>-<slug>.md
"""

from __future__ import annotations

from typing import Any

import pytest
from localcloud.testing.drills import Operator, expect

pytestmark = pytest.mark.needs_terraform


def _break(registration: dict[str, Any]) -> None:
    container = registration["containerDefinitions"][0]
    settings = [e for e in container.get("environment", []) if e["name"] != "APP_ENVIRONMENT"]
    container["environment"] = [*settings, {"name": "APP_ENVIRONMENT", "value": "broken"}]


def test_changes_names_the_deployment_who_started_it_and_what_it_changed(cloud: Operator) -> None:
    before = cloud.service()["taskDefinition"]
    broken = cloud.register_variant(before.rsplit("/", 1)[1], _break)
    update = cloud.aws_json(
        "ecs", "update-service", "--cluster", cloud.cloud.cluster, "--service",
        cloud.cloud.service, "--task-definition", broken,
    )  # fmt: skip
    deployment = update["service"]["deployments"][0]["id"]

    def rolled_back() -> bool:
        service = cloud.service()
        return service["taskDefinition"] == before and cloud.healthy()

    cloud.wait("the circuit breaker to roll the edit back", rolled_back, timeout=120)

    run = cloud.opsctl("--output", "json", "changes", "--since", "1h")
    expect(run.returncode == 0, "opsctl changes failed", run)
    entries = run.json["changes"]
    ours = [e for e in entries if e["subject"] == deployment]
    started = next((e for e in ours if e["kind"] == "deployment"), None)
    expect(started is not None, f"no entry for deployment {deployment}", run)
    assert started is not None
    expect(started["who_source"] == "CloudTrail UpdateService", "who is not named", started)
    expect(bool(started["who"]), "no principal", started)
    expect(started["summary"].endswith(f"→ {broken.rsplit('/', 1)[1]}"), "revision", started)
    expect(any(e["kind"] == "rollback" for e in ours), "the rollback is missing", run)
    revision = broken.rsplit("/", 1)[1]
    registered = next(
        (e for e in entries if e["kind"] == "task_definition" and e["subject"] == revision), None
    )
    expect(registered is not None, f"no entry for {revision}", run)
    assert registered is not None
    expect(
        [c["new"] for c in registered["changes"] if c["new"] in ("broken", "APP_ENVIRONMENT")],
        "the diff does not show the bad setting",
        registered,
    )

    # The same for a person, and for the incident document (runbook 7, "Document incident").
    text = cloud.opsctl("changes", "--since", "1h")
    expect(text.returncode == 0, "opsctl changes (text) failed", text)
    expect(deployment in text.stdout, "the deployment is not in the text timeline", text)
    expect("broken" in text.stdout, "the text timeline does not show the diff", text)
    markdown = cloud.opsctl("--output", "markdown", "changes", "--since", "1h")
    expect(markdown.stdout.startswith("### What changed: "), "no markdown timeline", markdown)
