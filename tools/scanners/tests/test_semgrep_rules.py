"""The project's own semgrep rules (.semgrep/rules) flag what they should, where they should.

`semgrep --test` checks each rule against its fixture (`# ruleid:` lines it must flag, `# ok:`
lines it must not) but ignores each rule's `paths`; the scoping test below checks those on a
small tree laid out like the repository.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
RULES = ROOT / ".semgrep" / "rules"
SEMGREP = ROOT / ".tools" / "scanners" / "semgrep" / "bin" / "semgrep"
RULE_FILES = sorted(RULES.glob("*.yml"))


def test_every_rule_passes_its_fixture() -> None:
    result = subprocess.run(
        ["make", "-C", str(ROOT), "--no-print-directory", "scan-rules-test"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(RULE_FILES)}/{len(RULE_FILES)}: ✓ All tests passed" in result.stdout


@pytest.mark.parametrize("rule_file", RULE_FILES, ids=lambda p: p.stem)
def test_every_rule_has_positive_and_negative_fixtures(rule_file: Path) -> None:
    (rule,) = yaml.safe_load(rule_file.read_text())["rules"]
    assert rule["id"] == rule_file.stem
    fixture = rule_file.with_suffix(".py").read_text()
    assert f"# ruleid: {rule['id']}" in fixture
    assert f"# ok: {rule['id']}" in fixture


# path -> source; laid out like the repository.
TREE = {
    "service/src/app/api/process.py": (
        "import boto3\nimport os\nos.getenv('PORT')\nimport jsonschema\n"
    ),
    "service/src/app/settings.py": "import os\nos.environ.get('PORT')\n",
    "ops/src/opsctl/aws.py": "import boto3\nfrom botocore.exceptions import ClientError\n",
    "ops/src/opsctl/commands/deploy.py": "import boto3\nfrom app.main import create_app\n",
    "localcloud/src/localcloud/ecs.py": (
        "import boto3\nimport os\nos.getenv('X')\nimport jsonschema\n"
    ),
    "ops/tests/test_deploy.py": "import moto\nimport boto3\n",
}
EXPECTED = {
    ("service/src/app/api/process.py", 1, "service-imports-stay-inside"),
    ("service/src/app/api/process.py", 3, "env-read-outside-settings"),
    ("service/src/app/api/process.py", 4, "service-no-backtracking-jsonschema"),
    ("ops/src/opsctl/commands/deploy.py", 1, "boto3-only-in-aws-module"),
    ("ops/src/opsctl/commands/deploy.py", 2, "opsctl-imports-stay-inside"),
}


def test_rules_apply_only_where_they_belong(tmp_path: Path) -> None:
    for path, source in TREE.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(source)
    result = subprocess.run(
        [
            str(SEMGREP),
            "scan",
            "--config",
            str(RULES),
            "--metrics=off",
            "--disable-version-check",
            "--json",
            "--quiet",
            "--no-rewrite-rule-ids",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    report = json.loads(result.stdout)
    assert report["errors"] == []
    found = {
        (str(Path(r["path"]).relative_to(tmp_path)), r["start"]["line"], r["check_id"])
        for r in report["results"]
    }
    # settings.py may read the environment, aws.py may import boto3, localcloud and the tests
    # are out of these rules' scope.
    assert found == EXPECTED
