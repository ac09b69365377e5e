"""The smoke harness's own decisions, without podman: each check must be able to fail."""

import copy
from pathlib import Path
from types import ModuleType

import pytest

GOOD_INSPECT = {
    "Config": {
        "User": "10001:10001",
        "Entrypoint": ["app-serve"],
        "StopSignal": "SIGTERM",
        "ExposedPorts": {"8000/tcp": {}},
        "Env": ["HOST=0.0.0.0", "PORT=8000", "PYTHONDONTWRITEBYTECODE=1"],
        "Labels": {
            "org.opencontainers.image.version": "1.2.3",
            "org.opencontainers.image.revision": "abc123",
            "org.opencontainers.image.source": "https://example.invalid/repo",
        },
    },
    "Healthcheck": {"Test": ["CMD", "/opt/app/bin/python", "-I", "/opt/healthcheck.py"]},
}


@pytest.fixture
def info(smoke: ModuleType):
    return smoke.BuildInfo(
        version="1.2.3", revision="abc123", source="https://example.invalid/repo"
    )


def test_config_check_passes_the_dockerfile_promises(smoke: ModuleType, info) -> None:
    check = smoke.check_config(GOOD_INSPECT, info)
    assert check.passed, check.detail


@pytest.mark.parametrize(
    ("path", "value", "complaint"),
    [
        (("Config", "User"), "", "USER"),
        (("Config", "User"), "0:0", "USER"),
        (("Config", "User"), "app", "USER"),
        (("Config", "Entrypoint"), ["/bin/sh", "-c", "app-serve"], "ENTRYPOINT"),
        (("Config", "StopSignal"), "SIGQUIT", "STOPSIGNAL"),
        (("Healthcheck",), None, "HEALTHCHECK"),
        (("Config", "Env"), ["HOST=127.0.0.1", "PORT=8000", "PYTHONDONTWRITEBYTECODE=1"], "HOST"),
        (("Config", "Env"), ["HOST=0.0.0.0", "PORT=8000"], "PYTHONDONTWRITEBYTECODE"),
        (("Config", "ExposedPorts"), {"8080/tcp": {}}, "PORT"),
        (("Config", "Labels"), {}, "org.opencontainers.image.revision"),
    ],
)
def test_config_check_fails_on_each_broken_promise(
    smoke: ModuleType, info, path, value, complaint
) -> None:
    inspect = copy.deepcopy(GOOD_INSPECT)
    target = inspect
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    check = smoke.check_config(inspect, info)
    assert not check.passed
    assert complaint in check.detail


def test_writes_outside_tmp_are_flagged(smoke: ModuleType) -> None:
    changes = {
        "changed": ["/", "/etc", "/tmp", "/opt/app"],
        "added": ["/tmp/upload", "/etc/hosts", "/opt/app/lib/x.pyc", "/var/tmp/cache"],
        "deleted": None,
    }
    assert smoke.outside_tmp(changes) == ["/opt/app", "/opt/app/lib/x.pyc", "/var/tmp/cache"]


def test_writes_only_under_tmp_are_fine(smoke: ModuleType) -> None:
    assert smoke.outside_tmp({"changed": ["/tmp"], "added": ["/tmp/a", "/tmp/b/c"]}) == []
    assert smoke.outside_tmp({}) == []


def test_tmp_prefix_is_not_tmp(smoke: ModuleType) -> None:
    assert smoke.outside_tmp({"added": ["/tmpfoo"]}) == ["/tmpfoo"]


def test_mirror_from_deb822_sources_skips_security(smoke: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\n\n"
        "Types: deb\nURIs: http://mirror.example.invalid/debian/\nSuites: bookworm\n"
    )
    assert smoke.debian_mirror(tmp_path) == "http://mirror.example.invalid/debian"


def test_mirror_from_one_line_sources(smoke: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "sources.list").write_text(
        "# comment\ndeb [arch=amd64] http://ftp.example.invalid/debian bookworm main\n"
    )
    assert smoke.debian_mirror(tmp_path) == "http://ftp.example.invalid/debian"


def test_mirror_defaults_and_override(smoke: ModuleType, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("STANDIN_MIRROR", raising=False)
    assert smoke.debian_mirror(tmp_path) == smoke.DEFAULT_MIRROR
    monkeypatch.setenv("STANDIN_MIRROR", "http://local.invalid/debian")
    assert smoke.debian_mirror(tmp_path) == "http://local.invalid/debian"


def test_standin_tag_follows_its_recipe(smoke: ModuleType, tmp_path: Path, monkeypatch) -> None:
    recipe = tmp_path / "Containerfile"
    recipe.write_text("FROM a\n")
    monkeypatch.setattr(smoke, "STANDIN_CONTAINERFILE", recipe)
    first = smoke.standin_tag()
    recipe.write_text("FROM b\n")
    assert smoke.standin_tag() != first
    assert first.startswith("localhost/aws-fastapi-standin:")
    # The stand-in must never be mistaken for the official image.
    assert "python:" not in first


def test_report_fails_when_one_check_fails(smoke: ModuleType) -> None:
    figures = dict.fromkeys(
        [
            "image_size_mb", "above_base_mb", "start_to_healthy_s", "start_to_healthy_runs",
            "stop_s", "standin_base_build_s", "image_build_s", "total_s",
        ],
        1.0,
    )  # fmt: skip
    checks = (smoke.Check("a", True, "ok"), smoke.Check("b", False, "broken"))
    report = smoke.Report("img", "base", True, checks, figures)
    assert not report.passed
    text = smoke.render(report)
    assert "FAIL  b" in text
    assert "1 passed, 1 failed" in text


def linux_markers(**overrides: str) -> dict[str, str]:
    markers = {
        "implementation_name": "cpython",
        "implementation_version": "3.11.2",
        "os_name": "posix",
        "platform_machine": "x86_64",
        "platform_python_implementation": "CPython",
        "platform_release": "6.1.0",
        "platform_system": "Linux",
        "platform_version": "#1 SMP",
        "python_full_version": "3.11.2",
        "python_version": "3.11",
        "sys_platform": "linux",
    }
    return markers | overrides


@pytest.fixture
def uv() -> str:
    path = Path(__file__).resolve().parents[2] / ".tools" / "bin" / "uv"
    if not path.exists():
        pytest.skip("uv is not installed yet (make install)")
    return str(path)


def test_expected_contents_come_from_the_lock_with_markers(smoke: ModuleType, uv: str) -> None:
    on_linux = smoke.locked_runtime_packages(uv, linux_markers())
    on_windows = smoke.locked_runtime_packages(
        uv, linux_markers(sys_platform="win32", os_name="nt", platform_system="Windows")
    )
    assert {"fastapi", "pydantic", "uvicorn", "orjson", "jmespath"} <= set(on_linux)
    # The service's runtime closure never includes the dev group or the other parts.
    assert not {"pytest", "moto", "boto3", "ruff", "mypy", "opsctl", "localcloud"} & set(on_linux)
    # uvloop is locked for "not Windows" only.
    assert "uvloop" in on_linux
    assert "uvloop" not in on_windows
