"""The repository explains itself: nothing in it points at documents outside it.

Whoever clones this repository gets its files and nothing else, so a comment, doc or message
that sends the reader to a file beside the checkout, to a private brief or to a "contract N"
the repository never defines leaves them with a dead end. Interfaces are defined in
docs/architecture.md, section "Contracts"; what the local cloud models is in the docs as well.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
THIS = Path(__file__).resolve().relative_to(ROOT).as_posix()

# Each pattern names one kind of outside reference; the message says what to write instead.
OUTSIDE = {
    "a path outside the checkout": re.compile(r"\.\./shared\b|\bshared/(?:notes|spec)\b"),
    "a private brief": re.compile(
        r"\bBRIEF\.md\b"
        # "the brief" used as a document: at the end of a phrase or followed by what a
        # document does; "in brief" and "a brief outage" are English, not references.
        r"|(?i:\b(?:the|our|common|product|project)\s+brief\b"
        r"(?!\s+(?!(?:says|said|asks|asked|requires|required|wants|names|named|lists|listed|"
        r"describes|described|defines|defined|calls|gives)\b)[a-z]))"
    ),
    "an interface named by number": re.compile(r"(?i)\bcontracts?\s+(?:no\.?\s*)?\d+\b"),
}
FIX = (
    "define the interface in docs/architecture.md#contracts (or the fact in docs/) and point "
    "there; cite public sources (AWS docs, issues) or state the measurement inline"
)


def tracked_files() -> list[str]:
    """Every file of the repository: tracked, plus new files not ignored by .gitignore."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return sorted({name for name in listed.split("\0") if name and (ROOT / name).is_file()})


def offending_lines(name: str, text: str) -> list[str]:
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        for what, pattern in OUTSIDE.items():
            match = pattern.search(line)
            if match:
                found.append(f"{name}:{number}: {what}: {match.group(0)!r}")
    return found


def test_nothing_refers_to_files_or_briefs_outside_the_repository():
    problems = []
    for name in tracked_files():
        if name == THIS:
            continue  # the patterns themselves and their examples
        try:
            text = (ROOT / name).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary files
        problems += offending_lines(name, text)
    assert not problems, f"{len(problems)} outside references ({FIX}):\n" + "\n".join(problems)


# The examples are assembled, so that this file names no outside path or document itself.
OUTSIDE_DIR = "sha" + "red"
BRIEF = "br" + "ief"


@pytest.mark.parametrize(
    "line",
    [
        f"see ../{OUTSIDE_DIR}/notes/aws-emulation.md",
        f"measured (`{OUTSIDE_DIR}/notes/toolchain.md`)",
        f"the spec ({OUTSIDE_DIR}/spec/runbook.md)",
        "as BRIEF.md says",
        f"contract 2 in the repository's common {BRIEF}",
        f"the {BRIEF} says so",
        f"as asked by the {BRIEF}.",
        "(Contract 1: the image runs app-serve)",
        "the nine fields of contracts 2",
    ],
)
def test_each_kind_of_outside_reference_is_caught(line):
    assert offending_lines("x.md", line) == [
        f"x.md:1: {what}: {pattern.search(line).group(0)!r}"  # type: ignore[union-attr]
        for what, pattern in OUTSIDE.items()
        if pattern.search(line)
    ]
    assert offending_lines("x.md", line)


@pytest.mark.parametrize(
    "line",
    [
        "## Threat model, in brief",
        "In brief: the service never fetches.",
        "a brief outage while tasks drain",
        "the brief window between two polls",
        "the image contract (docs/architecture.md#contracts)",
        "shared/ is not a directory here; shared_state = 1",
    ],
)
def test_english_and_the_repositorys_own_names_pass(line):
    assert offending_lines("x.md", line) == []
