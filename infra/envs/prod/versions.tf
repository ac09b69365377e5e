terraform {
  # 1.10: S3 native state locking (use_lockfile, ADR 0001).
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # Partial configuration: `terraform init -backend-config=backend.hcl` (see backend.hcl.example,
  # which the bootstrap's backend_config output fills in).
  backend "s3" {}
}
