"""Application factory (skeleton: the service issue replaces this with the full app)."""

from fastapi import FastAPI


def create_app() -> FastAPI:
    """Build the ASGI application."""
    app = FastAPI(title="aws-fastapi-service")

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
