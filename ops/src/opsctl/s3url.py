"""``s3://bucket/key`` locations (the Terraform state ``changes`` lists the versions of).

Apart from the command so the CLI checks the option while parsing (exit 2), before anything
talks to AWS (this module imports no boto3).
"""

from __future__ import annotations

import re

from opsctl.errors import UsageError

# Bucket names: 3 to 63 lowercase letters, digits, dots and hyphens
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_EXPECTED = (
    "expected s3://<bucket>/<key>, e.g. s3://tfstate-123456789012-us-east-1/prod/terraform.tfstate"
)


def parse_s3_url(value: str, option: str = "--state-url") -> tuple[str, str]:
    """(bucket, key) of ``s3://bucket/key``; UsageError naming ``option`` for anything else."""
    if not value.startswith("s3://"):
        raise UsageError(f"{option} {value!r}: {_EXPECTED}")
    bucket, _, key = value.removeprefix("s3://").partition("/")
    if not _BUCKET.match(bucket) or not key or key.endswith("/"):
        raise UsageError(f"{option} {value!r}: {_EXPECTED}")
    return bucket, key
