"""The delivery path's security boundaries (issue 10), each tried against the workflows as written.

Every test is one attack: what a pull request's code could write or lock, an approval given
before the plan or the image is known, an image promoted that never ran in dev, a rollback a
deploy could cancel or hold, a role assumed from a workflow file its trust does not name.
docs/pipelines.md, "How we tested the boundaries", lists them with their results. GitHub itself
is not reachable from here: where a test needs GitHub's behaviour (the OIDC subject it issues,
how concurrency groups queue), it models the documented rule, quoted next to the model.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
CONFIGURE_AWS = "aws-actions/configure-aws-credentials@"
MAIN = "refs/heads/main"
PR_REF = "refs/pull/<n>/merge"
ENVIRONMENTS = ("dev", "prod")


def workflow(name: str) -> dict[str, Any]:
    """The workflow as data. PyYAML reads the key `on` as True (YAML 1.1): put it back."""
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    if True in data:
        data["on"] = data.pop(True)
    return dict(data)


def runs(job: dict[str, Any]) -> list[str]:
    return [str(step["run"]) for step in job.get("steps", []) if "run" in step]


def uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job.get("steps", []) if str(s.get("uses", "")).startswith(action)]


def make(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [shutil.which("make") or "make", "-C", str(ROOT), "--no-print-directory", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )


# --- which jobs assume which role, and the OIDC subject GitHub gives them ----------------------

# The roles' trust (infra/bootstrap/iam.tf; docs/pipelines.md, "OIDC subjects"): the workflow
# file whose jobs may assume each role, and the contexts they may do it in.
TRUST = {
    "ECR_PUSH_ROLE_ARN": ("ci.yml", {f"ref:{MAIN}"}),
    "DEPLOY_ROLE_ARN": ("ecs-rollout.yml", {f"environment:{e}" for e in ENVIRONMENTS}),
    "TF_PLAN_ROLE_ARN": ("terraform.yml", {"pull_request", f"ref:{MAIN}"}),
    "TF_APPLY_ROLE_ARN": ("terraform.yml", {f"environment:{e}-infra" for e in ENVIRONMENTS}),
}
# The Terraform addresses of those roles in iam.golden.json.
GOLDEN_ROLES = {
    "aws_iam_role.ci": "ECR_PUSH_ROLE_ARN",
    "aws_iam_role.deploy": "DEPLOY_ROLE_ARN",
    "aws_iam_role.plan": "TF_PLAN_ROLE_ARN",
    "aws_iam_role.apply": "TF_APPLY_ROLE_ARN",
}
# How each workflow starts: the events of its `on`, or, for the reusable one, its callers'.
CALLERS = {"ecs-rollout.yml": ("deploy.yml", "rollback.yml")}


def events_of(file: str) -> set[str]:
    if file in CALLERS:
        return set().union(*(events_of(caller) for caller in CALLERS[file]))
    return set(workflow(file)["on"])


def job_events(file: str, job_id: str) -> set[str]:
    """The events a job runs for: its workflow's, narrowed by its `if` and its needs'.

    Only the conditions these workflows use are understood; any other fails the test rather
    than being guessed."""
    jobs = workflow(file)["jobs"]
    job = jobs[job_id]
    events = events_of(file)
    condition = str(job.get("if", ""))
    if match := re.search(r"github\.event_name == '(\w+)'", condition):
        events &= {match[1]}
    elif condition and not re.fullmatch(r"inputs\.command == '\w+'", condition):
        pytest.fail(f"{file}:{job_id}: condition {condition!r} not understood by this test")
    needs = job.get("needs", [])
    for need in [needs] if isinstance(needs, str) else needs:
        events &= job_events(file, need)
    return events


def environments_of(job: dict[str, Any]) -> list[str | None]:
    """The GitHub environments a job may run in (an input expression: each choice)."""
    environment = job.get("environment")
    if environment is None:
        return [None]
    name = environment["name"] if isinstance(environment, dict) else environment
    if name == "${{ inputs.environment }}":
        return list(ENVIRONMENTS)
    assert "${{" not in name, f"environment {name!r} not understood by this test"
    return [name]


@dataclass(frozen=True)
class RoleJob:
    file: str
    job_id: str
    role: str
    environment: str | None
    event: str

    def context(self) -> str:
        """The default subject's part after the repository, as GitHub documents it: the
        environment when the job has one, else pull_request, else the ref."""
        if self.environment is not None:
            return f"environment:{self.environment}"
        return "pull_request" if self.event == "pull_request" else f"ref:{MAIN}"

    def subject(self, repository: str) -> str:
        """The `sub` under the customization `["repo", "context", "job_workflow_ref"]`
        (docs/pipelines.md, one-time setup): the workflow file that defines the job, at the
        ref of the run."""
        ref = PR_REF if self.event == "pull_request" else MAIN
        workflow_ref = f"{repository}/.github/workflows/{self.file}@{ref}"
        return f"repo:{repository}:{self.context()}:job_workflow_ref:{workflow_ref}"


def role_jobs() -> list[RoleJob]:
    found = []
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for job_id, job in workflow(path.name)["jobs"].items():
            for step in uses(job, CONFIGURE_AWS):
                role = re.fullmatch(r"\$\{\{ vars\.(\w+) \}\}", step["with"]["role-to-assume"])
                assert role, f"{path.name}:{job_id}: role not from a variable"
                for event in sorted(job_events(path.name, job_id)):
                    for environment in environments_of(job):
                        found.append(RoleJob(path.name, job_id, role[1], environment, event))
    return found


def test_every_job_assumes_its_role_from_the_workflow_file_the_role_trusts() -> None:
    """Attack: a refactor moves a deploy or apply job to another file (or gives it another
    environment); with subjects pinned to job_workflow_ref, AWS would refuse it in production.
    Here it fails first."""
    jobs = role_jobs()
    assert {j.role for j in jobs} == set(TRUST)
    for job in jobs:
        file, contexts = TRUST[job.role]
        assert job.file == file, f"{job.file}:{job.job_id} assumes {job.role}, trusted from {file}"
        assert job.context() in contexts, f"{job}: {job.context()} is not trusted by {job.role}"
    # Deploy and rollback call the reusable workflow: no job of theirs holds a role itself.
    for caller in CALLERS["ecs-rollout.yml"]:
        assert all("uses" in job for job in workflow(caller)["jobs"].values())


def test_the_documented_subjects_are_the_ones_the_jobs_present() -> None:
    """docs/pipelines.md lists the `sub` each role must trust (the one-time setup): every job's
    subject is there, in the row of its role, so the trust written from the docs admits every
    job and nothing else."""
    text = (ROOT / "docs" / "pipelines.md").read_text()
    rows = {}
    for line in text.splitlines():
        if match := re.match(r"^\| `(\w+_ROLE_ARN)` \|(.*)\|\s*$", line):
            rows[match[1]] = set(re.findall(r"`(repo:[^`]+)`", match[2]))
    assert set(rows) == set(TRUST), "docs/pipelines.md: one row per role variable"
    presented: dict[str, set[str]] = {role: set() for role in TRUST}
    for job in role_jobs():
        presented[job.role].add(job.subject("OWNER/REPO"))
    assert presented == rows


def golden_trust() -> Iterator[tuple[str, str, list[str]]]:
    """(role variable, repository, trusted subjects) from the rendered IAM of the bootstrap."""
    golden = json.loads((ROOT / "infra" / "bootstrap" / "iam.golden.json").read_text())
    repository = golden["inputs"]["github"]["repository"]
    for role in golden["roles"].values():
        address = re.sub(r"\[.*\]$", "", role["address"])
        for statement in role["trust_policy"]["Statement"]:
            for values in statement.get("Condition", {}).values():
                for key, value in values.items():
                    if key.endswith(":sub"):
                        subjects = [value] if isinstance(value, str) else list(value)
                        yield GOLDEN_ROLES[address], repository, subjects


def test_every_job_is_admitted_by_its_role_as_terraform_renders_it() -> None:
    """The bootstrap's trust policies (iam.golden.json) admit the subject of every job that
    assumes the role, in the format the trust uses: pinned to job_workflow_ref once the
    one-time GitHub customization is in place, else GitHub's default `repo:R:<context>`."""
    trusted: dict[str, list[str]] = {}
    repositories = set()
    for role, repository, subjects in golden_trust():
        trusted.setdefault(role, []).extend(subjects)
        repositories.add(repository)
    (repository,) = repositories
    assert set(trusted) == set(TRUST)
    for job in role_jobs():
        patterns = trusted[job.role]
        pinned = any("job_workflow_ref" in p for p in patterns)
        subject = (
            job.subject(repository).replace("<n>", "42")
            if pinned
            else f"repo:{repository}:{job.context()}"
        )
        assert any(fnmatch.fnmatchcase(subject, p) for p in patterns), (
            f"{job.file}:{job.job_id} presents {subject}, which {job.role} does not trust: "
            f"{patterns}"
        )


# --- pull requests: no writes, no lock --------------------------------------------------------


def pull_request_jobs() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path.name, job_id, job)
        for path in sorted(WORKFLOWS.glob("*.yml"))
        for job_id, job in workflow(path.name)["jobs"].items()
        if "pull_request" in job_events(path.name, job_id)
    ]


def test_pull_request_code_gets_only_the_plan_role_and_takes_no_lock() -> None:
    """Attack: a pull request's Makefile or Terraform (a `data "external"`) runs with the
    job's credentials. The only role a pull-request job assumes is the plan role, which may
    write nothing (ADR 0010), and its plans run with -lock=false: no lock item or `.tflock`
    object is ever written for a pull request, so none can wedge or release prod's lock."""
    assuming = []
    for file, job_id, job in pull_request_jobs():
        for step in uses(job, CONFIGURE_AWS):
            assuming.append((file, job_id))
            assert step["with"]["role-to-assume"] == "${{ vars.TF_PLAN_ROLE_ARN }}"
            assert "environment" not in job, f"{file}:{job_id}"
        for command in runs(job):
            assert "tf-apply" not in command, f"{file}:{job_id} applies on a pull request"
            if command.startswith("make tf-plan "):
                assert "TF_LOCK=false" in command.split(), f"{file}:{job_id}: {command}"
    assert assuming == [("terraform.yml", "plan")]


def backend_root(tmp_path: Path) -> Path:
    """A root with a local backend, standing in for infra/envs/dev in make's recipes."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "main.tf").write_text(
        'terraform {\n  backend "local" {}\n}\n\nvariable "v" {\n  type    = string\n'
        '  default = "a"\n}\n\nresource "terraform_data" "this" {\n  input = var.v\n}\n'
    )
    (tmp_path / "backend.hcl").write_text('path = "terraform.tfstate"\n')
    return tmp_path


def test_every_plan_in_ci_holds_no_lock_and_every_apply_waits_for_one(tmp_path: Path) -> None:
    """Attack: a pull request's plan holds prod's lock while prod's apply starts (it used to
    plan with the lock and no -lock-timeout, failing the apply). CI's plans never take the
    lock; an apply waits -lock-timeout for one it meets instead of failing at once."""
    root = str(backend_root(tmp_path))
    tf = workflow("terraform.yml")
    plans = [c for job in tf["jobs"].values() for c in runs(job) if c.startswith("make tf-plan ")]
    assert len(plans) == 3  # pull request (matrix), main dev, main prod
    assert all("TF_LOCK=false" in command.split() for command in plans)
    dry = make("-n", "tf-plan", "ENV=dev", "TF_LOCK=false", f"TF_ROOT={root}")
    assert dry.returncode == 0, dry.stderr
    assert re.search(r"terraform -chdir=\S+ plan .*-lock=false", dry.stdout), dry.stdout
    apply = make("-n", "tf-apply", "ENV=dev", "TF_PLAN=dev.tfplan", f"TF_ROOT={root}")
    assert re.search(r"apply -input=false -lock-timeout=5m dev\.tfplan", apply.stdout)
    assert make("tf-plan", "ENV=dev", "TF_LOCK=maybe", f"TF_ROOT={root}").returncode == 2


# --- Terraform: the approved plan is the applied plan ------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_reviewers_approve_a_plan_that_exists_and_exactly_it_is_applied(env: str) -> None:
    """Attack: reviewers approve `<env>-infra` before any plan exists and the apply job
    re-plans, applying whatever the state and the code say by then. Now the plan is made and
    shown before the gate, and the gated job applies that file, checked by its sha256."""
    jobs = workflow("terraform.yml")["jobs"]
    plan, apply = jobs[f"plan-{env}"], jobs[f"apply-{env}"]
    # The plan job runs before any approval: no environment, no gate.
    assert "environment" not in plan
    assert apply["environment"] == f"{env}-infra"
    assert apply["needs"] == f"plan-{env}"
    # It shows the plan (and its sha256) to the reviewers, and hands over the file.
    assert f'make tf-show ENV={env} >> "$GITHUB_STEP_SUMMARY"' in runs(plan)
    (upload,) = uses(plan, "actions/upload-artifact@")
    assert upload["with"]["path"] == f"infra/envs/{env}/{env}.tfplan"
    sha_step = next(s for s in plan["steps"] if "tf-plan-sha256" in str(s.get("run", "")))
    assert plan["outputs"]["sha256"] == f"${{{{ steps.{sha_step['id']}.outputs.sha256 }}}}"
    # The gated job never plans: it takes that file and applies it, after checking the sha256.
    assert not any("tf-plan" in c for c in runs(apply)), runs(apply)
    (download,) = uses(apply, "actions/download-artifact@")
    assert download["with"] == {"name": upload["with"]["name"], "path": f"infra/envs/{env}"}
    assert apply["env"]["PLAN_SHA256"] == f"${{{{ needs.plan-{env}.outputs.sha256 }}}}"
    assert runs(apply)[-1] == (
        f'make tf-apply ENV={env} TF_PLAN={env}.tfplan TF_PLAN_SHA256="$PLAN_SHA256"'
    )


def fake_terraform(tmp_path: Path) -> tuple[Path, Path]:
    calls = tmp_path / "terraform-calls"
    fake = tmp_path / "terraform"
    fake.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    fake.chmod(0o755)
    return fake, calls


def test_a_plan_file_other_than_the_reviewed_one_is_refused_before_terraform_runs(
    tmp_path: Path,
) -> None:
    """Attack: the file in the apply job is not the one reviewed (another run's artifact, a
    re-plan). tf-apply compares its sha256 with the one the plan job published and refuses
    before Terraform starts."""
    root = backend_root(tmp_path / "root")
    (root / "dev.tfplan").write_bytes(b"the plan that was reviewed")
    fake, calls = fake_terraform(tmp_path)
    reviewed = make("tf-plan-sha256", "ENV=dev", f"TF_ROOT={root}").stdout.strip()
    assert re.fullmatch(r"sha256=[0-9a-f]{64}", reviewed), reviewed

    (root / "dev.tfplan").write_bytes(b"another plan")
    args = ("tf-apply", "ENV=dev", f"TF_ROOT={root}", f"TF={fake}", "TF_PLAN=dev.tfplan")
    refused = make(*args, f"TF_PLAN_SHA256={reviewed.removeprefix('sha256=')}")
    assert refused.returncode == 2
    assert "not " + reviewed.removeprefix("sha256=") in refused.stderr
    assert "nothing applied" in refused.stderr
    assert not calls.exists(), "terraform ran although the plan was refused"

    (root / "dev.tfplan").write_bytes(b"the plan that was reviewed")
    accepted = make(*args, f"TF_PLAN_SHA256={reviewed.removeprefix('sha256=')}")
    assert accepted.returncode == 0, accepted.stderr
    assert calls.read_text().splitlines() == [
        f"-chdir={root} init -input=false -lockfile=readonly -backend-config=backend.hcl",
        f"-chdir={root} apply -input=false -lock-timeout=5m dev.tfplan",
    ]


@pytest.mark.skipif(
    shutil.which("terraform") is None and os.environ.get("STRICT_TOOLS") != "1",
    reason="terraform is not on PATH",
)
def test_terraform_refuses_a_reviewed_plan_once_the_state_moved(tmp_path: Path) -> None:
    """Attack: between the review and the apply, another apply changes the state; applying
    the old plan would undo or collide with it. Through the same make targets as CI, real
    Terraform refuses the stale plan, and applies a fresh one."""
    root = backend_root(tmp_path / "root")
    env = {"TF_CACHE_DIR": str(tmp_path / "cache"), "TF_DATA_DIR": str(tmp_path / "data")}
    target = ("ENV=dev", f"TF_ROOT={root}")
    first = make("tf-plan", *target, "TF_LOCK=false", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    sha = make("tf-plan-sha256", *target).stdout.strip().removeprefix("sha256=")
    show = make("tf-show", *target, env=env)
    assert show.returncode == 0, show.stderr
    assert f"sha256 `{sha}`" in show.stdout
    assert "terraform_data.this will be created" in show.stdout
    # Someone else's apply moves the state after the review.
    other = subprocess.run(
        ["terraform", f"-chdir={root}", "apply", "-auto-approve", "-input=false", "-var=v=b"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **env},
    )
    assert other.returncode == 0, other.stderr

    stale = make("tf-apply", *target, "TF_PLAN=dev.tfplan", f"TF_PLAN_SHA256={sha}", env=env)

    assert stale.returncode != 0
    assert "Saved plan is stale" in stale.stdout + stale.stderr
    state = json.loads((root / "terraform.tfstate").read_text())
    (resource,) = state["resources"]
    # The stale plan changed nothing: the state holds what the other apply wrote.
    assert resource["instances"][0]["attributes"]["input"]["value"] == "b"
    # A plan made now applies.
    assert make("tf-plan", *target, "TF_LOCK=false", env=env).returncode == 0
    fresh = make("tf-apply", *target, "TF_PLAN=dev.tfplan", env=env)
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr


ROOTS = ("infra/bootstrap", "infra/envs/dev", "infra/envs/prod")


@pytest.mark.parametrize("root", ROOTS)
def test_provider_lock_files_are_committed_and_never_rewritten(root: str) -> None:
    """Attack: the apply job installs other provider builds than the plan job (lock files
    ignored by git, so each init picks and records its own). Each root's lock file is
    committed, records the provider and its checksum, and init only reads it."""
    lock = f"{root}/.terraform.lock.hcl"
    tracked = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "--error-unmatch", lock],
        capture_output=True,
        check=False,
    )
    assert tracked.returncode == 0, f"{lock} is not committed"
    ignored = subprocess.run(
        ["git", "-C", str(ROOT), "check-ignore", "--no-index", lock], capture_output=True
    )
    assert ignored.returncode == 1, f"{lock} is git-ignored"
    text = (ROOT / lock).read_text()
    assert 'provider "registry.terraform.io/hashicorp/aws"' in text
    assert re.search(r'"h1:[A-Za-z0-9+/=]{44}"', text), "no linux_amd64 checksum"
    env = "bootstrap" if root == "infra/bootstrap" else root.rsplit("/", 1)[1]
    dry = make("-n", "tf-init", f"ENV={env}", f"TF_ROOT={ROOT / root}")
    assert "init -input=false -lockfile=readonly" in dry.stdout, dry.stdout + dry.stderr


# --- images: built once, promoted by digest ----------------------------------------------------


def test_one_build_is_scanned_and_its_bytes_are_pushed_to_both_environments() -> None:
    """Attack on provenance: dev and prod were separate builds of a commit (a matrix that
    rebuilt per environment), so prod never ran the bytes verified in dev. Now one job builds,
    scans and saves the image; the push job loads that archive, rebuilds nothing, and pushes it
    under both names in one command that fails unless both registries report one digest."""
    jobs = workflow("ci.yml")["jobs"]
    builders = [
        job_id for job_id, job in jobs.items() for c in runs(job) if c.startswith("make image ")
    ]
    assert builders == ["image"]
    image, publish = jobs["image"], jobs["publish"]
    image_runs = runs(image)
    scan = image_runs.index('make image-scan IMAGE="$LOCAL_IMAGE"')
    save = image_runs.index('make image-save IMAGE="$LOCAL_IMAGE" IMAGE_ARCHIVE="$IMAGE_ARCHIVE"')
    assert scan < save  # the saved bytes are the scanned ones
    (upload,) = [
        u for u in uses(image, "actions/upload-artifact@") if "image-" in u["with"]["name"]
    ]
    assert upload["with"]["path"] == "${{ env.IMAGE_ARCHIVE }}"
    assert "strategy" not in publish
    (download,) = uses(publish, "actions/download-artifact@")
    assert download["with"]["name"] == upload["with"]["name"]
    assert runs(publish) == [
        'make image-load IMAGE="$LOCAL_IMAGE" IMAGE_ARCHIVE="$IMAGE_ARCHIVE"',
        'make image-push IMAGE="$DEV_IMAGE" IMAGE_ALSO="$PROD_IMAGE" IMAGE_FROM="$LOCAL_IMAGE" '
        '>> "$GITHUB_STEP_SUMMARY"',
    ]
    assert publish["env"]["DEV_IMAGE"].endswith(":${{ github.sha }}")
    assert publish["env"]["PROD_IMAGE"].endswith(":${{ github.sha }}")


def test_a_deploy_names_an_immutable_image_and_prod_takes_only_what_ran_in_dev() -> None:
    """Attack: `latest` is the default and anyone who may push can point an immutable `latest`
    at an old image; prod approves before the tag is resolved. Now the image input has no
    default, opsctl refuses `latest`, the digest is resolved (and, for prod, proven in dev)
    by a job before the gate, the gated job is named after the digest and deploys exactly it."""
    inputs = workflow("deploy.yml")["on"]["workflow_dispatch"]["inputs"]
    assert set(inputs) == {"environment", "image"}
    assert inputs["image"]["required"] is True
    assert "default" not in inputs["image"]
    jobs = workflow("ecs-rollout.yml")["jobs"]
    provenance, deploy = jobs["provenance"], jobs["deploy"]
    # Before any gate: dev (no reviewers), whatever the target; it needs nothing.
    assert provenance["environment"] == "dev"
    assert "needs" not in provenance
    assert provenance["env"]["IMAGE"] == "${{ inputs.image }}"
    assert provenance["env"]["REQUIRE_VERIFIED"] == (
        "${{ inputs.environment != 'dev' && 'yes' || '' }}"
    )
    (step,) = [s for s in provenance["steps"] if "opsctl" in str(s.get("run", ""))]
    assert "${REQUIRE_VERIFIED:+--require-verified}" in step["run"]
    assert '--github-output "$GITHUB_OUTPUT"' in step["run"]
    assert step["run"].endswith('>> "$GITHUB_STEP_SUMMARY"')  # the evidence, for the reviewer
    assert provenance["outputs"]["digest"] == f"${{{{ steps.{step['id']}.outputs.digest }}}}"
    # The gate comes after, is named after the digest, and can deploy nothing else.
    assert deploy["needs"] == "provenance"
    assert deploy["environment"] == "${{ inputs.environment }}"
    assert "${{ needs.provenance.outputs.digest }}" in deploy["name"]
    assert deploy["env"]["DIGEST"] == "${{ needs.provenance.outputs.digest }}"
    assert "inputs.image" not in yaml.safe_dump(deploy)
    assert runs(deploy)[-1].startswith(
        '.venv/bin/opsctl --output markdown deploy --image-tag "$DIGEST"'
    )
    # And the command itself refuses what can be moved, before any AWS call.
    opsctl = ROOT / ".venv" / "bin" / "opsctl"
    for reference in ("latest", "v1.2.3", "main"):
        refused = subprocess.run(
            [str(opsctl), "provenance", "--image", reference],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "NO_COLOR": "1"},
        )
        assert refused.returncode == 2, refused.stderr
        assert "--image" in refused.stderr


# --- concurrency: rollbacks never cancelled, never held -----------------------------------------


@dataclass
class Group:
    """One concurrency group as GitHub documents it: "there can be at most one running and one
    pending job in a concurrency group at any time. [...] Any existing pending job or workflow
    in the same concurrency group, if it exists, will be canceled and the new queued job or
    workflow will take its place", unless `queue: max`, which keeps up to 100 pending runs and
    starts them in order. "The concurrency group name is case insensitive."
    https://docs.github.com/en/actions/how-tos/write-workflows/choose-when-workflows-run/control-workflow-concurrency
    https://github.blog/changelog/2026-05-07-github-actions-concurrency-groups-now-allow-larger-queues
    """

    running: str | None = None
    pending: list[str] = field(default_factory=list)


@dataclass
class Concurrency:
    groups: dict[str, Group] = field(default_factory=dict)
    cancelled: list[str] = field(default_factory=list)

    def queue(self, run: str, group: str, *, queue_max: bool, cancel_in_progress: bool) -> None:
        g = self.groups.setdefault(group.lower(), Group())
        if g.running is not None and cancel_in_progress:
            self.cancelled.append(g.running)
            g.running = None
        if g.running is None:
            g.running = run
            return
        if not queue_max:
            self.cancelled += g.pending
            g.pending = []
        g.pending.append(run)

    def running(self) -> set[str]:
        return {g.running for g in self.groups.values() if g.running}


def workflow_concurrency(file: str, environment: str) -> tuple[str, bool, bool]:
    """(group, queue: max, cancel-in-progress) of a dispatched run for `environment`."""
    concurrency = workflow(file)["concurrency"]
    group = concurrency["group"].replace("${{ inputs.environment }}", environment)
    assert "${{" not in group, group
    cancel = concurrency.get("cancel-in-progress", False)
    assert isinstance(cancel, bool), f"{file}: cancel-in-progress {cancel!r}"
    return group, concurrency.get("queue", "single") == "max", cancel


def queue(state: Concurrency, run: str, file: str, environment: str) -> None:
    group, queue_max, cancel = workflow_concurrency(file, environment)
    state.queue(run, group, queue_max=queue_max, cancel_in_progress=cancel)


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_a_queued_deploy_can_neither_cancel_nor_hold_a_rollback(environment: str) -> None:
    """Attack: deploy A waits for prod's approval (its run is in progress), a rollback is
    requested, then another deploy B. With one group for both, the rollback waited behind A
    and B's arrival cancelled it. Now the rollback runs at once, and B waits without
    cancelling anything."""
    state = Concurrency()
    queue(state, "deploy A", "deploy.yml", environment)
    queue(state, "rollback", "rollback.yml", environment)
    queue(state, "deploy B", "deploy.yml", environment)
    assert "rollback" not in state.cancelled
    assert "rollback" in state.running()  # not held behind deploy A
    assert state.cancelled == []  # deploy B waits its turn
    # A second rollback request waits for the first; a third replaces the second (the newest
    # request of a person wins); none of them ever waits for a deploy.
    queue(state, "rollback 2", "rollback.yml", environment)
    queue(state, "rollback 3", "rollback.yml", environment)
    assert state.cancelled == ["rollback 2"]
    assert "rollback" in state.running()


def test_no_other_group_or_job_couples_a_rollback_to_anything() -> None:
    """The rollback's group is its own (case-insensitively) in every environment, and no job
    it runs waits on another: it needs no provenance job and has no job-level group."""
    groups: dict[str, str] = {}
    for path in sorted(WORKFLOWS.glob("*.yml")):
        data = workflow(path.name)
        declared = [data.get("concurrency")] + [
            job.get("concurrency") for job in data["jobs"].values()
        ]
        for concurrency in filter(None, declared):
            for environment in ENVIRONMENTS:
                group = concurrency["group"].replace("${{ inputs.environment }}", environment)
                owner = groups.setdefault(group.lower(), path.name)
                assert owner == path.name, f"{group} shared by {owner} and {path.name}"
    for environment in ENVIRONMENTS:
        group, _, _ = workflow_concurrency("rollback.yml", environment)
        assert groups[group.lower()] == "rollback.yml"
    rollback = workflow("ecs-rollout.yml")["jobs"]["rollback"]
    assert "needs" not in rollback
    assert "concurrency" not in rollback


def test_applies_are_never_cancelled_and_main_runs_queue_one_by_one() -> None:
    """Attack: a newer push cancels an apply half-way (a lock left behind, a half-applied
    change). Applies have a group per environment that never cancels; on main a run in
    progress is never cancelled (cancel-in-progress is true for pull requests only), and a
    newer run waits for it."""
    tf = workflow("terraform.yml")
    concurrency = tf["concurrency"]
    assert concurrency["cancel-in-progress"] == "${{ github.event_name == 'pull_request' }}"
    assert concurrency["group"] == (
        "terraform-${{ github.event_name == 'pull_request' && github.ref || 'main' }}"
    )
    for env in ENVIRONMENTS:
        assert tf["jobs"][f"apply-{env}"]["concurrency"] == {
            "group": f"terraform-apply-{env}",
            "cancel-in-progress": False,
        }
    state = Concurrency()
    for run in ("merge 1", "merge 2", "merge 3"):
        state.queue(run, "terraform-main", queue_max=False, cancel_in_progress=False)
    assert state.running() == {"merge 1"}  # in progress, maybe applying: never cancelled
    # merge 2 never planned (it was pending): merge 3, whose commit contains it, replaces it.
    assert state.cancelled == ["merge 2"]
