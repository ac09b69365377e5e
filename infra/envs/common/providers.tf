# The stack's settings (infra/stack/outputs.tf, "provider"): the region, the account check, the
# tags every resource gets and the tags opsctl owns.
provider "aws" {
  region              = module.stack.provider.region
  allowed_account_ids = module.stack.provider.allowed_account_ids

  default_tags {
    tags = module.stack.provider.default_tags
  }

  ignore_tags {
    key_prefixes = module.stack.provider.ignore_tag_prefixes
  }
}

# Billing metrics and the alarm on them exist only in us-east-1 (the cost module).
provider "aws" {
  alias               = "us_east_1"
  region              = "us-east-1"
  allowed_account_ids = module.stack.provider.allowed_account_ids

  default_tags {
    tags = module.stack.provider.default_tags
  }
}
