# The Terraform and provider versions this root needs are the stack's (infra/stack/versions.tf).
terraform {
  # Partial configuration: `terraform init -backend-config=backend.hcl` (see backend.hcl.example,
  # which the bootstrap's backend_config output fills in).
  backend "s3" {}
}
