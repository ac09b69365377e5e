# Plan-only tests of the stack (the environment composition) with a mocked AWS provider: the
# cost toggle, the egress rules that follow the NAT choice, endpoints for secrets, the billing key
# outside us-east-1, the opsctl output, one run per validation of the stack's own. Each
# environment root's tests run it with that environment's terraform.tfvars
# (infra/envs/<env>/tests).

mock_provider "aws" {
  source = "./tests/mocks"
}

mock_provider "aws" {
  alias  = "us_east_1"
  source = "./tests/mocks"
}

# A new environment, as its first terraform.tfvars has it (ADR 0003): no compute yet, and the
# account's cost guardrails owned by another root.
variables {
  environment     = "dev"
  service_name    = "fastapi-dev"
  enable_compute  = false
  cost_guardrails = { enabled = false }
  # As dev's terraform.tfvars: no domain, plain HTTP by explicit choice (the run
  # rejects_plain_http_without_the_override checks the refusal without it).
  allow_http_without_certificate = true
}

run "idle_environment_bills_nothing_hourly" {
  command = plan

  # A new environment starts with enable_compute = false (ADR 0003).
  assert {
    condition     = module.alb.arn == null && module.ecs_service.service_arn == null
    error_message = "Without compute there is no load balancer and no ECS service."
  }

  assert {
    condition     = length(module.network.nat_gateway_ids) == 0 && length(module.network.interface_endpoint_ids) == 0
    error_message = "Without compute there are no NAT gateways and no interface endpoints (billed by the hour)."
  }

  assert {
    condition     = module.ecr.repository_name == "fastapi-dev" && module.ecs_service.log_group_name == "/aws/ecs/fastapi-dev"
    error_message = "Images and logs stay while the compute is off."
  }

  assert {
    condition     = output.opsctl.alb_url == "" && output.opsctl.log_group == "/aws/ecs/fastapi-dev" && output.opsctl.cluster == "fastapi-dev"
    error_message = "The opsctl output stays complete; alb_url is empty while there is no load balancer."
  }

  assert {
    condition     = toset(module.observability.alarm_names) == toset(["fastapi-dev-cpu-high", "fastapi-dev-memory-high", "fastapi-dev-service-5xx", "fastapi-dev-running-below-desired"])
    error_message = "Load balancer alarms are left out while there is no load balancer."
  }

  assert {
    condition = output.provider.default_tags == {
      Project     = "aws-fastapi-devsecops"
      Environment = "dev"
      Service     = "fastapi-dev"
      ManagedBy   = "terraform"
      Root        = "infra/envs/dev"
    } && output.provider.ignore_tag_prefixes == ["opsctl:"] && output.provider.allowed_account_ids == null
    error_message = "The roots' providers tag everything with its environment (the apply roles' denies key on Environment) and leave opsctl's tags alone."
  }

  assert {
    condition     = module.alerts.name == "fastapi-dev-alerts" && length(module.billing_alerts) == 0
    error_message = "Alarms and ECS events go to <service>-alerts; no billing topic without the cost guardrails."
  }

  assert {
    condition     = module.network.vpc_cidr_block == "10.0.0.0/16" && length(module.network.private_subnet_ids) == 2
    error_message = "The VPC spans two zones."
  }
  assert {
    condition     = module.alb.access_logs_bucket == "alb-logs-123456789012-us-east-1-dev" # gitleaks:allow - a bucket name, not a key
    error_message = "dev's access logs go to alb-logs-<account>-<region>-dev: prod's bucket in the same account is ...-prod."
  }
}

run "running_environment" {
  # Applied against the mocked provider, so the values AWS would compute are known.
  command = apply

  variables {
    enable_compute = true
    image_tag      = "0123abc"
    # As prod's root has them (dev's leaves the account's guardrails to prod).
    cost_guardrails = { enabled = true }
  }

  assert {
    condition     = module.alb.arn != null && module.ecs_service.service_arn != null && startswith(output.opsctl.alb_url, "http://")
    error_message = "With compute on, the load balancer and the service exist, and opsctl gets the URL."
  }

  assert {
    condition     = toset(keys(module.network.interface_endpoint_ids)) == toset(["ecr.api", "ecr.dkr", "logs"]) && length(module.network.nat_gateway_ids) == 0
    error_message = "dev reaches ECR and CloudWatch Logs through VPC endpoints, without NAT (ADR 0002)."
  }

  assert {
    condition     = tolist(local.task_egress.cidr_blocks) == tolist(["10.0.0.0/16"]) && tolist(local.task_egress.prefix_list_ids) == tolist([module.network.s3_prefix_list_id])
    error_message = "Without NAT, tasks may open HTTPS to the VPC (endpoints) and to S3 (image layers) only."
  }

  # Issue 10: every role the environment creates carries the boundary the bootstrap made for it.
  assert {
    condition     = local.permissions_boundary_arn == "arn:aws:iam::123456789012:policy/fastapi-dev-permissions-boundary"
    error_message = "The environment's roles get <service_name>-permissions-boundary, the bootstrap's name for it (infra/bootstrap/iam.tf)."
  }

  assert {
    condition     = tolist(local.availability_zones) == tolist(["us-east-1a", "us-east-1b"])
    error_message = "Without availability_zones, the zones are <region>a and <region>b."
  }

  assert {
    condition     = length(module.cost) == 1 && length(module.kms_us_east_1) == 0
    error_message = "Cost guardrails are on; in us-east-1 they reuse the environment's key."
  }

  assert {
    condition     = module.billing_alerts[0].name == "fastapi-dev-billing"
    error_message = "Budget, billing alarm and anomaly alerts go to <service>-billing in us-east-1."
  }

  assert {
    condition     = length(module.observability.alarm_names) == 8
    error_message = "With a load balancer, its alarms join the ECS ones."
  }

  assert {
    condition = alltrue([
      for k in ["region", "cluster", "service", "container_name", "task_family", "ecr_repository_url", "target_group_arn", "alb_url", "log_group", "deploy_bake"] : output.opsctl[k] != ""
    ]) && length(output.opsctl) == 10
    error_message = "The opsctl output has exactly the ten fields of its contract, none empty."
  }

  assert {
    condition     = output.opsctl.deploy_bake == "10m"
    error_message = "Unless an environment says otherwise, opsctl deploy bakes for 10 minutes."
  }

  assert {
    condition     = toset(module.ecs_service.deployment_alarms.alarm_names) == toset(["fastapi-dev-target-5xx", "fastapi-dev-service-5xx", "fastapi-dev-unhealthy-hosts"]) && module.ecs_service.deployment_alarms.enable && module.ecs_service.deployment_alarms.rollback
    error_message = "A deploy from any tool is judged by the alarms on the targets' 5xx, the service's own 5xx and unhealthy targets, and rolled back on ALARM (ECS deployment alarms)."
  }

  assert {
    condition     = toset(module.observability.deployment_alarm_names) == module.ecs_service.deployment_alarms.alarm_names
    error_message = "ECS's deployment alarms are the observability module's deployment alarms (opsctl's bake watches the same)."
  }
}

run "nat_gateway_opens_https_egress" {
  command = plan

  variables {
    enable_compute = true
    image_tag      = "0123abc"
    network        = { nat_gateway = "single", vpc_endpoints = false }
  }

  assert {
    condition     = length(module.network.interface_endpoint_ids) == 0
    error_message = "No interface endpoints when they are turned off."
  }

  assert {
    condition     = tolist(local.task_egress.cidr_blocks) == tolist(["0.0.0.0/0"]) && length(local.task_egress.prefix_list_ids) == 0
    error_message = "Behind NAT, tasks may open HTTPS anywhere."
  }
}

run "secrets_bring_their_endpoint" {
  command = plan

  variables {
    enable_compute    = true
    image_tag         = "0123abc"
    container_secrets = { API_TOKEN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:fastapi-dev/token-AbCdEf" }
  }

  assert {
    condition     = contains(local.interface_services, "secretsmanager")
    error_message = "Secrets Manager secrets without NAT need the secretsmanager endpoint."
  }
}

run "billing_key_in_us_east_1_for_other_regions" {
  command = plan

  variables {
    region          = "eu-west-1"
    cost_guardrails = { enabled = true }
  }

  assert {
    condition     = length(module.kms_us_east_1) == 1
    error_message = "Outside us-east-1 the billing topic gets a key of its own in us-east-1."
  }
}

# The opsctl output contract: alb_url is the URL the service is reached at. ACM cannot issue a certificate for
# the load balancer's own *.elb.amazonaws.com name, so an HTTPS environment publishes its domain.
run "https_environment_publishes_the_url_its_certificate_covers" {
  command = plan

  variables {
    enable_compute  = true
    image_tag       = "0123abc"
    certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
    public_url      = "https://api.example.com"
  }

  assert {
    condition     = output.opsctl.alb_url == "https://api.example.com"
    error_message = "opsctl smoke-tests the public URL, not https://<load balancer DNS name>."
  }
}

run "public_url_is_empty_while_the_compute_is_off" {
  command = plan

  variables {
    public_url = "http://api.example.com"
  }

  assert {
    condition     = output.opsctl.alb_url == ""
    error_message = "Nothing answers while the compute is off: alb_url is empty (ADR 0003)."
  }
}

run "rejects_a_certificate_without_a_public_url" {
  command = plan

  variables {
    certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
  }

  expect_failures = [var.public_url]
}

run "rejects_a_certificate_with_a_plain_http_public_url" {
  command = plan

  variables {
    certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
    public_url      = "http://api.example.com"
  }

  expect_failures = [var.public_url]
}

run "rejects_a_public_url_with_a_path" {
  command = plan

  variables {
    public_url = "https://example.com/api/"
  }

  expect_failures = [var.public_url]
}

run "rejects_a_public_url_that_is_not_http" {
  command = plan

  variables {
    public_url = "ftp://api.example.com"
  }

  expect_failures = [var.public_url]
}

# The service name (too long for a load balancer) and the zones (fewer than two) are checked by
# the network and alb modules, whose tests reject them (infra/modules/*/tests).
run "rejects_invalid_environment" {
  command = plan

  variables {
    environment = "Dev"
  }

  expect_failures = [var.environment]
}

run "rejects_invalid_region" {
  command = plan

  variables {
    region = "virginia"
  }

  expect_failures = [var.region]
}

run "the_account_check_reaches_the_providers" {
  command = plan

  variables {
    aws_account_id = "111111111111"
  }

  assert {
    condition     = output.provider.allowed_account_ids == ["111111111111"]
    error_message = "With aws_account_id, the roots' providers refuse any other account's credentials."
  }
}

run "rejects_invalid_account_id" {
  command = plan

  variables {
    aws_account_id = "1234"
  }

  expect_failures = [var.aws_account_id]
}

run "rejects_compute_without_an_image" {
  command = plan

  variables {
    enable_compute = true
  }

  expect_failures = [var.enable_compute]
}

# Issue 10: nothing enforced HTTPS. A running environment without a certificate needs the
# explicit override (dev's terraform.tfvars has it; prod's never).
run "rejects_plain_http_without_the_override" {
  command = plan

  variables {
    enable_compute                 = true
    image_tag                      = "0123abc"
    allow_http_without_certificate = false
  }

  expect_failures = [var.certificate_arn]
}

# The boundary lets the execution role read secrets named under <service_name>/ only: another
# ARN would fail at task start, so the plan refuses it with the reason.
run "rejects_secrets_outside_the_environments_name" {
  command = plan

  variables {
    container_secrets = { API_TOKEN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:fastapi-prod/token-AbCdEf" }
  }

  expect_failures = [var.container_secrets]
}

run "rejects_invalid_image_tag" {
  command = plan

  variables {
    image_tag = "-bad tag"
  }

  expect_failures = [var.image_tag]
}

run "rejects_no_way_out_of_the_vpc" {
  command = plan

  variables {
    network = { nat_gateway = "none", vpc_endpoints = false }
  }

  expect_failures = [var.network]
}

run "rejects_an_invalid_bake" {
  command = plan

  variables {
    deploy_bake = "ten minutes"
  }

  expect_failures = [var.deploy_bake]
}

run "rejects_a_bake_over_a_day" {
  command = plan

  variables {
    deploy_bake = "25h"
  }

  expect_failures = [var.deploy_bake]
}
