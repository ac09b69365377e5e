"""--notify on the ECS simulator: deploy, rollback and redeploy post their start and outcome,
with who ran them; a webhook that fails costs a warning, never the deploy."""

from __future__ import annotations

from localcloud.runtime import scripted

from ops.tests.support.webhook import receiver


def test_deploy_rollback_and_redeploy_post_start_and_outcome(make_scenario):
    s = make_scenario(behaviours={"v2": scripted.CRASHES_AT_START})
    digest = s.push("v2")
    with receiver() as hook:
        s.env.update(
            {
                "GITHUB_ACTIONS": "true",
                "GITHUB_SERVER_URL": "https://github.com",
                "GITHUB_REPOSITORY": "acme/api",
                "GITHUB_RUN_ID": "4242",
                "GITHUB_ACTOR": "jane",
            }
        )
        deploy = s.opsctl("-o", "json", "deploy", "--image-tag", "v2", "--notify", hook.url)
        assert deploy.returncode == 10, deploy
        assert deploy.json["warnings"] == []
        s.env["OPSCTL_NOTIFY_URL"] = hook.url  # what the workflows pass from a secret
        assert s.opsctl("redeploy").returncode == 0
        assert s.opsctl("rollback", "--to-revision", "1").returncode == 0  # nothing to do
        posted = hook.wait_for(5)
    events = [
        (p["opsctl"]["command"], p["opsctl"]["event"], p["opsctl"]["outcome"]) for p in posted
    ]
    assert events == [
        ("deploy", "started", None),
        ("deploy", "finished", "rolled_back"),
        ("redeploy", "started", None),
        ("redeploy", "finished", "succeeded"),
        ("rollback", "finished", "unchanged"),
    ]
    started, failed = posted[0]["opsctl"], posted[1]["opsctl"]
    assert started["deployment_id"] == failed["deployment_id"]
    assert (failed["from_revision"], failed["to_revision"], failed["exit_code"]) == (1, 2, 10)
    assert failed["image_digest"] == digest
    assert failed["diff_summary"][0].startswith("containerDefinitions[0].image: ")
    assert failed["who"]["caller_arn"].startswith("arn:aws:")
    assert failed["who"]["ci_run_url"] == "https://github.com/acme/api/actions/runs/4242"
    assert posted[1]["text"].startswith("❌ deploy FAILED and was ROLLED BACK")
    # The verdict opsctl recorded names the caller and the run too (opsctl changes reads it).
    tags = s.client("ecs").describe_task_definition(
        taskDefinition=f"{s.stack.family}:2", include=["TAGS"]
    )["tags"]
    by = {t["key"]: t["value"] for t in tags}["opsctl:failed-by"]
    assert by.endswith(" https://github.com/acme/api/actions/runs/4242")


def test_a_failing_webhook_is_a_warning_and_never_fails_the_deploy(make_scenario):
    s = make_scenario()
    s.push("v2")
    with receiver() as hook:
        hook.status = 500
        run = s.opsctl("-o", "json", "deploy", "--image-tag", "v2", "--notify", hook.url)
        hook.wait_for(2)
    assert run.returncode == 0, run
    doc = run.json
    assert doc["outcome"] == "succeeded"
    started, finished = doc["warnings"]
    assert started.startswith("could not notify http://127.0.0.1 (started): HTTP 500")
    assert finished.startswith("could not notify http://127.0.0.1 (finished): HTTP 500")
    assert "not-a-real-secret" not in run.stdout + run.stderr
    assert "warning: could not notify" in run.stderr


def test_a_bad_notify_url_changes_nothing(make_scenario, iam_guard):
    s = make_scenario()
    s.push("v2")
    iam_guard.calls.clear()
    run = s.opsctl("deploy", "--image-tag", "v2", "--notify", "http://hooks.example.com/x/secret")
    assert run.returncode == 2, run
    assert "expected an https:// URL" in run.stderr
    assert "secret" not in run.stderr
    assert iam_guard.calls == []
    assert s.service()["taskDefinition"].endswith(":1")
