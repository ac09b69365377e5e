# The one output (contract 2): everything opsctl needs, so nobody copies an ARN by hand.
#   terraform -chdir=infra/envs/<env> output -json opsctl > target.json
#   opsctl --tf-dir infra/envs/<env> status      (or: opsctl --target-file target.json status)
output "opsctl" {
  description = "Target of the operations CLI: region, cluster, service, container_name, task_family, ecr_repository_url, target_group_arn, alb_url and log_group. alb_url is the URL the service is reached at, the one opsctl smoke-tests: public_url when set, else http://<load balancer DNS name>; empty while enable_compute is false."
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
  }
}
