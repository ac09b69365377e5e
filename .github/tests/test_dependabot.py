"""Every lock and pin file in the tree is kept current by an entry of .github/dependabot.yml.

The pin files are found by pattern in every file git would commit (tracked, plus untracked files
.gitignore does not exclude), never from a list: a new Terraform root, a new scanner directory, a
package outside the uv workspace or a new Dockerfile is caught the day it lands. A pin is covered
when an update entry of its ecosystem names its directory, exactly or through a `directories`
glob, expanded the way Dependabot expands it (Ruby's Dir.glob: `*` within one path segment,
`**/` across any number; dependabot/dependabot-core#9646). Beyond presence, the test checks what
makes an entry work: Dependabot reads a Dockerfile's FROM lines only, never ARG defaults
(dependabot/dependabot-core#2057), so a base image named through an ARG counts as uncovered.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / ".github" / "dependabot.yml"
MIN_COOLDOWN_DAYS = 7

# Dependabot's Dockerfile parser: FROM [--platform=...] [registry/]image[:tag][@digest] [AS name]
# (docker/lib/dependabot/docker/file_parser.rb). A reference through ${ARG} does not match it.
DEPENDABOT_FROM = re.compile(
    r"^FROM\s+(?:--platform=\S+\s+)?(?P<ref>[a-z\d][\w./:@-]*)(?:\s+AS\s+(?P<name>[\w.-]+))?\s*$",
    re.IGNORECASE,
)
FROM_LINE = re.compile(
    r"^FROM\s+(?:--platform=\S+\s+)?(?P<ref>\S+)(?:\s+AS\s+(?P<name>\S+))?", re.IGNORECASE
)
ARG_LINE = re.compile(r"^ARG\s+(?P<name>\w+)(?:=(?P<default>\S*))?", re.IGNORECASE)
# Images that live on this machine only (podman's `localhost/` namespace, a debootstrap import):
# no registry to ask for a newer version, nothing for Dependabot to do.
LOCAL_IMAGE = re.compile(r"^(localhost|127\.0\.0\.1)(:\d+)?/")
DOCKERFILE_NAME = re.compile(r"^(Dockerfile|Containerfile)(\..+)?$|\.(Dockerfile|Containerfile)$")
COMPOSE_NAME = re.compile(r"^(docker-)?compose([.-].+)?\.ya?ml$")
REQUIREMENTS_NAME = re.compile(r".*requirements.*\.(txt|in)$")
# Lock and manifest files of ecosystems the repository does not use today, by the ecosystem that
# would have to cover them: one appearing fails the test until dependabot.yml has that entry.
OTHER_PINS = {
    "package.json": "npm",
    "package-lock.json": "npm",
    "pnpm-lock.yaml": "npm",
    "yarn.lock": "npm",
    "go.mod": "gomod",
    "Cargo.toml": "cargo",
    "Cargo.lock": "cargo",
    "Gemfile": "bundler",
    "Gemfile.lock": "bundler",
    "Pipfile": "pip",
    "Pipfile.lock": "pip",
    "poetry.lock": "pip",
    "composer.json": "composer",
}


@dataclass(frozen=True)
class Pin:
    """A file that pins versions, the ecosystem that updates it, the directory Dependabot reads."""

    path: str
    ecosystem: str
    directory: str
    problem: str = ""


@dataclass(frozen=True)
class Entry:
    """One `updates` entry: its ecosystem and its directory patterns."""

    ecosystem: str
    patterns: tuple[str, ...]
    raw: dict[str, Any]


def repository_files(root: Path) -> list[str]:
    """Every file git would commit under ``root``, as repository-relative POSIX paths."""
    listing = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    return sorted(name for name in listing.split("\0") if name and (root / name).is_file())


def directory_of(path: str) -> str:
    """The directory of ``path`` as Dependabot writes it: `/` or `/a/b`."""
    parent = PurePosixPath(path).parent.as_posix()
    return "/" if parent == "." else f"/{parent}"


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A Dependabot `directories` pattern as a regex over `/a/b` directory names (Ruby Dir.glob)."""
    body = pattern.strip().strip("/")
    if not body:
        return re.compile(r"^/$")
    out = ""
    index = 0
    while index < len(body):
        if body.startswith("**/", index):
            out += r"(?:[^/.][^/]*/)*"
            index += 3
        elif body.startswith("**", index):
            out += r"[^/.][^/]*"
            index += 2
        elif body[index] == "*":
            # Dir.glob's `*` does not match a leading dot (hidden directories).
            out += r"(?:[^/.][^/]*)?" if index == 0 or body[index - 1] == "/" else r"[^/]*"
            index += 1
        elif body[index] == "?":
            out += r"[^/]"
            index += 1
        else:
            out += re.escape(body[index])
            index += 1
    return re.compile(rf"^/{out}$")


def covers(pattern: str, directory: str) -> bool:
    """True when a `directory`/`directories` value names ``directory`` (exactly or by glob)."""
    if "*" not in pattern and "?" not in pattern:
        return pattern.strip().rstrip("/") == directory.rstrip("/") or (
            pattern.strip() == "/" and directory == "/"
        )
    return bool(glob_regex(pattern).match(directory))


def entries(config: dict[str, Any]) -> list[Entry]:
    """The `updates` entries of a parsed dependabot.yml."""
    found = []
    for raw in config.get("updates") or []:
        if "directories" in raw:
            patterns = tuple(str(value) for value in raw["directories"])
        else:
            patterns = (str(raw.get("directory", "")),)
        found.append(Entry(str(raw["package-ecosystem"]), patterns, raw))
    return found


def dockerfile_pins(path: str, text: str) -> Iterator[Pin]:
    """The registry images a Dockerfile starts from, as Dependabot would (or would not) see them."""
    args: dict[str, str] = {}
    stages: set[str] = set()
    for line in text.splitlines():
        line = line.strip()
        if (arg := ARG_LINE.match(line)) and not stages:
            args[arg.group("name")] = arg.group("default") or ""
        if not (match := FROM_LINE.match(line)):
            continue
        reference = match.group("ref")
        expanded = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), reference)
        if match.group("name"):
            stages.add(match.group("name").lower())
        if expanded.lower() in stages - {(match.group("name") or "").lower()} or (
            expanded.lower() == "scratch" or LOCAL_IMAGE.match(expanded)
        ):
            continue
        problem = ""
        if not DEPENDABOT_FROM.match(line):
            problem = (
                f"FROM {reference} names a registry image ({expanded}) through an ARG: "
                "Dependabot reads FROM lines only; name the image on a FROM line of its own"
            )
        yield Pin(path, "docker", directory_of(path), problem)


def compose_pins(path: str, text: str) -> Iterator[Pin]:
    """The registry images a compose file runs (services it builds itself pin nothing)."""
    data = yaml.safe_load(text) or {}
    for service in (data.get("services") or {}).values():
        image = str((service or {}).get("image") or "")
        if image and "build" not in service and not LOCAL_IMAGE.match(image):
            yield Pin(path, "docker-compose", directory_of(path))


def workspace_members(root: Path, pyproject: str) -> set[str]:
    """The pyproject.toml paths of a uv workspace's members (its `members` globs expanded)."""
    base = (root / pyproject).parent
    data = tomllib.loads((root / pyproject).read_text())
    members = data.get("tool", {}).get("uv", {}).get("workspace", {}).get("members", [])
    found = set()
    for pattern in members:
        for directory in base.glob(pattern):
            if (directory / "pyproject.toml").is_file():
                found.add((directory / "pyproject.toml").relative_to(root).as_posix())
    return found


def find_pins(root: Path, files: Iterable[str]) -> list[Pin]:
    """Every pin file among ``files``, with the ecosystem and directory that must cover it."""
    files = list(files)
    pins: list[Pin] = []
    # A uv workspace's members are locked, and read by Dependabot, from the workspace root.
    workspace_root: dict[str, str] = {}
    for lock in (f for f in files if PurePosixPath(f).name == "uv.lock"):
        root_manifest = str(PurePosixPath(lock).with_name("pyproject.toml"))
        if (root / root_manifest).is_file():
            for member in {root_manifest} | workspace_members(root, root_manifest):
                workspace_root[member] = directory_of(lock)
    for path in files:
        name = PurePosixPath(path).name
        if name == "uv.lock":
            pins.append(Pin(path, "uv", directory_of(path)))
        elif name == "pyproject.toml":
            if path in workspace_root:
                pins.append(Pin(path, "uv", workspace_root[path]))
            else:
                problem = "not a member of any uv workspace with a uv.lock"
                pins.append(Pin(path, "uv", directory_of(path), problem))
        elif path.endswith(".tf") or name == ".terraform.lock.hcl":
            pins.append(Pin(path, "terraform", directory_of(path)))
        elif DOCKERFILE_NAME.search(name):
            pins.extend(dockerfile_pins(path, (root / path).read_text()))
        elif COMPOSE_NAME.match(name):
            pins.extend(compose_pins(path, (root / path).read_text()))
        elif REQUIREMENTS_NAME.match(name):
            pins.append(Pin(path, "pip", directory_of(path)))
        elif path.startswith(".github/workflows/") and name.endswith((".yml", ".yaml")):
            # Dependabot's github-actions entry with directory "/" reads .github/workflows.
            pins.append(Pin(path, "github-actions", "/"))
        elif name in ("action.yml", "action.yaml"):
            pins.append(Pin(path, "github-actions", directory_of(path)))
        elif name == ".pre-commit-config.yaml":
            config = yaml.safe_load((root / path).read_text()) or {}
            remote = [r for r in config.get("repos", []) if r.get("repo") not in ("local", "meta")]
            if remote:
                pins.append(Pin(path, "pre-commit", directory_of(path)))
        elif name in OTHER_PINS:
            pins.append(Pin(path, OTHER_PINS[name], directory_of(path)))
    return pins


def uncovered(pins: Iterable[Pin], updates: list[Entry]) -> list[str]:
    """One line per pin no entry keeps current, saying why."""
    problems = []
    for pin in pins:
        if pin.problem:
            problems.append(f"{pin.path}: {pin.problem}")
            continue
        if not any(
            entry.ecosystem == pin.ecosystem
            and any(covers(pattern, pin.directory) for pattern in entry.patterns)
            for entry in updates
        ):
            problems.append(
                f"{pin.path}: no `{pin.ecosystem}` entry in .github/dependabot.yml covers "
                f"{pin.directory}"
            )
    return problems


# --- the repository ------------------------------------------------------------------------


def load_config() -> dict[str, Any]:
    data = yaml.safe_load(CONFIG.read_text())
    assert isinstance(data, dict)
    return data


REPOSITORY_PINS = find_pins(ROOT, repository_files(ROOT))


def test_the_tree_pins_what_the_issue_names() -> None:
    """The discovery itself works: each ecosystem the repository pins today is found."""
    found = {(pin.ecosystem, pin.path) for pin in REPOSITORY_PINS}
    ecosystems = {ecosystem for ecosystem, _ in found}
    assert {"uv", "terraform", "docker", "pip", "github-actions"} <= ecosystems
    assert ("uv", "uv.lock") in found
    assert ("docker", "Dockerfile") in found
    assert ("pip", "image/uv-requirements.txt") in found
    assert sum(1 for e, p in found if e == "pip" and p.startswith("tools/scanners/")) >= 10
    assert sum(1 for e, p in found if e == "terraform" and p.endswith("versions.tf")) >= 5


@pytest.mark.parametrize("pin", REPOSITORY_PINS, ids=lambda pin: f"{pin.ecosystem}:{pin.path}")
def test_every_pin_file_is_covered(pin: Pin) -> None:
    assert uncovered([pin], entries(load_config())) == []


def test_every_entry_is_grouped_with_the_cooldown_the_actions_have() -> None:
    updates = entries(load_config())
    actions = [e for e in updates if e.ecosystem == "github-actions"]
    assert len(actions) == 1
    cooldown = actions[0].raw.get("cooldown")
    assert cooldown, "the github-actions entry has no cooldown"
    assert int(cooldown.get("default-days", 0)) >= MIN_COOLDOWN_DAYS
    for entry in updates:
        assert entry.raw.get("cooldown") == cooldown, f"{entry.ecosystem}: cooldown differs"
        groups = entry.raw.get("groups") or {}
        assert any("*" in (group.get("patterns") or []) for group in groups.values()), (
            f"{entry.ecosystem}: updates are not grouped into one pull request"
        )
        assert entry.raw.get("schedule", {}).get("interval"), f"{entry.ecosystem}: no schedule"


def test_every_entry_points_at_pins_that_exist() -> None:
    """A stale entry (its directory gone or renamed) covers nothing and hides a missing one."""
    for entry in entries(load_config()):
        for pattern in entry.patterns:
            assert any(
                pin.ecosystem == entry.ecosystem and covers(pattern, pin.directory)
                for pin in REPOSITORY_PINS
            ), f"{entry.ecosystem} {pattern}: matches no pin file in the tree"


# --- the checker, on trees made for it --------------------------------------------------------


def make_tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


CONFIG_WITH_INFRA_GLOB = {
    "updates": [
        {"package-ecosystem": "terraform", "directories": ["/infra/**/*"]},
        {"package-ecosystem": "uv", "directory": "/"},
        {"package-ecosystem": "docker", "directory": "/"},
    ]
}


@pytest.mark.parametrize(
    ("pattern", "directory", "expected"),
    [
        ("/infra/**/*", "/infra/stack", True),
        ("/infra/**/*", "/infra/envs/dev", True),
        ("/infra/**/*", "/infra/modules/alb/nested", True),
        ("/infra/**/*", "/infra", False),
        ("/infra/**/*", "/other/infra/x", False),
        ("/infra/*", "/infra/envs/dev", False),
        ("/tools/scanners/*", "/tools/scanners/zizmor", True),
        ("/tools/scanners/*", "/tools/scanners/.hidden", False),
        ("/", "/", True),
        ("/", "/image", False),
        ("/image", "/image", True),
        ("/image/", "/image", True),
    ],
)
def test_directory_patterns_match_like_dependabot(pattern, directory, expected) -> None:
    assert covers(pattern, directory) is expected


def test_a_new_terraform_root_outside_the_glob_is_reported(tmp_path: Path) -> None:
    tree = make_tree(
        tmp_path,
        {"infra/stack/versions.tf": "terraform {}\n", "deploy/extra/main.tf": "terraform {}\n"},
    )
    pins = find_pins(tree, ["infra/stack/versions.tf", "deploy/extra/main.tf"])
    problems = uncovered(pins, entries(CONFIG_WITH_INFRA_GLOB))
    assert problems == [
        "deploy/extra/main.tf: no `terraform` entry in .github/dependabot.yml covers /deploy/extra"
    ]


def test_a_package_outside_the_uv_workspace_is_reported(tmp_path: Path) -> None:
    files = {
        "pyproject.toml": '[project]\nname = "r"\n[tool.uv.workspace]\nmembers = ["pkgs/*"]\n',
        "uv.lock": "version = 1\n",
        "pkgs/a/pyproject.toml": '[project]\nname = "a"\n',
        "tools/b/pyproject.toml": '[project]\nname = "b"\n',
    }
    tree = make_tree(tmp_path, files)
    problems = uncovered(find_pins(tree, files), entries(CONFIG_WITH_INFRA_GLOB))
    assert problems == ["tools/b/pyproject.toml: not a member of any uv workspace with a uv.lock"]


def test_a_base_image_behind_an_arg_is_reported(tmp_path: Path) -> None:
    files = {
        "Dockerfile": "ARG BASE=python:3.11-slim@sha256:" + "0" * 64 + "\nFROM ${BASE} AS build\n",
        "ok/Dockerfile": "FROM python:3.11-slim@sha256:" + "0" * 64 + " AS base\nFROM base\n",
        "local/Containerfile": "ARG M=localhost/minbase:1\nFROM ${M}\n",
    }
    tree = make_tree(tmp_path, files)
    pins = find_pins(tree, files)
    assert [(p.path, bool(p.problem)) for p in pins] == [
        ("Dockerfile", True),
        ("ok/Dockerfile", False),
    ]
    config = {"updates": [{"package-ecosystem": "docker", "directories": ["/", "/ok"]}]}
    problems = uncovered(pins, entries(config))
    assert len(problems) == 1
    assert problems[0].startswith("Dockerfile: FROM ${BASE} names a registry image")


def test_a_new_requirements_file_and_an_unknown_ecosystem_are_reported(tmp_path: Path) -> None:
    files = {"tools/scanners/new/requirements.txt": "x==1\n", "web/package-lock.json": "{}\n"}
    tree = make_tree(tmp_path, files)
    config = {"updates": [{"package-ecosystem": "pip", "directories": ["/image"]}]}
    assert uncovered(find_pins(tree, files), entries(config)) == [
        "tools/scanners/new/requirements.txt: no `pip` entry in .github/dependabot.yml covers "
        "/tools/scanners/new",
        "web/package-lock.json: no `npm` entry in .github/dependabot.yml covers /web",
    ]


def test_remote_pre_commit_hooks_need_an_entry_local_ones_do_not(tmp_path: Path) -> None:
    local = "repos:\n  - repo: local\n    hooks: []\n"
    remote = local + "  - repo: https://example.invalid/hooks\n    rev: v1\n    hooks: []\n"
    assert (
        find_pins(
            make_tree(tmp_path / "a", {".pre-commit-config.yaml": local}),
            [".pre-commit-config.yaml"],
        )
        == []
    )
    pins = find_pins(
        make_tree(tmp_path / "b", {".pre-commit-config.yaml": remote}), [".pre-commit-config.yaml"]
    )
    assert [(p.ecosystem, p.directory) for p in pins] == [("pre-commit", "/")]
