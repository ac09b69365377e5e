"""The git hooks (.pre-commit-config.yaml) pass on a clean tree and stop what they exist to stop.

Each case plants one bad file in a scratch git repository that carries this repository's hook
configuration, ruff settings and secrets baseline, and runs `pre-commit run --all-files` there
(what `make lint` runs on the real tree): the hook named in the case must fail, naming the file,
and no hook may rewrite it. The three hooks that call `make scan-<name>` (actionlint, zizmor,
hadolint) are skipped here: those targets have their own gate tests (tools/scanners/tests).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / ".pre-commit-config.yaml"
PRE_COMMIT = ROOT / ".venv" / "bin" / "pre-commit"
MAKE_HOOKS = ("actionlint", "zizmor", "hadolint")
RESULT_LINE = re.compile(
    r"^(?P<name>.+?)\.{3,}(?:\(no files to check\))?(?P<result>Passed|Failed|Skipped)$"
)
HOOK_NAMES = {
    hook["id"]: hook["name"] for hook in yaml.safe_load(CONFIG.read_text())["repos"][0]["hooks"]
}

CLEAN_FILES = {
    "app/ok.py": '"""A module ruff is happy with."""\n\nVALUE = 1\n',
    "infra/ok.tf": 'variable "name" {\n  type = string\n}\n',
    "README.md": "# scratch\n\nSome text.\n",
}
# An AWS access key id in AWS's own documentation format, built at run time so that this test
# file itself is no finding for the repository's secret scanners.
FAKE_ACCESS_KEY = "AKIA" + "QYLPMN5HHHFPZAM2"


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """A git repository with this repository's hooks and the tools they call (linked)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    for name in (".pre-commit-config.yaml", "pyproject.toml", ".secrets.baseline"):
        shutil.copy(ROOT / name, repo / name)
    for name in (".venv", ".tools"):
        (repo / name).symlink_to(ROOT / name)
    (repo / ".gitignore").write_text(".venv\n.tools\n")
    for name, text in CLEAN_FILES.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    return repo


def run_hooks(repo: Path) -> tuple[int, dict[str, str], str]:
    """`pre-commit run --all-files` in ``repo``: (exit code, {hook name: result}, output)."""
    # Committed, not only staged: like CI's fresh clone, where no file is "being added" and git
    # is in no merge, the state in which the large-file and merge-marker checks must still work.
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "--allow-empty", "-m", "scratch")
    env = {
        **os.environ,
        "SKIP": ",".join(MAKE_HOOKS),
        "PRE_COMMIT_HOME": str(repo.parent / "pre-commit-home"),
        "NO_COLOR": "1",
    }
    result = subprocess.run(
        [str(PRE_COMMIT), "run", "--all-files", "--color", "never"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    output = result.stdout + result.stderr
    results = {}
    for line in output.splitlines():
        if match := RESULT_LINE.match(line.strip()):
            results[match.group("name").strip()] = match.group("result")
    return result.returncode, results, output


def test_every_hook_is_local_and_runs_a_pinned_tool() -> None:
    """Nothing is cloned or fetched: local hooks only, running .venv/.tools tools or make."""
    config = yaml.safe_load(CONFIG.read_text())
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    for hook in config["repos"][0]["hooks"]:
        entry = hook["entry"].split()[0]
        assert hook["language"] == "unsupported", hook["id"]
        assert entry.startswith((".venv/bin/", ".tools/scanners/")) or entry in ("make", "bash"), (
            f"{hook['id']}: {entry} is not a tool this repository pins"
        )
        assert "additional_dependencies" not in hook, hook["id"]
    ids = {hook["id"] for hook in config["repos"][0]["hooks"]}
    assert {
        "ruff-check",
        "ruff-format",
        "terraform-fmt",
        "detect-secrets",
        *MAKE_HOOKS,
        "check-added-large-files",
        "check-merge-conflict",
    } <= ids


def test_a_clean_tree_passes_every_hook(scratch: Path) -> None:
    code, results, output = run_hooks(scratch)
    assert code == 0, output
    assert results[HOOK_NAMES["ruff-check"]] == "Passed"
    assert results[HOOK_NAMES["check-merge-conflict"]] == "Passed"
    assert all(results[HOOK_NAMES[hook]] == "Skipped" for hook in MAKE_HOOKS)


CASES = {
    "merge-marker": (
        "check-merge-conflict",
        "docs/notes.md",
        "# notes\n<<<<<<< HEAD\nours\n=======\ntheirs\n>>>>>>> branch\n",
    ),
    "large-file": ("check-added-large-files", "data/blob.bin", "x" * (501 * 1024)),
    "unformatted-python": ("ruff-format", "app/bad_format.py", "VALUE = {  'a':1 }\n"),
    "lint-error": ("ruff-check", "app/bad_lint.py", "import os\n"),
    "secret": ("detect-secrets", "conf/settings.ini", f"aws_access_key_id = {FAKE_ACCESS_KEY}\n"),
    "unformatted-terraform": ("terraform-fmt", "infra/bad.tf", 'variable "x" {\ntype=string\n}\n'),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_planted_bad_file_fails_its_hook(scratch: Path, case: str) -> None:
    hook, path, text = CASES[case]
    if hook == "terraform-fmt" and shutil.which("terraform") is None:
        if os.environ.get("STRICT_TOOLS") == "1":
            pytest.fail("terraform is not on PATH, and STRICT_TOOLS=1")
        pytest.skip("terraform is not on PATH")
    planted = scratch / path
    planted.parent.mkdir(parents=True, exist_ok=True)
    planted.write_text(text)
    code, results, output = run_hooks(scratch)
    assert code == 1, output
    failed = sorted(name for name, result in results.items() if result == "Failed")
    assert failed == [HOOK_NAMES[hook]], output
    assert path in output or planted.name in output, output
    assert planted.read_text() == text, f"{hook} rewrote {path}"
