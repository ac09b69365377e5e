# Plan-only tests with a mocked AWS provider: no credentials, no network.

mock_provider "aws" {
  override_data {
    target = data.aws_caller_identity.current
    values = { account_id = "123456789012" }
  }
  override_data {
    target = data.aws_region.current
    values = { name = "eu-west-1" }
  }
  override_data {
    target = data.aws_partition.current
    values = { partition = "aws" }
  }
  # The provider validates policy JSON; a mocked document would be random text. Assertions read
  # the document's statements from the configuration instead.
  override_data {
    target = data.aws_iam_policy_document.this
    values = { json = "{}" }
  }
}

variables {
  name = "fastapi-dev"
}

run "secure_defaults" {
  command = plan

  assert {
    condition     = aws_kms_key.this.enable_key_rotation == true
    error_message = "Key rotation must be on."
  }

  assert {
    condition     = aws_kms_key.this.deletion_window_in_days == 30
    error_message = "A scheduled deletion must wait the longest window (30 days) by default."
  }

  assert {
    condition     = aws_kms_alias.this.name == "alias/fastapi-dev"
    error_message = "The alias must be alias/<name>."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.this.statement : anytrue([
        for c in s.condition : c.variable == "kms:EncryptionContext:aws:logs:arn" && toset(c.values) == toset(["arn:aws:logs:eu-west-1:123456789012:log-group:*"])
      ]) if s.sid == "CloudWatchLogsEncryptsThisAccountsLogGroups"
    ])
    error_message = "CloudWatch Logs may use the key only for this account's log groups in this region."
  }

  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.this.statement : anytrue([for c in s.condition : c.variable == "aws:SourceAccount" && toset(c.values) == toset(["123456789012"])])
      if s.sid == "AlarmsAndEventsPublishToEncryptedTopics"
    ])
    error_message = "Alarms, EventBridge, Budgets and anomaly alerts may use the key only for this account (aws:SourceAccount)."
  }
}

run "rejects_aws_reserved_alias" {
  command = plan

  variables {
    name = "aws/ebs"
  }

  expect_failures = [var.name]
}

run "rejects_deletion_window_out_of_range" {
  command = plan

  variables {
    deletion_window_in_days = 3
  }

  expect_failures = [var.deletion_window_in_days]
}
