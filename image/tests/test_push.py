"""image-push's decisions that need no registry: what is a registry, which region, refusals."""

from types import ModuleType

import pytest


@pytest.mark.parametrize(
    ("image", "registry"),
    [
        (
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/svc:manual",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
        ),
        ("localhost/aws-fastapi-service:smoke", "localhost"),
        ("127.0.0.1:5000/svc:1", "127.0.0.1:5000"),
        ("aws-fastapi-service:dev", None),
        ("library/python:3.11", None),
    ],
)
def test_registry_of(push: ModuleType, image: str, registry: str | None) -> None:
    assert push.registry_of(image) == registry


@pytest.mark.parametrize(
    ("registry", "region"),
    [
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com", "eu-west-1"),
        ("123456789012.dkr.ecr-fips.us-east-1.amazonaws.com", "us-east-1"),
        ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "cn-north-1"),
        ("ghcr.io", None),
        ("12345.dkr.ecr.eu-west-1.amazonaws.com", None),
    ],
)
def test_ecr_region(push: ModuleType, registry: str, region: str | None) -> None:
    assert push.ecr_region(registry) == region


def test_refuses_an_image_without_registry_before_touching_any_engine(
    push: ModuleType, capsys
) -> None:
    # The engine "false" would fail any command: exit 2 proves none was run.
    assert push.main(["--engine", "false", "aws-fastapi-service:dev"]) == 2
    assert "names no registry" in capsys.readouterr().err


def test_refuses_an_image_that_is_not_built(push: ModuleType, capsys) -> None:
    assert push.main(["--engine", "false", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/x:1"]) == 2
    assert "not a local image" in capsys.readouterr().err
