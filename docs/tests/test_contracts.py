"""docs/architecture.md, section "Contracts", defines the interfaces the code names: it exists,
every link to it (and to any other heading of that page) lands on a heading, and its table of
the `opsctl` output lists exactly the fields opsctl reads."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from opsctl.target import OUTPUT_ATTRIBUTES

ROOT = Path(__file__).resolve().parents[2]
ARCHITECTURE = ROOT / "docs" / "architecture.md"
LINK = re.compile(r"architecture\.md#([A-Za-z0-9_-]+)")


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to -."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    return {slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*$", markdown, re.M)}


def section(markdown: str, heading: str) -> str:
    """The text under ``heading`` up to the next heading of the same or a higher level."""
    match = re.search(rf"^(#+) {re.escape(heading)}\s*$", markdown, re.M)
    assert match, f"docs/architecture.md has no heading {heading!r}"
    level = len(match.group(1))
    rest = markdown[match.end() :]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.M)
    return rest[: end.start()] if end else rest


def test_slugs_match_githubs():
    assert slug("Contracts") == "contracts"
    assert slug("The opsctl output") == "the-opsctl-output"
    assert slug("Which service, which account") == "which-service-which-account"
    assert slug("Permissions (the deploy role)") == "permissions-the-deploy-role"


def test_the_contracts_section_defines_both_interfaces():
    markdown = ARCHITECTURE.read_text(encoding="utf-8")
    contracts = section(markdown, "Contracts")
    assert "### The image contract" in contracts
    assert "### The opsctl output" in contracts
    assert {"contracts", "the-image-contract", "the-opsctl-output"} <= anchors(markdown)


def test_the_opsctl_output_table_lists_what_opsctl_reads():
    table = section(ARCHITECTURE.read_text(encoding="utf-8"), "The opsctl output")
    documented = re.findall(r"^\| `([a-z_]+)` \|", table, re.M)
    assert documented == list(OUTPUT_ATTRIBUTES), (
        "docs/architecture.md#the-opsctl-output and opsctl.target.OUTPUT_ATTRIBUTES differ"
    )


def test_every_link_to_architecture_md_lands_on_a_heading():
    known = anchors(ARCHITECTURE.read_text(encoding="utf-8"))
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    broken = []
    for name in sorted(n for n in listed.split("\0") if n and (ROOT / n).is_file()):
        try:
            text = (ROOT / name).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            broken += [
                f"{name}:{number}: #{m.group(1)}"
                for m in LINK.finditer(line)
                if m.group(1) not in known
            ]
    assert not broken, "links to missing headings of docs/architecture.md:\n" + "\n".join(broken)
