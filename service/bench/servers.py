"""`make bench-servers`: the evidence for ADR 0005 (which production server).

Runs the same app (`app.main:create_app`) under the two candidates, one after the other:

* uvicorn + uvloop + httptools, exactly as `app-serve` runs it;
* granian (Rust HTTP server, ASGI interface), from a throwaway virtual environment
  (.cache/bench/granian-venv) that sees this project's packages through a .pth file, with its
  longest allowed idle timeout (`--http1-header-read-timeout 60000`).

For each: req/s and p99 with wrk on /health and on the reference /process, idle RSS, and how long
an idle keep-alive connection stays open (probed up to 80 s, in the background, because the ALB
reuses idle connections for up to 60 s).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import sysconfig
import threading
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import payload
from bench.run import CACHE, free_port, post_script, rss_mib, start, stop, wrk

GRANIAN_VENV = CACHE / "granian-venv"


def ensure_granian() -> tuple[Path, str]:
    python = GRANIAN_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(GRANIAN_VENV)], check=True)  # noqa: S603 - fixed argv
        subprocess.run(  # noqa: S603 - fixed argv
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "granian",
            ],
            check=True,
        )
    site = subprocess.run(  # noqa: S603 - fixed argv
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # The candidate serves this project's app: let it import our locked packages (addsitedir
    # also runs their .pth files, which is how the editable `app` package is found).
    ours = sysconfig.get_paths()["purelib"]
    Path(site, "_project.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    version = subprocess.run(  # noqa: S603 - fixed argv
        [str(GRANIAN_VENV / "bin" / "granian"), "--version"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return GRANIAN_VENV / "bin" / "granian", version


def idle_probe(port: int, limit: float, out: dict[str, float | None]) -> None:
    """Seconds until the server closes an idle keep-alive connection (None: still open)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: probe\r\n\r\n")
    received = b""
    while not received.endswith(b"}"):
        received += sock.recv(65536)
    began = time.monotonic()
    sock.settimeout(limit)
    try:
        out["closed_after"] = round(time.monotonic() - began, 1) if sock.recv(1) == b"" else None
    except TimeoutError:
        out["closed_after"] = None
    finally:
        sock.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--idle-limit", type=float, default=80.0)
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    granian, granian_version = ensure_granian()
    env = {**os.environ, "HOST": "127.0.0.1", "APP_ENVIRONMENT": "production"}
    candidates = {
        "uvicorn+uvloop+httptools (app-serve)": lambda _: [
            str(Path(sys.executable).parent / "app-serve")
        ],
        f"{granian_version} (asgi)": lambda port: [
            str(granian), "--interface", "asgi", "--factory", "--host", "127.0.0.1",
            "--port", str(port), "--no-ws", "--http", "1",
            "--http1-header-read-timeout", "60000", "app.main:create_app",
        ],
    }  # fmt: skip
    body = orjson.dumps(payload.request())
    rows = []
    with post_script(body) as script:
        for name, command in candidates.items():
            port = free_port()
            server = start(
                name, command(port), {**env, "PORT": str(port)}, port, CACHE / "candidate.log"
            )
            probe: dict[str, float | None] = {}
            prober = threading.Thread(target=idle_probe, args=(port, args.idle_limit, probe))
            prober.start()
            try:
                wrk(server.url("/health"), args.connections, 2, None)
                health = wrk(server.url("/health"), args.connections, args.seconds, None)
                process = wrk(server.url("/process"), args.connections, args.seconds, script)
                rss = rss_mib(server.process.pid)
                prober.join()
            finally:
                stop(server)
            closed = probe.get("closed_after")
            rows.append(
                f"| {name} | {health.requests_per_second:,.0f} | {health.p99_ms:.1f} | "
                f"{process.requests_per_second:,.0f} | {process.p99_ms:.1f} | {rss:.1f} | "
                + (
                    f"closed after {closed} s"
                    if closed is not None
                    else f"open after {args.idle_limit:.0f} s"
                )
                + " |"
            )
    print(f"load average {os.getloadavg()[0]:.2f}; wrk -t1 -c{args.connections} -d{args.seconds}s")
    print(
        "| server | /health req/s | p99 ms | /process req/s | p99 ms "
        "| RSS MiB (process tree, after load) | idle keep-alive |"
    )
    print("|---|---:|---:|---:|---:|---:|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
