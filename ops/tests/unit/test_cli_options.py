"""Global options work before and after the command (``opsctl -o json status`` and
``opsctl status -o json``), bad values fail with exit 2 in either position, and help says so."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from opsctl import cli
from opsctl.cliglobals import GLOBAL_OPTIONS
from opsctl.output import OutputFormat
from typer.testing import CliRunner

TARGET_COMMANDS = list(cli.COMMANDS)
"""Every command that acts on a service (``schema`` takes no target)."""

# Each global option: its command-line form and what the wiring must then see.
OPTIONS = [
    (("-o", "json"), "output", OutputFormat.JSON),
    (("--output", "markdown"), "output", OutputFormat.MARKDOWN),
    (("--cluster", "c1"), "cluster", "c1"),
    (("--service", "s1"), "service", "s1"),
    (("--tf-dir", "infra/envs/dev"), "tf_dir", Path("infra/envs/dev")),
    (("--target-file", "t.json"), "target_file", Path("t.json")),
    (("-q",), "quiet", True),
    (("--quiet",), "quiet", True),
]


@pytest.fixture
def seen(monkeypatch) -> list[cli.Globals]:
    """Run the CLI up to the point where a command needs AWS, and record the options."""
    recorded: list[cli.Globals] = []

    def context(state: cli.Globals) -> None:
        recorded.append(state)
        raise typer.Exit(0)

    monkeypatch.setattr(cli, "_context", context)
    return recorded


def invoke(*argv: str):
    return CliRunner().invoke(cli.app, list(argv))


def test_the_options_under_test_are_all_the_global_ones():
    assert {name for _, name, _ in OPTIONS} == set(GLOBAL_OPTIONS)


@pytest.mark.parametrize("position", ["before", "after"])
@pytest.mark.parametrize(("argv", "name", "value"), OPTIONS, ids=lambda v: str(v))
def test_each_global_option_in_both_positions(seen, position, argv, name, value):
    args = [*argv, "status"] if position == "before" else ["status", *argv]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    (state,) = seen
    assert getattr(state, name) == value


REQUIRED = {"provenance": ("--image", "sha256:" + "a" * 64)}
"""The options a command cannot run without."""


@pytest.mark.parametrize("command", TARGET_COMMANDS)
def test_every_command_takes_the_global_options_after_its_name(seen, command):
    required = REQUIRED.get(command, ())
    result = invoke(command, *required, "-o", "json", "--cluster", "c1", "--service", "s1", "-q")
    assert result.exit_code == 0, result.output
    (state,) = seen
    assert (state.output, state.cluster, state.service, state.quiet) == (
        OutputFormat.JSON,
        "c1",
        "s1",
        True,
    )


def test_the_one_after_the_command_wins(seen):
    result = invoke("-o", "markdown", "--cluster", "a", "status", "-o", "json")
    assert result.exit_code == 0, result.output
    (state,) = seen
    assert (state.output, state.cluster) == (OutputFormat.JSON, "a")


def test_defaults_when_given_nowhere(seen):
    assert invoke("status").exit_code == 0
    (state,) = seen
    assert (state.output, state.cluster, state.quiet) == (OutputFormat.TEXT, None, False)


@pytest.mark.parametrize(
    "args",
    [
        ["-o", "yaml", "status"],
        ["status", "-o", "yaml"],
        ["status", "--output"],
        ["status", "--no-such-option"],
        ["--no-such-option", "status"],
    ],
)
def test_a_bad_option_is_a_usage_error_in_either_position(seen, args):
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert seen == []  # refused before anything ran


def test_command_help_lists_the_global_options_apart():
    result = invoke("status", "--help")
    assert result.exit_code == 0
    own, shared = result.output.split("Global options (also accepted before the command):")
    assert "--events" in own
    assert "--output" not in own
    for flag in ("-o, --output", "--cluster", "--service", "--tf-dir", "--target-file", "-q"):
        assert flag in shared
    assert "--events" not in shared


def test_schema_takes_no_target_options():
    result = invoke("schema", "--cluster", "x", "status")
    assert result.exit_code == 2
