# Plan-only tests with a mocked AWS provider: no credentials, no network.

mock_provider "aws" {
  override_data {
    target = data.aws_caller_identity.current
    values = { account_id = "123456789012" }
  }
  override_data {
    target = data.aws_partition.current
    values = { partition = "aws" }
  }
  # Known at plan time, so the policy that names it can be read.
  override_resource {
    target          = aws_sns_topic.this
    override_during = plan
    values          = { arn = "arn:aws:sns:us-east-1:123456789012:fastapi-dev-alerts" }
  }
}

variables {
  name        = "fastapi-dev-alerts"
  kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  publishers  = { AlarmsAndRulesOfThisAccountPublish = ["cloudwatch.amazonaws.com", "events.amazonaws.com"] }
  emails      = ["oncall@example.com", "lead@example.com"]
}

run "topic_is_encrypted_tls_only_and_published_to_by_this_account" {
  command = plan

  assert {
    condition     = aws_sns_topic.this.kms_master_key_id == var.kms_key_arn
    error_message = "The topic must be encrypted with the customer managed key."
  }

  assert {
    condition     = toset(keys(aws_sns_topic_subscription.email)) == toset(var.emails) && alltrue([for s in aws_sns_topic_subscription.email : s.protocol == "email"])
    error_message = "Every address gets an e-mail subscription."
  }

  assert {
    condition = [
      for s in jsondecode(aws_sns_topic_policy.this.policy).Statement : [s.Principal, s.Action, s.Condition]
      if s.Effect == "Deny"
    ] == [["*", "SNS:Publish", { Bool = { "aws:SecureTransport" = "false" } }]]
    error_message = "Publishing without TLS is denied to everyone."
  }

  assert {
    condition = [
      for s in jsondecode(aws_sns_topic_policy.this.policy).Statement : s.Principal.Service
      if s.Effect == "Allow" && can(s.Principal.Service)
    ] == [["cloudwatch.amazonaws.com", "events.amazonaws.com"]]
    error_message = "Exactly the named services may publish, in one statement named by its key."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_sns_topic_policy.this.policy).Statement :
      s.Condition == { StringEquals = { "aws:SourceAccount" = "123456789012" } } && s.Sid == "AlarmsAndRulesOfThisAccountPublish"
      if s.Effect == "Allow" && can(s.Principal.Service)
    ])
    error_message = "Services publish for this account only (aws:SourceAccount)."
  }

  assert {
    condition = [
      for s in jsondecode(aws_sns_topic_policy.this.policy).Statement : s.Principal.AWS
      if s.Effect == "Allow" && can(s.Principal.AWS)
    ] == ["arn:aws:iam::123456789012:root"]
    error_message = "Only this account manages the topic (through IAM)."
  }

  assert {
    condition     = output.arn == "arn:aws:sns:us-east-1:123456789012:fastapi-dev-alerts"
    error_message = "The arn output is the topic's."
  }
}

run "rejects_invalid_name" {
  command = plan

  variables {
    name = "alerts.fifo topic"
  }

  expect_failures = [var.name]
}

run "rejects_non_kms_arn" {
  command = plan

  variables {
    kms_key_arn = "alias/aws/sns"
  }

  expect_failures = [var.kms_key_arn]
}

run "rejects_a_publisher_that_is_not_an_aws_service" {
  command = plan

  variables {
    publishers = { Anyone = ["arn:aws:iam::999999999999:root"] }
  }

  expect_failures = [var.publishers]
}

run "rejects_no_publisher" {
  command = plan

  variables {
    publishers = {}
  }

  expect_failures = [var.publishers]
}

run "rejects_invalid_email" {
  command = plan

  variables {
    emails = ["oncall"]
  }

  expect_failures = [var.emails]
}
