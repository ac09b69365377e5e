variable "region" {
  description = "Region of the state bucket, the lock table and the environments' resources the roles may touch."
  type        = string
  default     = "us-east-1"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as us-east-1."
  }
}

variable "project" {
  description = "Prefix of the bootstrap's own names (roles, key alias, lock table)."
  type        = string
  default     = "fastapi"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.project))
    error_message = "project must be 2-21 lowercase letters, digits or '-', starting with a letter."
  }
}

variable "github" {
  description = <<-EOT
    The GitHub repository whose workflows may assume the roles, and how. The repository's OIDC
    subject claim must be customised once to repo, context and job_workflow_ref (docs/security.md,
    "OIDC subjects"): each role then trusts a workflow file at a listed branch, in a context. The
    CI role: workflows.ci on a push to the branches. The plan role: workflows.terraform on the
    branches and on pull requests. Each environment's deploy role: workflows.rollout in the GitHub
    environment <env>; its Terraform apply role: workflows.terraform in <env>-infra (protect both
    with required reviewers), both from the branches. An account has one GitHub OIDC provider:
    pass oidc_provider_arn if it already exists.
  EOT
  type = object({
    repository        = string
    branches          = optional(list(string), ["main"])
    oidc_provider_arn = optional(string)
    # Set for a repository that uses GitHub's immutable subject claims (created or renamed on or
    # after 2026-07-15): its owner's and its own numeric ids (iam.tf, local.subject_repo).
    immutable_ids = optional(object({
      owner      = number
      repository = number
    }))
    workflows = optional(object({
      ci        = optional(string, "ci.yml")
      rollout   = optional(string, "ecs-rollout.yml")
      terraform = optional(string, "terraform.yml")
    }), {})
  })
  nullable = false

  validation {
    condition     = can(regex("^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$", var.github.repository))
    error_message = "github.repository must be \"owner/name\"."
  }

  validation {
    condition     = var.github.immutable_ids == null || try(var.github.immutable_ids.owner > 0 && var.github.immutable_ids.repository > 0 && floor(var.github.immutable_ids.owner) == var.github.immutable_ids.owner && floor(var.github.immutable_ids.repository) == var.github.immutable_ids.repository, false)
    error_message = "github.immutable_ids must be the owner's and the repository's positive integer ids (gh api repos/<owner>/<repo> --jq '.owner.id, .id')."
  }

  validation {
    condition     = length(var.github.branches) > 0 && alltrue([for b in var.github.branches : can(regex("^[A-Za-z0-9._/-]+$", b)) && !strcontains(b, "*")])
    error_message = "github.branches must list exact branch names (no wildcards: a role trusts exact subjects only)."
  }

  validation {
    condition     = alltrue([for file in values(var.github.workflows) : can(regex("^[A-Za-z0-9._-]+\\.ya?ml$", file))])
    error_message = "github.workflows must name workflow files of .github/workflows (for example terraform.yml), without a path."
  }

  validation {
    condition     = var.github.oidc_provider_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/token.actions.githubusercontent.com$", var.github.oidc_provider_arn))
    error_message = "github.oidc_provider_arn must be the ARN of the token.actions.githubusercontent.com OIDC provider."
  }
}

variable "environments" {
  description = "The environments this account hosts, by name, with the service name their env root uses (infra/envs/<env>: cluster, service, task family and ECR repository are all named after it). The roles are scoped to these names."
  type = map(object({
    service_name = string
  }))
  default = {
    dev  = { service_name = "fastapi-dev" }
    prod = { service_name = "fastapi-prod" }
  }
  nullable = false

  validation {
    condition     = length(var.environments) > 0 && alltrue([for k, v in var.environments : can(regex("^[a-z][a-z0-9-]{0,20}$", k)) && can(regex("^[a-z][a-z0-9-]{0,38}[a-z0-9]$", v.service_name))])
    error_message = "environments keys must be short lowercase names (dev, prod) and service_name 2-40 lowercase letters, digits or '-'."
  }

  validation {
    # Each apply role may manage the IAM roles named <service_name>-*: that pattern must not also
    # match the bootstrap's own roles (<project>-github-*), or an apply role could rewrite them.
    condition     = alltrue([for v in values(var.environments) : v.service_name != var.project && !startswith("${var.project}-github-", "${v.service_name}-") && !startswith("${v.service_name}-", "${var.project}-github-")])
    error_message = "No environments service_name may equal project, nor start with or be a prefix of \"<project>-github-\": its apply role could then manage the bootstrap's own roles."
  }

  validation {
    # Same reason between environments: dev's pattern fastapi-dev-* would match the roles of a
    # service named fastapi-dev-eu.
    condition = alltrue(flatten([
      for a, va in var.environments : [
        for b, vb in var.environments : a == b || !startswith("${vb.service_name}-", "${va.service_name}-")
      ]
    ]))
    error_message = "No environments service_name may start with another's service_name followed by '-': one apply role could then manage the other environment's roles (<service_name>-*)."
  }
}

variable "state_bucket_name" {
  description = "Name of the state bucket; null: tfstate-<account>-<region>."
  type        = string
  default     = null

  validation {
    condition     = var.state_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", coalesce(var.state_bucket_name, "x")))
    error_message = "state_bucket_name must be a valid S3 bucket name."
  }
}

variable "deletion_protection" {
  description = "Protect the lock table from deletion (turn off only to tear a test account down)."
  type        = bool
  default     = true
  nullable    = false
}

variable "state_version_retention_days" {
  description = "Days a superseded state version is kept (to recover from a bad apply)."
  type        = number
  default     = 90
  nullable    = false

  validation {
    condition     = var.state_version_retention_days >= 1
    error_message = "state_version_retention_days must be at least 1."
  }
}
