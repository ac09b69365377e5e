"""Pins that must stay in step with other files: a drift here breaks builds or misleads readers."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
# The base image stands on a FROM line of its own: the only place Dependabot's docker updater
# reads (it does not expand ARG defaults, dependabot/dependabot-core#2057).
DIGEST_PIN = re.compile(
    r"^FROM (python:3\.11[.\d]*-slim-bookworm)@(sha256:[0-9a-f]{64}) AS base$", re.M
)


def test_base_image_is_the_official_slim_python_pinned_by_digest() -> None:
    assert DIGEST_PIN.search(DOCKERFILE), (
        "the first FROM must be python:3.11*-slim-bookworm@sha256:<64 hex> AS base"
    )
    # Every stage starts from that one stage, so builder and runtime share the interpreter the
    # venv was made with, and one named build context (`base`) substitutes a stand-in for both.
    froms = re.findall(r"^FROM (\S+)", DOCKERFILE, re.M)
    assert froms[1:] == ["base", "base"], froms
    assert "ARG BASE_IMAGE" not in DOCKERFILE, "an ARG default is invisible to Dependabot"


def test_adr_says_how_the_pinned_base_is_kept_current() -> None:
    """The Dockerfile holds the digest in use (Dependabot moves it); the ADR says why and how."""
    match = DIGEST_PIN.search(DOCKERFILE)
    assert match
    adr = next((ROOT / "docs" / "adr").glob("0006-*.md")).read_text()
    assert "python:3.11-slim-bookworm" in adr
    assert "AS base" in adr, "docs/adr/0006 must show the FROM line the digest lives on"
    assert "Dependabot" in adr, "docs/adr/0006 must say who proposes new digests"


def test_image_uv_is_the_makefile_uv() -> None:
    """make's uv is the one image/uv-requirements.txt pins, so a Dependabot bump moves both."""
    pins = (ROOT / "image" / "uv-requirements.txt").read_text()
    pinned = re.search(r"^uv==(\S+) ", pins, re.M)
    assert pinned
    assert pins.count("--hash=sha256:") >= 2
    evaluated = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-s",
            "--eval",
            "print-uv:\n\t@echo $(UV_VERSION)",
            "print-uv",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert evaluated == pinned.group(1)


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
