terraform {
  # 1.10: S3 native state locking in the roots (use_lockfile, ADR 0001).
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
      # Billing metrics, their alarm and the billing topic exist only in us-east-1 (the cost
      # module): the roots pass a second configuration for it.
      configuration_aliases = [aws.us_east_1]
    }
  }
}
