output "cluster_name" {
  description = "Name of the ECS cluster."
  value       = aws_ecs_cluster.this.name
}

output "cluster_arn" {
  description = "ARN of the ECS cluster."
  value       = aws_ecs_cluster.this.arn
}

output "service_name" {
  description = "Name of the ECS service (it exists only while service_enabled is true)."
  value       = var.name
}

output "service_arn" {
  description = "ARN of the ECS service (null while service_enabled is false)."
  value       = one(aws_ecs_service.this[*].id)
}

output "task_family" {
  description = "Task definition family that deployments register revisions of."
  value       = aws_ecs_task_definition.this.family
}

output "task_definition_arn" {
  description = "ARN of Terraform's own revision (deployments register later ones; ADR 0004)."
  value       = aws_ecs_task_definition.this.arn
}

output "container_name" {
  description = "Name of the application container."
  value       = var.container.name
}

output "log_group_name" {
  description = "CloudWatch Logs group of the tasks: /aws/ecs/<name> (runbook 5.1)."
  value       = aws_cloudwatch_log_group.this.name
}

output "execution_role_arn" {
  description = "Execution role (a deploy role must be allowed to pass it)."
  value       = aws_iam_role.execution.arn
}

output "task_role_arn" {
  description = "Task role (a deploy role must be allowed to pass it)."
  value       = aws_iam_role.task.arn
}

output "security_group_id" {
  description = "Security group of the tasks."
  value       = aws_security_group.this.id
}

output "deployment_alarms" {
  description = "The service's ECS deployment alarms as configured: alarm_names, enable, rollback (null while the service does not exist or names no alarm)."
  value       = try(one(aws_ecs_service.this[0].alarms), null)
}
