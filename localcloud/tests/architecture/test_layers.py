"""localcloud's layers import only downwards: the semgrep rules (.semgrep/rules/localcloud-*)
flag exactly the imports that point up, in the files they cover.

``semgrep --test`` (``make scan-rules-test``) checks each rule's patterns against its fixture but
ignores the rule's ``paths``; this test lays out a tree like localcloud's, where every layer
imports every other one in both import forms, and checks which imports the rules flag.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
RULES = sorted((ROOT / ".semgrep" / "rules").glob("localcloud-*.yml"))
SEMGREP = ROOT / ".tools" / "scanners" / "semgrep" / "bin" / "semgrep"

RANKS = {
    "moto_fixes": 0,
    "net": 1,
    "errors": 1,
    "emulator": 1,
    "images": 1,
    "alb": 1,
    "cloudwatch": 1,
    "ecs": 2,
    "runtime": 3,
    "cloud": 4,
    "testing": 5,
}
"""The layers, lowest first (localcloud/README.md); same rank: may import each other."""
MODULES = {"net", "errors", "emulator"}
"""Layers that are one module, not a folder."""


def upward(importer: str, imported: str) -> bool:
    """Whether ``importer`` may not import ``imported``: moto_fixes imports nothing else of
    localcloud; every other layer imports only its own rank and below."""
    if importer == imported:
        return False
    return importer == "moto_fixes" or RANKS[imported] > RANKS[importer]


def source_file(layer: str, name: str) -> str:
    package = "localcloud/src/localcloud"
    return f"{package}/{layer}.py" if layer in MODULES else f"{package}/{layer}/{name}.py"


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> set[tuple[str, str]]:
    if not SEMGREP.exists():
        if os.environ.get("STRICT_TOOLS") == "1":
            pytest.fail(f"STRICT_TOOLS=1 but {SEMGREP} is missing (make scan-tools)")
        pytest.skip(f"{SEMGREP} is missing (make scan-tools installs it)")
    tree = tmp_path_factory.mktemp("layers")
    lines: dict[tuple[str, int], str] = {}
    for importer in RANKS:
        others = [layer for layer in RANKS if layer != importer]
        forms = {
            "dotted": [f"from localcloud.{layer}.part import thing" for layer in others],
            "named": [f"from localcloud import {layer}" for layer in others],
        }
        # Top-level modules are one file: both forms go into it.
        if importer in MODULES:
            forms = {"module": forms["dotted"] + forms["named"]}
            others = others + others
        for name, statements in forms.items():
            path = tree / source_file(importer, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(statements) + "\n")
            imported = others if importer in MODULES else [o for o in RANKS if o != importer]
            for number, layer in enumerate(imported, start=1):
                lines[(str(path.relative_to(tree)), number)] = layer
    argv = [str(SEMGREP), "scan", "--metrics=off", "--disable-version-check", "--json", "--quiet"]
    argv += list(itertools.chain.from_iterable(("--config", str(rule)) for rule in RULES))
    result = subprocess.run(
        [*argv, str(tree)], capture_output=True, text=True, check=False, timeout=300
    )
    report = json.loads(result.stdout)
    assert report["errors"] == []
    found = set()
    for hit in report["results"]:
        path = str(Path(hit["path"]).relative_to(tree))
        importer = next(layer for layer in RANKS if path == source_file(layer, Path(path).stem))
        found.add((importer, lines[(path, hit["start"]["line"])]))
    return found


def test_the_rules_cover_every_layer_but_the_top():
    assert len(RULES) == 5


@pytest.mark.parametrize("importer", list(RANKS))
def test_a_layer_may_import_only_layers_below_it(findings, importer):
    flagged = {imported for source, imported in findings if source == importer}
    assert flagged == {layer for layer in RANKS if upward(importer, layer)}
