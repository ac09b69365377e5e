# prod as committed: plan-only tests with prod's terraform.tfvars and a mocked AWS provider. The
# stack's own tests (infra/stack/tests) cover its logic; these check what prod's values must
# give, whatever else changes in terraform.tfvars.

mock_provider "aws" {
  source = "../../stack/tests/mocks"
}

mock_provider "aws" {
  alias  = "us_east_1"
  source = "../../stack/tests/mocks"
}

run "root_publishes_prods_target_and_tags" {
  command = plan

  assert {
    condition = (
      output.opsctl.cluster == "fastapi-prod" && output.opsctl.service == "fastapi-prod" &&
      output.opsctl.task_family == "fastapi-prod" && output.opsctl.log_group == "/aws/ecs/fastapi-prod"
    )
    error_message = "opsctl --tf-dir infra/envs/prod targets fastapi-prod (the opsctl output contract)."
  }

  assert {
    condition     = module.stack.provider.default_tags.Environment == "prod" && module.stack.provider.default_tags.Root == "infra/envs/prod"
    error_message = "Everything prod creates is tagged Environment = prod: the bootstrap's apply roles keep dev's role away from it by that tag."
  }
}

# prod running, as its terraform.tfvars will have it once an image exists (ADR 0003).
run "running_prod_survives_a_zone_or_a_task_failing" {
  command = plan

  module {
    source = "../../stack"
  }

  variables {
    enable_compute  = true
    image_tag       = "0123abc"
    certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
    public_url      = "https://api.example.com"
  }

  assert {
    condition     = var.autoscaling.min_capacity >= 2 && length(module.network.private_subnet_ids) >= 2
    error_message = "prod runs at least two tasks in at least two zones: one zone or one task can fail without an outage."
  }

  assert {
    condition     = length(module.network.nat_gateway_ids) == 0 && toset(keys(module.network.interface_endpoint_ids)) == toset(["ecr.api", "ecr.dkr", "logs"])
    error_message = "prod's tasks reach ECR and CloudWatch Logs through VPC endpoints, with no internet egress (ADR 0002)."
  }

  assert {
    condition     = length(module.observability.alarm_names) == 8
    error_message = "With its load balancer, prod alarms on the load balancer's 5xx, unhealthy hosts and latency as well as on ECS and the service's own 5xx."
  }
}

# Issue 10: prod refuses to run without a certificate, unless the documented override is set
# (docs/security.md, "HTTPS"); its terraform.tfvars never sets it.
run "prod_refuses_to_serve_plain_http" {
  command = plan

  module {
    source = "../../stack"
  }

  variables {
    enable_compute = true
    image_tag      = "0123abc"
  }

  expect_failures = [var.certificate_arn]
}

run "prod_serves_plain_http_only_with_the_explicit_override" {
  command = plan

  module {
    source = "../../stack"
  }

  variables {
    enable_compute                 = true
    image_tag                      = "0123abc"
    allow_http_without_certificate = true
  }

  # The plan itself is the test: without the override it is refused (the run above).
  assert {
    condition     = output.opsctl.service == "fastapi-prod" && var.certificate_arn == null
    error_message = "With the override, prod plans with its compute on and no certificate."
  }
}

run "prod_keeps_what_cannot_be_recreated" {
  command = plan

  module {
    source = "../../stack"
  }

  assert {
    condition     = var.protection.load_balancer_deletion_protection && !var.protection.delete_images_on_destroy && !var.protection.delete_access_logs_on_destroy
    error_message = "prod's load balancer has deletion protection, and destroy never deletes its images or access logs."
  }

  assert {
    condition     = !var.allow_http_without_certificate
    error_message = "prod's terraform.tfvars never accepts plain HTTP."
  }

  assert {
    condition     = var.log_retention_in_days >= 365
    error_message = "prod keeps its task and flow logs for at least a year."
  }

  assert {
    condition     = module.alb.access_logs_bucket == "alb-logs-123456789012-us-east-1-prod" # gitleaks:allow - a bucket name, not a key
    error_message = "prod's access logs go to alb-logs-<account>-<region>-prod: dev's bucket in the same account is ...-dev."
  }
}

run "prod_owns_the_accounts_cost_guardrails" {
  command = plan

  module {
    source = "../../stack"
  }

  # One root per account owns the budget, the billing alarm and the one AWS-services anomaly
  # monitor an account may have (infra/envs/README.md, "Account layout").
  assert {
    condition     = length(module.cost) == 1 && module.cost[0].budget_name == "fastapi-prod-monthly" && module.cost[0].billing_alarm_name == "fastapi-prod-estimated-charges"
    error_message = "prod's root owns the account's budget and billing alarm."
  }

  assert {
    condition     = var.cost_guardrails.anomaly_detection && var.cost_guardrails.anomaly_monitor_arn == null
    error_message = "prod's root creates the account's anomaly monitor."
  }

  assert {
    condition     = length(module.billing_alerts) == 1 && module.billing_alerts[0].name == "fastapi-prod-billing"
    error_message = "Cost alerts go to fastapi-prod-billing in us-east-1."
  }
}
