"""The sandbox: costly /process requests run in worker processes, each step under a deadline.

The event loop also answers `/health`; an ALB that waits more than 5 s twice in a row takes the
task out of service (runbook 8.2). So no request may hold the loop for long, and some cannot be
bounded in advance. Measured on this project's 2-core machine:

* client schemas run in jsonschema-rs (Rust), which cannot be interrupted and has no cost bound
  that can be checked up front: a 2 KB schema whose definitions each `$ref` the next one twice
  makes `is_valid(0)` walk 2**k paths (0.29 s at k = 24, doubling with each k: hours at 40),
  and listing violations is eager (`iter_errors` builds every error before yielding one: a
  280 KB body, `[0] * 140000` against `{"items": {"anyOf": [5 types]}}`, took 11 s);
* threads do not help enough: jsonschema-rs cannot be stopped in one (it would burn a CPU for
  hours), and Python work in a thread shares the GIL with the loop. With two busy threads the
  loop waited up to 143 ms per wake-up, and when the machine is loaded a thread holding the GIL
  can be descheduled, stalling the loop for seconds (/health took 2.9 s in a storm of 36
  hostile requests at load average 7; 0.8 s with the work in processes).

So `Sandbox.run` hands the request body to an idle worker (`sandbox_worker`, nice 10) and waits
for its answer from a small thread pool (one thread per worker; they only wait on pipes, without
the GIL). The worker reports each step; the parent enforces:

* schema step (compiling the schema, validating, listing violations): `schema_timeout` seconds.
  Over it, the worker is killed (a new one starts on the next job) and the request gets
  `schema-validation` with the first violation when one was already known (`truncated`: listing
  the rest ran out of budget), else `schema-too-complex`. The same when the worker dies: its
  address space is limited, so a memory bomb ends it rather than the task;
* other steps (decoding, evaluating: bounded by sizes and the evaluation-step budget):
  `STEP_SECONDS`, a safety net for a machine so overloaded that bounded work cannot finish
  (503 `busy`);
* waiting for a free worker: at most `QUEUE_SECONDS`, then 503 `busy` with `Retry-After`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import functools
import logging
import os
import queue
import select
import signal

# Starts this package's own worker: a fixed argument list, never a shell.
import subprocess  # nosec B404
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson

from app.processing import errors as perr
from app.processing.limits import Limits
from app.processing.sandbox_worker import (
    EXIT_OUT_OF_MEMORY,
    MESSAGE,
    REPLY_HEADER,
    REQUEST_HEADER,
    RESULT,
)
from app.processing.schemas import validation_failed

log = logging.getLogger("app.sandbox")

#: How long a new worker may take to import its modules (0.2 s when the machine is idle).
STARTUP_SECONDS = 20.0
#: Deadline of the steps bounded by the limits (decoding, evaluating): a safety net only; the
#: costliest measured take well under 1 s.
STEP_SECONDS = 30.0
#: How long a request may wait for a free worker.
QUEUE_SECONDS = 5.0

#: How a worker that ran out of memory ends (see `_Worker._exit_reason`).
_OUT_OF_MEMORY = frozenset(
    {f"exited with code {EXIT_OUT_OF_MEMORY}", f"exited with signal {int(signal.SIGABRT)}"}
)


def _all_subclasses(cls: type[perr.ProcessingError]) -> list[type[perr.ProcessingError]]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_all_subclasses(sub)]
    return found


#: Every refusal a worker can report, by slug.
_REFUSALS = {cls.slug: cls for cls in _all_subclasses(perr.ProcessingError)}


def refusal(slug: str, detail: str, extensions: dict[str, Any]) -> perr.ProcessingError:
    """The `ProcessingError` a worker reported as (slug, detail, extensions).

    Built without the subclass's own constructor: the members are already in wire form, which
    is all the problem handler reads (`slug`, `title`, `detail`, `extensions`).
    """
    cls = _REFUSALS.get(slug)
    if cls is None:
        msg = f"the sandbox worker reported an unknown refusal {slug!r}"
        raise RuntimeError(msg)
    error = cls.__new__(cls)
    perr.ProcessingError.__init__(error, detail, **extensions)
    return error


class _WorkerLostError(Exception):
    """The worker overran a deadline or ended during a job; it must not be reused."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Job:
    """What the parent knows about the job in progress."""

    def __init__(self) -> None:
        self.phase = "decoding"
        self.first: dict[str, Any] | None = None


class _Worker:
    """One worker process and the pipes to it; used by one thread at a time."""

    def __init__(self, command: list[str]) -> None:
        # The command is this interpreter running this package's worker module: no shell, no
        # input from a caller in it.
        self.process = subprocess.Popen(  # noqa: S603 (fixed argument list, see above)  # nosec B603
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            close_fds=True,
        )
        if self.process.stdin is None or self.process.stdout is None:  # pragma: no cover
            msg = "stdin and stdout are pipes (PIPE above)"
            raise RuntimeError(msg)
        self._in = self.process.stdin.fileno()
        self._out = self.process.stdout.fileno()
        os.set_blocking(self._in, False)
        self._buffer = bytearray()
        self.ready = False

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self) -> None:
        """Wait for the worker's first reply. Raises _WorkerLostError."""
        if self.ready:
            return
        kind, payload = self._receive(time.monotonic() + STARTUP_SECONDS)
        if kind != MESSAGE or orjson.loads(payload) != {"ready": True}:
            msg = f"unexpected first reply {payload[:100]!r}"
            raise _WorkerLostError(msg)
        self.ready = True

    def call(self, body: bytes, job: _Job, schema_timeout: float) -> bytes:
        """Run one request: the encoded result. Raises the request's ProcessingError, or
        _WorkerLostError (with `job` telling how far it got)."""
        deadline = time.monotonic() + STEP_SECONDS
        self._send(REQUEST_HEADER.pack(len(body)) + body, deadline)
        while True:
            kind, payload = self._receive(deadline)
            if kind == RESULT:
                return payload
            message: dict[str, Any] = orjson.loads(payload)
            if "phase" in message:
                job.phase = str(message["phase"])
                budget = schema_timeout if job.phase == "validating" else STEP_SECONDS
                deadline = time.monotonic() + budget
            elif "first" in message:
                job.first = message["first"]
            elif "error" in message:
                error = message["error"]
                raise refusal(str(error["slug"]), str(error["detail"]), error["extensions"])
            elif "crash" in message:
                msg = f"crashed: {str(message['crash'])[:300]}"
                raise _WorkerLostError(msg)
            else:
                msg = f"unexpected reply {payload[:100]!r}"
                raise _WorkerLostError(msg)

    def _send(self, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        poller = select.poll()
        poller.register(self._in, select.POLLOUT)
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _WorkerLostError("timeout")
            if not poller.poll(remaining * 1000):
                continue
            try:
                written = os.write(self._in, view)
            except BlockingIOError:
                continue
            except OSError:  # BrokenPipeError: the worker is gone
                raise _WorkerLostError(self._exit_reason()) from None
            view = view[written:]

    def _receive(self, deadline: float) -> tuple[int, bytes]:
        poller = select.poll()
        poller.register(self._out, select.POLLIN)
        while True:
            if len(self._buffer) >= REPLY_HEADER.size:
                length, kind = REPLY_HEADER.unpack_from(self._buffer)
                end = REPLY_HEADER.size + length
                if len(self._buffer) >= end:
                    payload = bytes(self._buffer[REPLY_HEADER.size : end])
                    del self._buffer[:end]
                    return kind, payload
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _WorkerLostError("timeout")
            if not poller.poll(remaining * 1000):
                continue
            chunk = os.read(self._out, 1 << 20)
            if not chunk:
                raise _WorkerLostError(self._exit_reason())
            self._buffer += chunk

    def _exit_reason(self) -> str:
        try:
            code = self.process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            return "closed its pipe"
        return f"exited with signal {-code}" if code < 0 else f"exited with code {code}"

    def kill(self) -> None:
        """Stop it now: SIGKILL (a job may be running; an idle worker holds nothing to save)."""
        self.process.kill()
        self._reap()

    def _reap(self) -> None:
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL does not take 5 s
            log.error("sandbox worker did not stop", extra={"fields": {"pid": self.pid}})
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


class Sandbox:
    """Runs /process requests in `workers` worker processes (see the module docstring).

    Thread-safe and not tied to an event loop. `start` is optional (workers otherwise start on
    first use); call `close` when done.
    """

    def __init__(
        self, limits: Limits, *, workers: int, schema_timeout: float, memory_bytes: int
    ) -> None:
        self.limits = limits
        self.schema_timeout = schema_timeout
        self._memory_bytes = memory_bytes
        self._command = [
            sys.executable,
            "-m",
            "app.processing.sandbox_worker",
            orjson.dumps(dataclasses.asdict(limits)).decode(),
            str(memory_bytes),
        ]
        self._capacity = workers
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._workers: set[_Worker] = set()
        self._closed = False
        self._threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sandbox")

    def start(self) -> None:
        """Start every worker now (they import in the background) so that the first requests
        do not wait for them."""
        with self._lock:
            missing = self._capacity - len(self._workers)
        for _ in range(missing):
            self._idle.put(self._spawn())

    def worker_pids(self) -> list[int]:
        """The process ids of the live workers (for tests and diagnostics)."""
        with self._lock:
            return sorted(w.pid for w in self._workers if w.alive())

    async def run(self, body: bytes) -> bytes:
        """Process a /process request body in a worker: the compact JSON of the result.

        Raises what the steps raise (see `app.processing.core`), SchemaTooComplexError (the
        schema step over its time or memory budget), ExpressionTooComplexError (evaluation over
        the memory budget) or ServiceBusyError (no worker free in time, or none could start).
        """
        if self._closed:
            raise perr.ServiceBusyError(
                "The service is shutting down.",
            )
        # An executor does not carry context variables: copy them so that log lines written in
        # the thread keep the request id.
        job = functools.partial(contextvars.copy_context().run, self._run, body, time.monotonic())
        submitted = self._threads.submit(job)
        answer = asyncio.wrap_future(submitted)
        try:
            # A job queued behind running ones would otherwise wait for them to finish (up to
            # STEP_SECONDS each) before _run could see that it waited too long.
            await asyncio.wait({answer}, timeout=QUEUE_SECONDS)
        except asyncio.CancelledError:
            answer.cancel()  # the client left: drop the job unless a thread already runs it
            raise
        if not answer.done() and submitted.cancel():  # still queued: no thread took it
            raise perr.ServiceBusyError(
                f"Every sandbox worker stayed busy for {QUEUE_SECONDS:g} s; retry shortly."
            )
        return await answer

    def _run(self, body: bytes, queued_at: float) -> bytes:
        waited = time.monotonic() - queued_at
        if waited > QUEUE_SECONDS:
            raise perr.ServiceBusyError(
                f"Every sandbox worker stayed busy for {waited:.1f} s; retry shortly.",
            )
        worker = self._checkout()
        job = _Job()
        try:
            worker.wait_ready()
        except _WorkerLostError as lost:
            self._discard(worker)
            log.error("sandbox worker failed to start", extra={"fields": {"reason": lost.reason}})
            raise perr.ServiceBusyError(
                "Processing is unavailable: its worker process could not start.",
            ) from None
        except BaseException:
            self._discard(worker)  # in an unknown state: never reuse it, never leave it running
            raise
        try:
            result = worker.call(body, job, self.schema_timeout)
        except _WorkerLostError as lost:
            self._discard(worker)
            raise self._lost(lost, job) from None
        except perr.ProcessingError:
            self._idle.put(worker)
            raise
        except BaseException:
            self._discard(worker)  # in an unknown state: never reuse it, never leave it running
            raise
        self._idle.put(worker)
        return result

    def _lost(self, lost: _WorkerLostError, job: _Job) -> Exception:
        """The answer to a request whose worker had to be stopped or ended: never a 500 for a
        worker stopped on a budget or by a signal (only a Python exception the worker reported,
        a bug of ours, stays one)."""
        mib = self._memory_bytes // (1024 * 1024)
        if lost.reason == "timeout" and job.phase == "validating":
            cost = f"took longer than {self.schema_timeout:g} s"
        elif lost.reason in _OUT_OF_MEMORY:
            cost = f"needed more than the {mib} MiB of memory one request may use"
        elif lost.reason == "timeout":
            log.warning("sandbox worker stopped", extra={"fields": {"reason": lost.reason}})
            return perr.ServiceBusyError(
                f"The service is overloaded: a step bounded by the request limits took over "
                f"{STEP_SECONDS:g} s.",
            )
        elif lost.reason.startswith("crashed:"):  # an exception in our code: a bug, logged
            log.error(
                "sandbox worker crashed",
                extra={"fields": {"reason": lost.reason, "phase": job.phase}},
            )
            return RuntimeError(f"sandbox worker {lost.reason}")
        else:
            # Ended by a signal we did not send (the kernel's OOM killer when the task's memory
            # runs out, an operator), or it closed its pipe: nothing says the request caused it.
            log.error(
                "sandbox worker ended",
                extra={"fields": {"reason": lost.reason, "phase": job.phase}},
            )
            return perr.ServiceBusyError(
                "The worker processing this request ended unexpectedly; retry shortly."
            )
        log.warning(
            "sandbox worker stopped",
            extra={"fields": {"reason": lost.reason, "phase": job.phase}},
        )
        if job.phase == "decoding":
            return perr.RequestTooComplexError(
                f"Reading this body {cost}: its values take far more room parsed than as text. "
                "Send less data.",
                max_memory_mib=mib,
            )
        if job.phase != "validating":
            return perr.ExpressionTooComplexError(f"Evaluating the expression on this data {cost}.")
        if job.first is not None:
            return validation_failed([perr.Violation(**job.first)], None, cut_short=cost)
        return perr.SchemaTooComplexError(
            f"The schema is too costly for this data: checking the data against it {cost}. "
            "Simplify the schema (for example $refs that branch into other $refs) or send "
            "less data.",
            timeout_seconds=self.schema_timeout,
        )

    def _spawn(self) -> _Worker:
        with self._lock:  # against close(): a worker started after it would never be killed
            if self._closed:
                raise perr.ServiceBusyError("The service is shutting down.")
            worker = _Worker(self._command)
            self._workers.add(worker)
        return worker

    def _checkout(self) -> _Worker:
        while True:
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                # One thread per worker: a thread finding no idle worker is one short.
                return self._spawn()
            if worker.alive():
                return worker
            self._discard(worker)

    def _discard(self, worker: _Worker) -> None:
        """Kill `worker` and start its replacement now, in the background, so that the next
        request finds a warm worker (the calling thread held this one: the count stays within
        the capacity)."""
        worker.kill()
        with self._lock:
            self._workers.discard(worker)
        with contextlib.suppress(perr.ServiceBusyError):  # closed meanwhile: no replacement
            self._idle.put(self._spawn())

    def close(self) -> None:
        """Stop every worker now. Called after the server has drained its requests (lifespan
        shutdown), so a job still running has nobody left to answer."""
        self._threads.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            self._closed = True
            workers = list(self._workers)
            self._workers.clear()
        for worker in workers:
            worker.kill()
