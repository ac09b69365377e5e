"""rollback and revisions: last known good, not blindly N-1."""

from __future__ import annotations

from localcloud.runtime import scripted
from localcloud.testing.stacks import StackOptions


def test_rollback_returns_to_the_last_known_good_revision_after_a_failed_deploy(make_scenario):
    # No circuit breaker: the broken deploy stays on the service until someone rolls back.
    s = make_scenario(
        StackOptions(circuit_breaker=False, rollback=False), {"v3": scripted.CRASHES_AT_START}
    )
    s.push("v2")
    s.push("v3")
    assert s.opsctl("deploy", "--image-tag", "v2").returncode == 0  # revision 2: verified good
    # Revision 3 stuck (fail-fast off: waiting until the time-out, as before it existed).
    failed = s.opsctl("deploy", "--image-tag", "v3", "--timeout", "3", "--fail-fast", "0")
    assert failed.returncode == 12, failed
    revisions = s.opsctl("--output", "json", "revisions").json
    assert revisions["last_known_good"] == 2
    assert revisions["running"] == [3, 2]
    by_number = {r["revision"]: r for r in revisions["revisions"]}
    assert by_number[2]["verdict"] == "good"
    assert by_number[2]["last_known_good"] is True
    assert by_number[3]["last_known_good"] is False

    run = s.opsctl("--output", "json", "rollback")
    assert run.returncode == 0, run
    doc = run.json
    assert doc["outcome"] == "succeeded"
    assert doc["from_revision"]["revision"] == 3
    assert doc["to_revision"]["revision"] == 2  # the last known good, which here is also N-1
    assert s.service()["taskDefinition"].endswith(":2")
    # v2 was tagged deployed-* when it was deployed; the rollback found the tag.
    assert any("already carries deployed-" in n for n in doc["notes"]), doc
    after = {r["revision"]: r for r in s.opsctl("--output", "json", "revisions").json["revisions"]}
    assert after[3]["verdict"] == "bad"
    assert after[3]["bad_reason"] == "rolled back"


def test_rollback_skips_revisions_that_never_completed(make_scenario):
    """N-1 is not last known good: revision 3 failed, so rolling back from 4 goes to 2."""
    s = make_scenario(
        StackOptions(circuit_breaker=False, rollback=False), {"v3": scripted.NEVER_HEALTHY}
    )
    for tag in ("v2", "v3", "v4"):
        s.push(tag)
    assert s.opsctl("deploy", "--image-tag", "v2").returncode == 0
    assert s.opsctl("deploy", "--image-tag", "v3", "--timeout", "3").returncode == 12
    assert s.opsctl("deploy", "--image-tag", "v4", "--force").returncode == 0
    run = s.opsctl("--output", "json", "rollback", "--dry-run")
    assert run.returncode == 0, run
    doc = run.json
    assert (doc["from_revision"]["revision"], doc["to_revision"]["revision"]) == (4, 2)
    assert doc["outcome"] == "dry_run"
    assert s.service()["taskDefinition"].endswith(":4")


def test_rollback_without_an_earlier_good_revision_is_a_clear_error(make_scenario):
    s = make_scenario()
    before = s.service()["deployments"]
    run = s.opsctl("--output", "json", "rollback")
    assert run.returncode == 5, run
    assert "no earlier revision of api is known good" in run.stderr
    assert "--to-revision" in run.stderr
    assert run.json["error"]["exit_code"] == 5
    assert [d["id"] for d in s.service()["deployments"]] == [d["id"] for d in before]


def test_rollback_to_an_unknown_revision_changes_nothing(make_scenario):
    s = make_scenario()
    run = s.opsctl("rollback", "--to-revision", "42")
    assert run.returncode == 5, run
    assert "api:42" in run.stderr
    assert len(s.service()["deployments"]) == 1


def test_rollback_refuses_a_revision_whose_image_is_gone(make_scenario):
    s = make_scenario()
    s.push("v2")
    assert s.opsctl("deploy", "--image-tag", "v2").returncode == 0
    s.client("ecr").batch_delete_image(
        repositoryName=s.stack.repository_name, imageIds=[{"imageTag": "v1"}]
    )
    run = s.opsctl("rollback", "--to-revision", "1")
    assert run.returncode == 5, run
    assert "no longer exists in ECR" in run.stderr
    assert s.service()["taskDefinition"].endswith(":2")


def test_explicit_rollback_to_a_revision(make_scenario):
    s = make_scenario()
    s.push("v2")
    assert s.opsctl("deploy", "--image-tag", "v2").returncode == 0
    run = s.opsctl("--output", "json", "rollback", "--to-revision", "1")
    assert run.returncode == 0, run
    assert run.json["to_revision"]["revision"] == 1
    assert run.json["verification"]["smoke_ok"] is True
    # Revision 1 came from Terraform, its image never went through opsctl: the rollback tags
    # it, so ECR's lifecycle policy keeps what the service runs again.
    image = run.json["to_revision"]["image"]
    digest = image.rsplit("@", 1)[-1]
    found = s.client("ecr").describe_images(
        repositoryName=s.stack.repository_name, imageIds=[{"imageDigest": digest}]
    )
    tags = found["imageDetails"][0].get("imageTags", [])
    assert any(t.startswith("deployed-") for t in tags), tags
    assert any(n.startswith("tagged ") for n in run.json["notes"]), run.json
