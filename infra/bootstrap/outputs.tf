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

output "github_subjects" {
  description = "The OIDC subjects (`sub`) each role trusts, once the repository's subject claim includes repo, context and job_workflow_ref (docs/security.md, \"OIDC subjects\"): compare them with what github/actions-oidc-debugger prints in each workflow."
  value = {
    ci              = local.ci_subjects
    terraform_plan  = concat(local.plan_subjects, [local.pull_request_subject])
    deploy          = { for k, e in local.env : k => e.deploy_subjects }
    terraform_apply = { for k, e in local.env : k => e.apply_subjects }
  }
}

output "permissions_boundaries" {
  description = "Per environment, the permissions boundary every IAM role of infra/envs/<env> must carry (<service_name>-permissions-boundary: infra/stack names it by the same convention)."
  value       = { for k, p in aws_iam_policy.boundary : k => p.arn }
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
