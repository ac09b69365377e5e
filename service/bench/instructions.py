"""`make bench-instructions`: where a reference /process request's work goes, in instructions.

Times on a shared machine move with the load; the number of instructions a piece of code runs
does not. For each stage below this runs Python under valgrind (`--tool=cachegrind
--cache-sim=no`, which only counts) twice, calling the stage `--calls` times and 0 times, and
prints the difference per call. Everything runs in-process (no HTTP server, no sockets): the
ASGI app is called directly with the reference request (payload.py).

    python service/bench/instructions.py [--calls 200] [--src DIR]

`--src` measures another checkout's service package (for example a tree made with
`git archive <commit> service/src | tar -x -C /tmp/old`, then `--src /tmp/old/service/src`).
Needs valgrind (Debian: `apt-get install valgrind`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

#: stage name -> what it measures (the table's first column).
STAGES = {
    "app": "POST /process, the whole ASGI app (reference request)",
    "health": "GET /health, the whole ASGI app",
    "decode": "decode: orjson, nesting check, request model, number scan",
    "loads": "  of which orjson.loads",
    "nesting": "  of which the nesting check (jsonschema-rs)",
    "numbers": "  of which the number-range scan of the body",
    "evaluate": "evaluate the expression (within the inline budget)",
    "library": "  the same with the jmespath library's own interpreter (no budget)",
    "encode": "encode the result (size and number walk, orjson)",
}


def _stage(name: str) -> Callable[[], object]:
    """A zero-argument callable doing one unit of `name`'s work."""
    import dataclasses

    import orjson

    sys.path.insert(0, str(ROOT / "service"))
    from app.processing.limits import Limits

    from bench import payload

    body = orjson.dumps(payload.request())
    document = orjson.loads(body)
    limits = Limits()
    # The budgets a reference request runs with on the event loop (app.processing.engine).
    inline = dataclasses.replace(limits, max_evaluation_steps=10_000, max_result_bytes=65536)
    if name in ("app", "health"):
        return _asgi_call(body, post=name == "app")
    if name == "decode":
        from app.processing.request import decode

        return lambda: decode(body, limits)
    if name == "loads":
        return lambda: orjson.loads(body)
    if name == "nesting":
        from app.processing.jsonvalues import depth_validator, too_deep_at

        validator = depth_validator(limits.max_depth + 1)
        return lambda: too_deep_at(validator, document)
    if name == "numbers":
        from app.processing.jsonvalues import inexact_numbers

        return lambda: inexact_numbers(body, limits.max_reported_violations)
    if name == "library":
        import jmespath

        parsed = jmespath.compile(document["expression"])
        return lambda: parsed.search(document["data"])
    from app.processing.expressions import ExpressionCache

    compiled = ExpressionCache(inline).get(document["expression"])
    if name == "evaluate":
        return lambda: compiled.evaluate(document["data"], inline)
    from app.processing.core import encode

    result = compiled.evaluate(document["data"], inline)
    return lambda: encode(result, inline)


def _asgi_call(body: bytes, *, post: bool) -> Callable[[], object]:
    import app.logs
    from app.main import create_app
    from app.settings import Settings

    application = create_app(Settings(environment="production"))
    sink = Path(os.devnull).open("wb")  # noqa: SIM115 - lives as long as the process
    app.logs.access_stream = lambda: sink  # access lines go nowhere
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST" if post else "GET",
        "scheme": "http",
        "path": "/process" if post else "/health",
        "raw_path": b"/process" if post else b"/health",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"user-agent", b"bench"),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    loop = asyncio.new_event_loop()

    async def one() -> None:
        messages = [{"type": "http.request", "body": body if post else b"", "more_body": False}]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return messages.pop() if messages else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await application(dict(scope), receive, send)
        if sent[0]["status"] != 200:
            raise SystemExit(f"bench: the app answered {sent[0]['status']}")

    return lambda: loop.run_until_complete(one())


def _run_stage(name: str, calls: int) -> None:
    """In the child process: `calls` units of `name` after one to warm up (caches, imports)."""
    work = _stage(name)
    work()
    for _ in range(calls):
        work()


_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def _instructions(name: str, calls: int, src: Path) -> int:
    command = [
        "valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
        sys.executable, __file__, "--child", name, "--calls", str(calls), "--src", str(src),
    ]  # fmt: skip
    # A fixed hash seed: with a random one, dict and set probing (so the count) differs from
    # process to process.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    output = subprocess.run(  # noqa: S603 - fixed argv
        command, capture_output=True, text=True, check=True, env=env
    ).stderr
    match = _REFS.search(output)
    if match is None:
        raise SystemExit(f"bench: cannot read valgrind's count:\n{output[-2000:]}")
    return int(match.group(1).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="calls per stage (default 200)")
    parser.add_argument(
        "--src", type=Path, default=ROOT / "service" / "src", help="the service package's parent"
    )
    parser.add_argument("--child", choices=sorted(STAGES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        sys.path.insert(0, str(args.src))
        _run_stage(args.child, args.calls)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("bench: valgrind is not installed (Debian: apt-get install valgrind)")
    print(f"Instructions per call, {args.calls} calls against none, package {args.src}:\n")
    print("| stage | instructions per call |")
    print("|---|---:|")
    for name, label in STAGES.items():
        per_call = (
            _instructions(name, args.calls, args.src) - _instructions(name, 0, args.src)
        ) // args.calls
        print(f"| {label} | {per_call:,} |", flush=True)


if __name__ == "__main__":
    main()
