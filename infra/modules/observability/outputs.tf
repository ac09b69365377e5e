output "alarm_names" {
  description = "Names of the CloudWatch alarms (opsctl and the runbook read their state)."
  value = concat(
    [for a in aws_cloudwatch_metric_alarm.this : a.alarm_name],
    aws_cloudwatch_metric_alarm.response_time[*].alarm_name,
    [aws_cloudwatch_metric_alarm.running_below_desired.alarm_name],
  )
}

output "event_rule_names" {
  description = "Names of the EventBridge rules that forward ECS failures to the topic."
  value       = [for r in aws_cloudwatch_event_rule.this : r.name]
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}
