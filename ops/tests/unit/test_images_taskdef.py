"""Image references and task-definition copies."""

from __future__ import annotations

import pytest
from opsctl.errors import UsageError
from opsctl.images import check_tag, parse_image
from opsctl.taskdef import changes, inherited_tags, unified_diff, with_image


@pytest.mark.parametrize(
    ("reference", "registry", "repository", "tag", "digest"),
    [
        (
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/api:v1",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
            "team/api",
            "v1",
            None,
        ),
        (
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api@sha256:" + "b" * 64,
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
            "api",
            None,
            "sha256:" + "b" * 64,
        ),
        ("localhost:5000/api:dev", "localhost:5000", "api", "dev", None),
        ("python:3.11-slim", "", "python", "3.11-slim", None),
        ("library/nginx", "", "library/nginx", None, None),
    ],
)
def test_parse_image(reference, registry, repository, tag, digest):
    ref = parse_image(reference)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (
        registry,
        repository,
        tag,
        digest,
    )
    assert str(ref) == reference


def test_ecr_location():
    assert parse_image("123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:v1").ecr == (
        "123456789012",
        "eu-west-1",
    )
    assert parse_image("ghcr.io/org/api:v1").ecr is None


@pytest.mark.parametrize("tag", ["", "-x", "a b", "x" * 129, "v1;rm"])
def test_invalid_tags_are_usage_errors(tag):
    with pytest.raises(UsageError):
        check_tag(tag)


def test_copy_changes_only_the_image(make):
    current = make.task_definition(1, tags={"team": "api", "opsctl:verified-at": "x"})
    new = with_image(current, "app", f"{make.REPO}@sha256:{'c' * 64}")
    found = changes(current.registration, new)
    assert [c.path for c in found] == ["containerDefinitions[0].image"]
    assert current.registration["containerDefinitions"][0]["image"].endswith("a" * 64)  # untouched
    assert inherited_tags(current) == {"team": "api"}
    diff = unified_diff(current.registration, new, "api:1", "api:new")
    assert sum(line.startswith("+ ") for line in diff.splitlines()) == 1
    with pytest.raises(KeyError):
        with_image(current, "sidecar", "x")
