"""`make bench`: the service (`make serve`'s command) against the naive baseline, side by side.

For each server, in one run and on loopback only: start-to-first-200 on /health, idle RSS, then
wrk (1 thread, 64 connections by default) on GET /health and on POST /process with the
reference payload (see payload.py), alternating servers so both see the same machine state.
The baseline runs from a throwaway virtual environment (.cache/bench/baseline-venv) holding what
`pip install fastapi uvicorn jmespath jsonschema` gives: uvicorn on asyncio + h11.

Prints a table and rewrites the service section of docs/performance.md with the figures and the
exact command. Targets (ratios from one run): /health >= 3x baseline req/s, /process >= 2x
naive, p99 < 20 ms at 64 connections, start < 1 s. Nothing here is tuned to meet them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import orjson

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "service"))
from bench import payload  # noqa: E402

CACHE = ROOT / ".cache" / "bench"
BASELINE_VENV = CACHE / "baseline-venv"
BASELINE_PACKAGES = ["fastapi", "uvicorn", "jmespath", "jsonschema"]
DOC = ROOT / "docs" / "performance.md"
START_MARK = "<!-- service-bench:start -->"
END_MARK = "<!-- service-bench:end -->"


@dataclass(frozen=True)
class Load:
    """One wrk measurement."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


@dataclass
class Server:
    """A started server process."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    start_seconds: float
    idle_rss_mib: float
    children_rss_mib: list[float]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_baseline_venv() -> dict[str, str]:
    """Create the throwaway baseline environment once; return the installed versions."""
    python = BASELINE_VENV / "bin" / "python"
    if not python.exists():
        print(
            f"bench: creating {BASELINE_VENV} (pip install {' '.join(BASELINE_PACKAGES)})",
            file=sys.stderr,
        )
        subprocess.run([sys.executable, "-m", "venv", str(BASELINE_VENV)], check=True)  # noqa: S603 - fixed argv
        subprocess.run(  # noqa: S603 - fixed argv
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                *BASELINE_PACKAGES,
            ],
            check=True,
        )
    listing = subprocess.run(  # noqa: S603 - fixed argv
        [str(python), "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
        check=True,
        capture_output=True,
    ).stdout
    versions = {p["name"].lower(): p["version"] for p in orjson.loads(listing)}
    for fast in ("uvloop", "httptools"):
        if fast in versions:
            raise SystemExit(f"bench: {fast} is in the baseline venv; it must be the default stack")
    return versions


def _rss_mib(pid: int) -> float:
    with contextlib.suppress(FileNotFoundError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def rss_mib(pid: int) -> tuple[float, list[float]]:
    """Resident memory of `pid` and of each of its children (the service's sandbox workers;
    any thread may have started one)."""
    children: list[int] = []
    for listing in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(FileNotFoundError):
            children += [int(c) for c in listing.read_text().split()]
    return _rss_mib(pid), [_rss_mib(child) for child in sorted(set(children))]


def _drain(stream: IO[bytes], log: Path, keep: int = 200) -> None:
    """Read a server's output as a log collector would (awslogs reads a pipe), keeping the
    first and last lines in `log` for diagnosis. Writing every line to disk instead would
    measure the disk: on a shared machine, writers get throttled by others' dirty pages."""
    head: list[bytes] = []
    tail: deque[bytes] = deque(maxlen=keep)
    for line in stream:
        (head if len(head) < keep else tail).append(line)
    log.write_bytes(b"".join(head) + b"...\n" + b"".join(tail))


def start(name: str, command: list[str], env: dict[str, str], port: int, log: Path) -> Server:
    """Start `command` (its output drained through a pipe) and wait for the first 200 from
    /health, timing it."""
    began = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 - our own server commands
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT
    )
    assert process.stdout is not None  # noqa: S101 - PIPE was asked for
    threading.Thread(target=_drain, args=(process.stdout, log), daemon=True).start()
    deadline = began + 30
    while True:
        if process.poll() is not None:
            raise SystemExit(f"bench: {name} exited with {process.returncode}; see {log}")
        try:
            health = f"http://127.0.0.1:{port}/health"
            with urllib.request.urlopen(health, timeout=1) as response:
                if response.status == 200:
                    break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.perf_counter() > deadline:
            process.kill()
            raise SystemExit(f"bench: {name} did not answer /health within 30 s; see {log}")
        time.sleep(0.005)
    started = time.perf_counter() - began
    time.sleep(1.0)
    own, children = rss_mib(process.pid)
    return Server(name, process, port, started, own, children)


def stop(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


_LATENCY = re.compile(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_ERRORS = re.compile(
    r"Non-2xx or 3xx responses:\s+(\d+)|Socket errors:.*?(\d+).*?(\d+).*?(\d+).*?(\d+)"
)


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, connections: int, seconds: int, script: Path | None) -> Load:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script is not None:
        command += ["-s", str(script)]
    output = subprocess.run(  # noqa: S603 - wrk against loopback
        [*command, url], check=True, capture_output=True, text=True
    ).stdout
    percentiles = {int(p): _ms(v, u) for p, v, u in _LATENCY.findall(output)}
    rps = _RPS.search(output)
    if rps is None or 99 not in percentiles:
        raise SystemExit(f"bench: cannot read wrk output:\n{output}")
    errors = 0
    for match in _ERRORS.finditer(output):
        errors += sum(int(g) for g in match.groups() if g)
    return Load(float(rps.group(1)), percentiles[50], percentiles[99], errors)


@contextlib.contextmanager
def post_script(body: bytes) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        body_file = Path(tmp) / "body.json"
        body_file.write_bytes(body)
        script = Path(tmp) / "post.lua"
        script.write_text(
            'wrk.method = "POST"\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
            f'local f = assert(io.open("{body_file}", "rb"))\n'
            'wrk.body = f:read("*a")\n'
            "f:close()\n"
        )
        yield script


def check_same_answer(servers: list[Server], body: bytes) -> bytes:
    answers = []
    for server in servers:
        request = urllib.request.Request(  # noqa: S310 - loopback
            server.url("/process"), data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
            answers.append(orjson.loads(response.read()))
    if any(a != answers[0] for a in answers):
        raise SystemExit("bench: the servers disagree on the reference result")
    return orjson.dumps(answers[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per measurement")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--low-connections", type=int, default=16, help="extra /process run at this concurrency"
    )
    parser.add_argument("--no-write", action="store_true", help="do not update docs/performance.md")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench: wrk is not installed (Debian: apt-get install wrk)")
    CACHE.mkdir(parents=True, exist_ok=True)
    versions = ensure_baseline_venv()

    ours_port, base_port = free_port(), free_port()
    ours_env = {
        **os.environ,
        "PORT": str(ours_port),
        "HOST": "127.0.0.1",
        "APP_ENVIRONMENT": "production",
    }
    # What `make serve` runs (and the image's entrypoint), without make and uv in front of it:
    # start time is the server's, and SIGTERM reaches it directly.
    serve_command = [str(Path(sys.executable).parent / "app-serve")]
    base_command = [
        str(BASELINE_VENV / "bin" / "uvicorn"),
        "baseline_app:app",
        "--app-dir", str(ROOT / "service" / "bench"),
        "--host", "127.0.0.1",
        "--port", str(base_port),
    ]  # fmt: skip
    ours = start("service", serve_command, ours_env, ours_port, CACHE / "service.log")
    try:
        base = start("baseline", base_command, dict(os.environ), base_port, CACHE / "baseline.log")
    except BaseException:
        stop(ours)
        raise
    results: dict[tuple[str, str], Load] = {}
    try:
        body = orjson.dumps(payload.request())
        body_schema = orjson.dumps(payload.request(with_schema=True))
        result = check_same_answer([ours, base], body)
        check_same_answer([ours, base], body_schema)
        for server in (ours, base):  # warm up both (imports, caches) before measuring
            wrk(server.url("/health"), args.connections, 2, None)
        with post_script(body) as script, post_script(body_schema) as schema_script:
            for endpoint, path, lua in (
                ("/health", "/health", None),
                ("/process", "/process", script),
                ("/process+schema", "/process", schema_script),
            ):
                for server in (ours, base):
                    print(f"bench: {server.name} {endpoint} ...", file=sys.stderr)
                    results[(server.name, endpoint)] = wrk(
                        server.url(path), args.connections, args.seconds, lua
                    )
            # What latency one worker can hold at lower concurrency (Little's law, see render).
            print(
                f"bench: service /process at {args.low_connections} connections ...",
                file=sys.stderr,
            )
            results[("service", "/process@low")] = wrk(
                ours.url("/process"), args.low_connections, args.seconds, script
            )
    finally:
        stop(base)
        stop(ours)

    report = render(args, ours, base, results, versions, len(body), len(result), serve_command)
    print(report)
    if not args.no_write:
        write_doc(report)
        print(f"bench: wrote {DOC.relative_to(ROOT)}", file=sys.stderr)


def render(
    args: argparse.Namespace,
    ours: Server,
    base: Server,
    results: dict[tuple[str, str], Load],
    versions: dict[str, str],
    body_bytes: int,
    result_bytes: int,
    serve_command: list[str],
) -> str:
    sandbox_rss = (
        f"{len(ours.children_rss_mib)} x {max(ours.children_rss_mib):.1f} MiB"
        if ours.children_rss_mib
        else "none running"
    )

    def row(endpoint: str) -> str:
        a, b = results[("service", endpoint)], results[("baseline", endpoint)]
        return (
            f"| `{endpoint}` | {a.requests_per_second:,.0f} | {a.p50_ms:.1f} | {a.p99_ms:.1f} | "
            f"{b.requests_per_second:,.0f} | {b.p50_ms:.1f} | {b.p99_ms:.1f} | "
            f"**{a.requests_per_second / b.requests_per_second:.2f}x** | {a.errors + b.errors} |"
        )

    load = os.getloadavg()
    health_ratio = (
        results[("service", "/health")].requests_per_second
        / results[("baseline", "/health")].requests_per_second
    )
    process_ratio = (
        results[("service", "/process")].requests_per_second
        / results[("baseline", "/process")].requests_per_second
    )
    p99_health = results[("service", "/health")].p99_ms
    p99_process = results[("service", "/process")].p99_ms
    rps_process = results[("service", "/process")].requests_per_second
    low = results[("service", "/process@low")]
    low_mean_ms = args.low_connections / low.requests_per_second * 1000

    def verdict(ok: bool) -> str:
        return "met" if ok else "**not met**"

    lines = [
        f"Measured {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}: {os.cpu_count()} cores "
        f"({platform.machine()}), load average before the run {load[0]:.2f} (other work on the "
        f"machine counts), Python {platform.python_version()}.",
        "",
        f'Command: `make bench BENCH_ARGS="--seconds {args.seconds} --connections '
        f'{args.connections}"` (runs `service/bench/run.py`); load: `wrk -t1 '
        f"-c{args.connections} -d{args.seconds}s --latency` on 127.0.0.1, servers measured one "
        "after the other in the same run.",
        "",
        "- service: `app-serve` (what `make serve` and the image run: uvicorn + uvloop + "
        "httptools, 1 worker, one JSON access line per request, to a pipe the harness drains).",
        "- baseline: one-file FastAPI app, sync `def` handlers returning dicts, default JSON "
        "response, `uvicorn baseline_app:app` (asyncio + h11, default access log, to a "
        "drained pipe); "
        f"fastapi {versions.get('fastapi', '?')}, uvicorn {versions.get('uvicorn', '?')}, "
        f"pydantic {versions.get('pydantic', '?')}, jmespath {versions.get('jmespath', '?')}, "
        f"jsonschema {versions.get('jsonschema', '?')}.",
        f"- reference `/process` body: {body_bytes} bytes (100 records x 10 fields), expression "
        f"`{payload.EXPRESSION}`, result {result_bytes} bytes. `/process+schema` adds a "
        "schema (informative: the baseline recompiles it with pure-Python jsonschema).",
        "",
        "| endpoint | service req/s | p50 ms | p99 ms | baseline req/s | p50 ms | p99 ms "
        "| ratio | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        row("/health"),
        row("/process"),
        row("/process+schema"),
        "",
        "| | service | baseline |",
        "|---|---:|---:|",
        f"| start to first 200 on /health | {ours.start_seconds * 1000:.0f} ms "
        f"| {base.start_seconds * 1000:.0f} ms |",
        f"| idle RSS per worker (server process) | {ours.idle_rss_mib:.1f} MiB "
        f"| {base.idle_rss_mib:.1f} MiB |",
        f"| idle RSS of its sandbox workers | {sandbox_rss} | none |",
        "",
        "| target | result |",
        "|---|---|",
        f"| /health >= 3x baseline req/s | {health_ratio:.2f}x: {verdict(health_ratio >= 3)} |",
        f"| /process >= 2x naive req/s | {process_ratio:.2f}x: {verdict(process_ratio >= 2)} |",
        f"| p99 < 20 ms at {args.connections} connections | /health {p99_health:.1f} ms: "
        f"{verdict(p99_health < 20)}; /process {p99_process:.1f} ms: {verdict(p99_process < 20)} "
        f"(Little's law: {args.connections} in flight / {rps_process:,.0f} req/s = "
        f"{args.connections / rps_process * 1000:.1f} ms mean) |",
        f"| start to first 200 < 1 s | {ours.start_seconds:.2f} s: "
        f"{verdict(ours.start_seconds < 1)} |",
        "",
        f"At {args.low_connections} connections the service's `/process` did "
        f"{low.requests_per_second:,.0f} req/s with p50 {low.p50_ms:.1f} ms and p99 "
        f"{low.p99_ms:.1f} ms (Little's law mean: {low_mean_ms:.1f} ms).",
    ]
    return "\n".join(lines)


def write_doc(report: str) -> None:
    section = f"{START_MARK}\n{report}\n{END_MARK}"
    if DOC.exists():
        text = DOC.read_text()
        if START_MARK in text and END_MARK in text:
            head, _, rest = text.partition(START_MARK)
            _, _, tail = rest.partition(END_MARK)
            DOC.write_text(head + section + tail)
            return
    raise SystemExit(f"bench: {DOC} lacks the {START_MARK} ... {END_MARK} markers")


if __name__ == "__main__":
    main()
