provider "aws" {
  region = var.region
  # A prod plan run with dev credentials (or the other way round) stops here instead of applying.
  allowed_account_ids = var.aws_account_id == null ? null : [var.aws_account_id]

  default_tags {
    tags = local.default_tags
  }

  # opsctl records each task definition revision's verdict (verified, failed, rolled back) in
  # tags named opsctl:* (ADR 0007), on Terraform's own revision too. They are not Terraform's:
  # without this, every plan after a deployment would want to remove them (found by the local
  # cloud's drift drill, localcloud/drills/test_07_terraform_drift.py).
  # https://registry.terraform.io/providers/hashicorp/aws/latest/docs#ignore_tags
  ignore_tags {
    key_prefixes = ["opsctl:"]
  }
}

# Billing metrics and the alarm on them exist only in us-east-1 (the cost module).
provider "aws" {
  alias               = "us_east_1"
  region              = "us-east-1"
  allowed_account_ids = var.aws_account_id == null ? null : [var.aws_account_id]

  default_tags {
    tags = local.default_tags
  }
}
