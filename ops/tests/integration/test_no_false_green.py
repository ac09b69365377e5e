"""No false green: a re-run deploy never reports "unchanged" over a failing rollout, a deploy
nothing smoke-tested is not good, and /health must report the commit the image was built
from (issue 12)."""

from __future__ import annotations

from localcloud.images.records import push, service_image
from localcloud.runtime import scripted
from localcloud.testing.stacks import StackOptions

COMMIT = "0123456789abcdef0123456789abcdef01234567"  # pragma: allowlist secret - made up


def test_redeploying_the_image_of_a_failing_rollout_follows_it_never_unchanged(make_scenario):
    # The circuit breaker is off: the broken rollout stays IN_PROGRESS until someone acts, as
    # when a deploy job timed out and is run again.
    s = make_scenario(
        StackOptions(circuit_breaker=False, rollback=False), {"v2": scripted.CRASHES_AT_START}
    )
    s.push("v2")
    first = s.opsctl(
        "--output", "json", "deploy", "--image-tag", "v2", "--timeout", "2", "--fail-fast", "0"
    )
    assert first.returncode == 12, first
    deployment = first.json["deployment_id"]
    revisions = s.revisions()

    again = s.opsctl("--output", "json", "deploy", "--image-tag", "v2", "--timeout", "20")
    assert again.returncode != 0, again
    doc = again.json
    assert doc["outcome"] != "unchanged"
    assert doc["outcome"] == "failing"  # followed to its outcome: the tasks keep exiting 1
    assert doc["exit_code"] == 16
    assert doc["deployment_id"] == deployment  # the same rollout, followed, not a new one
    assert any("followed it instead of starting another" in n for n in doc["notes"]), doc
    assert s.revisions() == revisions  # nothing registered

    # --no-wait has nothing to start and nothing to follow: refused, nothing changed.
    no_wait = s.opsctl("deploy", "--image-tag", "v2", "--no-wait")
    assert no_wait.returncode == 6, no_wait
    assert f"deployment {deployment} of this image is IN_PROGRESS" in no_wait.stderr
    assert s.service()["deployments"][0]["id"] == deployment


def test_a_completed_revision_marked_failed_is_verified_again_not_unchanged(make_scenario):
    s = make_scenario(StackOptions(health_check_path="/"), {"v2": scripted.HEALTH_ENDPOINT_BROKEN})
    s.push("v2")
    first = s.opsctl("deploy", "--image-tag", "v2", "--verify-timeout", "1")
    assert first.returncode == 13, first
    again = s.opsctl("--output", "json", "deploy", "--image-tag", "v2", "--verify-timeout", "1")
    assert again.returncode == 13, again
    assert again.json["outcome"] == "unverified"
    assert any("is recorded unverified" in n for n in again.json["notes"]), again.json


def test_an_unchanged_service_is_still_unchanged(make_scenario):
    s = make_scenario()
    run = s.opsctl("--output", "json", "deploy", "--image-tag", "v1")
    assert run.returncode == 0, run
    assert run.json["outcome"] == "unchanged"


def _push_built_from(s, tag: str, commit: str) -> str:
    """Push an image whose configuration names ``commit`` (label and APP_COMMIT), as
    `make image` builds it."""
    return push(
        s.client("ecr"), s.stack.repository_name, service_image("2.0.0", commit), [tag]
    ).digest


def test_the_smoke_test_fails_when_health_reports_another_commit(make_scenario):
    # The image says it was built from COMMIT; the tasks answer /health with another commit.
    s = make_scenario(behaviours={"v2": scripted.with_version(scripted.HEALTHY, "2.0.0")})
    _push_built_from(s, "v2", COMMIT)
    run = s.opsctl("--output", "json", "deploy", "--image-tag", "v2", "--verify-timeout", "1")
    assert run.returncode == 13, run
    doc = run.json
    assert doc["outcome"] == "unverified"
    assert doc["verification"]["expected_commit"] == COMMIT
    assert doc["verification"]["commit"] == "scripted"
    assert doc["verification"]["smoke_ok"] is False
    assert (
        f"/health reports commit scripted, but the image was built from {COMMIT}"
        in (doc["verification"]["detail"])
    )


def test_the_smoke_test_passes_when_health_reports_the_images_commit(make_scenario):
    from dataclasses import replace

    s = make_scenario(behaviours={"v2": replace(scripted.HEALTHY, commit=COMMIT[:7])})
    _push_built_from(s, "v2", COMMIT)
    run = s.opsctl("--output", "json", "deploy", "--image-tag", "v2")
    assert run.returncode == 0, run
    verification = run.json["verification"]
    assert verification["expected_commit"] == COMMIT
    assert verification["commit"] == COMMIT[:7]  # an abbreviated commit names the same one
    assert verification["smoke_ok"] is True


def test_an_image_without_a_readable_configuration_is_not_checked_and_says_so(make_scenario):
    s = make_scenario()
    s.push("v2")  # a manifest whose configuration blob was never uploaded
    run = s.opsctl("--output", "json", "deploy", "--image-tag", "v2")
    assert run.returncode == 0, run
    assert run.json["verification"]["expected_commit"] is None
    assert any("ECR holds no configuration" in n for n in run.json["notes"]), run.json
