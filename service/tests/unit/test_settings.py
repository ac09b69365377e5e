"""Settings (app.settings): names, defaults, .env, validation."""

from __future__ import annotations

from pathlib import Path

import pytest
from app.settings import Settings
from pydantic import ValidationError


def test_secure_defaults() -> None:
    settings = Settings()
    assert settings.environment == "production"
    assert settings.docs is False
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.keep_alive_seconds > 60  # above the ALB idle timeout
    assert settings.graceful_shutdown_seconds < 30  # below the ECS stop timeout
    assert settings.max_body_bytes == 1024 * 1024


def test_docs_follow_the_environment_unless_set() -> None:
    assert Settings(environment="development").docs is True
    assert Settings(environment="production", docs_enabled=True).docs is True
    assert Settings(environment="development", docs_enabled=False).docs is False


def test_host_and_port_keep_their_platform_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.setenv("PORT", "9001")
    monkeypatch.setenv("APP_PORT", "1")  # not a name we read
    settings = Settings()
    assert (settings.host, settings.port) == ("0.0.0.0", 9001)


def test_app_prefixed_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENVIRONMENT", "development")
    monkeypatch.setenv("APP_VERSION", "1.2.3")
    monkeypatch.setenv("APP_COMMIT", "abc1234")
    monkeypatch.setenv("APP_LOG_LEVEL", "debug")
    monkeypatch.setenv("APP_MAX_BODY_BYTES", "2048")
    settings = Settings()
    assert settings.environment == "development"
    assert (settings.version, settings.commit) == ("1.2.3", "abc1234")
    assert settings.log_level == "DEBUG"
    assert settings.limits().max_expression_chars == settings.max_expression_chars
    assert settings.max_body_bytes == 2048


def test_dotenv_is_read_and_the_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text(
        "APP_COMMIT=from-dotenv\nAPP_VERSION=9.9.9\nOTHER_TOOL=ignored\n"
    )
    monkeypatch.setenv("APP_VERSION", "from-env")
    settings = Settings()
    assert settings.commit == "from-dotenv"
    assert settings.version == "from-env"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("APP_ENVIRONMENT", "staging"),
        ("PORT", "70000"),
        ("PORT", "http"),
        ("APP_GRACEFUL_SHUTDOWN_SECONDS", "120"),
        ("APP_GRACEFUL_SHUTDOWN_SECONDS", "0"),
        ("APP_MAX_DEPTH", "0"),
        ("APP_MAX_DEPTH", "300"),
        ("APP_LOG_LEVEL", "chatty"),
        ("APP_METRICS_NAMESPACE", "has spaces"),
        ("APP_WORKERS", "0"),
    ],
)
def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


def test_settings_are_immutable() -> None:
    settings = Settings()
    with pytest.raises(ValidationError):
        settings.port = 1  # type: ignore[misc]


ENV_EXAMPLE = Path(__file__).resolve().parents[3] / ".env.example"


def test_env_example_is_a_valid_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(ENV_EXAMPLE.read_text())
    settings = Settings()
    assert settings.environment == "development"
    assert settings.docs is True


def test_every_setting_is_documented_in_env_example() -> None:
    example = ENV_EXAMPLE.read_text()
    for name, field in Settings.model_fields.items():
        variable = name.upper() if name in {"host", "port"} else f"APP_{name.upper()}"
        assert f"{variable}=" in example, f"{variable} is missing from .env.example"
        del field


def test_workers_that_cannot_fit_the_task_memory_are_refused_with_the_arithmetic(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("APP_WORKERS", "2")
    with pytest.raises(ValidationError) as caught:
        Settings()
    message = str(caught.value)
    assert "APP_WORKERS=2 x (64 MiB per server process + APP_SANDBOX_WORKERS=2 x" in message
    assert "APP_SANDBOX_MEMORY_MB=192) = 896 MiB > APP_TASK_MEMORY_MB=512" in message
    # Either fix works: a bigger task, or fewer sandbox workers per server process.
    monkeypatch.setenv("APP_TASK_MEMORY_MB", "1024")
    assert Settings().memory_needed_mb() == 896
    monkeypatch.setenv("APP_TASK_MEMORY_MB", "512")
    monkeypatch.setenv("APP_SANDBOX_WORKERS", "1")
    assert Settings().memory_needed_mb() == 2 * (64 + 192)


def test_the_defaults_fit_the_default_task() -> None:
    settings = Settings()
    assert settings.memory_needed_mb() == 64 + 2 * 192 <= settings.task_memory_mb == 512
