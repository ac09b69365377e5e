"""The local cloud's daemon: the emulated AWS, the ECS simulator with real task processes, and
the listeners that play the load balancers, in one long-running process.

``localcloud up`` starts it in the background (``python -m localcloud.cloud.daemon``); it runs
until SIGTERM or SIGINT, then stops every task process (SIGTERM, SIGKILL after the scaled
``stopTimeout``), the listeners and the emulator, and removes its state files. What it offers
is written to ``daemon.json`` (:mod:`localcloud.cloud.state`): the emulator's endpoint and, for
each load balancer that exists in the emulator, the URL of the local listener that plays it. The
first load balancer gets the stable ``--alb-port``; others get free ports. A listener follows its
load balancer: created when Terraform creates it, closed when it is deleted.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType

from localcloud.cloud.state import Paths, write_atomic, write_json
from localcloud.ecs import SimConfig, Simulator
from localcloud.emulator import Emulator
from localcloud.runtime.processes import ProcessRuntime
from localcloud.runtime.procs import ProcessRef

log = logging.getLogger("localcloud.daemon")

DEFAULT_TIME_SCALE = 0.1
"""Real seconds per simulated second: AWS's 30 s health-check interval lasts 3 s."""


class Daemon:
    """Emulator + simulator + ALB listeners; :meth:`serve` blocks until :meth:`shutdown`."""

    def __init__(
        self,
        paths: Paths,
        *,
        port: int,
        alb_port: int,
        time_scale: float,
        bin_dir: Path,
    ) -> None:
        self.paths = paths
        self.port = port
        self.alb_port = alb_port
        self.time_scale = time_scale
        self.bin_dir = bin_dir
        self._stop = threading.Event()
        self._albs: dict[str, str] = {}
        self._emulator: Emulator | None = None
        self._simulator: Simulator | None = None
        self._endpoint = ""

    def serve(self) -> None:
        # Werkzeug logs every request; the daemon's log is for what the local cloud does.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._emulator = Emulator(port=self.port)
        self._endpoint = self._emulator.start().url
        runtime = ProcessRuntime(
            bin_dir=self.bin_dir, work_dir=self.paths.tasks, pid_dir=self.paths.pids
        )
        self._simulator = Simulator(runtime, SimConfig(time_scale=self.time_scale)).start()
        ref = ProcessRef.of(os.getpid())
        if ref is not None:
            write_atomic(self.paths.daemon_pid, ref.encode())
        self._publish()
        log.info("serving: emulator %s, time scale %s", self._endpoint, self.time_scale)
        try:
            while not self._stop.wait(0.2):
                self._follow_load_balancers()
        finally:
            self._close()

    def shutdown(self) -> None:
        self._stop.set()

    def _follow_load_balancers(self) -> None:
        simulator = self._simulator
        if simulator is None:
            return
        front = simulator.alb_front()
        changed = bool(front.close_missing())
        served = front.served()
        for _, _, arn in front.load_balancers():
            if arn in served:
                continue
            stable = self.alb_port if self.alb_port and not served else 0
            try:
                served[arn] = front.url(arn, stable)
            except OSError as error:
                log.error("cannot listen for %s on port %s: %s", arn, stable, error)
                served[arn] = front.url(arn, 0)
            log.info("load balancer %s answers on %s", arn, served[arn])
            changed = True
        if changed or served != self._albs:
            self._albs = served
            self._publish()

    def _publish(self) -> None:
        write_json(
            self.paths.daemon_state,
            {
                "status": "serving",
                "endpoint": self._endpoint,
                "time_scale": self.time_scale,
                # name -> URL (an ALB's ARN ends in app/<name>/<id>)
                "load_balancers": {arn.split("/")[-2]: url for arn, url in self._albs.items()},
                "load_balancer_urls": dict(self._albs),
                "updated": time.time(),
            },
        )

    def _close(self) -> None:
        log.info("stopping: task processes, listeners, emulator")
        if self._simulator is not None:
            self._simulator.stop()
        if self._emulator is not None:
            self._emulator.stop()
        for path in (self.paths.daemon_state, self.paths.daemon_pid):
            path.unlink(missing_ok=True)
        log.info("stopped")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localcloud.cloud.daemon", description=__doc__)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, default=0, help="emulator port (0: any free)")
    parser.add_argument("--alb-port", type=int, default=0, help="first ALB's port (0: any free)")
    parser.add_argument("--time-scale", type=float, default=DEFAULT_TIME_SCALE)
    parser.add_argument("--bin-dir", type=Path, default=Path(sys.executable).parent)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    daemon = Daemon(
        Paths(args.state_dir.resolve()),
        port=args.port,
        alb_port=args.alb_port,
        time_scale=args.time_scale,
        bin_dir=args.bin_dir,
    )

    def stop(signum: int, frame: FrameType | None) -> None:
        del frame
        log.info("signal %s: shutting down", signal.Signals(signum).name)
        daemon.shutdown()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        daemon.serve()
    except OSError as error:
        log.error("cannot start: %s", error)
        return 4
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
