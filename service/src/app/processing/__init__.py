"""The transformation and validation core behind POST /process (no HTTP in this package).

`Processor.decode` turns a request body into a `ProcessRequest`; `Processor.process` turns that
into a `ProcessResult`. Every refusal is a `ProcessingError` subclass (see `errors`).
"""

from app.processing.engine import Processor, ProcessResult
from app.processing.errors import ProcessingError, Violation
from app.processing.limits import Limits
from app.processing.request import ProcessRequest, ProcessRequestBody

__all__ = [
    "Limits",
    "ProcessRequest",
    "ProcessRequestBody",
    "ProcessResult",
    "ProcessingError",
    "Processor",
    "Violation",
]
