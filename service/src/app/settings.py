"""Service settings: the only module that reads the environment.

Values come from environment variables, then from a `.env` file in the working directory (for
local development; real environment variables win), then from the defaults below. Every
variable is documented in `.env.example`. Names are `APP_<FIELD>` except `HOST` and `PORT`,
which keep the names every container platform uses.
"""

from __future__ import annotations

from importlib import metadata
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.processing.limits import ORJSON_MAX_DEPTH, Limits

Environment = Literal["development", "production"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]

#: Memory one server process may use, MiB: uvicorn, the app and its caches (56 to 58 MiB
#: resident when idle, measured by `make bench`) and the request bodies it holds at once.
SERVER_PROCESS_MIB = 64

#: ECS sends SIGTERM, waits `stopTimeout` (default 30 s, at most 120 s) and then SIGKILLs:
#: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_timeout
ECS_MAX_STOP_TIMEOUT_SECONDS = 120


def _package_version() -> str:
    try:
        return metadata.version("aws-fastapi-service")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0.0.0"


class Settings(BaseSettings):
    """Everything the service can be told at start; invalid values stop it before it listens."""

    model_config = SettingsConfigDict(
        env_prefix="APP_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        # `APP_DOCS_ENABLED=` (as in .env.example) means "unset", not "invalid".
        env_ignore_empty=True,
        frozen=True,
        validate_default=True,
    )

    environment: Environment = Field(
        default="production",
        description="development turns interactive docs on by default; production is the "
        "secure default.",
    )
    docs_enabled: bool | None = Field(
        default=None,
        description="Serve /docs, /redoc and /openapi.json. Unset: on in development, off in "
        "production.",
    )
    log_level: LogLevel = "INFO"
    version: str = Field(default_factory=_package_version, min_length=1, max_length=64)
    commit: str = Field(default="unknown", min_length=1, max_length=64)
    service_name: str = Field(
        default="aws-fastapi-service",
        min_length=1,
        max_length=255,
        description="The `Service` dimension of the CloudWatch metrics (set it to the ECS "
        "service name).",
    )
    metrics_namespace: str = Field(
        default="AwsFastapiService",
        pattern=r"^[A-Za-z0-9._/#:-]{1,255}$",
        description="CloudWatch namespace of the embedded-metric-format records.",
    )
    metrics_enabled: bool = True

    host: str = Field(
        default="127.0.0.1",
        validation_alias=AliasChoices("HOST"),
        min_length=1,
        description="Address to listen on; the container image sets 0.0.0.0.",
    )
    port: Annotated[int, Field(ge=1, le=65535)] = Field(
        default=8000, validation_alias=AliasChoices("PORT")
    )
    workers: Annotated[int, Field(ge=1, le=64)] = Field(
        default=1,
        description="Server processes. On Fargate scale with tasks; one worker per vCPU at most. "
        "Each has its own sandbox workers: see task_memory_mb.",
    )
    task_memory_mb: Annotated[int, Field(ge=128, le=122_880)] = Field(
        default=512,
        description="Memory of the ECS task (or container) the service runs in, MiB. The "
        "service refuses to start when its processes could need more: workers x (64 MiB per "
        "server process + sandbox_workers x sandbox_memory_mb). The default is the ecs_service "
        "module's default task size.",
    )
    keep_alive_seconds: Annotated[int, Field(ge=1, le=4000)] = Field(
        default=75,
        description="Idle keep-alive. Must exceed the ALB idle timeout (60 s by default) or the "
        "ALB may reuse a connection the server is closing and answer 502.",
    )
    graceful_shutdown_seconds: Annotated[int, Field(ge=1, lt=ECS_MAX_STOP_TIMEOUT_SECONDS)] = Field(
        default=20,
        description="After SIGTERM: how long in-flight requests may finish. Keep it below the "
        "task's stopTimeout (30 s by default).",
    )

    max_body_bytes: Annotated[int, Field(ge=1024, le=64 * 1024 * 1024)] = 1024 * 1024
    max_expression_chars: Annotated[int, Field(ge=1, le=65536)] = 2048
    max_schema_bytes: Annotated[int, Field(ge=2, le=16 * 1024 * 1024)] = 64 * 1024
    max_result_bytes: Annotated[int, Field(ge=16, le=64 * 1024 * 1024)] = 1024 * 1024
    max_depth: Annotated[int, Field(ge=1, le=ORJSON_MAX_DEPTH - 1)] = 64
    max_evaluation_steps: Annotated[int, Field(ge=1000, le=100_000_000)] = 2_000_000
    expression_cache_size: Annotated[int, Field(ge=0, le=100_000)] = 512
    schema_cache_size: Annotated[int, Field(ge=0, le=10_000)] = 64
    sandbox_workers: Annotated[int, Field(ge=1, le=16)] = Field(
        default=2,
        description="Worker processes for /process requests too costly for the event loop "
        "(large bodies, schemas, long evaluations); about 35 MiB each.",
    )
    schema_timeout_seconds: Annotated[float, Field(ge=0.05, le=60)] = Field(
        default=1.0,
        description="Budget of one schema check (compile, validate, list violations); over it "
        "the worker is killed and the request refused (422). Real documents take milliseconds.",
    )
    sandbox_memory_mb: Annotated[int, Field(ge=128, le=16384)] = Field(
        default=192,
        description="Address-space limit of each sandbox worker; a request needing more ends "
        "the worker (422) instead of pressing on the task's memory. The costliest valid 1 MiB "
        "requests measured peak at 82 MiB resident; 2 workers x 192 MiB plus the server's "
        "64 MiB fit the default 512 MiB task (see task_memory_mb).",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _docs_follow_environment(self) -> Settings:
        if self.docs_enabled is None:
            object.__setattr__(self, "docs_enabled", self.environment == "development")
        return self

    @model_validator(mode="after")
    def _fits_the_task(self) -> Settings:
        if self.memory_needed_mb() > self.task_memory_mb:
            msg = (
                f"the processes could need more memory than the task has: APP_WORKERS="
                f"{self.workers} x ({SERVER_PROCESS_MIB} MiB per server process + "
                f"APP_SANDBOX_WORKERS={self.sandbox_workers} x APP_SANDBOX_MEMORY_MB="
                f"{self.sandbox_memory_mb}) = {self.memory_needed_mb()} MiB > "
                f"APP_TASK_MEMORY_MB={self.task_memory_mb}. Lower one of the first three, or "
                "give the task more memory and set APP_TASK_MEMORY_MB to it (each server "
                "process starts its own sandbox workers)"
            )
            raise ValueError(msg)
        return self

    def memory_needed_mb(self) -> int:
        """The most memory the service's processes can take, MiB: each server process plus its
        sandbox workers at their address-space limit (a bound on their resident memory)."""
        return self.workers * (SERVER_PROCESS_MIB + self.sandbox_workers * self.sandbox_memory_mb)

    @property
    def docs(self) -> bool:
        """Whether the interactive docs and the OpenAPI document are served."""
        return bool(self.docs_enabled)

    def limits(self) -> Limits:
        """The processing limits these settings describe."""
        return Limits(
            max_expression_chars=self.max_expression_chars,
            max_schema_bytes=self.max_schema_bytes,
            max_result_bytes=self.max_result_bytes,
            max_depth=self.max_depth,
            max_evaluation_steps=self.max_evaluation_steps,
            expression_cache_size=self.expression_cache_size,
            schema_cache_size=self.schema_cache_size,
        )
