"""The production server command `app-serve` (skeleton: the service issue completes it)."""

import os

import uvicorn


def main() -> None:
    """Serve the app on HOST:PORT (defaults 127.0.0.1:8000)."""
    # Skeleton only: the service issue replaces this file with one that reads app.settings.
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=os.environ.get("HOST", "127.0.0.1"),  # nosemgrep: env-read-outside-settings
        port=int(os.environ.get("PORT", "8000")),  # nosemgrep: env-read-outside-settings
    )
