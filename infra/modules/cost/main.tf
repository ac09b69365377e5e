# Runbook 5.3 cost guardrails: a billing alarm (EstimatedCharges, us-east-1), a monthly budget
# with notifications, and a Cost Anomaly Detection monitor with a subscription. All of them
# publish to one encrypted topic in us-east-1.
#
# Billing metrics appear only after "Receive CloudWatch billing alerts" is turned on once in the
# account's Billing preferences (there is no API for it).
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/monitor_estimated_charges_with_cloudwatch.html

data "aws_caller_identity" "current" {
  provider = aws.us_east_1
}

data "aws_partition" "current" {
  provider = aws.us_east_1
}

locals {
  account_id     = data.aws_caller_identity.current.account_id
  partition      = data.aws_partition.current.partition
  create_monitor = var.anomaly_detection.enabled && var.anomaly_detection.monitor_arn == null
  monitor_arn    = var.anomaly_detection.enabled ? coalesce(var.anomaly_detection.monitor_arn, one(aws_ce_anomaly_monitor.this[*].arn)) : null
}

resource "aws_sns_topic" "this" {
  provider = aws.us_east_1

  name              = "${var.name}-billing"
  kms_master_key_id = var.kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "topic" {
  statement {
    sid       = "AccountManagesTopic"
    actions   = ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"]
    resources = [aws_sns_topic.this.arn]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  # https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-sns-policy.html
  # https://docs.aws.amazon.com/cost-management/latest/userguide/ad-SNS.html
  statement {
    sid       = "BillingServicesOfThisAccountPublish"
    actions   = ["SNS:Publish"]
    resources = [aws_sns_topic.this.arn]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com", "budgets.amazonaws.com", "costalerts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["SNS:Publish"]
    resources = [aws_sns_topic.this.arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sns_topic_policy" "this" {
  provider = aws.us_east_1

  arn    = aws_sns_topic.this.arn
  policy = data.aws_iam_policy_document.topic.json
}

resource "aws_sns_topic_subscription" "email" {
  provider = aws.us_east_1
  for_each = toset(var.alert_emails)

  topic_arn = aws_sns_topic.this.arn
  protocol  = "email"
  endpoint  = each.key
}

resource "aws_cloudwatch_metric_alarm" "billing" {
  provider = aws.us_east_1

  alarm_name          = "${var.name}-estimated-charges"
  alarm_description   = "Estimated charges of this account this month passed ${var.monthly_budget_usd} USD (runbook 5.3). Is an idle environment still running? Set enable_compute = false (ADR 0003)."
  namespace           = "AWS/Billing"
  metric_name         = "EstimatedCharges"
  dimensions          = { Currency = "USD" }
  statistic           = "Maximum"
  period              = 21600
  evaluation_periods  = 1
  threshold           = var.monthly_budget_usd
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.this.arn]
  tags                = var.tags
}

resource "aws_budgets_budget" "this" {
  provider = aws.us_east_1

  name         = "${var.name}-monthly"
  budget_type  = "COST"
  limit_amount = format("%.2f", var.monthly_budget_usd)
  limit_unit   = "USD"
  time_unit    = "MONTHLY"

  notification {
    comparison_operator       = "GREATER_THAN"
    threshold                 = 80
    threshold_type            = "PERCENTAGE"
    notification_type         = "ACTUAL"
    subscriber_sns_topic_arns = [aws_sns_topic.this.arn]
  }

  notification {
    comparison_operator       = "GREATER_THAN"
    threshold                 = 100
    threshold_type            = "PERCENTAGE"
    notification_type         = "FORECASTED"
    subscriber_sns_topic_arns = [aws_sns_topic.this.arn]
  }

  tags = var.tags

  depends_on = [aws_sns_topic_policy.this]
}

resource "aws_ce_anomaly_monitor" "this" {
  provider = aws.us_east_1
  count    = local.create_monitor ? 1 : 0

  name              = "${var.name}-services"
  monitor_type      = "DIMENSIONAL"
  monitor_dimension = "SERVICE"
  tags              = var.tags
}

resource "aws_ce_anomaly_subscription" "this" {
  provider = aws.us_east_1
  count    = var.anomaly_detection.enabled ? 1 : 0

  name             = "${var.name}-anomalies"
  frequency        = "IMMEDIATE"
  monitor_arn_list = [local.monitor_arn]

  subscriber {
    type    = "SNS"
    address = aws_sns_topic.this.arn
  }

  threshold_expression {
    dimension {
      key           = "ANOMALY_TOTAL_IMPACT_ABSOLUTE"
      match_options = ["GREATER_THAN_OR_EQUAL"]
      values        = [tostring(var.anomaly_detection.threshold_usd)]
    }
  }

  tags = var.tags

  depends_on = [aws_sns_topic_policy.this]
}
