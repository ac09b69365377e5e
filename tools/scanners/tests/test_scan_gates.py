"""Each `make scan-<name>` gate fails on a known-bad input and names what it found.

`make scan` passing on the real tree proves little on its own: a scanner that silently scans
nothing (a wrong path, a missing helper binary, an exit code swallowed) passes too. Each test here
points one real make target at a small known-bad fixture written to a temporary directory (nothing
bad is committed, so the whole-tree scan stays clean) and expects a non-zero exit and the rule id.
Where the fix is an inline exception, the test also shows that the documented exception syntax
silences exactly that finding (docs/security.md, "Adding an exception").
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
# Built at run time so that this file itself holds no secret-shaped string.
FAKE_AWS_KEY = "AKIA" + "Q3VZ7KDN2PWX5TLB"


def make(target: str, **variables: str | Path) -> subprocess.CompletedProcess[str]:
    """Run one make target of this repository with variables set on the command line."""
    return subprocess.run(
        ["make", "-C", str(ROOT), "--no-print-directory", target]
        + [f"{name}={value}" for name, value in variables.items()],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def assert_fails_naming(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    for text in expected:
        assert text in output, f"{text!r} not in:\n{output}"


def assert_passes(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout + result.stderr


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def git_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for args in (
        ["init", "--quiet"],
        ["config", "user.email", "ci@example.invalid"],
        ["config", "user.name", "ci"],
    ):
        subprocess.run(["git", "-C", str(path), *args], check=True)
    return path


def commit_all(repo: Path, message: str) -> None:
    subprocess.run(["git", "-C", str(repo), "add", "--all"], check=True)
    subprocess.run(["git", "-C", str(repo), "commit", "--quiet", "-m", message], check=True)


UNQUOTED_WORKFLOW = """\
name: fixture
on: push
permissions: {}
jobs:
  build:
    runs-on: ubuntu-24.04
    timeout-minutes: 5
    permissions:
      contents: read
    steps:
      - run: for f in $FILES; do cat $f; done
"""


def test_actionlint_runs_shellcheck_on_run_scripts(tmp_path: Path) -> None:
    # Without shellcheck actionlint passes this; a shellcheck it cannot find is silently skipped.
    write(tmp_path / "wf" / "build.yml", UNQUOTED_WORKFLOW)
    assert_fails_naming(make("scan-actionlint", WORKFLOWS_DIR=tmp_path / "wf"), "SC2086")
    write(
        tmp_path / "wf" / "build.yml",
        UNQUOTED_WORKFLOW.replace("$FILES; do cat $f", '"$@"; do cat "$f"'),
    )
    assert_passes(make("scan-actionlint", WORKFLOWS_DIR=tmp_path / "wf"))


def test_zizmor_flags_unpinned_actions_and_template_injection(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    write(
        workflows / "pr.yml",
        """\
name: fixture
on: pull_request
permissions: {}
jobs:
  greet:
    runs-on: ubuntu-24.04
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.pull_request.title }}"
""",
    )
    assert_fails_naming(
        make("scan-zizmor", ZIZMOR_TARGET=tmp_path), "unpinned-uses", "template-injection"
    )


def test_hadolint_fails_on_warnings_not_only_errors(tmp_path: Path) -> None:
    dockerfile = write(tmp_path / "Dockerfile", "FROM python:latest\nRUN pip install flask\n")
    # DL3007 and DL3013 are warnings: hadolint's own default threshold would let them pass.
    assert_fails_naming(make("scan-hadolint", DOCKERFILES=dockerfile), "DL3007", "DL3013")
    digest = "0" * 64
    write(
        tmp_path / "Dockerfile",
        f'FROM python:3.11-slim@sha256:{digest}\nUSER 10001\nCMD ["app-serve"]\n',
    )
    assert_passes(make("scan-hadolint", DOCKERFILES=dockerfile))


@pytest.mark.parametrize(
    ("directive", "passes"),
    [
        # The documented form: the reason on its own comment line, the directive alone.
        ("# reason: fixture\n# hadolint ignore=DL3013\n", True),
        # Words after the rule id break the directive: the finding stays.
        ("# hadolint ignore=DL3013 reason: fixture\n", False),
    ],
    ids=["reason-above", "reason-on-the-same-line"],
)
def test_hadolint_exception_syntax(tmp_path: Path, directive: str, passes: bool) -> None:
    digest = "0" * 64
    dockerfile = write(
        tmp_path / "Dockerfile",
        f"FROM python:3.11-slim@sha256:{digest}\n{directive}"
        "RUN pip install --no-cache-dir flask\nUSER 10001\n",
    )
    result = make("scan-hadolint", DOCKERFILES=dockerfile)
    if passes:
        assert_passes(result)
    else:
        assert_fails_naming(result, "DL3013")


def test_bandit_flags_a_shell_command_and_honours_an_inline_nosec(tmp_path: Path) -> None:
    source = tmp_path / "src"
    write(
        source / "runner.py",
        "import subprocess\n\n\ndef run(cmd):\n    subprocess.call(cmd, shell=True)\n",
    )
    assert_fails_naming(make("scan-bandit", PY_SOURCES=source), "B602", "runner.py:5")
    write(source / "runner.py", "def add(a: int, b: int) -> int:\n    return a + b\n")
    assert_passes(make("scan-bandit", PY_SOURCES=source))


def test_semgrep_gate_fails_on_a_project_rule(tmp_path: Path) -> None:
    write(tmp_path / "ops" / "src" / "opsctl" / "commands" / "deploy.py", "import boto3\n")
    assert_fails_naming(
        make("scan-semgrep", SEMGREP_TARGETS=tmp_path), "boto3-only-in-aws-module", "deploy.py"
    )


def test_detect_secrets_fails_on_a_key_and_accepts_an_inline_allowlist(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo")
    write(repo / "settings.py", f'KEY = "{FAKE_AWS_KEY}"\n')
    # Not even committed yet: the gate sees every file git would commit.
    assert_fails_naming(make("scan-secrets", REPO_DIR=repo), "AWS Access Key", "settings.py:1")
    write(repo / "settings.py", f'KEY = "{FAKE_AWS_KEY}"  # pragma: allowlist secret\n')
    assert_passes(make("scan-secrets", REPO_DIR=repo))


def test_gitleaks_finds_a_key_that_a_later_commit_deleted(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo")
    write(repo / "settings.py", f'KEY = "{FAKE_AWS_KEY}"\n')
    commit_all(repo, "add settings")
    (repo / "settings.py").unlink()
    write(repo / "README.md", "nothing here\n")
    commit_all(repo, "remove the key")
    result = make("scan-gitleaks", REPO_DIR=repo)
    assert_fails_naming(result, "aws-access-token", "settings.py")
    assert FAKE_AWS_KEY not in result.stdout + result.stderr  # --redact
    # A false positive already in history cannot be annotated inline any more: its fingerprint
    # goes into .gitleaksignore, under a comment that says why (docs/security.md).
    (fingerprint,) = re.findall(r"^Fingerprint:\s+(\S+)$", result.stdout, re.MULTILINE)
    write(repo / ".gitleaksignore", f"# reason: fixture, never a real key\n{fingerprint}\n")
    assert_passes(make("scan-gitleaks", REPO_DIR=repo))


OPEN_SSH_GROUP = """\
{exceptions}resource "aws_security_group" "this" {{
{skips}  name = "open"

  ingress {{
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }}
}}
"""


def test_trivy_config_flags_open_ingress_and_honours_inline_ignores(tmp_path: Path) -> None:
    write(tmp_path / "main.tf", OPEN_SSH_GROUP.format(exceptions="", skips=""))
    assert_fails_naming(make("scan-trivy", IAC_DIR=tmp_path), "AWS-0107", "main.tf")
    ignores = "".join(
        f"#trivy:ignore:AVD-AWS-{check} reason: fixture for the exception syntax\n"
        for check in ("0107", "0099", "0124")
    )
    write(tmp_path / "main.tf", OPEN_SSH_GROUP.format(exceptions=ignores, skips=""))
    assert_passes(make("scan-trivy", IAC_DIR=tmp_path))


@pytest.mark.parametrize(
    ("skipped", "still_failing"),
    [((), "CKV_AWS_24"), (("CKV_AWS_24", "CKV_AWS_23", "CKV2_AWS_5"), None)],
    ids=["no-exception", "each-check-skipped-inline"],
)
def test_checkov_flags_open_ssh_and_honours_inline_skips(
    tmp_path: Path, skipped: tuple[str, ...], still_failing: str | None
) -> None:
    skips = "".join(
        f"  #checkov:skip={check}:fixture for the exception syntax\n" for check in skipped
    )
    write(tmp_path / "main.tf", OPEN_SSH_GROUP.format(exceptions="", skips=skips))
    if still_failing:
        # Workflows too. A hidden directory: checkov skips those but .github (a --skip-path
        # such as `.git` would silently drop it: a regular expression, it matches `.github`).
        write(tmp_path / ".github" / "workflows" / "bad.yml", WRITE_ALL_WORKFLOW)
    result = make("scan-checkov", IAC_DIR=tmp_path)
    if still_failing:
        assert_fails_naming(result, still_failing, "aws_security_group.this", "CKV2_GHA_1")
    else:
        assert_passes(result)


WRITE_ALL_WORKFLOW = """\
name: fixture
on: push
permissions: write-all
jobs:
  build:
    runs-on: ubuntu-24.04
    steps:
      - run: make test
"""


def test_make_scan_goes_on_past_a_failing_scanner_and_names_it(tmp_path: Path) -> None:
    write(tmp_path / "src" / "runner.py", "import os\n\nos.system('true')\n")
    # Three quick scanners stand in for the nine: the driver is the same for any list.
    result = make("scan", PY_SOURCES=tmp_path / "src", SCAN_STEPS="actionlint bandit zizmor")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "<== scan: bandit FAILED" in output
    # The scanners after it still ran, so one run shows every finding.
    for scanner in ("actionlint", "zizmor"):
        assert f"<== scan: {scanner} passed" in output
    assert "scan: 3 scanners in" in output
    assert "FAILED: bandit (their findings are above" in output
    assert "no findings" not in output
