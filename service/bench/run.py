"""`make bench`: the service (`make serve`'s command) against a fair baseline, side by side.

Servers, all in one run, on loopback only, each started, measured and stopped by this script:

* service: `app-serve`, what `make serve` and the image run;
* fair baseline: a one-file FastAPI app (baseline_app.py) run as FastAPI's docs say, `fastapi run`,
  from its own virtual environment (.cache/bench/fair-venv) holding `fastapi[standard]` installed
  with hashes from requirements-fair.txt: uvicorn on uvloop + httptools, access log on;
* naive baseline: the same app on `uvicorn` as `pip install fastapi uvicorn` gives it (asyncio +
  h11), the baseline of earlier runs (.cache/bench/baseline-venv), kept as a second column;
* floor: a raw ASGI app (raw_asgi.py) on the fair baseline's server (uvicorn, uvloop, httptools,
  no access log): what any app on that server can at best reach on /health.

Every server's output goes to a file (.cache/bench/<name>.log). For each: start-to-first-200 on
/health, idle RSS, then wrk (1 thread, 64 connections by default) on GET /health and POST
/process with the reference payload (payload.py), servers alternating so that all see the same
machine state, and the CPU time each server (with its sandbox workers) spent per request during
those runs; then the service's /process again at the concurrency Little's law allows for a
20 ms p99 (see `render`), and the floor's /health at that concurrency as a control for the
machine's own scheduling delays. Prints a table and rewrites the service section of
docs/performance.md. Targets (ratios from one run): /health >= 3x the fair baseline and >= 0.35
of the floor, /process >= 3x the fair baseline. Nothing here is tuned to meet them.
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
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "service"))
from bench import payload  # noqa: E402

CACHE = ROOT / ".cache" / "bench"
BENCH = ROOT / "service" / "bench"
BASELINE_VENV = CACHE / "baseline-venv"
BASELINE_PACKAGES = ["fastapi", "uvicorn", "jmespath", "jsonschema"]
FAIR_VENV = CACHE / "fair-venv"
FAIR_REQUIREMENTS = BENCH / "requirements-fair.txt"
DOC = ROOT / "docs" / "performance.md"
START_MARK = "<!-- service-bench:start -->"
END_MARK = "<!-- service-bench:end -->"


@dataclass(frozen=True)
class Load:
    """One wrk measurement; `cpu_us` is the CPU time (user + system) the server process and its
    children (the service's sandbox workers) spent per completed request, None when unmeasured."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_us: float | None = None


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


def ensure_fair_venv() -> dict[str, str]:
    """The fair baseline's environment, (re)built when requirements-fair.txt changed; its
    installed versions. It must hold uvloop and httptools, as `fastapi[standard]` installs."""
    stamp = FAIR_VENV / ".requirements"
    wanted = FAIR_REQUIREMENTS.read_bytes()
    if not stamp.exists() or stamp.read_bytes() != wanted:
        print(f"bench: creating {FAIR_VENV} from {FAIR_REQUIREMENTS.name}", file=sys.stderr)
        shutil.rmtree(FAIR_VENV, ignore_errors=True)
        uv = str(ROOT / ".tools" / "bin" / "uv")
        subprocess.run(  # noqa: S603 - fixed argv
            [uv, "venv", "--quiet", "--python", sys.executable, str(FAIR_VENV)], check=True
        )
        subprocess.run(  # noqa: S603 - fixed argv
            [uv, "pip", "install", "--quiet", "--require-hashes", "--python",
             str(FAIR_VENV / "bin" / "python"), "-r", str(FAIR_REQUIREMENTS)],
            check=True,
        )  # fmt: skip
        stamp.write_bytes(wanted)
    listing = subprocess.run(  # noqa: S603 - fixed argv
        [str(ROOT / ".tools" / "bin" / "uv"), "pip", "list", "--format=json",
         "--python", str(FAIR_VENV / "bin" / "python")],
        check=True,
        capture_output=True,
    ).stdout  # fmt: skip
    versions = {p["name"].lower(): p["version"] for p in orjson.loads(listing)}
    for fast in ("uvloop", "httptools"):
        if fast not in versions:
            raise SystemExit(f"bench: {fast} is missing from the fair baseline's venv")
    return versions


def _rss_mib(pid: int) -> float:
    with contextlib.suppress(FileNotFoundError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    children: list[int] = []
    for listing in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(FileNotFoundError):
            children += [int(c) for c in listing.read_text().split()]
    return sorted(set(children))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of `pid` (all its threads) and of its children now running.

    Measured per request, this does not depend on the share of the machine a server gets
    while other work runs, which its throughput does (see proc(5), fields utime and stime).
    """
    total = 0
    for each in (pid, *_children(pid)):
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            # The command name (field 2) may hold spaces: split after its closing parenthesis.
            fields = Path(f"/proc/{each}/stat").read_text().rpartition(")")[2].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / _CLOCK_TICKS


def rss_mib(pid: int) -> tuple[float, list[float]]:
    """Resident memory of `pid` and of each of its children (the service's sandbox workers;
    any thread may have started one)."""
    return _rss_mib(pid), [_rss_mib(child) for child in _children(pid)]


def start(name: str, command: list[str], env: dict[str, str], port: int, log: Path) -> Server:
    """Start `command` (its output, access lines included, to the file `log`) and wait for the
    first 200 from /health, timing it."""
    began = time.perf_counter()
    with log.open("wb") as sink:
        process = subprocess.Popen(  # noqa: S603 - our own server commands
            command, env=env, stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT
        )
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


_REQUESTS = re.compile(r"^\s*(\d+) requests in", re.MULTILINE)


def wrk(
    url: str, connections: int, seconds: int, script: Path | None, pid: int | None = None
) -> Load:
    """Load `url` with wrk; with `pid`, also measure that server's CPU time per request."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script is not None:
        command += ["-s", str(script)]
    cpu_before = cpu_seconds(pid) if pid is not None else 0.0
    output = subprocess.run(  # noqa: S603 - wrk against loopback
        [*command, url], check=True, capture_output=True, text=True
    ).stdout
    cpu = cpu_seconds(pid) - cpu_before if pid is not None else None
    percentiles = {int(p): _ms(v, u) for p, v, u in _LATENCY.findall(output)}
    rps = _RPS.search(output)
    if rps is None or 99 not in percentiles:
        raise SystemExit(f"bench: cannot read wrk output:\n{output}")
    errors = 0
    for match in _ERRORS.finditer(output):
        errors += sum(int(g) for g in match.groups() if g)
    requests = _REQUESTS.search(output)
    cpu_us = (
        cpu / int(requests.group(1)) * 1e6
        if cpu is not None and requests is not None and int(requests.group(1))
        else None
    )
    return Load(float(rps.group(1)), percentiles[50], percentiles[99], errors, cpu_us)


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


#: The p99 target of /process, and the share of it the mean may take at the concurrency the
#: low-concurrency run uses (the rest is left to the tail).
P99_TARGET_MS = 20.0
MEAN_SHARE = 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per measurement")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--no-write", action="store_true", help="do not update docs/performance.md")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench: wrk is not installed (Debian: apt-get install wrk)")
    CACHE.mkdir(parents=True, exist_ok=True)
    naive_versions = ensure_baseline_venv()
    fair_versions = ensure_fair_venv()

    ports = {name: free_port() for name in ("service", "fair", "naive", "floor")}
    host = ["--host", "127.0.0.1", "--port"]
    # What `make serve` runs (and the image's entrypoint), without make and uv in front of it:
    # start time is the server's, and SIGTERM reaches it directly.
    serve_command = [str(Path(sys.executable).parent / "app-serve")]
    commands = {
        "service": serve_command,
        "fair": [str(FAIR_VENV / "bin" / "fastapi"), "run", str(BENCH / "baseline_app.py"),
                 *host, str(ports["fair"])],
        "naive": [str(BASELINE_VENV / "bin" / "uvicorn"), "baseline_app:app", "--app-dir",
                  str(BENCH), *host, str(ports["naive"])],
        "floor": [str(FAIR_VENV / "bin" / "uvicorn"), "raw_asgi:app", "--app-dir", str(BENCH),
                  "--loop", "uvloop", "--http", "httptools", "--no-access-log",
                  *host, str(ports["floor"])],
    }  # fmt: skip
    environments = {name: dict(os.environ) for name in commands}
    environments["service"].update(
        {"PORT": str(ports["service"]), "HOST": "127.0.0.1", "APP_ENVIRONMENT": "production"}
    )
    servers: dict[str, Server] = {}
    try:
        for name, command in commands.items():
            log = CACHE / f"{name}.log"
            servers[name] = start(name, command, environments[name], ports[name], log)
        results = measure(args, servers)
    finally:
        for server in servers.values():
            stop(server)
    body = orjson.dumps(payload.request())
    report = render(
        args, servers, results, fair_versions, naive_versions, len(body), results.result_bytes
    )
    print(report)
    if not args.no_write:
        write_doc(report)
        print(f"bench: wrote {DOC.relative_to(ROOT)}", file=sys.stderr)


@dataclass
class Results:
    """Every wrk measurement of one run, by (server, endpoint)."""

    loads: dict[tuple[str, str], Load]
    low_connections: int
    result_bytes: int


def measure(args: argparse.Namespace, servers: dict[str, Server]) -> Results:
    body = orjson.dumps(payload.request())
    body_schema = orjson.dumps(payload.request(with_schema=True))
    apps = [servers[name] for name in ("service", "fair", "naive")]
    result = check_same_answer(apps, body)
    check_same_answer(apps, body_schema)
    for server in servers.values():  # warm up every server (imports, caches) before measuring
        wrk(server.url("/health"), args.connections, 2, None)
    loads: dict[tuple[str, str], Load] = {}
    with post_script(body) as script, post_script(body_schema) as schema_script:
        for endpoint, path, lua, names in (
            ("/health", "/health", None, ("service", "fair", "naive", "floor")),
            ("/process", "/process", script, ("service", "fair", "naive")),
            ("/process+schema", "/process", schema_script, ("service", "fair", "naive")),
        ):
            for name in names:
                print(f"bench: {name} {endpoint} ...", file=sys.stderr)
                server = servers[name]
                loads[(name, endpoint)] = wrk(
                    server.url(path), args.connections, args.seconds, lua, server.process.pid
                )
        # Little's law: mean time in the server W = L / throughput. For a mean of at most
        # MEAN_SHARE x the p99 target, L <= MEAN_SHARE x target x throughput.
        throughput = loads[("service", "/process")].requests_per_second
        low = max(1, int(MEAN_SHARE * P99_TARGET_MS / 1000 * throughput))
        print(f"bench: service /process at {low} connections ...", file=sys.stderr)
        service = servers["service"]
        loads[("service", "/process@low")] = wrk(
            service.url("/process"), low, args.seconds, script, service.process.pid
        )
        # The control: a request that costs nothing, at the same concurrency, the same minute.
        # When even its p99 is over the target, the machine's scheduling is what was measured.
        print(f"bench: floor /health at {low} connections ...", file=sys.stderr)
        loads[("floor", "/health@low")] = wrk(
            servers["floor"].url("/health"), low, args.seconds, None
        )
    return Results(loads, low, len(result))


def render(
    args: argparse.Namespace,
    servers: dict[str, Server],
    results: Results,
    fair_versions: dict[str, str],
    naive_versions: dict[str, str],
    body_bytes: int,
    result_bytes: int,
) -> str:
    loads = results.loads
    ours = servers["service"]
    sandbox_rss = (
        f"{len(ours.children_rss_mib)} x {max(ours.children_rss_mib):.1f} MiB"
        if ours.children_rss_mib
        else "none running"
    )

    def rps(name: str, endpoint: str) -> float:
        return loads[(name, endpoint)].requests_per_second

    def cell(name: str, endpoint: str) -> str:
        load = loads[(name, endpoint)]
        return f"{load.requests_per_second:,.0f} ({load.p50_ms:.1f} / {load.p99_ms:.1f})"

    def row(endpoint: str) -> str:
        errors = sum(load.errors for (_, e), load in loads.items() if e == endpoint)
        ours = rps("service", endpoint)
        floor = (
            f"{cell('floor', endpoint)} | **{ours / rps('floor', endpoint):.2f}**"
            if ("floor", endpoint) in loads
            else "| "
        )
        return (
            f"| `{endpoint}` | {cell('service', endpoint)} | {cell('fair', endpoint)} "
            f"| **{ours / rps('fair', endpoint):.2f}x** "
            f"| {cell('naive', endpoint)} | {ours / rps('naive', endpoint):.2f}x "
            f"| {floor} | {errors} |"
        )

    def cpu(name: str, endpoint: str) -> str:
        load = loads.get((name, endpoint))
        return f"{load.cpu_us:,.0f}" if load is not None and load.cpu_us is not None else ""

    def cpu_row(endpoint: str) -> str:
        ours, fair = loads[("service", endpoint)].cpu_us, loads[("fair", endpoint)].cpu_us
        ratio = f"**{fair / ours:.2f}x**" if ours and fair else ""
        return (
            f"| `{endpoint}` | {cpu('service', endpoint)} | {cpu('fair', endpoint)} | {ratio} "
            f"| {cpu('naive', endpoint)} | {cpu('floor', endpoint)} |"
        )

    load_average = os.getloadavg()
    health_fair = rps("service", "/health") / rps("fair", "/health")
    health_floor = rps("service", "/health") / rps("floor", "/health")
    process_fair = rps("service", "/process") / rps("fair", "/process")
    throughput = rps("service", "/process")
    low = loads[("service", "/process@low")]
    low_mean_ms = results.low_connections / low.requests_per_second * 1000
    control = loads[("floor", "/health@low")]
    control_verdict = (
        ": over the target by itself, so the machine's scheduling, not the service, sets this "
        "p99 here."
        if control.p99_ms >= P99_TARGET_MS
        else "."
    )
    cpu_bound = (
        f" The service spent {low.cpu_us:,.0f} µs of CPU per request there, so the queue alone "
        f"gives each request a mean of at least {results.low_connections} x {low.cpu_us:,.0f} "
        f"µs = {results.low_connections * low.cpu_us / 1000:.1f} ms when all connections wait."
        if low.cpu_us
        else ""
    )
    mean_64 = args.connections / throughput * 1000

    def verdict(ok: bool) -> str:
        return "met" if ok else "**not met**"

    lines = [
        f"Measured {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}: {os.cpu_count()} cores "
        f"({platform.machine()}), load average before the run {load_average[0]:.2f} (other "
        f"work on the machine counts), Python {platform.python_version()}.",
        "",
        f'Command: `make bench BENCH_ARGS="--seconds {args.seconds} --connections '
        f'{args.connections}"` (runs `service/bench/run.py`); load: `wrk -t1 '
        f"-c{args.connections} -d{args.seconds}s --latency` on 127.0.0.1, servers measured one "
        "after the other in the same run, every server's output (access lines) to a file.",
        "",
        "- service: `app-serve` (what `make serve` and the image run: uvicorn + uvloop + "
        "httptools, 1 worker, one JSON access line per request).",
        "- fair baseline: one-file FastAPI app (`service/bench/baseline_app.py`: sync `def` "
        "handlers returning dicts, default JSON response) run as FastAPI's docs say, "
        '`fastapi run`, from `pip install "fastapi[standard]"` pinned with hashes '
        f"(`service/bench/requirements-fair.txt`): fastapi {fair_versions.get('fastapi', '?')}, "
        f"uvicorn {fair_versions.get('uvicorn', '?')} with uvloop "
        f"{fair_versions.get('uvloop', '?')} and httptools {fair_versions.get('httptools', '?')}, "
        f"access log on; jmespath {fair_versions.get('jmespath', '?')}, jsonschema "
        f"{fair_versions.get('jsonschema', '?')}.",
        "- naive baseline: the same app on `uvicorn baseline_app:app` as `pip install fastapi "
        f"uvicorn` gives it (asyncio + h11; uvicorn {naive_versions.get('uvicorn', '?')}): the "
        "baseline of earlier runs.",
        "- floor: a raw ASGI app (`service/bench/raw_asgi.py`, no framework, no access line) on "
        "the fair baseline's server (uvicorn, uvloop, httptools, `--no-access-log`).",
        f"- reference `/process` body: {body_bytes} bytes (100 records x 10 fields), expression "
        f"`{payload.EXPRESSION}`, result {result_bytes} bytes. `/process+schema` adds a "
        "schema (informative: the baselines recompile it with pure-Python jsonschema).",
        "",
        "Each cell: req/s (p50 / p99 ms).",
        "",
        "| endpoint | service | fair baseline | service / fair | naive baseline | service / naive "
        "| floor (raw ASGI) | service / floor | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        row("/health"),
        row("/process"),
        row("/process+schema"),
        "",
        "CPU time per request, in microseconds: user + system time of the server process (all "
        "its threads) and of its sandbox workers during the same wrk runs, divided by the "
        "requests answered (from /proc; it does not depend on the share of the machine each "
        "server got, which its throughput does).",
        "",
        "| endpoint | service | fair baseline | fair / service | naive baseline | floor |",
        "|---|---:|---:|---:|---:|---:|",
        cpu_row("/health"),
        cpu_row("/process"),
        cpu_row("/process+schema"),
        "",
        "| | service | fair baseline |",
        "|---|---:|---:|",
        f"| start to first 200 on /health | {ours.start_seconds * 1000:.0f} ms "
        f"| {servers['fair'].start_seconds * 1000:.0f} ms |",
        f"| idle RSS per worker (server process) | {ours.idle_rss_mib:.1f} MiB "
        f"| {servers['fair'].idle_rss_mib:.1f} MiB |",
        f"| idle RSS of its sandbox workers | {sandbox_rss} | none |",
        "",
        "| target | result |",
        "|---|---|",
        f"| /health >= 3x the fair baseline | {health_fair:.2f}x: {verdict(health_fair >= 3)} |",
        f"| /health >= 0.35 of the raw-ASGI floor | {health_floor:.2f}: "
        f"{verdict(health_floor >= 0.35)} |",
        f"| /process >= 3x the fair baseline | {process_fair:.2f}x: {verdict(process_fair >= 3)} |",
        f"| /process p99 < {P99_TARGET_MS:g} ms where Little's law allows it | at "
        f"{results.low_connections} connections: p99 {low.p99_ms:.1f} ms, "
        f"{low.requests_per_second:,.0f} req/s: {verdict(low.p99_ms < P99_TARGET_MS)} |",
        f"| start to first 200 < 1 s | {ours.start_seconds:.2f} s: "
        f"{verdict(ours.start_seconds < 1)} |",
        "",
        f"Little's law, W = L / throughput: at {args.connections} connections the service's "
        f"/process ({throughput:,.0f} req/s) spends {mean_64:.1f} ms in the server *on "
        f"average*, so no p99 under {P99_TARGET_MS:g} ms is possible there. For a mean of at "
        f"most {MEAN_SHARE:g} x {P99_TARGET_MS:g} ms, L <= {MEAN_SHARE:g} x "
        f"{P99_TARGET_MS / 1000:g} s x {throughput:,.0f} req/s = {results.low_connections} "
        f"connections: measured there, mean {low_mean_ms:.1f} ms, p50 {low.p50_ms:.1f} ms, "
        f"p99 {low.p99_ms:.1f} ms.{cpu_bound} Control, right after it: the raw-ASGI floor "
        f"answering /health (no work at all) at the same {results.low_connections} connections "
        f"had p50 {control.p50_ms:.1f} ms and p99 {control.p99_ms:.1f} ms{control_verdict}",
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
