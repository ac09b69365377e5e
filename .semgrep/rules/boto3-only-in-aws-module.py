# Fixture: semgrep --test ignores `paths`; test_semgrep_rules.py checks the path scoping.
# ruleid: boto3-only-in-aws-module
import boto3

# ruleid: boto3-only-in-aws-module
import botocore.exceptions

# ruleid: boto3-only-in-aws-module
from botocore.exceptions import ClientError

# ruleid: boto3-only-in-aws-module
from mypy_boto3_ecs import ECSClient

# ruleid: boto3-only-in-aws-module
import boto3.session as boto_session

# ok: boto3-only-in-aws-module
import json

# ok: boto3-only-in-aws-module
from opsctl.aws import AwsClients

# ok: boto3-only-in-aws-module
import boto3_helpers_not_the_sdk
