"""Where each /process request runs: on the event loop when it is small, else in the sandbox.

The event loop also answers `/health`, so no request may hold it for long (the reasons and
measurements are in `app.processing.sandbox`). The steps themselves are in
`app.processing.core`; this module only decides where they run:

* on the event loop: a body of at most `INLINE_BODY_BYTES` without a schema, whose evaluation
  fits `INLINE_STEPS` steps and whose result fits `INLINE_RESULT_BYTES`. Tens of milliseconds
  at worst, and no hand-off for the common case (the reference request: 19 KB, 1,400 steps);
* in a sandbox worker process, from the raw body: everything else. A request that ran out of
  an inline budget is sent there whole (evaluation is pure; the wasted work is the small
  inline budget).
"""

from __future__ import annotations

import dataclasses

from app.processing.core import Core
from app.processing.errors import ExpressionTooComplexError, ResultTooLargeError
from app.processing.limits import Limits
from app.processing.sandbox import Sandbox

#: Bodies up to this size may run on the event loop: the costliest 32 KiB body measured (lists
#: nested 62 deep) decodes in 1.5 ms. The reference body is 19 KB.
INLINE_BODY_BYTES = 32 * 1024
#: Evaluation steps allowed on the event loop. The costliest steps measured are functions applied
#: per element (`[*].length(to_string(@))`: 10,000 steps in about 30 ms, 2026-12-03, load 5);
#: projections and filters take 1 to 3 ms per 10,000. The reference request takes 1,400.
INLINE_STEPS = 10_000
#: Result (and walked-value) size allowed on the event loop.
INLINE_RESULT_BYTES = 64 * 1024


class Processor:
    """Handles /process request bodies within `limits`, on the loop or in `sandbox`.

    Safe to share between threads and event loops. `close` stops the sandbox.
    """

    def __init__(self, limits: Limits, sandbox: Sandbox) -> None:
        self.limits = limits
        self.core = Core(limits)
        self.sandbox = sandbox
        self._inline_limits = dataclasses.replace(
            limits,
            max_evaluation_steps=min(INLINE_STEPS, limits.max_evaluation_steps),
            max_result_bytes=min(INLINE_RESULT_BYTES, limits.max_result_bytes),
        )

    async def handle(self, body: bytes) -> bytes:
        """The compact JSON of the result of the /process request `body`.

        Raises a `ProcessingError` subclass for every refusal (see `app.processing.core` and
        `app.processing.sandbox`).
        """
        if len(body) <= INLINE_BODY_BYTES:
            request = self.core.decode(body)
            if request.schema is None:
                compiled = self.core.compile(request.expression)
                try:
                    return self.core.apply(compiled, request.data, self._inline_limits)
                except (ExpressionTooComplexError, ResultTooLargeError):
                    # Over an inline budget, or over the full limits: only a full run can tell.
                    if self._inline_limits == self.limits:
                        raise
        return await self.sandbox.run(body)

    def close(self) -> None:
        """Stop the sandbox's workers."""
        self.sandbox.close()
