# Fixture: semgrep --test ignores `paths`; test_semgrep_rules.py checks the path scoping.
# ruleid: service-imports-stay-inside
import opsctl

# ruleid: service-imports-stay-inside
from opsctl.aws import AwsClients

# ruleid: service-imports-stay-inside
from localcloud.emulator import Emulator

# ruleid: service-imports-stay-inside
import boto3

# ruleid: service-imports-stay-inside
import botocore.session as bs

# ok: service-imports-stay-inside
from app.settings import Settings

# ok: service-imports-stay-inside
import fastapi

# ok: service-imports-stay-inside
import opsctl_like_name
