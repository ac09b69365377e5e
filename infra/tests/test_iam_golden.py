"""The bootstrap's IAM as Terraform renders it: infra/bootstrap/iam.golden.json.

Every role of infra/bootstrap (its trust policy, inline policies and attached managed policies)
and every resource policy (state bucket, state key) is rendered by Terraform itself, with the real
AWS provider building each policy document, and kept in a committed JSON file. Reviewers read the
policies there as IAM will receive them; opsctl's tests evaluate every AWS call opsctl makes
against the deploy role's policy from it (ops/tests/support/deploy_policy.py).

What a user would notice if it broke: a change to iam.tf that the golden file (and so the deploy
role checks of opsctl's tests) does not show, reviewed and merged unseen.

How it renders, offline and without AWS: ``terraform test`` applies the bootstrap with every
managed resource overridden (nothing is created, nothing is called) and the data sources real, so
the ``aws_iam_policy_document`` data sources run in the provider exactly as in a real apply; the
state it prints (``-json -verbose``) holds what each role and policy resource would send to IAM.
The provider is configured for a dead endpoint: a call that was not overridden fails at once.

``make iam-golden`` (``pytest infra/tests/test_iam_golden.py --update-golden``) rewrites the file.
"""

from __future__ import annotations

import difflib
import json
import re
import shutil
import subprocess
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from localcloud.cloud.terraform import TerraformRoot
from localcloud.cloud.terraform_tools import find_terraform
from localcloud.emulator import Endpoint

pytestmark = pytest.mark.needs_terraform

INFRA = Path(__file__).resolve().parents[1]
BOOTSTRAP = INFRA / "bootstrap"
GOLDEN = BOOTSTRAP / "iam.golden.json"
# Nothing listens here: a provider call that reaches it fails at once (connection refused).
DEAD_ENDPOINT = Endpoint(url="http://127.0.0.1:1")

ACCOUNT_ID = "123456789012"
PARTITION = "aws"
# The variables of the rendering, recorded in the golden file (deploy_policy.py re-targets the
# rendered ARNs to other names with them). The environments are the bootstrap's defaults.
VARIABLES: dict[str, Any] = {
    "region": "us-east-1",
    "project": "fastapi",
    "github": {"repository": "example-org/aws-fastapi-devsecops", "branches": ["main"]},
    "environments": {
        "dev": {"service_name": "fastapi-dev"},
        "prod": {"service_name": "fastapi-prod"},
    },
}
# IAM resource types the golden file accounts for; another one fails the rendering (it would
# otherwise grant something the file does not show).
IAM_TYPES = {
    "aws_iam_openid_connect_provider",
    "aws_iam_policy",
    "aws_iam_role",
    "aws_iam_role_policy",
    "aws_iam_role_policy_attachment",
}
# Keys of a policy statement whose list order means nothing to IAM: sorted, so that the file only
# changes when a policy does.
UNORDERED = ("Action", "NotAction", "Resource", "NotResource")


def known_arns(variables: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Values of overridden resources that other resources and policies name: realistic ARNs,
    because the provider validates them (a mocked random string is not an ARN)."""
    region, project = variables["region"], variables["project"]
    key_id = "00000000-0000-0000-0000-000000000000"
    oidc_host = "token.actions.githubusercontent.com"
    return {
        "aws_s3_bucket.state": {
            "id": f"tfstate-{ACCOUNT_ID}-{region}",
            "arn": f"arn:{PARTITION}:s3:::tfstate-{ACCOUNT_ID}-{region}",
        },
        "aws_kms_key.state": {
            "arn": f"arn:{PARTITION}:kms:{region}:{ACCOUNT_ID}:key/{key_id}",
            "key_id": key_id,
        },
        "aws_dynamodb_table.locks": {
            "arn": f"arn:{PARTITION}:dynamodb:{region}:{ACCOUNT_ID}:table/{project}-terraform-locks"
        },
        "aws_iam_openid_connect_provider.github": {
            "arn": f"arn:{PARTITION}:iam::{ACCOUNT_ID}:oidc-provider/{oidc_host}"
        },
    }


def managed_resources(directory: Path) -> list[str]:
    """``type.name`` of every managed resource the configuration declares (``terraform fmt``
    puts every top-level block at column 0)."""
    text = "".join(p.read_text() for p in sorted(directory.glob("*.tf")))
    return [f"{t}.{n}" for t, n in re.findall(r'^resource "([^"]+)" "([^"]+)"', text, re.M)]


def render_test_file(resources: list[str], variables: Mapping[str, Any]) -> str:
    """The ``terraform test`` file that renders ``resources``' configuration without AWS."""
    arns = known_arns(variables)
    unknown = set(arns) - set(resources)
    assert not unknown, f"known_arns() names resources the bootstrap no longer has: {unknown}"
    blocks = [
        f'provider "aws" {{\n  region                      = "{variables["region"]}"\n'
        "  skip_credentials_validation = true\n  skip_requesting_account_id  = true\n"
        "  skip_metadata_api_check     = true\n  max_retries                 = 1\n}\n",
        "override_data {\n  target = data.aws_caller_identity.current\n"
        f'  values = {{ account_id = "{ACCOUNT_ID}" }}\n}}\n',
        "override_data {\n  target = data.aws_partition.current\n"
        f'  values = {{ partition = "{PARTITION}" }}\n}}\n',
    ]
    for address in resources:
        values = arns.get(address)
        body = f"  target = {address}\n"
        if values:
            # JSON is an HCL object constructor too.
            body += f"  values = {json.dumps(values)}\n"
        blocks.append(f"override_resource {{\n{body}}}\n")
    blocks.append('run "render" {\n  command = apply\n}\n')
    return "\n".join(blocks)


def normalised(document: Mapping[str, Any]) -> dict[str, Any]:
    """A policy document with the order-free lists sorted (statement order is kept)."""

    def values(value: Any) -> Any:
        return sorted(value) if isinstance(value, list) else value

    statements = []
    for statement in document["Statement"]:
        out = dict(statement)
        for key in UNORDERED:
            if key in out:
                out[key] = values(out[key])
        if isinstance(out.get("Principal"), dict):
            out["Principal"] = {k: values(v) for k, v in out["Principal"].items()}
        if "Condition" in out:
            out["Condition"] = {
                test: {key: values(v) for key, v in pairs.items()}
                for test, pairs in out["Condition"].items()
            }
        statements.append(out)
    return {**document, "Statement": statements}


def policy_document(value: object) -> dict[str, Any] | None:
    """``value`` parsed if it is a policy document (a resource's ``policy`` argument), else None
    (for example the mocked value of a computed attribute such as aws_s3_bucket's policy)."""
    if not isinstance(value, str) or not value.lstrip().startswith("{"):
        return None
    document = json.loads(value)
    return document if isinstance(document, dict) and "Statement" in document else None


def resource_arn(resource: Mapping[str, Any], managed: list[dict[str, Any]]) -> str:
    """The ARN of what a resource policy protects: a key's own ARN, a bucket policy's bucket."""
    values = resource["values"]
    if resource["type"] == "aws_s3_bucket_policy":
        return f"arn:{PARTITION}:s3:::{values['bucket']}"
    if values.get("arn"):
        return str(values["arn"])
    raise AssertionError(
        f"the golden file does not know which resource {resource['address']} covers"
    )


def golden_document(
    resources: list[dict[str, Any]], variables: Mapping[str, Any]
) -> dict[str, Any]:
    """The golden file's content from the rendered state's resources (read by
    :meth:`iamsim.account.Account.from_golden`)."""
    managed = [r for r in resources if r["mode"] == "managed"]
    strange = {r["type"] for r in managed if r["type"].startswith("aws_iam_")} - IAM_TYPES
    assert not strange, f"the golden file does not account for {sorted(strange)} yet"
    roles: dict[str, dict[str, Any]] = {}
    names_by_id: dict[str, str] = {}
    for r in (r for r in managed if r["type"] == "aws_iam_role"):
        values = r["values"]
        names_by_id[values["id"]] = values["name"]
        roles[values["name"]] = {
            "address": r["address"],
            "max_session_duration": values["max_session_duration"],
            "permissions_boundary": values["permissions_boundary"],
            "trust_policy": normalised(json.loads(values["assume_role_policy"])),
            "inline_policies": {},
            "managed_policy_arns": [],
        }
    resource_policies: dict[str, Any] = {}
    managed_policies: dict[str, Any] = {}
    for r in managed:
        values = r["values"]
        if r["type"] == "aws_iam_role_policy":
            # `role` is the role's id (its name, in AWS; a mocked value here).
            role = roles[names_by_id[values["role"]]]
            role["inline_policies"][values["name"]] = normalised(json.loads(values["policy"]))
        elif r["type"] == "aws_iam_role_policy_attachment":
            roles[values["role"]]["managed_policy_arns"].append(values["policy_arn"])
        elif r["type"] == "aws_iam_policy":
            # The ARN IAM gives a customer managed policy (the rendering's own is mocked).
            path = values["path"] or "/"
            arn = f"arn:{PARTITION}:iam::{ACCOUNT_ID}:policy{path}{values['name']}"
            managed_policies[arn] = {
                "address": r["address"],
                "document": normalised(json.loads(values["policy"])),
            }
        elif policy_document(values.get("policy")) is not None:
            resource_policies[r["address"]] = {
                "resource_arn": resource_arn(r, managed),
                "policy": normalised(json.loads(values["policy"])),
            }
    for role in roles.values():
        role["managed_policy_arns"].sort()
    return {
        "about": (
            "infra/bootstrap's IAM as Terraform renders it (infra/tests/test_iam_golden.py): "
            "written by `make iam-golden`, checked by `make test-infra`. Do not edit by hand."
        ),
        "inputs": {"account_id": ACCOUNT_ID, "partition": PARTITION, **variables},
        "roles": dict(sorted(roles.items())),
        "managed_policies": dict(sorted(managed_policies.items())),
        "resource_policies": dict(sorted(resource_policies.items())),
    }


def render(bootstrap: Path, workdir: Path, variables: Mapping[str, Any] = VARIABLES) -> str:
    """Render the bootstrap at ``bootstrap`` (a copy is used) as the golden file's text."""
    tree = workdir / "source"
    shutil.copytree(bootstrap, tree / "bootstrap", ignore=shutil.ignore_patterns("backend.tf"))
    root = TerraformRoot(
        tree,
        "bootstrap",
        workdir=workdir / "run",
        endpoint=DEAD_ENDPOINT,
        variables=dict(variables),
    )
    root.init()
    (root.directory / "golden").mkdir()
    (root.directory / "golden" / "render.tftest.hcl").write_text(
        render_test_file(managed_resources(root.directory), variables)
    )
    result = subprocess.run(
        [find_terraform(root.env), "test", "-test-directory=golden", "-json", "-verbose"],
        cwd=root.directory,
        env=root.env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    messages = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    states = [m["test_state"] for m in messages if m.get("type") == "test_state"]
    errors = [m["@message"] for m in messages if m.get("@level") == "error"]
    failure = "terraform test could not render the bootstrap:\n" + "\n".join(
        errors or [result.stderr[-3000:]]
    )
    assert result.returncode == 0, failure
    assert len(states) == 1, failure
    document = golden_document(states[0]["root_module"]["resources"], variables)
    return json.dumps(document, indent=2, sort_keys=False) + "\n"


@pytest.fixture(scope="module")
def renderings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The golden text of infra/bootstrap as it is, and of a copy whose deploy policy grants one
    more action (both rendered side by side)."""
    changed = tmp_path_factory.mktemp("changed-bootstrap")
    shutil.copytree(BOOTSTRAP, changed, dirs_exist_ok=True)
    iam = changed / "iam.tf"
    before = 'actions   = ["ecr:PutImage"]'
    assert iam.read_text().count(before) == 1, "the statement this test changes moved: update it"
    iam.write_text(
        iam.read_text().replace(before, 'actions   = ["ecr:PutImage", "ecr:TagResource"]')
    )
    sources = {"as committed": BOOTSTRAP, "changed": changed}
    with ThreadPoolExecutor(max_workers=2) as pool:
        texts = pool.map(
            lambda item: render(item[1], tmp_path_factory.mktemp(item[0].replace(" ", "-"))),
            sources.items(),
        )
        return dict(zip(sources, texts, strict=True))


def drift(rendered: str, committed: str) -> list[str]:
    """The unified diff from the committed golden file to the rendering (empty: no drift)."""
    return list(
        difflib.unified_diff(
            committed.splitlines(),
            rendered.splitlines(),
            f"{GOLDEN.relative_to(INFRA.parent)} (committed)",
            "rendered from infra/bootstrap",
            lineterm="",
        )
    )


def test_the_golden_file_is_what_terraform_renders_from_iam_tf(
    renderings: dict[str, str], request: pytest.FixtureRequest
) -> None:
    rendered = renderings["as committed"]
    if request.config.getoption("--update-golden"):
        GOLDEN.write_text(rendered)
        print(f"wrote {GOLDEN}")
    lines = drift(rendered, GOLDEN.read_text() if GOLDEN.exists() else "")
    assert lines == [], (
        "infra/bootstrap/iam.tf no longer renders to iam.golden.json: review the difference, then "
        "run `make iam-golden` and commit the file\n" + "\n".join(lines[:200])
    )


def test_a_change_to_iam_tf_shows_in_the_rendering(renderings: dict[str, str]) -> None:
    # The drift check above fails on it...
    assert drift(renderings["changed"], renderings["as committed"]) != []
    # ...and it shows exactly the change: one more action in each deploy role's statement.
    before, after = (json.loads(renderings[k])["roles"] for k in ("as committed", "changed"))
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"fastapi-github-deploy-dev", "fastapi-github-deploy-prod"}
    for name in changed:
        ((_, policy),) = after[name]["inline_policies"].items()
        (statement,) = [s for s in policy["Statement"] if s["Sid"] == "TagTheImagesItDeploys"]
        assert statement["Action"] == ["ecr:PutImage", "ecr:TagResource"]


def test_every_role_is_rendered_with_what_grants_it_anything() -> None:
    document = json.loads(GOLDEN.read_text())
    roles = document["roles"]
    assert set(roles) == {
        "fastapi-github-ci",
        "fastapi-github-terraform-plan",
        "fastapi-github-deploy-dev",
        "fastapi-github-deploy-prod",
        "fastapi-github-terraform-apply-dev",
        "fastapi-github-terraform-apply-prod",
    }
    for name, role in roles.items():
        for statement in role["trust_policy"]["Statement"]:
            assert statement["Action"] == "sts:AssumeRoleWithWebIdentity", name
        assert role["inline_policies"], f"{name} has no inline policy"
    # No account-wide read policy for the role pull requests assume (issue 10).
    assert roles["fastapi-github-terraform-plan"]["managed_policy_arns"] == []
    assert roles["fastapi-github-terraform-apply-prod"]["managed_policy_arns"] == [
        "arn:aws:iam::aws:policy/PowerUserAccess"
    ]
    assert roles["fastapi-github-deploy-prod"]["managed_policy_arns"] == []
    assert set(document["resource_policies"]) == {"aws_kms_key.state", "aws_s3_bucket_policy.state"}
    assert document["resource_policies"]["aws_s3_bucket_policy.state"]["resource_arn"] == (
        "arn:aws:s3:::tfstate-123456789012-us-east-1"
    )
    # The boundaries the apply roles must put on every role they create, one per environment.
    assert set(document["managed_policies"]) == {
        "arn:aws:iam::123456789012:policy/fastapi-dev-permissions-boundary",
        "arn:aws:iam::123456789012:policy/fastapi-prod-permissions-boundary",
    }
