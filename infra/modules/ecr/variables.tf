variable "name" {
  description = "Name of the repository."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$", var.name)) && length(var.name) >= 2 && length(var.name) <= 256
    error_message = "name must be a valid ECR repository name: 2-256 lowercase letters, digits, '.', '_', '-' and '/' between components."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key that encrypts the images at rest (see the kms module)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be the ARN of a KMS key (arn:aws:kms:...)."
  }
}

variable "lifecycle_policy" {
  description = "Which images ECR deletes. Images carrying a tag that starts with protected_tag_prefix (deploys and rollbacks add one to the image they run) are kept, the newest keep_protected of them, whatever else happens; untagged images expire after untagged_expire_days; of the others (CI's commit builds), those beyond the newest keep_images expire."
  type = object({
    protected_tag_prefix = optional(string, "deployed-")
    keep_protected       = optional(number, 100)
    keep_images          = optional(number, 50)
    untagged_expire_days = optional(number, 7)
  })
  default  = {}
  nullable = false

  validation {
    # Docker tag characters; and not hex digits only, or it would also match commit-SHA tags.
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$", var.lifecycle_policy.protected_tag_prefix)) && !can(regex("^[0-9a-f]+$", var.lifecycle_policy.protected_tag_prefix))
    error_message = "lifecycle_policy.protected_tag_prefix must be the start of a Docker tag (letters, digits, '_', '.', '-'; up to 64) and not made of hex digits only, which CI's commit-SHA tags would also match."
  }

  validation {
    condition     = var.lifecycle_policy.keep_protected >= 10 && var.lifecycle_policy.keep_protected <= 10000
    error_message = "lifecycle_policy.keep_protected must be between 10 and 10000: the running image and the rollback targets are among them."
  }

  validation {
    condition     = var.lifecycle_policy.keep_images >= 5 && var.lifecycle_policy.keep_images <= 10000
    error_message = "lifecycle_policy.keep_images must be between 5 and 10000: fewer leaves nothing to deploy or roll back to."
  }

  validation {
    condition     = var.lifecycle_policy.untagged_expire_days >= 1
    error_message = "lifecycle_policy.untagged_expire_days must be at least 1."
  }
}

variable "force_delete" {
  description = "Let `terraform destroy` delete the repository with its images (for throwaway environments only)."
  type        = bool
  default     = false
  nullable    = false
}

variable "tags" {
  description = "Tags for the repository (the provider's default_tags are added)."
  type        = map(string)
  default     = {}
  nullable    = false
}
