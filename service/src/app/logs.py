"""Structured logging: every log line on stdout is one JSON object.

Fields of every line: `time` (UTC, ISO 8601, milliseconds), `level`, `logger`, `message`, and
`request_id` / `trace_id` when the line is written while a request is being served (so an error
logged deep in a handler can be found from the access line). Exceptions add `error_type` and
`traceback`. The access line adds the fields listed in `app.middleware.context`.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, BinaryIO

import orjson

#: Set by the request-context middleware for the duration of one request.
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
trace_id_var: ContextVar[str | None] = ContextVar("trace_id", default=None)

ACCESS_LOGGER = "app.access"


class JSONFormatter(logging.Formatter):
    """Formats a record as one compact JSON object (extra fields from `record.fields`)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id is not None:
            line["request_id"] = request_id
            line["trace_id"] = trace_id_var.get()
        fields = getattr(record, "fields", None)
        if fields:
            line.update(fields)
        if record.exc_info and record.exc_info[0] is not None:
            line["error_type"] = record.exc_info[0].__name__
            line["traceback"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def logging_config(level: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` for the app and the server: JSON lines on stdout."""
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "json",
        "stream": "ext://sys.stdout",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JSONFormatter}},
        "handlers": {"stdout": handler},
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            # The server's own lines (start, stop, errors) go through the same formatter.
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            # We write our own access line (with request id and trace id): silence the server's.
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            ACCESS_LOGGER: {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        },
    }


#: Writes of at most this many bytes to a pipe are atomic (POSIX PIPE_BUF on Linux): several
#: server processes (APP_WORKERS) share one stdout pipe, and a line must never be cut by another
#: process's write. https://man7.org/linux/man-pages/man7/pipe.7.html
PIPE_BUF = 4096


def access_stream() -> BinaryIO:
    """Where access lines go: the process's stdout (what awslogs collects)."""
    return sys.stdout.buffer


class AccessLog:
    """The access line, one JSON object per request, written without the `logging` module.

    The line has the fields every log line has (`time`, `level` "INFO", `logger` "app.access",
    `message` "request", `request_id`, `trace_id`) and the request's own (see
    `app.middleware.context`). A `logging` record per request (record, handler lock, formatter,
    a datetime) cost about as much as the whole /health handler; here a line is one orjson call
    appended to a buffer. The buffer is written when the event loop has run the callbacks ready
    now (so the lines of one loop iteration go out in one write, at once) and before it would
    pass `PIPE_BUF`, so every write holds whole lines and stays atomic on a pipe.
    """

    def __init__(self, stream: BinaryIO | None = None) -> None:
        """Lines go to `stream`, or when None to `access_stream()`, looked up at each write."""
        self._stream = stream
        self._buffer = bytearray()
        self._scheduled = False

    def write(self, request_id: str, trace_id: str | None, fields: dict[str, Any]) -> None:
        """Write one access line (buffered; see the class docstring)."""
        now = time.time()
        line = orjson.dumps(
            {
                "time": datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds"),
                "level": "INFO",
                "logger": ACCESS_LOGGER,
                "message": "request",
                "request_id": request_id,
                "trace_id": trace_id,
                **fields,
            },
            default=str,
            option=orjson.OPT_APPEND_NEWLINE,
        )
        if len(self._buffer) + len(line) > PIPE_BUF:
            self.flush()
        self._buffer += line
        if self._scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not on an event loop: nothing will flush later
            self.flush()
            return
        self._scheduled = True
        loop.call_soon(self.flush)

    def flush(self) -> None:
        """Write what is buffered now."""
        self._scheduled = False
        if self._buffer:
            data = bytes(self._buffer)
            self._buffer.clear()
            stream = self._stream if self._stream is not None else access_stream()
            stream.write(data)
            stream.flush()
