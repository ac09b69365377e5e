# The one output: the opsctl output contract (docs/architecture.md#contracts), from the stack.
#   opsctl --tf-dir infra/envs/<env> status
output "opsctl" {
  description = "Target of the operations CLI (infra/stack/outputs.tf): region, cluster, service, container_name, task_family, ecr_repository_url, target_group_arn, alb_url, log_group and deploy_bake."
  value       = module.stack.opsctl
}
