# Fixture: semgrep --test ignores `paths`; test_semgrep_rules.py checks the path scoping.
import boto3


def positives(key: str, secret: str) -> None:
    # ruleid: aws-credentials-from-default-chain
    boto3.client("ecs", aws_access_key_id=key, aws_secret_access_key=secret)
    # ruleid: aws-credentials-from-default-chain
    session = boto3.Session(aws_session_token="token")
    # ruleid: aws-credentials-from-default-chain
    session.client("ecs", aws_secret_access_key=secret)


def negatives(profile: str) -> None:
    # ok: aws-credentials-from-default-chain
    session = boto3.Session(profile_name=profile, region_name="eu-west-1")
    # ok: aws-credentials-from-default-chain
    session.client("ecs")
    # ok: aws-credentials-from-default-chain
    boto3.client("logs", region_name="eu-west-1")
