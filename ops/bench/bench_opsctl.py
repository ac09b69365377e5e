"""Benchmark of opsctl against the emulator (not a test): `make bench-ops`.

1. Wall time of `opsctl status` and `opsctl revisions` as a user runs them (a new process each
   time, Python start-up and imports included) against the emulator with the ECS simulator.
2. How long after ECS reached a terminal rollout state the wait loop reported it (the progress
   line on stderr) and opsctl exited, for several --poll-interval values: a successful deploy
   (COMPLETED, then verification) and a deploy the circuit breaker FAILED (rollback off).

Prints Markdown tables; docs/performance.md (section opsctl) quotes them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from localcloud.runtime import scripted
from localcloud.testing.harness import Harness, shared_harness
from localcloud.testing.stacks import StackOptions, build_stack, push_image

OPSCTL = str(Path(sys.executable).with_name("opsctl"))


def check(condition: bool, message: object) -> None:
    if not condition:
        raise SystemExit(f"benchmark run failed: {message}")


def run(
    env: dict[str, str], target: Path, *args: str
) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own console script
        [OPSCTL, "--target-file", str(target), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return time.perf_counter() - started, done


def read_commands(harness: Harness, work: Path, env: dict[str, str], repeat: int) -> None:
    harness.reset()
    stack = build_stack(harness.endpoint, StackOptions())
    harness.simulator.settle(stack.cluster, stack.service)
    target = work / "target.json"
    target.write_text(
        json.dumps(stack.opsctl_target(harness.simulator.alb_url(stack.load_balancer_arn)))
    )
    for tag in ("v2", "v3"):  # a few revisions for `revisions` to read
        push_image(harness.endpoint, stack.repository_name, tag)
        _, done = run(
            env, target, "--quiet", "deploy", "--image-tag", tag, "--poll-interval", "0.5"
        )
        check(done.returncode == 0, done.stderr)
    print("| command | runs | median (s) | p90 (s) | max (s) |\n|---|---|---|---|---|")
    for command in (("status",), ("revisions",), ("--help",)):
        run(env, target, *command)  # warm the file cache once
        times = sorted(run(env, target, *command)[0] for _ in range(repeat))
        p90 = times[int(0.9 * (len(times) - 1))]
        median, name = statistics.median(times), " ".join(command)
        print(f"| `opsctl {name}` | {len(times)} | {median:.2f} | {p90:.2f} | {times[-1]:.2f} |")


def _collect(process: subprocess.Popen[str], lines: list[tuple[float, str]]) -> None:
    """Timestamp each progress line as it arrives."""
    for line in process.stderr or ():
        lines.append((time.time(), line))


def wait_loop(harness: Harness, work: Path, env: dict[str, str], polls: list[float]) -> None:
    print(
        "\n| outcome | --poll-interval (s) | reported on stderr after the terminal state (s) "
        "| opsctl exited after it (s) |\n|---|---|---|---|"
    )
    target = work / "target.json"
    cases = (
        ("succeeded (COMPLETED, then verification)", StackOptions(), scripted.HEALTHY, 0),
        (
            "failed (circuit breaker, rollback off)",
            StackOptions(rollback=False),
            scripted.CRASHES_AT_START,
            11,
        ),
    )
    for poll in polls:
        for outcome, options, behaviour, code in cases:
            harness.reset()
            stack = build_stack(harness.endpoint, options)
            harness.simulator.settle(stack.cluster, stack.service)
            harness.runtime.script("next", behaviour)
            push_image(harness.endpoint, stack.repository_name, "next")
            target.write_text(
                json.dumps(stack.opsctl_target(harness.simulator.alb_url(stack.load_balancer_arn)))
            )
            argv = [OPSCTL, "--target-file", str(target), "--output", "json"]
            argv += ["deploy", "--image-tag", "next", "--poll-interval", str(poll)]
            process = subprocess.Popen(  # noqa: S603 - our own console script
                argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            lines: list[tuple[float, str]] = []
            reader = threading.Thread(target=_collect, args=(process, lines))
            reader.start()
            stdout = process.stdout.read() if process.stdout else ""
            process.wait(timeout=300)
            exited = time.time()
            reader.join()
            document = json.loads(stdout)
            check(process.returncode == code, (process.returncode, document.get("explanation")))
            deployment = document["deployment_id"]
            terminal, state = harness.simulator.rollout_transitions(deployment)[-1]
            seen = next(t for t, line in lines if deployment in line and f"): {state}," in line)
            print(f"| {outcome} | {poll:g} | {seen - terminal:.2f} | {exited - terminal:.2f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=15, help="runs of each read command")
    parser.add_argument(
        "--polls", default="1,2,5", help="poll intervals (s) for the wait-loop runs"
    )
    args = parser.parse_args()
    harness = shared_harness()
    work = Path(tempfile.mkdtemp(prefix="bench-opsctl-"))
    env = harness.endpoint.subprocess_env(os.environ)
    load = os.getloadavg()[0]
    print(
        f"# opsctl benchmark ({time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, load "
        f"{load:.2f})\n"
    )
    read_commands(harness, work, env, args.repeat)
    wait_loop(harness, work, env, [float(p) for p in args.polls.split(",")])
    harness.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
