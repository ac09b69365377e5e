# An SNS topic for alerts: encrypted with a customer managed key, published to only by the named
# AWS services of this account and only over TLS, with an e-mail subscription per address.
# Both the alert topic (alarms, EventBridge rules) and the billing topic (budget, billing alarm,
# anomaly alerts) of an environment are one of these.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
}

resource "aws_sns_topic" "this" {
  name              = var.name
  kms_master_key_id = var.kms_key_arn
  tags              = var.tags
}

# Built with jsonencode, not a policy document data source, so that the module's tests read the
# exact document SNS receives (a mocked provider cannot render a data source).
locals {
  policy = {
    Version = "2012-10-17"
    Statement = concat(
      [{
        Sid       = "AccountManagesTopic"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"]
        Resource  = aws_sns_topic.this.arn
      }],
      # aws:SourceAccount: a service publishes for this account's alarms, rules and budgets, never
      # for another account's (the confused deputy problem).
      # https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html
      # https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-sns-policy.html
      [for sid, services in var.publishers : {
        Sid       = sid
        Effect    = "Allow"
        Principal = { Service = services }
        Action    = "SNS:Publish"
        Resource  = aws_sns_topic.this.arn
        Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
      }],
      [{
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "SNS:Publish"
        Resource  = aws_sns_topic.this.arn
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      }],
    )
  }
}

resource "aws_sns_topic_policy" "this" {
  arn    = aws_sns_topic.this.arn
  policy = jsonencode(local.policy)
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.emails)

  topic_arn = aws_sns_topic.this.arn
  protocol  = "email"
  endpoint  = each.key
}
