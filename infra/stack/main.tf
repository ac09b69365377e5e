# An environment: the modules composed into ALB -> ECS service -> tasks, with its registry,
# observability and cost guardrails. Every environment root (infra/envs/<env>) calls this stack
# with its own terraform.tfvars, providers and state: what differs between environments is data.

# The zones are named, never "whatever the region has": a new zone must not silently move the
# subnets. The data source checks that the named zones exist and are available.
data "aws_availability_zones" "selected" {
  state = "available"

  filter {
    name   = "zone-name"
    values = local.availability_zones
  }

  lifecycle {
    postcondition {
      condition     = length(self.names) == length(local.availability_zones)
      error_message = "Not every zone of ${jsonencode(local.availability_zones)} exists and is available in ${var.region}: set availability_zones."
    }
  }
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  name = var.service_name

  # Every IAM role of the environment carries the boundary infra/bootstrap creates for it, named
  # by convention (bootstrap iam.tf, local.env.boundary_arn): the bootstrap's apply role may
  # create no role without it. A fixed name, not a variable: no environment runs without one.
  permissions_boundary_arn = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:policy/${var.service_name}-permissions-boundary"

  # The roots' providers tag everything with these (outputs.tf, "provider"). The bootstrap's apply
  # roles key their explicit denies on Environment (infra/bootstrap/iam.tf, environment_tag).
  default_tags = {
    Project     = "aws-fastapi-devsecops"
    Environment = var.environment
    Service     = var.service_name
    ManagedBy   = "terraform"
    Root        = "infra/envs/${var.environment}"
  }

  # Two zones: what an ALB needs, and what a small service can afford to keep running.
  availability_zones = var.availability_zones != null ? var.availability_zones : ["${var.region}a", "${var.region}b"]

  # Without NAT the tasks reach AWS only: HTTPS to the interface endpoints inside the VPC and to
  # S3 (image layers) through the gateway endpoint. Behind NAT they may reach any HTTPS host.
  task_egress = var.network.nat_gateway == "none" ? {
    cidr_blocks     = [var.network.cidr_block]
    prefix_list_ids = [module.network.s3_prefix_list_id]
    } : {
    cidr_blocks     = ["0.0.0.0/0"]
    prefix_list_ids = []
  }

  # Each environment's service publishes its metrics under its own name (the EMF dimension
  # Service, docs/service.md "Metrics"), so dev's errors never count in prod's alarm.
  container_environment = merge({ APP_SERVICE_NAME = var.service_name }, var.container_environment)

  interface_services = concat(
    ["ecr.api", "ecr.dkr", "logs"],
    anytrue([for arn in values(var.container_secrets) : can(regex(":secretsmanager:", arn))]) ? ["secretsmanager"] : [],
    anytrue([for arn in values(var.container_secrets) : can(regex(":ssm:", arn))]) ? ["ssm"] : [],
  )
}

module "kms" {
  source = "../modules/kms"

  name = local.name
}

# The billing topic lives in us-east-1 and needs a key there too.
module "kms_us_east_1" {
  source = "../modules/kms"
  count  = var.cost_guardrails.enabled && var.region != "us-east-1" ? 1 : 0

  providers = {
    aws = aws.us_east_1
  }

  name = "${local.name}-billing"
}

module "network" {
  source = "../modules/network"

  name       = local.name
  cidr_block = var.network.cidr_block
  # Checked by data.aws_availability_zones.selected (its postcondition) in the same plan.
  availability_zones = local.availability_zones
  # NAT gateways and interface endpoints are billed by the hour: off with the compute (ADR 0003).
  nat_gateway = var.enable_compute ? var.network.nat_gateway : "none"
  vpc_endpoints = {
    enabled            = var.enable_compute && var.network.vpc_endpoints
    interface_services = local.interface_services
  }
  flow_logs = {
    traffic_type      = var.network.flow_logs_traffic
    retention_in_days = var.log_retention_in_days
  }
  kms_key_arn          = module.kms.key_arn
  permissions_boundary = local.permissions_boundary_arn
}

module "ecr" {
  source = "../modules/ecr"

  name         = local.name
  kms_key_arn  = module.kms.key_arn
  force_delete = var.protection.delete_images_on_destroy
}

module "alb" {
  source = "../modules/alb"

  name                  = local.name
  vpc_id                = module.network.vpc_id
  subnet_ids            = module.network.public_subnet_ids
  load_balancer_enabled = var.enable_compute
  https                 = { certificate_arn = var.certificate_arn }
  deletion_protection   = var.protection.load_balancer_deletion_protection
  access_logs = {
    # alb-logs-<account>-<region>-<environment>: dev and prod share an account and region, and
    # bucket names are global (infra/envs/README.md, "Account layout").
    bucket_name   = var.access_logs_bucket_name
    bucket_suffix = var.environment
    force_destroy = var.protection.delete_access_logs_on_destroy
  }
}

module "ecs_service" {
  source = "../modules/ecs_service"

  name               = local.name
  vpc_id             = module.network.vpc_id
  subnet_ids         = module.network.private_subnet_ids
  service_enabled    = var.enable_compute
  ecr_repository_arn = module.ecr.repository_arn

  container = {
    # Only Terraform's first revision: deployments register their own (ADR 0004). Until an
    # image exists (image_tag = null) the revision names a placeholder tag no service runs.
    image       = "${module.ecr.repository_url}:${coalesce(var.image_tag, "no-image-yet")}"
    environment = local.container_environment
    secrets     = var.container_secrets
  }
  task        = var.task
  autoscaling = var.autoscaling
  # The alarms that judge a new revision fail and roll back any deploy, whatever tool made it.
  deployment = {
    alarm_names = var.enable_compute ? module.observability.deployment_alarm_names : []
  }

  load_balancer = {
    target_group_arn        = module.alb.target_group_arn
    target_group_arn_suffix = module.alb.target_group_arn_suffix
    arn_suffix              = module.alb.arn_suffix
    security_group_id       = module.alb.security_group_id
  }
  egress                = local.task_egress
  log_retention_in_days = var.log_retention_in_days
  kms_key_arn           = module.kms.key_arn
  permissions_boundary  = local.permissions_boundary_arn
}

# Alarms and ECS failure events go to <service>-alerts, in the environment's region.
module "alerts" {
  source = "../modules/alert_topic"

  name        = "${local.name}-alerts"
  kms_key_arn = module.kms.key_arn
  emails      = var.alarm_emails
  publishers  = { AlarmsAndRulesOfThisAccountPublish = ["cloudwatch.amazonaws.com", "events.amazonaws.com"] }
}

module "observability" {
  source = "../modules/observability"

  name      = local.name
  topic_arn = module.alerts.arn
  ecs = {
    cluster_name = module.ecs_service.cluster_name
    service_name = module.ecs_service.service_name
  }
  load_balancer = var.enable_compute ? {
    arn_suffix              = module.alb.arn_suffix
    target_group_arn_suffix = module.alb.target_group_arn_suffix
  } : null
  # Where the service's own metrics are: the service-5xx alarm reads its ProcessServerErrors.
  application_metrics = {
    namespace = lookup(local.container_environment, "APP_METRICS_NAMESPACE", "AwsFastapiService")
    service   = local.container_environment.APP_SERVICE_NAME
  }
}

# Budget, billing alarm and anomaly alerts go to <service>-billing in us-east-1: billing metrics
# exist only there, and an alarm notifies topics of its own region only.
module "billing_alerts" {
  source = "../modules/alert_topic"
  count  = var.cost_guardrails.enabled ? 1 : 0

  providers = {
    aws = aws.us_east_1
  }

  name        = "${local.name}-billing"
  kms_key_arn = var.region == "us-east-1" ? module.kms.key_arn : module.kms_us_east_1[0].key_arn
  emails      = var.alarm_emails
  publishers  = { BillingServicesOfThisAccountPublish = ["cloudwatch.amazonaws.com", "budgets.amazonaws.com", "costalerts.amazonaws.com"] }
}

module "cost" {
  source = "../modules/cost"
  count  = var.cost_guardrails.enabled ? 1 : 0

  providers = {
    aws.us_east_1 = aws.us_east_1
  }

  name               = local.name
  monthly_budget_usd = var.cost_guardrails.monthly_budget_usd
  topic_arn          = module.billing_alerts[0].arn
  anomaly_detection = {
    enabled       = var.cost_guardrails.anomaly_detection
    monitor_arn   = var.cost_guardrails.anomaly_monitor_arn
    threshold_usd = var.cost_guardrails.anomaly_threshold_usd
  }
}

# The SNS topics were once part of the observability and cost modules; their state moves to the
# alert_topic module calls above, so no topic (and no confirmed e-mail subscription) is recreated.
# (The roots move everything else into module.stack: infra/envs/<env>/main.tf.)
# https://developer.hashicorp.com/terraform/language/modules/develop/refactoring
moved {
  from = module.observability.aws_sns_topic.this
  to   = module.alerts.aws_sns_topic.this
}

moved {
  from = module.observability.aws_sns_topic_policy.this
  to   = module.alerts.aws_sns_topic_policy.this
}

moved {
  from = module.observability.aws_sns_topic_subscription.email
  to   = module.alerts.aws_sns_topic_subscription.email
}

moved {
  from = module.cost[0].aws_sns_topic.this
  to   = module.billing_alerts[0].aws_sns_topic.this
}

moved {
  from = module.cost[0].aws_sns_topic_policy.this
  to   = module.billing_alerts[0].aws_sns_topic_policy.this
}

moved {
  from = module.cost[0].aws_sns_topic_subscription.email
  to   = module.billing_alerts[0].aws_sns_topic_subscription.email
}
