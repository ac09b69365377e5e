"""How long hostile /process requests take, and whether /health keeps answering meanwhile.

Starts `app-serve` (the production command, default settings) on a free loopback port, then:

1. sends each hostile request alone and measures its wall time and answer, while a prober
   sends GET /health every 50 ms and keeps the slowest answer;
2. sends `--copies` of every hostile request at once (the storm) and does the same.

Prints a Markdown table: the figures docs/service.md quotes. Run it with
`.tools/bin/uv run --frozen --no-sync python service/bench/adversarial.py` (about 30 s). Not a
test: the figures depend on the machine; the tests check the bounds that matter.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import orjson

MIB = 1024 * 1024


def _anyof_listing(items: int) -> bytes:
    # Every item violates every branch: jsonschema-rs's iter_errors builds all errors at once.
    types = ["string", "object", "array", "boolean", "null"]
    schema = {"items": {"anyOf": [{"type": t} for t in types]}}
    return orjson.dumps({"data": [0] * items, "expression": "length(@)", "schema": schema})


def _ref_fan_out(levels: int) -> bytes:
    # Each definition $refs the next one twice: 2**levels paths to check on valid data.
    defs: dict[str, object] = {
        f"d{i}": {"allOf": [{"$ref": f"#/$defs/d{i + 1}"}, {"$ref": f"#/$defs/d{i + 1}"}]}
        for i in range(levels)
    }
    defs[f"d{levels}"] = {"type": "integer"}
    schema = {"$ref": "#/$defs/d0", "$defs": defs}
    return orjson.dumps({"data": 0, "expression": "@", "schema": schema})


def _doubling_then_flatten() -> bytes:
    expression = "[@, @]" + " | [@, @]" * 60 + " | [][][][][][][][][][][][][][][][][][][][]"
    return orjson.dumps({"data": 1, "expression": expression})


def _nested_projections() -> bytes:
    ten = "[" + ", ".join(["@"] * 10) + "]"
    expression = f"{ten} | {ten} | [*][*][*].a"
    return orjson.dumps({"data": list(range(200)), "expression": expression})


def _numbers_projected() -> bytes:
    return orjson.dumps({"data": [0] * (MIB // 2 - 64), "expression": "[*].[@, @, @]"})


def _to_string_in_projection() -> bytes:
    # to_string() of an 8 KB value for each of 64 shared copies: over 0.5 MiB walked and built.
    return orjson.dumps(
        {
            "data": ["x" * 8000],
            "expression": "[@, @] | [@, @] | [@, @] | [@, @] | [@, @] | "
            "[@, @] | [*][*][*][*][*][*].to_string(@)",
        }
    )


def _nested_chains(depth: int) -> bytes:
    chain = orjson.loads(b"[" * depth + b"]" * depth)
    copies = (MIB - 64) // (2 * depth + 1)
    return orjson.dumps({"data": [chain] * copies, "expression": "length(@)"})


CASES: dict[str, Callable[[], bytes]] = {
    "anyOf listing, 280 KB ([0] * 140000)": lambda: _anyof_listing(140_000),
    "anyOf listing, 1 MiB ([0] * 524000)": lambda: _anyof_listing(524_000),
    "$ref fan-out 2**40, 2 KB, valid data": lambda: _ref_fan_out(40),
    "60 doubling pipes, then flattens": _doubling_then_flatten,
    "nested projections over shared lists": _nested_projections,
    "1 MiB of numbers projected three ways": _numbers_projected,
    "to_string() in a projection": _to_string_in_projection,
    "1 MiB of lists nested 62 deep (decode)": lambda: _nested_chains(62),
    "1 MiB of lists nested 65 deep (refused)": lambda: _nested_chains(65),
}


class Probe:
    """GET /health every 50 ms from another process (this one is busy sending the hostile
    requests: its own threads would delay the probe) until stopped; the slowest answer."""

    def __init__(self, url: str) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - this interpreter and this file
            [sys.executable, __file__, "--probe", url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.slowest = 0.0
        self.count = 0
        self.failures = 0
        assert self.process.stdout is not None  # noqa: S101 - stdout=PIPE above
        self.process.stdout.readline()  # the first probe was answered: measuring from now on

    def stop(self) -> None:
        output, _ = self.process.communicate(b"stop", timeout=120)
        self.slowest, self.count, self.failures = orjson.loads(output.splitlines()[-1])


def probe(url: str) -> None:
    """The probe process: until stdin has data, GET `url` every 50 ms; prints its figures."""
    slowest, count, failures = 0.0, 0, 0
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(1), stop.set()), daemon=True).start()
    with httpx.Client(timeout=30) as client:
        client.get(url)
        print("ready", flush=True)
        while not stop.is_set():
            started = time.perf_counter()
            try:
                ok = client.get(url).status_code == 200
            except httpx.HTTPError:
                ok = False
            slowest = max(slowest, time.perf_counter() - started)
            count += 1
            failures += not ok
            stop.wait(0.05)
    print(orjson.dumps([slowest, count, failures]).decode())


def _post(url: str, body: bytes) -> tuple[float, str]:
    started = time.perf_counter()
    response = httpx.post(
        url, content=body, headers={"content-type": "application/json"}, timeout=120
    )
    elapsed = time.perf_counter() - started
    answer = str(response.status_code)
    if response.status_code != 200:
        answer += " " + str(response.json().get("type", "")).rsplit("/", 1)[-1]
    return elapsed, answer


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(port: int, command: list[str]) -> subprocess.Popen[bytes]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("APP_")}
    environment.update(PORT=str(port), HOST="127.0.0.1")
    process = subprocess.Popen(  # noqa: S603 - our own console script
        command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.05)
    process.kill()
    msg = "app-serve did not answer /health within 20 s"
    raise SystemExit(msg)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    parser.add_argument("--copies", type=int, default=4, help="copies of each case in the storm")
    parser.add_argument(
        "--only", default="", help="run only the cases whose name contains this text"
    )
    parser.add_argument(
        "--command",
        nargs="+",
        default=[str(Path(sys.executable).parent / "app-serve")],
        help="the server command (default: app-serve from this environment)",
    )
    args = parser.parse_args()
    if args.probe:
        probe(args.probe)
        return
    port = _free_port()
    process = _start(port, args.command)
    base = f"http://127.0.0.1:{port}"
    bodies = {name: build() for name, build in CASES.items() if args.only in name}
    print(f"load average at start: {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs\n")
    print("| request | body | alone: time | answer | slowest /health meanwhile |")
    print("|---|---:|---:|---|---:|")
    try:
        for name, body in bodies.items():
            health = Probe(base + "/health")
            elapsed, answer = _post(base + "/process", body)
            health.stop()
            size = f"{len(body) / 1024:,.0f} KiB"
            print(
                f"| {name} | {size} | {elapsed:.2f} s | {answer} | "
                f"{health.slowest * 1000:.0f} ms ({health.count} probes, {health.failures} "
                "failed) |"
            )
        storm = [body for body in bodies.values() for _ in range(args.copies)]
        health = Probe(base + "/health")
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=len(storm)) as pool:
            answers = list(pool.map(lambda b: _post(base + "/process", b), storm))
        took = time.perf_counter() - started
        health.stop()
        slowest_request = max(elapsed for elapsed, _ in answers)
        statuses = sorted({answer for _, answer in answers})
        print(
            f"\nStorm: {len(storm)} requests at once ({args.copies} of each) done in {took:.1f} s "
            f"(slowest {slowest_request:.1f} s; answers: {', '.join(statuses)}); /health "
            f"answered {health.count} probes, slowest {health.slowest * 1000:.0f} ms, "
            f"{health.failures} failed."
        )
        print(f"load average at end: {os.getloadavg()[0]:.2f}")
    finally:
        process.terminate()
        process.wait(timeout=30)


if __name__ == "__main__":
    main()
