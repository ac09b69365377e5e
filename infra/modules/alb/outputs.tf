output "arn" {
  description = "ARN of the load balancer (null while load_balancer_enabled is false)."
  value       = one(aws_lb.this[*].arn)
}

output "arn_suffix" {
  description = "CloudWatch dimension LoadBalancer (app/<name>/<id>); null while disabled."
  value       = one(aws_lb.this[*].arn_suffix)
}

output "dns_name" {
  description = "DNS name of the load balancer (null while disabled)."
  value       = one(aws_lb.this[*].dns_name)
}

output "zone_id" {
  description = "Hosted zone of the load balancer, for a Route 53 alias record (null while disabled)."
  value       = one(aws_lb.this[*].zone_id)
}

output "url" {
  description = "Base URL of the service (https:// with a certificate, http:// without); empty while disabled."
  value       = var.load_balancer_enabled ? "${local.https ? "https" : "http"}://${aws_lb.this[0].dns_name}" : ""
}

output "security_group_id" {
  description = "Security group of the load balancer: the task security group admits traffic from it."
  value       = aws_security_group.this.id
}

output "target_group_arn" {
  description = "ARN of the `ip` target group. Available only once a listener forwards to it, because ECS refuses a target group that no load balancer uses."
  value       = aws_lb_target_group.this.arn
  depends_on  = [aws_lb_listener.http, aws_lb_listener.https]
}

output "target_group_arn_suffix" {
  description = "CloudWatch dimension TargetGroup (targetgroup/<name>/<id>)."
  value       = aws_lb_target_group.this.arn_suffix
}

output "access_logs_bucket" {
  description = "Bucket of the access logs (objects under AWSLogs/<account>/elasticloadbalancing/<region>/...)."
  # .bucket, not .id: the same name, but known when planning.
  value = aws_s3_bucket.access_logs.bucket
}
