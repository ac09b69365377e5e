"""The workflows stay thin and hygienic (docs/security.md, "GitHub Actions hygiene").

Thin: every `run:` step calls a make target or opsctl, so what CI does is what our own tests and
a person's terminal exercise; ECS Deploy and Rollback share one job (ecs-rollout.yml, a reusable
workflow). Hygienic: actions pinned to full commit SHAs with their version in a comment,
`permissions: {}` at the top and the least per job, OIDC (`id-token: write`) only in jobs that
assume an AWS role, no stored AWS keys, one optional secret (the notification webhook), no
credentials persisted by checkout, timeouts. The security boundaries of the delivery path (what
a pull request, a deploy, a rollback or an apply can do, and what can cancel or hold what) are
tried in test_delivery_boundaries.py.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
WORKFLOW_FILES = sorted(WORKFLOWS.glob("*.yml"))
CONFIGURE_AWS = "aws-actions/configure-aws-credentials"
ROLLOUT_FILES = {"deploy.yml", "rollback.yml", "ecs-rollout.yml"}
# A reusable workflow of this repository, read at the caller's commit (so pinned by it).
LOCAL_WORKFLOW = re.compile(r"^\./\.github/workflows/(?P<file>[\w.-]+\.yml)$")
# `uses: owner/repo[/path]@<40 hex> # v1.2.3`: the comment is how a reviewer (and Dependabot)
# knows which release the SHA is.
PINNED_USES = re.compile(
    r"^\s*(?:-\s+)?uses:\s+(?P<action>[\w.-]+/[\w.-]+(?:/[\w./-]+)?)@(?P<sha>[0-9a-f]{40})"
    r"\s+#\s+(?P<version>v\d+\.\d+\.\d+)\s*$"
)


def load(path: Path) -> dict[str, Any]:
    """The workflow as data. PyYAML reads the key `on` as True (YAML 1.1): put it back."""
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), path
    if True in data:
        data["on"] = data.pop(True)
    return data


def workflow(name: str) -> dict[str, Any]:
    return load(WORKFLOWS / name)


def jobs_of(path: Path) -> dict[str, dict[str, Any]]:
    jobs = load(path)["jobs"]
    assert isinstance(jobs, dict)
    return jobs


def all_jobs() -> list[tuple[str, str, dict[str, Any]]]:
    """Every job that runs steps (a job that calls a reusable workflow runs that one's jobs)."""
    return [
        (p.name, name, job)
        for p in WORKFLOW_FILES
        for name, job in jobs_of(p).items()
        if "uses" not in job
    ]


def calling_jobs() -> list[tuple[str, str, dict[str, Any]]]:
    """Every job that calls a reusable workflow (``jobs.<id>.uses``)."""
    return [
        (p.name, name, job)
        for p in WORKFLOW_FILES
        for name, job in jobs_of(p).items()
        if "uses" in job
    ]


def called(job: dict[str, Any]) -> dict[str, Any]:
    """The reusable workflow a calling job runs (one of this repository's)."""
    match = LOCAL_WORKFLOW.match(str(job["uses"]).split("#")[0].strip())
    assert match, f"{job['uses']}: only reusable workflows of this repository are used"
    return workflow(match["file"])


def all_steps() -> list[tuple[str, str, dict[str, Any]]]:
    return [(wf, name, step) for wf, name, job in all_jobs() for step in job.get("steps", [])]


def test_the_workflows_exist_with_the_names_the_runbook_uses() -> None:
    assert [p.name for p in WORKFLOW_FILES] == [
        "ci.yml",
        "deploy.yml",
        "ecs-rollout.yml",
        "rollback.yml",
        "terraform.yml",
    ]
    # ecs-rollout.yml is the job behind two of them: it cannot be run by itself.
    assert set(workflow("ecs-rollout.yml")["on"]) == {"workflow_call"}
    # Runbook 2.1 and 3.1 name these two workflows; people look for them by name.
    assert workflow("deploy.yml")["name"] == "ECS Deploy"
    assert workflow("rollback.yml")["name"] == "Rollback ECS Task Definition"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_full_commit_sha_with_its_version(path: Path) -> None:
    uses_lines = [
        line for line in path.read_text().splitlines() if re.match(r"^\s*(-\s+)?uses:", line)
    ]
    assert uses_lines, f"{path.name} uses no action at all"
    local = [line for line in uses_lines if line.split("uses:")[1].strip().startswith("./")]
    for line in local:
        assert LOCAL_WORKFLOW.match(line.split("uses:")[1].split("#")[0].strip()), line
    unpinned = [
        line.strip() for line in uses_lines if line not in local and not PINNED_USES.match(line)
    ]
    assert unpinned == [], f"{path.name}: not pinned as `owner/repo@<40-hex sha> # vX.Y.Z`"


def test_one_action_is_pinned_to_one_sha_everywhere() -> None:
    pins: dict[str, set[tuple[str, str]]] = {}
    for path in WORKFLOW_FILES:
        for line in path.read_text().splitlines():
            if match := PINNED_USES.match(line):
                pins.setdefault(match["action"], set()).add((match["sha"], match["version"]))
    assert {action: len(shas) for action, shas in pins.items()} == dict.fromkeys(pins, 1)


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_nothing_is_granted_at_the_top(path: Path) -> None:
    assert load(path)["permissions"] == {}


@pytest.mark.parametrize(
    ("wf", "name", "job"), all_jobs(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_job_has_a_timeout_and_reads_at_most(wf: str, name: str, job: dict[str, Any]) -> None:
    assert isinstance(job.get("timeout-minutes"), int), f"{wf}:{name} has no timeout-minutes"
    permissions = job.get("permissions")
    assert isinstance(permissions, dict), f"{wf}:{name} must declare its permissions"
    granted = {scope: level for scope, level in permissions.items() if scope != "id-token"}
    assert granted == {"contents": "read"}, f"{wf}:{name} asks for more than reading the code"


@pytest.mark.parametrize(
    ("wf", "name", "job"), all_jobs(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_oidc_only_where_a_job_assumes_an_aws_role(wf: str, name: str, job: dict[str, Any]) -> None:
    assumes_role = any(
        str(step.get("uses", "")).startswith(f"{CONFIGURE_AWS}@") for step in job.get("steps", [])
    )
    has_oidc = job["permissions"].get("id-token") == "write"
    assert has_oidc == assumes_role, f"{wf}:{name}: id-token: write iff it assumes an AWS role"


@pytest.mark.parametrize(
    ("wf", "name", "job"), calling_jobs(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_a_calling_job_grants_exactly_what_the_called_jobs_need(
    wf: str, name: str, job: dict[str, Any]
) -> None:
    # A calling job's permissions are the most its called jobs may have.
    needed: dict[str, str] = {}
    for called_job in called(job)["jobs"].values():
        needed.update(called_job["permissions"])
    assert job["permissions"] == needed, f"{wf}:{name}"
    assert called(job)["permissions"] == {}
    # One secret only, optional: the webhook opsctl notifies (an environment secret of the same
    # name wins inside the called job). Never `secrets: inherit`.
    assert job.get("secrets") == {"OPSCTL_NOTIFY_URL": "${{ secrets.OPSCTL_NOTIFY_URL }}"}, wf


def test_aws_account_roles_and_regions_come_from_github_variables() -> None:
    steps = [
        (wf, step)
        for wf, _, step in all_steps()
        if str(step.get("uses", "")).startswith(CONFIGURE_AWS)
    ]
    # publish; the ECS rollout's provenance, deploy and rollback; the pull-request plan (matrix),
    # plan-dev, apply-dev, plan-prod, apply-prod
    assert len(steps) == 9
    roles = set()
    for wf, step in steps:
        inputs = step["with"]
        # Only a role to assume through OIDC: never an access key, never a secret.
        assert set(inputs) == {
            "role-to-assume",
            "aws-region",
            "allowed-account-ids",
            "role-session-name",
        }, wf
        assert inputs["aws-region"] == "${{ vars.AWS_REGION }}", wf
        assert inputs["allowed-account-ids"] == "${{ vars.AWS_ACCOUNT_ID }}", wf
        roles.add(inputs["role-to-assume"])
    # The IAM model of docs/security.md: one variable per role.
    assert roles == {
        "${{ vars.ECR_PUSH_ROLE_ARN }}",
        "${{ vars.DEPLOY_ROLE_ARN }}",
        "${{ vars.TF_PLAN_ROLE_ARN }}",
        "${{ vars.TF_APPLY_ROLE_ARN }}",
    }


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_no_aws_keys_and_no_secrets_but_the_webhook(path: Path) -> None:
    text = path.read_text()
    for forbidden in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "aws-access-key-id",
        "aws-secret-access-key",
        "secrets: inherit",
    ):
        assert forbidden not in text, f"{path.name} mentions {forbidden}"
    # The only secret: OPSCTL_NOTIFY_URL (docs/pipelines.md, setup), and only where opsctl
    # deploys or rolls back.
    used = set(re.findall(r"secrets\.([A-Za-z0-9_]+)", text))
    allowed = {"OPSCTL_NOTIFY_URL"} if path.name in ROLLOUT_FILES else set()
    assert used <= allowed, f"{path.name} reads secrets {sorted(used - allowed)}"


def test_checkout_never_leaves_the_token_on_disk() -> None:
    checkouts = [
        (wf, step)
        for wf, _, step in all_steps()
        if str(step.get("uses", "")).startswith("actions/checkout@")
    ]
    assert checkouts
    for wf, step in checkouts:
        assert step.get("with", {}).get("persist-credentials") is False, wf


def run_commands() -> list[tuple[str, str, str]]:
    """Every command of every `run:` step, one per logical line (continuations joined)."""
    commands = []
    for wf, name, step in all_steps():
        if "run" in step:
            script = str(step["run"]).replace("\\\n", " ")
            commands += [(wf, name, line.strip()) for line in script.splitlines() if line.strip()]
    return commands


def test_every_run_step_calls_make_or_opsctl_and_nothing_else() -> None:
    commands = run_commands()
    assert commands
    for wf, job, command in commands:
        program = shlex.split(command)[0]
        assert program in {"make", ".venv/bin/opsctl"}, f"{wf}:{job} runs `{command}`"
        # One command per step: no `;`, `&&`, `||` or pipes hiding a second program.
        assert not re.search(r"[;|&]", command.replace(">>", "")), f"{wf}:{job}: `{command}`"


def test_no_expression_is_pasted_into_a_script() -> None:
    # Values reach scripts through `env:` only, so no input can become shell code.
    for wf, job, command in run_commands():
        assert "${{" not in command, f"{wf}:{job}: `{command}`"


def test_ci_gates_every_change_and_pushes_only_from_main() -> None:
    ci = workflow("ci.yml")
    assert ci["on"] == {"push": {"branches": ["main"]}, "pull_request": None}
    commands = {command for wf, _, command in run_commands() if wf == "ci.yml"}
    for expected in (
        "make lint",
        "make test",
        "make scan",
        "make audit",
        "make tf-fmt",
        "make tf-validate",
        "make tf-test",
    ):
        assert expected in commands
    image_steps = " ".join(str(s.get("run", "")) for s in ci["jobs"]["image"]["steps"])
    for target in ("make image ", "make image-scan ", "make sbom ", "make image-save "):
        assert target in image_steps
    publish = ci["jobs"]["publish"]
    assert publish["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"
    assert set(publish["needs"]) == set(ci["jobs"]) - {"publish"}
    # Each environment's repository gets the commit's image, tagged with its SHA.
    assert publish["env"] == {
        "DEV_IMAGE": "${{ vars.ECR_REPOSITORY_URL_DEV }}:${{ github.sha }}",
        "PROD_IMAGE": "${{ vars.ECR_REPOSITORY_URL_PROD }}:${{ github.sha }}",
    }
    # ECR tags are immutable: one push of a commit at a time, never cancelled half-way.
    assert publish["concurrency"] == {
        "group": "ecr-push-${{ github.sha }}",
        "cancel-in-progress": False,
    }


def test_manual_deploy_and_rollback_take_the_runbooks_inputs() -> None:
    deploy = workflow("deploy.yml")["on"]["workflow_dispatch"]["inputs"]
    assert deploy["environment"]["type"] == "choice"
    assert deploy["environment"]["options"] == ["dev", "prod"]
    assert deploy["image"]["required"] is True
    rollback = workflow("rollback.yml")["on"]["workflow_dispatch"]["inputs"]
    assert rollback["environment"]["options"] == ["dev", "prod"]
    # Empty means "the last known good revision", opsctl's default.
    assert rollback["revision"]["default"] == ""
    assert rollback["revision"]["required"] is False
    rollout = workflow("ecs-rollout.yml")["jobs"]
    for name, command, passed in (
        ("deploy.yml", "deploy", {"image": "${{ inputs.image }}"}),
        ("rollback.yml", "rollback", {"revision": "${{ inputs.revision }}"}),
    ):
        (caller,) = workflow(name)["jobs"].values()
        # Every input reaches the shared jobs, and the environment picks the GitHub environment.
        assert caller["with"] == {
            "command": command,
            "environment": "${{ inputs.environment }}",
            **passed,
        }
        job = rollout[command]
        assert job["if"] == f"inputs.command == '{command}'"
        assert job["environment"] == "${{ inputs.environment }}"
        assert job["env"]["OPSCTL_CLUSTER"] == "${{ vars.OPSCTL_CLUSTER }}"
        assert job["env"]["OPSCTL_SERVICE"] == "${{ vars.OPSCTL_SERVICE }}"
        # The URL the smoke test uses (the env root's alb_url): an HTTPS environment's domain,
        # since https://<load balancer DNS name> has no certificate. Unset: opsctl's default.
        assert job["env"]["OPSCTL_URL"] == "${{ vars.OPSCTL_URL }}"
        (step,) = [
            s for s in job["steps"] if f"opsctl --output markdown {command}" in s.get("run", "")
        ]
        assert step["run"].endswith('>> "$GITHUB_STEP_SUMMARY"')
        # The notification webhook reaches opsctl only, never the installation steps.
        assert step["env"] == {"OPSCTL_NOTIFY_URL": "${{ secrets.OPSCTL_NOTIFY_URL }}"}
    # No AWS credential exists while dependencies are installed.
    for job in rollout.values():
        steps = [str(s.get("run", s.get("uses"))) for s in job["steps"]]
        assert steps.index("make install") < next(
            i for i, s in enumerate(steps) if s.startswith(CONFIGURE_AWS)
        )
    runs = {
        name: [str(s["run"]) for s in job["steps"] if "opsctl" in str(s.get("run", ""))]
        for name, job in rollout.items()
    }
    assert runs == {
        "provenance": [
            '.venv/bin/opsctl --output markdown provenance --image "$IMAGE" '
            '${REQUIRE_VERIFIED:+--require-verified} --github-output "$GITHUB_OUTPUT" '
            '>> "$GITHUB_STEP_SUMMARY"'
        ],
        "deploy": [
            '.venv/bin/opsctl --output markdown deploy --image-tag "$DIGEST" '
            '>> "$GITHUB_STEP_SUMMARY"'
        ],
        "rollback": [
            ".venv/bin/opsctl --output markdown rollback "
            '${REVISION:+--to-revision "$REVISION"} >> "$GITHUB_STEP_SUMMARY"'
        ],
    }


def test_terraform_plans_on_pull_requests_and_applies_on_main_behind_reviewers() -> None:
    tf = workflow("terraform.yml")
    assert "infra/**" in tf["on"]["pull_request"]["paths"]
    assert "infra/**" in tf["on"]["push"]["paths"]
    jobs = tf["jobs"]
    assert jobs["plan"]["if"] == "github.event_name == 'pull_request'"
    assert [s["run"] for s in jobs["plan"]["steps"] if "run" in s] == [
        'make ci-tf-backend ENV="$TF_ENV"',
        'make tf-plan ENV="$TF_ENV" TF_LOCK=false',
        'make tf-show ENV="$TF_ENV" >> "$GITHUB_STEP_SUMMARY"',
    ]
    # The backend configuration comes from a variable (backend.hcl is not in git).
    assert jobs["plan"]["env"]["TF_BACKEND_CONFIG"] == "${{ matrix.backend_config }}"
    for env in ("dev", "prod"):
        plan, apply = jobs[f"plan-{env}"], jobs[f"apply-{env}"]
        assert plan["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"
        # Plan and apply read one backend variable: the plan applies to the state it was made on.
        backend = f"${{{{ vars.TF_BACKEND_CONFIG_{env.upper()} }}}}"
        assert plan["env"]["TF_BACKEND_CONFIG"] == apply["env"]["TF_BACKEND_CONFIG"] == backend
        # The apply role trusts only this environment's OIDC subject (infra/bootstrap).
        assert apply["environment"] == f"{env}-infra"
        assert [s["run"] for s in plan["steps"] if "run" in s] == [
            f"make ci-tf-backend ENV={env}",
            f"make tf-plan ENV={env} TF_LOCK=false",
            f'make tf-show ENV={env} >> "$GITHUB_STEP_SUMMARY"',
            f'make tf-plan-sha256 ENV={env} >> "$GITHUB_OUTPUT"',
        ]
        assert [s["run"] for s in apply["steps"] if "run" in s] == [
            f"make ci-tf-backend ENV={env}",
            f'make tf-apply ENV={env} TF_PLAN={env}.tfplan TF_PLAN_SHA256="$PLAN_SHA256"',
        ]
    assert jobs["plan-prod"]["needs"] == "apply-dev"


@cache
def make_targets() -> frozenset[str]:
    """Every target the Makefile defines (make's own database, nothing run)."""
    out = subprocess.run(
        ["make", "-C", str(ROOT), "-pRrq", ":"], capture_output=True, text=True, check=False
    ).stdout
    return frozenset(m[1] for m in re.finditer(r"^([a-zA-Z0-9][\w.-]*):(?!=)", out, re.MULTILINE))


def test_ci_tf_backend_writes_only_a_backend_of_its_own_environment(tmp_path: Path) -> None:
    def run(env: str, config: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                "make",
                "-C",
                str(ROOT),
                "--no-print-directory",
                "ci-tf-backend",
                f"ENV={env}",
                f"TF_BACKEND_DIR={tmp_path}",
            ],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "TF_BACKEND_CONFIG": config},
        )

    dev = 'bucket = "state"\nkey    = "dev/terraform.tfstate"\nregion = "eu-west-1"\n'
    assert run("dev", dev).returncode == 0
    assert (tmp_path / "backend.hcl").read_text().startswith(dev)
    # prod's backend handed to a dev job, an empty variable, an unknown environment: refused,
    # and the file is left as it was.
    for env, config, message in (
        ("prod", dev, 'not under "prod/"'),
        ("dev", "", "TF_BACKEND_CONFIG is empty"),
        ("qa", dev, "ENV must be dev or prod"),
    ):
        result = run(env, config)
        assert result.returncode == 2
        assert message in result.stderr
    assert (tmp_path / "backend.hcl").read_text().startswith(dev)


def called_targets() -> set[str]:
    return {
        shlex.split(command)[1] for _, _, command in run_commands() if command.startswith("make ")
    }


def test_every_make_target_a_workflow_calls_exists() -> None:
    # Every part is merged: a target a workflow calls and no Makefile defines is a broken
    # workflow, never a reason to skip.
    called = called_targets()
    assert {
        "image",
        "image-save",
        "image-load",
        "image-push",
        "tf-plan",
        "tf-show",
        "tf-plan-sha256",
        "tf-apply",
        "ci-tf-backend",
    } <= called
    missing = called - make_targets()
    assert missing == set(), f"workflows call undefined make targets: {sorted(missing)}"


def opsctl_help(*args: str) -> str:
    # The console script the workflows run, as they run it.
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "opsctl"), *args, "--help"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_opsctl_calls_match_its_cli() -> None:
    assert "markdown" in opsctl_help()
    assert "--image-tag" in opsctl_help("deploy")
    assert "--to-revision" in opsctl_help("rollback")
    provenance = opsctl_help("provenance")
    for option in ("--image", "--require-verified", "--github-output"):
        assert option in provenance


def test_workflows_pass_actionlint_and_zizmor() -> None:
    # Also part of `make scan`; here so that a workflow edit fails `make test` on its own.
    for target in ("scan-actionlint", "scan-zizmor"):
        result = subprocess.run(
            [shutil.which("make") or "make", "-C", str(ROOT), "--no-print-directory", target],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
