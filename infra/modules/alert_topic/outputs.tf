output "arn" {
  description = "ARN of the topic, known once its policy is in place: Budgets and Cost Anomaly Detection check at creation that they may publish, so what notifies the topic must wait for the policy."
  # The policy's arn is the topic's: reading it here makes every user of this output depend on
  # the policy, not only on the topic.
  value = aws_sns_topic_policy.this.arn
}

output "name" {
  description = "Name of the topic."
  value       = aws_sns_topic.this.name
}
