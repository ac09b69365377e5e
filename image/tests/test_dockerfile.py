"""Pins that must stay in step with other files: a drift here breaks builds or misleads readers."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
DIGEST_PIN = re.compile(
    r"^ARG BASE_IMAGE=(python:3\.11[.\d]*-slim-bookworm)@(sha256:[0-9a-f]{64})$", re.M
)


def test_base_image_is_the_official_slim_python_pinned_by_digest() -> None:
    assert DIGEST_PIN.search(DOCKERFILE), (
        "ARG BASE_IMAGE must be python:3.11*-slim-bookworm@sha256:<64 hex>"
    )
    # Every stage starts from that one argument, so builder and runtime share the interpreter
    # the venv was made with.
    assert re.findall(r"^FROM (\S+)", DOCKERFILE, re.M) == ["${BASE_IMAGE}", "${BASE_IMAGE}"]


def test_adr_records_the_digest_in_use() -> None:
    match = DIGEST_PIN.search(DOCKERFILE)
    assert match
    adr = next((ROOT / "docs" / "adr").glob("0006-*.md")).read_text()
    assert match.group(2) in adr, "docs/adr/0006 must name the digest the Dockerfile pins"


def test_image_uv_is_the_makefile_uv() -> None:
    makefile_uv = re.search(r"^UV_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M)
    pins = (ROOT / "image" / "uv-requirements.txt").read_text()
    assert makefile_uv
    assert f"uv=={makefile_uv.group(1)} " in pins, "run `make image-uv-pins`"
    assert pins.count("--hash=sha256:") >= 2


def test_build_context_is_an_allow_list_without_secrets_or_tests() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*"
    assert {"**/.env", "**/.env.*", "service/tests/"} <= set(lines)
    allowed = {line[1:] for line in lines if line.startswith("!")}
    assert allowed == {
        "uv.lock",
        "pyproject.toml",
        "service/",
        "image/uv-requirements.txt",
        "image/healthcheck.py",
    }
