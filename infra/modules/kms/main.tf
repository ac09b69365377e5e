# One customer managed key per environment (and per region used): CloudWatch Logs log groups,
# SNS topics, ECR and the flow logs are encrypted with it.
#
# A customer managed key, not the AWS managed alias/aws/sns: CloudWatch alarms and EventBridge
# cannot publish to a topic encrypted with an AWS managed key, because its policy cannot grant them
# kms:GenerateDataKey. https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
}

data "aws_iam_policy_document" "this" {
  #checkov:skip=CKV_AWS_109:A key policy's "*" resource means this key only (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html); the account statement delegates to IAM, the service statements carry conditions.
  #checkov:skip=CKV_AWS_111:Same: in a key policy "*" is the key itself, not every resource.
  #checkov:skip=CKV_AWS_356:Same: in a key policy "*" is the key itself, not every resource.
  # Delegate to IAM: identity policies in this account decide who else may use the key.
  # https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
  statement {
    sid       = "AccountAdministersThroughIam"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
  statement {
    sid = "CloudWatchLogsEncryptsThisAccountsLogGroups"
    actions = [
      "kms:Encrypt*",
      "kms:Decrypt*",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:Describe*",
    ]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
    }
  }

  # Alarms and EventBridge rules publish to SNS topics encrypted with this key.
  # https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
  statement {
    sid       = "AlarmsAndEventsPublishToEncryptedTopics"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com", "events.amazonaws.com", "budgets.amazonaws.com", "costalerts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_kms_key" "this" {
  description = "${var.name}: logs, topics, images and flow logs"
  # Yearly rotation (AWS's default period when rotation is on).
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_in_days
  policy                  = data.aws_iam_policy_document.this.json
  tags                    = merge(var.tags, { Name = var.name })
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}
