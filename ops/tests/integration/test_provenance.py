"""provenance: promote by digest only what ran successfully here (docs/pipelines.md, ECS Deploy).

Each test runs opsctl with the deploy role's permissions only (the ``iam_guard`` fixture), as
ECS Deploy's first job runs it with dev's deploy role.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from localcloud.runtime import scripted
from localcloud.testing.stacks import StackOptions, build_stack

from ops.tests.conftest import Run, Scenario
from ops.tests.support.iam_guard import Environment

# Commit SHAs, as CI tags the images: public by nature.
SHA = "0123456789abcdef0123456789abcdef01234567"  # pragma: allowlist secret - a commit SHA
OTHER_SHA = "fedcba9876543210fedcba9876543210fedcba98"  # pragma: allowlist secret - a commit SHA


def provenance(s: Scenario, *args: str) -> Run:
    return s.opsctl("--output", "json", "provenance", *args)


def test_an_image_verified_here_is_proven_with_its_evidence(make_scenario, tmp_path):
    s = make_scenario()
    digest = s.push(SHA)
    deployed = s.opsctl("--output", "json", "deploy", "--image-tag", SHA)
    assert deployed.returncode == 0, deployed
    outputs = tmp_path / "github_output"
    outputs.write_text("earlier=kept\n")

    run = provenance(s, "--image", SHA, "--require-verified", "--github-output", str(outputs))

    assert run.returncode == 0, run
    doc = run.json
    assert doc["proven"] is True
    assert doc["image"]["digest"] == digest
    assert doc["image"]["requested"] == SHA
    assert doc["pinned"] == f"{s.stack.repository_url}@{digest}"
    evidence = doc["evidence"]
    assert evidence["revision"] == 2
    assert evidence["verdict"] == "good"
    assert evidence["verified_deployment"] == deployed.json["deployment_id"]
    assert [r["revision"] for r in doc["runs"]] == [2]
    # The step outputs a workflow reads, appended after what the file held.
    lines = outputs.read_text().splitlines()
    assert lines[0] == "earlier=kept"
    written = dict(line.split("=", 1) for line in lines[1:])
    assert written == {
        "digest": digest,
        "image": f"{s.stack.repository_url}@{digest}",
        "proven": "true",
        "revision": "2",
        "verified_at": evidence["good_since"],
        "deployment": deployed.json["deployment_id"],
    }
    # By digest: the same answer.
    by_digest = provenance(s, "--image", digest, "--require-verified")
    assert by_digest.returncode == 0, by_digest
    assert by_digest.json["evidence"]["revision"] == 2


def test_the_markdown_summary_shows_the_reviewer_the_digest_and_the_evidence(make_scenario):
    s = make_scenario()
    digest = s.push(SHA)
    assert s.opsctl("deploy", "--image-tag", SHA).returncode == 0
    run = s.opsctl("--output", "markdown", "provenance", "--image", SHA, "--require-verified")
    assert run.returncode == 0, run
    assert run.stdout.startswith(f"### ✅ `{digest}` ran successfully in `{s.stack.service}`")
    assert f"| image | `{s.stack.repository_url}@{digest}` |" in run.stdout
    assert f"`{SHA}`" in run.stdout
    assert "| evidence | revision 2 (" in run.stdout


def test_an_image_that_never_ran_here_is_not_proven(make_scenario, tmp_path):
    s = make_scenario()
    digest = s.push(SHA)
    outputs = tmp_path / "github_output"

    # Without --require-verified: a report, exit 0 (ECS Deploy to dev resolves the digest so).
    report = provenance(s, "--image", SHA, "--github-output", str(outputs))
    assert report.returncode == 0, report
    assert report.json["proven"] is False
    assert report.json["runs"] == []
    assert report.json["evidence"] is None
    assert "never ran" in report.json["explanation"][0]
    assert "digest=" + digest in outputs.read_text().splitlines()
    assert "proven=false" in outputs.read_text().splitlines()

    required = provenance(s, "--image", SHA, "--require-verified")
    assert required.returncode == 21, required
    assert required.json["exit_code"] == 21
    markdown = s.opsctl("-o", "markdown", "provenance", "--image", SHA, "--require-verified")
    assert markdown.returncode == 21
    assert markdown.stdout.startswith(f"### ❌ `{digest}` has not run successfully")


def test_an_image_the_circuit_breaker_rolled_back_is_not_proven(make_scenario):
    s = make_scenario(behaviours={SHA: scripted.CRASHES_AT_START})
    s.push(SHA)
    assert s.opsctl("deploy", "--image-tag", SHA).returncode == 10  # rolled back
    run = provenance(s, "--image", SHA, "--require-verified")
    assert run.returncode == 21, run
    doc = run.json
    assert doc["proven"] is False
    (only,) = doc["runs"]
    assert (only["revision"], only["verdict"], only["bad_reason"]) == (2, "bad", "rolled_back")
    assert "rolled_back" in doc["explanation"][0]


def test_a_later_failure_of_the_same_bytes_outweighs_an_earlier_verification(make_scenario):
    """Verified on revision 2, then rolled back away from: the newest verdict speaks."""
    s = make_scenario(StackOptions(circuit_breaker=False, rollback=False))
    s.push(SHA)
    assert s.opsctl("deploy", "--image-tag", SHA).returncode == 0
    assert provenance(s, "--image", SHA, "--require-verified").returncode == 0
    rollback = s.opsctl("rollback", "--to-revision", "1")
    assert rollback.returncode == 0, rollback

    run = provenance(s, "--image", SHA, "--require-verified")

    assert run.returncode == 21, run
    (only,) = run.json["runs"]
    assert (only["verdict"], only["bad_reason"]) == ("bad", "rolled back")
    assert only["good_since"] is not None  # it was verified once; that is not enough


def test_an_image_running_now_with_a_completed_deployment_is_proven(make_scenario):
    """Revision 1 came from Terraform: ECS reports its deployment COMPLETED, opsctl never
    deployed it."""
    s = make_scenario()
    digest = s.stack.digests["v1"]
    run = provenance(s, "--image", digest, "--require-verified")
    assert run.returncode == 0, run
    assert run.json["evidence"]["revision"] == 1
    assert run.json["evidence"]["running"] is True
    assert run.json["evidence"]["verified_deployment"] is None


@pytest.mark.parametrize(
    ("image", "message"),
    [
        ("latest", "'latest' is refused"),
        ("v2", "is a tag that can be moved"),
        ("main", "is a tag that can be moved"),
        (SHA[:12], "is not a full commit SHA"),
        (SHA.upper(), "is not a full commit SHA"),
        ("sha256:" + "ab" * 31, "is not a digest"),
        ("", "is a tag that can be moved"),
    ],
)
def test_mutable_or_malformed_references_are_refused_before_any_aws_call(
    make_scenario, image, message
):
    s = make_scenario(settle=False)
    # No target at all: the refusal comes while the command line is parsed.
    run = s.opsctl("provenance", "--image", image, target=False)
    assert run.returncode == 2, run
    assert message in run.stderr
    assert "--image" in run.stderr


def test_a_commit_sha_that_was_never_pushed_is_not_found(make_scenario):
    s = make_scenario()
    run = provenance(s, "--image", OTHER_SHA)
    assert run.returncode == 5, run
    assert run.json["error"]["type"] == "NotFoundError"
    assert OTHER_SHA in run.json["error"]["message"]


def test_an_unwritable_github_output_is_a_usage_error(make_scenario, tmp_path):
    s = make_scenario()
    s.push(SHA)
    run = provenance(s, "--image", SHA, "--github-output", str(tmp_path / "missing" / "out"))
    assert run.returncode == 2, run
    assert "cannot append" in run.json["error"]["message"]


# --- promotion: dev proves, prod deploys the same digest --------------------------------------


def push_identical(s: Scenario, repository: str, tag: str, content: str) -> str:
    """Push the manifest of ``content`` to ``repository`` as ``tag``: the same content gives
    the same digest in every repository, as one build pushed to two does."""
    layer = "sha256:" + hashlib.sha256(f"layer:{content}".encode()).hexdigest()
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 1469,
            "digest": "sha256:" + hashlib.sha256(f"config:{content}".encode()).hexdigest(),
        },
        "layers": [
            {
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "size": 1,
                "digest": layer,
            }
        ],
    }
    put = s.client("ecr").put_image(
        repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag
    )
    return str(put["image"]["imageId"]["imageDigest"])


def second_environment(s: Scenario, harness, name: str, tmp: Path) -> Scenario:
    stack = build_stack(harness.endpoint, StackOptions(name=name))
    alb_url = harness.simulator.alb_url(stack.load_balancer_arn)
    target_file = tmp / f"{name}.json"
    target_file.write_text(json.dumps(stack.opsctl_target(alb_url)))
    other = Scenario(
        harness, stack, tmp=tmp, alb_url=alb_url, target_file=target_file, env=dict(s.env)
    )
    other.settle()
    return other


def test_prod_deploys_exactly_the_digest_dev_verified(make_scenario, harness, iam_guard, tmp_path):
    dev = make_scenario(StackOptions(name="api-dev"))
    prod = second_environment(dev, harness, "api-prod", tmp_path)
    digest = push_identical(dev, dev.stack.repository_name, SHA, "build-1")
    assert push_identical(prod, prod.stack.repository_name, SHA, "build-1") == digest
    # Each step with its own environment's deploy role, as the workflow runs it.
    iam_guard.use(Environment(dev.stack.service, dev.stack.cluster), dev.stack.region)
    assert dev.opsctl("deploy", "--image-tag", SHA).returncode == 0
    proven = provenance(dev, "--image", SHA, "--require-verified")
    assert proven.returncode == 0, proven
    assert proven.json["image"]["digest"] == digest

    iam_guard.use(Environment(prod.stack.service, prod.stack.cluster), prod.stack.region)
    deployed = prod.opsctl("--output", "json", "deploy", "--image-tag", digest)

    assert deployed.returncode == 0, deployed
    assert deployed.json["to_revision"]["image"] == f"{prod.stack.repository_url}@{digest}"
    # Never verified in prod before this deploy: provenance in prod is about prod.
    assert provenance(prod, "--image", digest, "--require-verified").returncode == 0


def test_prod_refuses_a_digest_whose_bytes_prod_does_not_hold(
    make_scenario, harness, iam_guard, tmp_path
):
    """A separate build for prod under the same commit tag has another digest: deploying dev's
    digest there changes nothing."""
    dev = make_scenario(StackOptions(name="api-dev"))
    prod = second_environment(dev, harness, "api-prod", tmp_path)
    digest = push_identical(dev, dev.stack.repository_name, SHA, "build-1")
    rebuilt = push_identical(prod, prod.stack.repository_name, SHA, "build-2")
    assert rebuilt != digest
    iam_guard.use(Environment(prod.stack.service, prod.stack.cluster), prod.stack.region)
    before = prod.service()["taskDefinition"]

    run = prod.opsctl("--output", "json", "deploy", "--image-tag", digest)

    assert run.returncode == 5, run
    assert "does not exist in ECR" in run.json["error"]["message"]
    assert prod.service()["taskDefinition"] == before
