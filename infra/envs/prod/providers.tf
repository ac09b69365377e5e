provider "aws" {
  region = var.region
  # A prod plan run with dev credentials (or the other way round) stops here instead of applying.
  allowed_account_ids = var.aws_account_id == null ? null : [var.aws_account_id]

  default_tags {
    tags = local.default_tags
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
