# Fixture: semgrep --test ignores `paths`; test_semgrep_rules.py checks the path scoping.
import os
from os import environ, getenv


def positives() -> None:
    # ruleid: env-read-outside-settings
    os.environ.get("PORT", "8000")
    # ruleid: env-read-outside-settings
    os.environ["HOST"]
    # ruleid: env-read-outside-settings
    os.getenv("HOST")
    # ruleid: env-read-outside-settings
    getenv("HOST")
    # ruleid: env-read-outside-settings
    dict(environ)


def negatives(settings: object) -> None:
    # ok: env-read-outside-settings
    os.getpid()
    # ok: env-read-outside-settings
    print(settings)
