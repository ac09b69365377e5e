terraform {
  # 1.10: S3 native state locking (use_lockfile) in the backends this bootstrap serves.
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # No backend block: the bootstrap creates the state bucket, so its own first state is local.
  # README.md shows how to move it into the bucket afterwards (terraform init -migrate-state).
}
