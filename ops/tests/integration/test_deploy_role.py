"""opsctl with exactly the deploy role's permissions (infra/bootstrap/iam.tf).

Every test of this suite already runs opsctl that way (conftest: iam_guard). These tests name
the chain the review found broken (the first deploy records last known good, rollback and
diagnose then work), check that bookkeeping a role may not do never blocks a deploy or a status,
and that the policy read from iam.tf is the one terraform renders.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace

import pytest
from localcloud.runtime import scripted

from ops.tests.support.deploy_policy import REPO, load


def _without(guard, action):
    """The deploy policy with ``action`` taken out of every statement."""
    guard.statements = tuple(
        replace(s, actions=tuple(a for a in s.actions if a != action)) for s in guard.statements
    )
    guard.expect_refusals = True


def test_first_deploy_as_the_deploy_role_records_last_known_good_and_rollback_uses_it(
    make_scenario, iam_guard
):
    s = make_scenario(behaviours={"v2": scripted.HEALTHY})
    s.push("v2")
    deploy = s.opsctl("--output", "json", "deploy", "--image-tag", "v2")
    assert deploy.returncode == 0, deploy
    assert deploy.json["warnings"] == []
    ecs = s.client("ecs")
    for revision in (1, 2):  # the baseline (Terraform's revision) and the verified deploy
        tags = ecs.describe_task_definition(
            taskDefinition=f"{s.stack.family}:{revision}", include=["TAGS"]
        )["tags"]
        assert "opsctl:verified-at" in {t["key"] for t in tags}, revision
    rollback = s.opsctl("--output", "json", "rollback")
    assert rollback.returncode == 0, rollback
    assert rollback.json["to_revision"]["revision"] == 1
    assert s.opsctl("diagnose").returncode == 0
    made = {call.operation for call in iam_guard.calls}
    assert {"ecs:TagResource", "ecs:UpdateService", "cloudwatch:GetMetricData"} <= made
    assert iam_guard.refusals() == []


def test_a_refused_tag_never_blocks_a_deploy_and_is_a_warning(make_scenario, iam_guard):
    s = make_scenario()
    s.push("v2")
    _without(iam_guard, "ecs:TagResource")
    run = s.opsctl("--output", "json", "deploy", "--image-tag", "v2")
    assert run.returncode == 0, run
    doc = run.json
    assert doc["outcome"] == "succeeded"
    baseline, verdict = doc["warnings"]
    assert baseline.startswith("could not record api:1 (running now) as known good")
    assert "AccessDeniedException" in baseline
    assert verdict.startswith("could not record the verdict (succeeded) in api:2's tags")
    assert s.service()["taskDefinition"].endswith(":2")
    assert {r.action for c in iam_guard.refusals() for r in c.refused} == {"ecs:TagResource"}


def test_an_image_the_role_may_not_tag_is_still_deployed_with_a_warning(make_scenario, iam_guard):
    s = make_scenario()
    digest = s.push("v2")
    _without(iam_guard, "ecr:PutImage")
    run = s.opsctl("--output", "json", "deploy", "--image-tag", "v2")
    assert run.returncode == 0, run
    doc = run.json
    assert doc["outcome"] == "succeeded"
    (warning,) = doc["warnings"]
    assert warning.startswith(f"could not tag {s.stack.repository_url}@{digest} deployed-*")
    assert "AccessDenied" in warning
    assert "infra/modules/ecr/README.md" in warning
    assert s.service()["taskDefinition"].endswith(":2")
    assert {r.action for c in iam_guard.refusals() for r in c.refused} == {"ecr:PutImage"}


def test_status_without_permission_to_list_alarms_still_answers(make_scenario, iam_guard):
    s = make_scenario()
    _without(iam_guard, "cloudwatch:DescribeAlarms")
    run = s.opsctl("--output", "json", "status")
    assert run.returncode == 0, run
    doc = run.json
    assert doc["alarms"] == []
    assert "AccessDenied" in doc["alarms_error"]
    assert doc["running"] == 2
    assert "Alarms: not read" in s.opsctl("status").stdout


@pytest.mark.needs_terraform
def test_terraform_renders_the_policy_this_suite_enforces(harness, tmp_path):
    from localcloud.cloud.terraform import TerraformRoot

    root = TerraformRoot(
        REPO / "infra",
        "bootstrap",
        workdir=tmp_path,
        endpoint=harness.endpoint,
        variables={"github": {"repository": "example-org/aws-fastapi-devsecops"}},
    )
    root.init()
    root.plan()
    shown = subprocess.run(
        ["terraform", "show", "-json", "-no-color", "harness.tfplan"],
        cwd=root.directory,
        env=root.env,
        capture_output=True,
        text=True,
        check=True,
    )
    resources = json.loads(shown.stdout)["prior_state"]["values"]["root_module"]["resources"]
    rendered = {
        r["index"]: json.loads(r["values"]["json"])
        for r in resources
        if r["address"].startswith('data.aws_iam_policy_document.deploy["')
    }
    assert set(rendered) == {"dev", "prod"}
    for environment, document in rendered.items():
        ours = load(environment, f"fastapi-{environment}", "us-east-1", "123456789012")
        assert _normalised(document["Statement"]) == {
            s.sid: (
                s.effect,
                frozenset(s.actions),
                frozenset(s.resources),
                frozenset((c.test, c.variable, frozenset(c.values)) for c in s.conditions),
            )
            for s in ours
        }, environment


def _normalised(statements: list[dict]) -> dict:
    def as_set(value: object) -> frozenset[str]:
        return frozenset([value] if isinstance(value, str) else value)  # type: ignore[arg-type]

    return {
        s["Sid"]: (
            s.get("Effect", "Allow"),
            as_set(s["Action"]),
            as_set(s["Resource"]),
            frozenset(
                (test, variable, as_set(values))
                for test, conditions in s.get("Condition", {}).items()
                for variable, values in conditions.items()
            ),
        )
        for s in statements
    }
