# dev as committed: plan-only tests with dev's terraform.tfvars and a mocked AWS provider (the
# stack's own tests, infra/stack/tests, cover its logic).

mock_provider "aws" {
  source = "../../stack/tests/mocks"
}

mock_provider "aws" {
  alias  = "us_east_1"
  source = "../../stack/tests/mocks"
}

run "root_publishes_devs_target" {
  command = plan

  assert {
    condition     = output.opsctl.cluster == "fastapi-dev" && output.opsctl.log_group == "/aws/ecs/fastapi-dev" && module.stack.provider.default_tags.Environment == "dev"
    error_message = "opsctl --tf-dir infra/envs/dev targets fastapi-dev, and dev's resources are tagged Environment = dev."
  }
}

run "dev_is_rebuilt_freely_and_leaves_the_account_to_prod" {
  command = plan

  module {
    source = "../../stack"
  }

  # dev's terraform.tfvars: one root per account owns the budget, the billing alarm and the one
  # AWS-services anomaly monitor an account may have (infra/tests/test_env_names.py plans both).
  assert {
    condition     = length(module.cost) == 0 && length(module.kms_us_east_1) == 0 && length(module.billing_alerts) == 0
    error_message = "dev shares its account with prod, whose root owns the account-wide cost guardrails."
  }

  assert {
    condition     = var.allow_http_without_certificate && var.certificate_arn == null
    error_message = "dev has no domain: it serves plain HTTP, by the explicit override in its terraform.tfvars."
  }

  assert {
    condition     = module.alb.access_logs_bucket == "alb-logs-123456789012-us-east-1-dev" # gitleaks:allow - a bucket name, not a key
    error_message = "dev's access logs go to alb-logs-<account>-<region>-dev: prod's bucket in the same account is ...-prod."
  }
}
