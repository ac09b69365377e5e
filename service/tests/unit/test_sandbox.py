"""The sandbox (app.processing.sandbox): costly requests in worker processes, under deadlines.

These tests start real worker processes (about 0.2 s each).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from app.processing import sandbox as sandbox_module
from app.processing.errors import (
    ExpressionSyntaxError,
    InvalidSchemaError,
    RequestTooComplexError,
    SchemaReferenceRefusedError,
    SchemaTooComplexError,
    SchemaValidationFailedError,
    ServiceBusyError,
)
from app.processing.limits import Limits
from app.processing.sandbox import Sandbox
from app.processing.sandbox_worker import out_of_memory

MIB = 1024 * 1024
LIMITS = Limits()


def fan_out(levels: int) -> dict[str, object]:
    """A schema whose definitions each $ref the next one twice: 2**levels paths to check, on
    valid data too (0.29 s at 24 levels here, doubling per level: hours at 40)."""
    defs: dict[str, object] = {
        f"d{i}": {"allOf": [{"$ref": f"#/$defs/d{i + 1}"}, {"$ref": f"#/$defs/d{i + 1}"}]}
        for i in range(levels)
    }
    defs[f"d{levels}"] = {"type": "integer"}
    return {"$ref": "#/$defs/d0", "$defs": defs}


#: Every item violates every branch: jsonschema-rs builds all 700,000 errors before yielding one
#: (11 s, and more than 256 MiB, measured), yet the first violation is found at once.
ANY_OF = {"items": {"anyOf": [{"type": t} for t in ("string", "object", "array", "null")]}}


def body(data: object, expression: str = "@", schema: object = None) -> bytes:
    document: dict[str, object] = {"data": data, "expression": expression}
    if schema is not None:
        document["schema"] = schema
    return orjson.dumps(document)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox(LIMITS, workers=1, schema_timeout=0.5, memory_bytes=256 * MIB)
    yield box
    box.close()


def run(box: Sandbox, request: bytes) -> bytes:
    return asyncio.run(box.run(request))


def test_answers_are_those_of_the_processing_steps(sandbox: Sandbox) -> None:
    assert run(sandbox, body({"a": [1, 2]}, "a[1]", {"type": "object"})) == b"2"
    with pytest.raises(SchemaValidationFailedError) as caught:
        run(sandbox, body({"a": "x"}, "a", {"properties": {"a": {"type": "integer"}}}))
    assert caught.value.extensions["errors"] == [
        {
            "pointer": "/data/a",
            "detail": '"x" is not of type "integer"',
            "schema_pointer": "/schema/properties/a/type",
        }
    ]
    with pytest.raises(ExpressionSyntaxError) as syntax:
        run(sandbox, body(1, "a[", {"type": "string"}))  # the expression first, as in process
    assert syntax.value.extensions["position"] == 2
    with pytest.raises(InvalidSchemaError):
        run(sandbox, body(1, "@", {"type": "nope"}))
    with pytest.raises(SchemaReferenceRefusedError):
        run(sandbox, body(1, "@", {"$ref": "https://example.com/s.json"}))
    assert len(sandbox.worker_pids()) == 1  # refusals do not cost a worker


def test_a_schema_that_never_finishes_is_stopped_at_its_deadline(sandbox: Sandbox) -> None:
    sandbox.start()
    (pid,) = sandbox.worker_pids()
    started = time.monotonic()
    with pytest.raises(SchemaTooComplexError, match=r"longer than 0\.5 s"):
        run(sandbox, body(0, "@", fan_out(40)))
    assert time.monotonic() - started < 10  # 0.5 s budget; the rest is a busy machine
    assert pid not in sandbox.worker_pids()  # killed, not left computing for hours
    assert not Path(f"/proc/{pid}").exists()
    # Its replacement started at once, before any request asked for it.
    (successor,) = sandbox.worker_pids()
    assert successor != pid
    assert run(sandbox, body(0, "@", {"type": "integer"})) == b"0"  # a new worker took over
    assert sandbox.worker_pids() == [successor]


def test_violations_too_costly_to_list_give_the_first_one(sandbox: Sandbox) -> None:
    with pytest.raises(SchemaValidationFailedError) as caught:
        run(sandbox, body([0] * 140_000, "length(@)", ANY_OF))
    error = caught.value
    assert "only the first is shown" in error.detail
    assert error.extensions["truncated"] is True
    (first,) = error.extensions["errors"]
    assert first["pointer"] == "/data/0"
    assert first["schema_pointer"] == "/schema/items/anyOf"


def test_a_worker_over_its_memory_limit_ends_and_the_request_is_refused() -> None:
    box = Sandbox(LIMITS, workers=1, schema_timeout=30, memory_bytes=128 * MIB)
    try:
        box.start()
        (pid,) = box.worker_pids()
        with pytest.raises(SchemaValidationFailedError, match="needed more than the 128 MiB"):
            run(box, body([0] * 140_000, "length(@)", ANY_OF))
        limits = Path(f"/proc/{pid}/limits")
        assert not limits.exists()  # that worker is gone...
        assert run(box, body(1)) == b"1"  # ...and its successor works
        (successor,) = box.worker_pids()
        line = next(
            x for x in Path(f"/proc/{successor}/limits").read_text().splitlines() if "address" in x
        )
        assert str(128 * MIB) in line
    finally:
        box.close()


def test_a_body_too_costly_to_parse_in_the_memory_limit_is_refused_not_a_500() -> None:
    # 2.8 million empty lists: 8 MB of text, about 180 MB as Python objects.
    box = Sandbox(LIMITS, workers=1, schema_timeout=30, memory_bytes=128 * MIB)
    try:
        with pytest.raises(RequestTooComplexError, match="needed more than the 128 MiB") as caught:
            run(box, b'{"expression": "@", "data": [' + b",".join([b"[]"] * 2_800_000) + b"]}")
        assert caught.value.extensions["max_memory_mib"] == 128
        assert run(box, body(1)) == b"1"
    finally:
        box.close()


def test_a_worker_killed_by_a_signal_is_busy_not_a_500(sandbox: Sandbox) -> None:
    """The kernel's OOM killer (the task's memory ran out) or an operator: 503 with Retry-After,
    and the next request gets a new worker."""
    sandbox.start()
    (pid,) = sandbox.worker_pids()

    async def killed_mid_job() -> object:
        job = asyncio.ensure_future(sandbox.run(body(0, "@", fan_out(40))))  # 0.5 s budget
        await asyncio.sleep(0.2)
        os.kill(pid, signal.SIGKILL)
        return await asyncio.gather(job, return_exceptions=True)

    (outcome,) = asyncio.run(killed_mid_job())  # type: ignore[misc]
    assert isinstance(outcome, ServiceBusyError), outcome
    assert outcome.extensions["retry_after_seconds"] == 1
    assert run(sandbox, body(2)) == b"2"


def test_allocation_failures_in_disguise_count_as_out_of_memory() -> None:
    assert out_of_memory(MemoryError())
    assert out_of_memory(ValueError("Not enough memory to allocate buffer for parsing"))
    outer = RuntimeError("wrapped")
    outer.__cause__ = MemoryError()
    assert out_of_memory(outer)
    assert not out_of_memory(KeyError("data"))


def test_a_request_that_cannot_get_a_worker_in_time_is_busy(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox_module, "QUEUE_SECONDS", 0.2)

    async def both() -> list[object]:
        slow = sandbox.run(body(0, "@", fan_out(40)))  # holds the only worker for 0.5 s
        waiting = sandbox.run(body(1))
        return await asyncio.gather(slow, waiting, return_exceptions=True)

    slow, waiting = asyncio.run(both())
    assert isinstance(slow, SchemaTooComplexError)
    assert isinstance(waiting, ServiceBusyError)
    assert waiting.extensions["retry_after_seconds"] == 1


def test_the_wait_for_a_worker_is_bounded_while_the_running_job_is_not_yet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A request queued behind a long job gets busy after QUEUE_SECONDS, not after the job."""
    monkeypatch.setattr(sandbox_module, "QUEUE_SECONDS", 0.3)
    box = Sandbox(LIMITS, workers=1, schema_timeout=5, memory_bytes=256 * MIB)

    async def both() -> tuple[object, float]:
        slow = asyncio.ensure_future(box.run(body(0, "@", fan_out(40))))  # 5 s budget
        await asyncio.sleep(0.1)
        started = time.monotonic()
        try:
            await box.run(body(1))
        except ServiceBusyError as error:
            waited = time.monotonic() - started
            slow.cancel()
            return error, waited
        raise AssertionError("the queued request ran")

    try:
        box.start()
        error, waited = asyncio.run(both())
        assert isinstance(error, ServiceBusyError)
        assert waited < 3  # 0.3 s budget; before the fix it waited for the 5 s job
    finally:
        box.close()


def test_workers_run_below_the_server_and_stop_on_close() -> None:
    box = Sandbox(LIMITS, workers=2, schema_timeout=1, memory_bytes=256 * MIB)
    box.start()
    pids = box.worker_pids()
    assert len(pids) == 2
    assert run(box, body(1, "@", {"type": "integer"})) == b"1"
    deadline = time.monotonic() + 20
    while sorted(_nice(pid) for pid in pids) != [os.nice(0) + 10] * 2:  # set once started
        assert time.monotonic() < deadline, [_nice(pid) for pid in pids]
        time.sleep(0.05)
    box.close()
    assert box.worker_pids() == []
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or _zombie(pid)


def _nice(pid: int) -> int:
    # Field 19 of /proc/<pid>/stat, the 17th after the parenthesised command (proc(5)).
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def _zombie(pid: int) -> bool:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"


_ORPHAN_SCRIPT = """
import asyncio, sys, orjson
from app.processing.limits import Limits
from app.processing.sandbox import Sandbox
from app.processing.sandbox_worker import out_of_memory
box = Sandbox(Limits(), workers=1, schema_timeout=3600, memory_bytes=256 * 1024 * 1024)
box.start()
print(box.worker_pids()[0], flush=True)
defs = {f"d{i}": {"allOf": [{"$ref": f"#/$defs/d{i+1}"}] * 2} for i in range(60)}
defs["d60"] = {"type": "integer"}
schema = {"$ref": "#/$defs/d0", "$defs": defs}
asyncio.run(box.run(orjson.dumps({"data": 0, "expression": "@", "schema": schema})))
"""


def test_a_worker_in_the_middle_of_a_job_dies_with_its_parent() -> None:
    # A server killed with SIGKILL cannot stop its workers; the kernel does (PR_SET_PDEATHSIG).
    parent = subprocess.Popen([sys.executable, "-c", _ORPHAN_SCRIPT], stdout=subprocess.PIPE)
    assert parent.stdout is not None
    worker = int(parent.stdout.readline())
    time.sleep(0.5)  # the worker is computing 2**60 paths by now
    assert Path(f"/proc/{worker}").exists()
    parent.send_signal(signal.SIGKILL)
    parent.wait(timeout=10)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{worker}").exists() and not _zombie(worker):
        assert time.monotonic() < deadline, "the worker outlived its parent"
        time.sleep(0.05)
