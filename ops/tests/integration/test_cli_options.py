"""The command line as people type it, on the ECS simulator: global options after the command
name, and tables that fit an 80-column terminal."""

from __future__ import annotations

import json


def test_global_options_after_the_command_are_the_same_command(make_scenario):
    s = make_scenario()
    before = s.opsctl("-o", "json", "status")
    after = s.opsctl("status", "-o", "json")
    assert (before.returncode, after.returncode) == (0, 0), after
    first, second = json.loads(before.stdout), json.loads(after.stdout)
    assert first["deployments"] == second["deployments"]
    assert second["command"] == "status"
    # The target itself after the command (--target-file is what the scenario passes first).
    named = s.opsctl(
        "revisions", "--cluster", s.stack.cluster, "--service", s.stack.service, "-o",
        "markdown", "-q", target=False,
    )  # fmt: skip
    assert named.returncode == 0, named
    assert named.stdout.startswith("### `api` revisions")
    bad = s.opsctl("status", "-o", "yaml")
    assert bad.returncode == 2, bad
    assert "'yaml' is not one of 'text', 'json', 'markdown'" in bad.stderr


def test_status_and_revisions_fit_80_columns(make_scenario):
    s = make_scenario()
    s.push("v2")
    assert s.opsctl("deploy", "--image-tag", "v2", "--no-wait").returncode == 0
    s.env["COLUMNS"] = "80"
    for command in ("status", "revisions"):
        run = s.opsctl(command)
        assert run.returncode == 0, run
        lines = [line.rstrip() for line in run.stdout.splitlines()]
        tables = [line for line in lines if not line.startswith("  20")]  # not the event lines
        assert max(len(line) for line in tables) <= 80, run.stdout
        assert "sha256:" in run.stdout
        if command == "status":
            for deployment in s.service()["deployments"]:
                assert deployment["id"] in run.stdout  # never cut
