# Every environment root (infra/envs/<env>) links this file and the other *.tf files of this
# folder: one copy of the wiring, so the roots cannot drift apart. A root is the stack
# (infra/stack) with that root's terraform.tfvars, provider lock and state (backend.hcl);
# everything that makes an environment differ from the others is in its terraform.tfvars.
module "stack" {
  source = "../../stack"

  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }

  environment                    = var.environment
  service_name                   = var.service_name
  region                         = var.region
  availability_zones             = var.availability_zones
  aws_account_id                 = var.aws_account_id
  enable_compute                 = var.enable_compute
  image_tag                      = var.image_tag
  network                        = var.network
  task                           = var.task
  autoscaling                    = var.autoscaling
  container_environment          = var.container_environment
  container_secrets              = var.container_secrets
  certificate_arn                = var.certificate_arn
  allow_http_without_certificate = var.allow_http_without_certificate
  public_url                     = var.public_url
  log_retention_in_days          = var.log_retention_in_days
  alarm_emails                   = var.alarm_emails
  cost_guardrails                = var.cost_guardrails
  protection                     = var.protection
  access_logs_bucket_name        = var.access_logs_bucket_name
  deploy_bake                    = var.deploy_bake
}

# This root once composed the modules itself: their state moves into the stack, so that an
# environment created before the stack plans no change (infra/README.md, "One stack").
# https://developer.hashicorp.com/terraform/language/modules/develop/refactoring
moved {
  from = module.kms
  to   = module.stack.module.kms
}

moved {
  from = module.kms_us_east_1
  to   = module.stack.module.kms_us_east_1
}

moved {
  from = module.network
  to   = module.stack.module.network
}

moved {
  from = module.ecr
  to   = module.stack.module.ecr
}

moved {
  from = module.alb
  to   = module.stack.module.alb
}

moved {
  from = module.ecs_service
  to   = module.stack.module.ecs_service
}

moved {
  from = module.observability
  to   = module.stack.module.observability
}

moved {
  from = module.cost
  to   = module.stack.module.cost
}
