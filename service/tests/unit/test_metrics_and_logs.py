"""EMF records (app.metrics) and the JSON log formatter (app.logs)."""

from __future__ import annotations

import logging
import sys

import orjson
from app.logs import JSONFormatter, request_id_var, trace_id_var
from app.metrics import ProcessMetrics


def test_emf_members_follow_the_specification() -> None:
    fields = ProcessMetrics(namespace="Ns", service="svc").fields("/process", 422, 1.5)
    assert fields is not None
    directive = fields["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "Ns"
    assert directive["Dimensions"] == [["Service"]]
    # Every dimension and metric named in the directive is a top-level member.
    for dimension in directive["Dimensions"][0]:
        assert isinstance(fields[dimension], str)
    for metric in directive["Metrics"]:
        assert isinstance(fields[metric["Name"]], int | float)
    assert isinstance(fields["_aws"]["Timestamp"], int)
    assert (fields["ProcessClientErrors"], fields["ProcessServerErrors"]) == (1, 0)
    assert fields["ProcessLatency"] == 1.5


def test_server_errors_are_counted() -> None:
    fields = ProcessMetrics(namespace="Ns", service="svc").fields("/process", 503, 1.0)
    assert fields is not None
    assert (fields["ProcessClientErrors"], fields["ProcessServerErrors"]) == (0, 1)


def test_only_process_is_measured() -> None:
    assert ProcessMetrics(namespace="Ns", service="svc").fields("/health", 200, 1.0) is None


def _record(message: str, exc_info: object = None) -> logging.LogRecord:
    logger = logging.getLogger("test")
    return logger.makeRecord("test", logging.INFO, __file__, 1, message, (), exc_info)  # type: ignore[arg-type]


def test_a_line_is_one_json_object_with_the_standard_fields() -> None:
    line = JSONFormatter().format(_record("hello\nworld"))
    assert "\n" not in line
    parsed = orjson.loads(line)
    assert parsed["message"] == "hello\nworld"
    assert parsed["level"] == "INFO"
    assert parsed["logger"] == "test"
    assert parsed["time"].endswith("+00:00")
    assert "request_id" not in parsed


def test_lines_written_during_a_request_carry_its_ids() -> None:
    tokens = request_id_var.set("rid-1"), trace_id_var.set("Root=1-a-b")
    try:
        parsed = orjson.loads(JSONFormatter().format(_record("x")))
    finally:
        request_id_var.reset(tokens[0])
        trace_id_var.reset(tokens[1])
    assert (parsed["request_id"], parsed["trace_id"]) == ("rid-1", "Root=1-a-b")


def test_exceptions_are_kept_in_the_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = _record("failed", exc_info=sys.exc_info())
    parsed = orjson.loads(JSONFormatter().format(record))
    assert parsed["error_type"] == "ValueError"
    assert "boom" in parsed["traceback"]


class _Writes:
    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.writes.append(data)
        return len(data)

    def flush(self) -> None:
        pass


def test_access_lines_are_batched_per_loop_iteration_in_whole_line_writes_under_pipe_buf() -> None:
    import asyncio

    from app.logs import PIPE_BUF, AccessLog

    sink = _Writes()
    access = AccessLog(sink)  # type: ignore[arg-type]

    async def burst() -> int:
        for n in range(200):
            access.write(f"r{n}", None, {"path": "/health", "status": 200, "n": n})
        written_during_the_burst = len(sink.writes)
        await asyncio.sleep(0)  # the loop runs the scheduled flush
        await asyncio.sleep(0)
        return written_during_the_burst

    during = asyncio.run(burst())
    assert 0 < during < len(sink.writes) < 200  # batched, the rest flushed by the loop
    lines = [line for data in sink.writes for line in data.split(b"\n") if line]
    assert [orjson.loads(line)["n"] for line in lines] == list(range(200))
    for data in sink.writes:
        assert len(data) <= PIPE_BUF
        assert data.endswith(b"\n")  # whole lines only: atomic on a pipe shared by workers
    first = orjson.loads(lines[0])
    assert (first["logger"], first["level"], first["message"]) == ("app.access", "INFO", "request")
    assert first["request_id"] == "r0"


def test_an_access_line_off_the_event_loop_is_written_at_once() -> None:
    from app.logs import AccessLog

    sink = _Writes()
    AccessLog(sink).write("r", "t", {"status": 200})  # type: ignore[arg-type]
    assert len(sink.writes) == 1
    assert orjson.loads(sink.writes[0])["trace_id"] == "t"
