output "budget_name" {
  description = "Name of the monthly budget."
  value       = aws_budgets_budget.this.name
}

output "billing_alarm_name" {
  description = "Name of the EstimatedCharges alarm (in us-east-1)."
  value       = aws_cloudwatch_metric_alarm.billing.alarm_name
}

output "anomaly_monitor_arn" {
  description = "The anomaly monitor the subscription watches (null when anomaly detection is off)."
  value       = local.monitor_arn
}
