# Plan-only tests with a mocked AWS provider: no credentials, no network.

# The module uses only the us-east-1 configuration; Terraform still instantiates the default one.
mock_provider "aws" {}

mock_provider "aws" {
  alias = "us_east_1"
}

variables {
  name               = "fastapi-dev"
  monthly_budget_usd = 100
  topic_arn          = "arn:aws:sns:us-east-1:123456789012:fastapi-dev-billing"
}

run "guardrails_match_runbook_5_3" {
  command = plan

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.billing.namespace == "AWS/Billing" &&
      aws_cloudwatch_metric_alarm.billing.metric_name == "EstimatedCharges" &&
      aws_cloudwatch_metric_alarm.billing.dimensions == tomap({ Currency = "USD" })
    )
    error_message = "A billing alarm on AWS/Billing EstimatedCharges in USD (runbook 5.3)."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.billing.threshold == 100 && aws_cloudwatch_metric_alarm.billing.alarm_actions == toset([var.topic_arn])
    error_message = "The billing alarm fires above the monthly budget and notifies the billing topic."
  }

  assert {
    condition     = aws_budgets_budget.this.budget_type == "COST" && aws_budgets_budget.this.time_unit == "MONTHLY" && aws_budgets_budget.this.limit_amount == "100.00" && aws_budgets_budget.this.limit_unit == "USD"
    error_message = "A monthly cost budget of the given amount in USD."
  }

  assert {
    condition     = toset([for n in aws_budgets_budget.this.notification : "${n.notification_type}:${n.threshold}"]) == toset(["ACTUAL:80", "FORECASTED:100"])
    error_message = "Budget notifications at 80% of actual and 100% of forecast spend."
  }

  assert {
    condition     = alltrue([for n in aws_budgets_budget.this.notification : n.subscriber_sns_topic_arns == toset([var.topic_arn])])
    error_message = "Budget notifications go to the billing topic."
  }

  assert {
    condition     = aws_ce_anomaly_monitor.this[0].monitor_type == "DIMENSIONAL" && aws_ce_anomaly_monitor.this[0].monitor_dimension == "SERVICE"
    error_message = "A Cost Anomaly Detection monitor over AWS services."
  }

  assert {
    condition     = aws_ce_anomaly_subscription.this[0].frequency == "IMMEDIATE" && one(aws_ce_anomaly_subscription.this[0].subscriber).type == "SNS" && one(aws_ce_anomaly_subscription.this[0].subscriber).address == var.topic_arn
    error_message = "Anomalies are reported immediately to the billing topic."
  }

  assert {
    condition     = tolist(one(aws_ce_anomaly_subscription.this[0].threshold_expression[0].dimension).values) == tolist(["20"])
    error_message = "Anomalies with a total impact of 20 USD or more are reported."
  }
}

run "existing_monitor_is_reused" {
  command = plan

  variables {
    anomaly_detection = { monitor_arn = "arn:aws:ce::123456789012:anomalymonitor/11111111-2222-3333-4444-555555555555" }
  }

  assert {
    condition     = length(aws_ce_anomaly_monitor.this) == 0 && tolist(aws_ce_anomaly_subscription.this[0].monitor_arn_list) == tolist(["arn:aws:ce::123456789012:anomalymonitor/11111111-2222-3333-4444-555555555555"])
    error_message = "With monitor_arn, no second monitor is created (an account may have only one) and the subscription watches the given one."
  }
}

run "anomaly_detection_off" {
  command = plan

  variables {
    anomaly_detection = { enabled = false }
  }

  assert {
    condition     = length(aws_ce_anomaly_monitor.this) == 0 && length(aws_ce_anomaly_subscription.this) == 0
    error_message = "anomaly_detection.enabled = false creates neither monitor nor subscription."
  }
}

run "rejects_invalid_name" {
  command = plan

  variables {
    name = "fastapi dev"
  }

  expect_failures = [var.name]
}

run "rejects_non_positive_budget" {
  command = plan

  variables {
    monthly_budget_usd = 0
  }

  expect_failures = [var.monthly_budget_usd]
}

run "rejects_topic_outside_us_east_1" {
  command = plan

  variables {
    topic_arn = "arn:aws:sns:eu-west-1:123456789012:fastapi-dev-billing"
  }

  expect_failures = [var.topic_arn]
}

run "rejects_non_positive_anomaly_threshold" {
  command = plan

  variables {
    anomaly_detection = { threshold_usd = 0 }
  }

  expect_failures = [var.anomaly_detection]
}

run "rejects_invalid_monitor_arn" {
  command = plan

  variables {
    anomaly_detection = { monitor_arn = "monitor-1" }
  }

  expect_failures = [var.anomaly_detection]
}
