output "alarm_names" {
  description = "Names of the CloudWatch alarms (opsctl and the runbook read their state)."
  value = concat(
    [for a in aws_cloudwatch_metric_alarm.this : a.alarm_name],
    aws_cloudwatch_metric_alarm.response_time[*].alarm_name,
    [aws_cloudwatch_metric_alarm.running_below_desired.alarm_name],
  )
}

output "deployment_alarm_names" {
  description = "The alarms that judge a new revision: the targets' 5xx, the service's own 5xx and unhealthy targets (those that exist). The stack wires them into the ECS service's deployment alarms, and opsctl's bake window watches them."
  value       = [for key in local.deployment_alarms : aws_cloudwatch_metric_alarm.this[key].alarm_name if contains(keys(aws_cloudwatch_metric_alarm.this), key)]
}

output "event_rule_names" {
  description = "Names of the EventBridge rules that forward ECS failures to the topic."
  value       = [for r in aws_cloudwatch_event_rule.this : r.name]
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}
