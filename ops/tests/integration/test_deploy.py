"""deploy, redeploy and watch against the emulator and the ECS simulator (opsctl a subprocess)."""

from __future__ import annotations

import json
import re
import signal
import subprocess

from localcloud.runtime import scripted
from localcloud.testing.stacks import StackOptions


def test_deploy_pins_the_digest_follows_its_deployment_and_verifies(make_scenario):
    s = make_scenario(behaviours={"v2": scripted.with_version(scripted.HEALTHY, "2.0.0")})
    digest = s.push("v2")
    run = s.opsctl("--output", "json", "deploy", "--image-tag", "v2")
    assert run.returncode == 0, run
    doc = run.json
    assert doc["outcome"] == "succeeded"
    assert doc["image"]["digest"] == digest
    assert doc["to_revision"]["revision"] == 2
    assert doc["to_revision"]["image"] == f"{s.stack.repository_url}@{digest}"
    assert doc["verification"]["targets_healthy"] is True
    assert doc["verification"]["smoke_status"] == 200
    assert doc["verification"]["version"] == "2.0.0"
    assert doc["deployment_id"].startswith("ecs-svc/")
    # Only the image changed in the new revision.
    assert [c["path"] for c in doc["changes"]] == ["containerDefinitions[0].image"]
    service = s.service()
    assert service["taskDefinition"].endswith(":2")
    assert service["deployments"][0]["id"] == doc["deployment_id"]
    assert service["deployments"][0]["rolloutState"] == "COMPLETED"
    # Progress went to stderr, with the followed deployment's counts.
    assert f"deployment {doc['deployment_id']}" in run.stderr
    assert "2/2 running" in run.stderr


def test_deploy_latest_resolves_the_newest_image(make_scenario, harness):
    s = make_scenario()
    digest = s.push("v2")
    # moto stamps pushes to the second; make the order explicit instead of sleeping.
    from moto.ecr.models import ecr_backends

    for image in (
        ecr_backends["123456789012"]["us-east-1"].repositories[s.stack.repository_name].images
    ):
        image.image_pushed_at = (
            2_000_000_000 if image.get_image_digest() == digest else 1_000_000_000
        )
    run = s.opsctl("--output", "json", "deploy")
    assert run.returncode == 0, run
    doc = run.json
    assert doc["image"]["requested"] == "latest"
    assert doc["image"]["digest"] == digest
    assert "newest image" in doc["image"]["note"]


def test_missing_image_tag_changes_nothing(make_scenario):
    s = make_scenario()
    before_revisions = s.revisions()
    before = s.service()
    run = s.opsctl("--output", "json", "deploy", "--image-tag", "does-not-exist")
    assert run.returncode == 5, run
    assert "does-not-exist" in run.stderr
    assert run.json["error"]["type"] == "NotFoundError"
    assert s.revisions() == before_revisions
    after = s.service()
    assert after["taskDefinition"] == before["taskDefinition"]
    assert [d["id"] for d in after["deployments"]] == [d["id"] for d in before["deployments"]]


def test_circuit_breaker_failure_is_rolled_back_and_never_reported_as_success(make_scenario):
    s = make_scenario(behaviours={"v2": scripted.CRASHES_AT_START})
    s.push("v2")
    run = s.opsctl("--output", "json", "deploy", "--image-tag", "v2")
    assert run.returncode == 10, run
    doc = run.json
    assert doc["outcome"] == "rolled_back"
    assert doc["rollout"]["state"] == "FAILED"
    assert doc["rollout"]["rollback_revision"] == 1
    assert doc["rollout"]["rollback_state"] == "COMPLETED"
    assert doc["verification"] is None
    assert any(
        "Essential container in task exited" in (t["stopped_reason"] or "")
        for t in doc["stopped_tasks"]
    )
    assert any(t["exit_code"] == 1 for t in doc["stopped_tasks"])
    assert any("circuit breaker" in line for line in doc["explanation"])
    # The service runs revision 1 again; revision 2 is marked failed.
    assert s.service()["taskDefinition"].endswith(":1")
    tags = s.client("ecs").describe_task_definition(
        taskDefinition=f"{s.stack.family}:2", include=["TAGS"]
    )["tags"]
    assert {"key": "opsctl:failed-outcome", "value": "rolled_back"} in tags
    text = s.opsctl("rollback").stdout  # the breaker already restored the last known good
    assert "nothing to do" in text
    assert "restored it after revision 2 failed" in text


def test_stuck_deployment_times_out_with_an_explanation(make_scenario):
    s = make_scenario(
        StackOptions(circuit_breaker=False, rollback=False), {"v2": scripted.NEVER_HEALTHY}
    )
    s.push("v2")
    run = s.opsctl("--output", "json", "deploy", "--image-tag", "v2", "--timeout", "4")
    assert run.returncode == 12, run
    doc = run.json
    assert doc["outcome"] == "timed_out"
    assert doc["rollout"]["state"] == "IN_PROGRESS"
    explanation = " ".join(doc["explanation"])
    assert "still IN_PROGRESS" in explanation
    assert "circuit breaker off" in explanation
    assert "Task failed ELB health checks" in explanation
    assert doc["resume_command"].endswith(f"watch --deployment {doc['deployment_id']}")
    # It keeps running in ECS: opsctl changed nothing when it gave up.
    assert s.service()["deployments"][0]["id"] == doc["deployment_id"]


def test_failed_smoke_test_is_classified(make_scenario):
    # The ALB checks "/" (which answers), but the app's /health says it is broken.
    s = make_scenario(StackOptions(health_check_path="/"), {"v2": scripted.HEALTH_ENDPOINT_BROKEN})
    s.push("v2")
    run = s.opsctl("--output", "json", "deploy", "--image-tag", "v2", "--verify-timeout", "1")
    assert run.returncode == 13, run
    doc = run.json
    assert doc["outcome"] == "unverified"
    assert doc["rollout"]["state"] == "COMPLETED"
    assert doc["verification"]["targets_healthy"] is True
    assert doc["verification"]["smoke_ok"] is False
    assert doc["verification"]["smoke_status"] == 503
    assert any("smoke test failed" in line for line in doc["explanation"])


def test_dry_run_prints_the_diff_and_registers_nothing(make_scenario):
    s = make_scenario()
    digest = s.push("v2")
    before = s.revisions()
    run = s.opsctl("deploy", "--image-tag", "v2", "--dry-run")
    assert run.returncode == 0, run
    assert "dry run: nothing changed" in run.stdout
    added = [line for line in run.stdout.splitlines() if line.startswith("+ ")]
    assert added == [f'+      "image": "{s.stack.repository_url}@{digest}",']
    assert s.revisions() == before


def test_no_wait_returns_at_once_and_watch_resumes(make_scenario):
    s = make_scenario()
    s.push("v2")
    started = s.opsctl("--output", "json", "deploy", "--image-tag", "v2", "--no-wait")
    assert started.returncode == 0, started
    doc = started.json
    assert doc["outcome"] == "started"
    watch = s.opsctl("--output", "json", "watch", "--deployment", doc["deployment_id"])
    assert watch.returncode == 0, watch
    assert watch.json["outcome"] == "succeeded"
    assert watch.json["deployment_id"] == doc["deployment_id"]


def test_deploy_refuses_while_another_deployment_runs(make_scenario):
    s = make_scenario(StackOptions(circuit_breaker=False), {"v2": scripted.NEVER_HEALTHY})
    s.push("v2")
    s.push("v3")
    assert s.opsctl("deploy", "--image-tag", "v2", "--no-wait").returncode == 0
    before = s.revisions()
    run = s.opsctl("deploy", "--image-tag", "v3")
    assert run.returncode == 6, run
    assert "still in progress" in run.stderr
    assert "watch --deployment" in run.stderr
    assert s.revisions() == before


def test_ctrl_c_leaves_the_service_as_is_and_says_how_to_resume(make_scenario):
    s = make_scenario(StackOptions(circuit_breaker=False), {"v2": scripted.NEVER_HEALTHY})
    s.push("v2")
    process = s.spawn("deploy", "--image-tag", "v2")
    seen = []
    for line in process.stderr:  # wait until opsctl reports it is following the deployment
        seen.append(line)
        if line.startswith("deployment ecs-svc/"):
            break
    process.send_signal(signal.SIGINT)
    try:
        _, rest = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError(f"opsctl ignored SIGINT; stderr so far: {''.join(seen)}") from None
    stderr = "".join(seen) + rest
    assert process.returncode == 130, stderr
    assert "nothing was changed" in stderr
    resume = "resume with: opsctl --cluster api-cluster --service api watch --deployment ecs-svc/"
    assert resume in stderr
    primary = s.service()["deployments"][0]
    assert primary["rolloutState"] == "IN_PROGRESS"
    assert primary["taskDefinition"].endswith(":2")


def test_redeploy_forces_a_new_deployment_of_the_same_revision(make_scenario):
    s = make_scenario()
    before = s.service()["deployments"][0]["id"]
    run = s.opsctl("--output", "json", "redeploy")
    assert run.returncode == 0, run
    doc = run.json
    assert doc["outcome"] == "succeeded"
    assert doc["deployment_id"] != before
    assert doc["from_revision"]["revision"] == doc["to_revision"]["revision"] == 1


def _image_tags(s, digest):
    ecr = s.client("ecr")
    found = ecr.describe_images(
        repositoryName=s.stack.repository_name, imageIds=[{"imageDigest": digest}]
    )
    return sorted(found["imageDetails"][0].get("imageTags", []))


def test_rollouts_tag_the_image_they_run_so_ecr_keeps_it(make_scenario, iam_guard):
    """infra/modules/ecr keeps images tagged deployed-*: deploy adds the tag, once."""
    s = make_scenario()
    digest = s.push("v2")
    assert _image_tags(s, digest) == ["v2"]
    run = s.opsctl("--output", "json", "deploy", "--image-tag", "v2")
    assert run.returncode == 0, run
    tags = _image_tags(s, digest)
    (deployed,) = [t for t in tags if t != "v2"]
    assert re.fullmatch(r"deployed-\d{8}T\d{6}Z", deployed), deployed
    assert any(n.startswith("tagged ") and deployed in n for n in run.json["notes"]), run.json
    assert run.json["warnings"] == []
    # A redeploy of the same image finds the tag and adds no other.
    again = s.opsctl("--output", "json", "redeploy")
    assert again.returncode == 0, again
    assert _image_tags(s, digest) == tags
    assert any(f"already carries {deployed}" in n for n in again.json["notes"]), again.json
    made = [c.operation for c in iam_guard.calls]
    assert made.count("ecr:PutImage") == 1
    assert iam_guard.refusals() == []


def test_deploy_of_the_running_image_is_a_no_op(make_scenario):
    s = make_scenario()
    run = s.opsctl("--output", "json", "deploy", "--image-tag", "v1")
    assert run.returncode == 0, run
    assert run.json["outcome"] == "unchanged"
    assert len(s.revisions()) == 1


def test_markdown_summary_for_github(make_scenario):
    s = make_scenario()
    s.push("v2")
    run = s.opsctl("--output", "markdown", "deploy", "--image-tag", "v2")
    assert run.returncode == 0, run
    assert run.stdout.startswith("### ✅ deploy succeeded")
    assert "| outcome | `succeeded` (exit 0) |" in run.stdout


def test_https_only_load_balancer_skips_the_smoke_test_instead_of_failing_it(make_scenario):
    # The platform with a certificate (infra/modules/alb): 443 forwards, 80 redirects to it.
    # The ALB's AWS name matches no certificate, so opsctl must not claim a failed
    # verification (and mark a good revision failed) when it finds only that name.
    s = make_scenario()
    elbv2 = s.client("elbv2")
    certificate = s.client("acm").request_certificate(DomainName="api.example.com")
    elbv2.create_listener(
        LoadBalancerArn=s.stack.load_balancer_arn,
        Protocol="HTTPS",
        Port=443,
        Certificates=[{"CertificateArn": certificate["CertificateArn"]}],
        DefaultActions=[{"Type": "forward", "TargetGroupArn": s.stack.target_group_arn}],
    )
    http = elbv2.describe_listeners(LoadBalancerArn=s.stack.load_balancer_arn)["Listeners"]
    elbv2.modify_listener(
        ListenerArn=next(listener for listener in http if listener["Port"] == 80)["ListenerArn"],
        DefaultActions=[
            {
                "Type": "redirect",
                "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
            }
        ],
    )
    target = json.loads(s.target_file.read_text())
    target["alb_url"] = f"https://{s.stack.load_balancer_dns}"  # what the env root outputs
    s.target_file.write_text(json.dumps(target))
    s.push("v2")
    s.push("v3")
    run = s.opsctl("--output", "json", "deploy", "--image-tag", "v2")
    # No false green: nothing checked that the service answers, so not exit 0 and not good.
    assert run.returncode == 15, run
    doc = run.json
    assert doc["outcome"] == "succeeded_without_smoke_test"
    assert doc["exit_code"] == 15
    assert doc["verification"]["targets_healthy"] is True
    assert doc["verification"]["smoke_ok"] is None
    assert "matches no certificate" in doc["verification"]["detail"]
    assert any(w.startswith("smoke test skipped:") and "OPSCTL_URL" in w for w in doc["warnings"])
    assert any("--allow-no-smoke-test" in w for w in doc["warnings"])

    def keys(revision: int) -> set[str]:
        tags = s.client("ecs").describe_task_definition(
            taskDefinition=f"{s.stack.family}:{revision}", include=["TAGS"]
        )["tags"]
        return {t["key"] for t in tags}

    assert "opsctl:failed-at" not in keys(2)
    assert "opsctl:verified-at" not in keys(2)
    # Accepted by the operator: exit 0, recorded good on the targets' health alone.
    accepted = s.opsctl("--output", "json", "deploy", "--image-tag", "v3", "--allow-no-smoke-test")
    assert accepted.returncode == 0, accepted
    assert accepted.json["outcome"] == "succeeded_without_smoke_test"
    assert "opsctl:verified-at" in keys(3)
    assert any("--allow-no-smoke-test" in n for n in accepted.json["notes"])
