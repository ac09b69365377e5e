"""The local cloud's errors, each with the exit code the ``localcloud`` command returns.

| code | meaning |
|---|---|
| 0 | done (``up`` on a running cloud reports it and exits 0) |
| 1 | a bug in localcloud (the trace is on stderr) |
| 2 | bad command line |
| 3 | no local cloud is running (or its state files are unreadable) |
| 4 | the local cloud could not start (port in use, daemon died, Terraform or the first deploy |
|   | failed); everything it had started is stopped again |
| 5 | an image push was refused: an immutable tag already names another image |
"""

from __future__ import annotations


class LocalCloudError(Exception):
    """Base of every error the ``localcloud`` command reports (never a traceback)."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class NotRunningError(LocalCloudError):
    exit_code = 3


class StartError(LocalCloudError):
    exit_code = 4


class PushRefusedError(LocalCloudError):
    exit_code = 5
