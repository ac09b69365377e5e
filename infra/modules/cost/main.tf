# Runbook 5.3 cost guardrails: a billing alarm (EstimatedCharges, us-east-1), a monthly budget
# with notifications, and a Cost Anomaly Detection monitor with a subscription. All of them
# notify one SNS topic in us-east-1, given by the caller (the alert_topic module makes one that
# CloudWatch, Budgets and Cost Anomaly Detection may publish to). Budgets and Cost Anomaly
# Detection check at creation that they may publish: the topic's policy must exist first (the
# alert_topic module's arn output waits for it).
#
# Billing metrics appear only after "Receive CloudWatch billing alerts" is turned on once in the
# account's Billing preferences (there is no API for it).
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/monitor_estimated_charges_with_cloudwatch.html

locals {
  create_monitor = var.anomaly_detection.enabled && var.anomaly_detection.monitor_arn == null
  monitor_arn    = var.anomaly_detection.enabled ? coalesce(var.anomaly_detection.monitor_arn, one(aws_ce_anomaly_monitor.this[*].arn)) : null
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
  alarm_actions       = [var.topic_arn]
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
    subscriber_sns_topic_arns = [var.topic_arn]
  }

  notification {
    comparison_operator       = "GREATER_THAN"
    threshold                 = 100
    threshold_type            = "PERCENTAGE"
    notification_type         = "FORECASTED"
    subscriber_sns_topic_arns = [var.topic_arn]
  }

  tags = var.tags
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
    address = var.topic_arn
  }

  threshold_expression {
    dimension {
      key           = "ANOMALY_TOTAL_IMPACT_ABSOLUTE"
      match_options = ["GREATER_THAN_OR_EQUAL"]
      values        = [tostring(var.anomaly_detection.threshold_usd)]
    }
  }

  tags = var.tags
}
