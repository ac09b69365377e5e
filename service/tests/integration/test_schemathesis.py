"""schemathesis against the real `app-serve`: every request it generates from the OpenAPI
document (valid and invalid bodies, headers, methods) must get a documented answer.

`--checks all` except `positive_data_acceptance`: that check expects every request that
matches the OpenAPI schema to succeed, and cannot know that `data` must also match the
`schema` posted with it (a 422 `schema-validation` is the right answer there). Among the rest:
`not_a_server_error` (no 5xx), status codes, content types, headers and bodies that conform to
the document, negative data rejected. schemathesis runs from its own virtual environment
(`make test-service` installs it; see mk/service.mk); the seed is printed so a failure can be
replayed with `--seed`.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from .test_server import start

ROOT = Path(__file__).resolve().parents[3]
SCHEMATHESIS = Path(
    os.environ.get("SCHEMATHESIS", ROOT / ".tools" / "schemathesis" / "bin" / "schemathesis")
)


def test_every_generated_request_gets_a_documented_answer_and_no_5xx(tmp_path: Path) -> None:
    if not SCHEMATHESIS.exists():
        if os.environ.get("STRICT_TOOLS") == "1":
            pytest.fail(f"{SCHEMATHESIS} is missing and STRICT_TOOLS=1")
        pytest.skip("schemathesis is not installed: run `make test-service`")
    served = start(tmp_path, APP_ENVIRONMENT="development")
    try:
        done = subprocess.run(
            [
                str(SCHEMATHESIS),
                "run",
                served.url("/openapi.json"),
                "--checks",
                "all",
                "--exclude-checks",
                "positive_data_acceptance",
                "--max-examples",
                "1000",
                "--workers",
                "2",
                "--generation-database",
                "none",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=240,
            cwd=tmp_path,
            check=False,
        )
    finally:
        served.stop()
    summary = done.stdout[done.stdout.rfind("SUMMARY") :]
    print(summary)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "passed" in summary
    statuses = {line["status"] for line in served.read_lines() if line["logger"] == "app.access"}
    assert statuses
    assert not {status for status in statuses if isinstance(status, int) and status >= 500}
