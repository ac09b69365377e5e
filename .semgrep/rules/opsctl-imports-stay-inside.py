# Fixture: semgrep --test ignores `paths`; test_semgrep_rules.py checks the path scoping.
# ruleid: opsctl-imports-stay-inside
from app.main import create_app

# ruleid: opsctl-imports-stay-inside
import app

# ruleid: opsctl-imports-stay-inside
from localcloud.emulator import Emulator

# ruleid: opsctl-imports-stay-inside
import moto

# ok: opsctl-imports-stay-inside
from opsctl.errors import OpsctlError

# ok: opsctl-imports-stay-inside
import typer

# ok: opsctl-imports-stay-inside
import apprise_not_app
