"""One emulator and one simulator per test process, shared by every test suite that needs them.

moto's state is global to the process and only one simulator may be active, so the test suites
(localcloud's and opsctl's) share this harness instead of starting their own; :meth:`Harness.reset`
empties AWS and the scripted behaviours between tests.
"""

from __future__ import annotations

import atexit
import logging
import threading
from dataclasses import dataclass

from localcloud.emulator import Emulator, Endpoint
from localcloud.sim.engine import SimConfig, Simulator
from localcloud.sim.scripted import ScriptedRuntime

TEST_TIME_SCALE = 0.005
"""Tests run AWS's clock 200 times faster: a 30 s health-check interval lasts 0.15 s."""


@dataclass
class Harness:
    emulator: Emulator
    endpoint: Endpoint
    simulator: Simulator
    runtime: ScriptedRuntime

    def reset(self) -> None:
        self.simulator.forget_all()
        self.runtime.reset()
        self.endpoint.reset()

    def close(self) -> None:
        self.simulator.stop()
        self.emulator.stop()


_lock = threading.Lock()
_shared: Harness | None = None


def shared_harness() -> Harness:
    """The process's harness, started on first use and stopped at exit."""
    global _shared
    with _lock:
        if _shared is None:
            # Werkzeug logs every request; tests read AWS through boto3, not through that log.
            logging.getLogger("werkzeug").setLevel(logging.ERROR)
            emulator = Emulator()
            endpoint = emulator.start()
            runtime = ScriptedRuntime()
            simulator = Simulator(runtime, SimConfig(time_scale=TEST_TIME_SCALE, tick=0.02)).start()
            _shared = Harness(emulator, endpoint, simulator, runtime)
            atexit.register(_shared.close)
        return _shared
