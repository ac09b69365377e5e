output "state_bucket" {
  description = "The state bucket (backend.hcl: bucket)."
  value       = aws_s3_bucket.state.id
}

output "lock_table" {
  description = "The DynamoDB lock table (backend.hcl: dynamodb_table)."
  value       = aws_dynamodb_table.locks.name
}

output "state_kms_key_arn" {
  description = "KMS key of the state bucket and the lock table (backend.hcl: kms_key_id)."
  value       = aws_kms_key.state.arn
}

output "github_oidc_provider_arn" {
  description = "The GitHub OIDC provider the roles trust."
  value       = local.oidc_arn
}

output "github_roles" {
  description = "Role ARNs for the workflows' aws-actions/configure-aws-credentials `role-to-assume`: ci and terraform_plan, and per environment deploy and terraform_apply."
  value = {
    ci              = aws_iam_role.ci.arn
    terraform_plan  = aws_iam_role.plan.arn
    deploy          = { for k, r in aws_iam_role.deploy : k => r.arn }
    terraform_apply = { for k, r in aws_iam_role.apply : k => r.arn }
  }
}

output "backend_config" {
  description = "Content of backend.hcl for each environment root, and for the bootstrap's own state (key bootstrap)."
  value = {
    for name in concat(keys(var.environments), ["bootstrap"]) : name => join("\n", [
      "bucket         = \"${aws_s3_bucket.state.id}\"",
      "key            = \"${name}/terraform.tfstate\"",
      "region         = \"${var.region}\"",
      "encrypt        = true",
      "kms_key_id     = \"${aws_kms_key.state.arn}\"",
      "use_lockfile   = true",
      "dynamodb_table = \"${aws_dynamodb_table.locks.name}\"",
      "",
    ])
  }
}
