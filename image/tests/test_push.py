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


def write_script(path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


def test_ecr_push_logs_in_with_a_token_on_stdin_and_prints_the_digest(
    push: ModuleType, tmp_path, monkeypatch, capsys
) -> None:
    """The runbook 2.2 path with stand-ins for the AWS CLI and docker that record what they got."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    digest = "sha256:" + "ab" * 32
    write_script(bin_dir / "aws", f'echo "aws $*" >> {calls}; echo token-123\n')
    write_script(
        bin_dir / "fakedocker",
        f'echo "docker $*" >> {calls}\n'
        'case "$1" in\n'
        '  image) echo \'{"org.opencontainers.image.revision":"abc"}\' ;;\n'
        f'  login) read -r secret; echo "stdin $secret" >> {calls} ;;\n'
        f'  push) echo "manual: digest: {digest} size: 1234" ;;\n'
        "esac\n",
    )
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    registry = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    image = f"{registry}/svc:manual"

    assert push.main(["--engine", "fakedocker", image]) == 0

    assert capsys.readouterr().out.strip() == f"{registry}/svc@{digest}"
    recorded = calls.read_text().splitlines()
    assert "aws ecr get-login-password --region eu-west-1" in recorded
    assert f"docker login --username AWS --password-stdin {registry}" in recorded
    assert "stdin token-123" in recorded  # the token went through stdin, never argv
    assert recorded[-1] == f"docker push {image}"


def test_failed_ecr_login_stops_before_pushing(
    push: ModuleType, tmp_path, monkeypatch, capsys
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    write_script(bin_dir / "aws", "echo 'Error loading SSO Token' >&2; exit 255\n")
    write_script(bin_dir / "fakedocker", f'echo "docker $*" >> {calls}; echo "{{}}"\n')
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")

    assert (
        push.main(["--engine", "fakedocker", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/svc:x"])
        == 3
    )

    assert "aws sso login" in capsys.readouterr().err
    assert not any("push" in line for line in calls.read_text().splitlines())


def fake_engine(bin_dir, calls, digests: dict[str, str]) -> None:
    """A docker stand-in: `push NAME` answers with the digest given for NAME's repository."""
    cases = "".join(
        f'    *{repository}:*) echo "x: digest: {digest} size: 1" ;;\n'
        for repository, digest in digests.items()
    )
    write_script(
        bin_dir / "fakedocker",
        f'echo "docker $*" >> {calls}\n'
        'case "$1" in\n'
        '  image) echo \'{"org.opencontainers.image.revision":"abc"}\' ;;\n'
        '  push) case "$2" in\n'
        f"{cases}"
        "    esac ;;\n"
        "esac\n",
    )


REGISTRY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
# A commit SHA, as CI tags images: public by nature.
SHA = "0123456789abcdef0123456789abcdef01234567"  # pragma: allowlist secret - a commit SHA


def test_one_build_is_pushed_to_every_repository_with_one_digest(
    push: ModuleType, tmp_path, monkeypatch, capsys
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    digest = "sha256:" + "cd" * 32
    write_script(bin_dir / "aws", "echo token\n")
    fake_engine(bin_dir, calls, {"svc-dev": digest, "svc-prod": digest})
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    dev, prod = f"{REGISTRY}/svc-dev:{SHA}", f"{REGISTRY}/svc-prod:{SHA}"
    local = f"aws-fastapi-service:{SHA}"  # as CI loads the scanned image

    assert push.main(["--engine", "fakedocker", dev, "--also", prod, "--from", local]) == 0

    assert capsys.readouterr().out.splitlines() == [
        f"{REGISTRY}/svc-dev@{digest}",
        f"{REGISTRY}/svc-prod@{digest}",
    ]
    recorded = calls.read_text().splitlines()
    # One login for the one registry; the prod name is the same local image, not a new build.
    assert sum(line.startswith("docker login") for line in recorded) == 1
    assert f"docker image inspect --format {{{{json .Config.Labels}}}} {local}" in recorded
    assert recorded[-4:] == [
        f"docker tag {local} {dev}",
        f"docker push {dev}",
        f"docker tag {local} {prod}",
        f"docker push {prod}",
    ]


def test_different_digests_fail_the_push(push: ModuleType, tmp_path, monkeypatch, capsys) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    write_script(bin_dir / "aws", "echo token\n")
    fake_engine(
        bin_dir,
        tmp_path / "calls",
        {"svc-dev": "sha256:" + "cd" * 32, "svc-prod": "sha256:" + "ef" * 32},
    )
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")

    code = push.main(
        [
            "--engine",
            "fakedocker",
            f"{REGISTRY}/svc-dev:{SHA}",
            "--also",
            f"{REGISTRY}/svc-prod:{SHA}",
        ]
    )

    assert code == 5
    assert "different digests" in capsys.readouterr().err


def test_every_name_needs_a_registry(push: ModuleType, capsys) -> None:
    assert (
        push.main(["--engine", "false", f"{REGISTRY}/svc-dev:{SHA}", "--also", "svc-prod:1"]) == 2
    )
    assert "svc-prod:1 names no registry" in capsys.readouterr().err
