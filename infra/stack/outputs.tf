# The opsctl output contract (docs/architecture.md#contracts): everything opsctl needs, so nobody
# copies an ARN by hand. Each environment root publishes it as its one output:
#   terraform -chdir=infra/envs/<env> output -json opsctl > target.json
#   opsctl --tf-dir infra/envs/<env> status      (or: opsctl --target-file target.json status)
output "opsctl" {
  description = "Target of the operations CLI: region, cluster, service, container_name, task_family, ecr_repository_url, target_group_arn, alb_url, log_group and deploy_bake. alb_url is the URL the service is reached at, the one opsctl smoke-tests: public_url when set, else http://<load balancer DNS name>; empty while enable_compute is false. deploy_bake is how long `opsctl deploy` keeps watching after the deployment completed, unless --bake says otherwise."
  value = {
    region             = var.region
    cluster            = module.ecs_service.cluster_name
    service            = module.ecs_service.service_name
    container_name     = module.ecs_service.container_name
    task_family        = module.ecs_service.task_family
    ecr_repository_url = module.ecr.repository_url
    target_group_arn   = module.alb.target_group_arn
    # The name the service is reached at (and the certificate covers), else the load balancer's.
    alb_url   = var.enable_compute ? (var.public_url != null ? var.public_url : module.alb.url) : ""
    log_group = module.ecs_service.log_group_name
    # How long `opsctl deploy` watches alarms, 5xx, target health and the new tasks after the
    # deployment completed (its bake window): per environment, in terraform.tfvars.
    deploy_bake = var.deploy_bake
  }
}

# What the roots' provider blocks need: one definition for every environment. Computed from the
# variables only (no resource), so a provider may be configured from it.
output "provider" {
  description = "Settings of the roots' AWS providers: region, allowed_account_ids (null: no check), default_tags (Project, Environment, Service, ManagedBy, Root) and ignore_tag_prefixes (tags other tools own)."
  value = {
    region              = var.region
    allowed_account_ids = var.aws_account_id == null ? null : [var.aws_account_id]
    default_tags        = local.default_tags
    # opsctl records each task definition revision's verdict (verified, failed, rolled back) in
    # tags named opsctl:* (ADR 0007), on Terraform's own revision too. They are not Terraform's:
    # without this, every plan after a deployment would want to remove them (found by the local
    # cloud's drift drill, localcloud/drills/test_07_terraform_drift.py).
    # https://registry.terraform.io/providers/hashicorp/aws/latest/docs#ignore_tags
    ignore_tag_prefixes = ["opsctl:"]
  }
}
