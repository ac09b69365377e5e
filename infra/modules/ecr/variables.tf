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
  description = "Which images ECR deletes: untagged ones after untagged_expire_days, and tagged ones beyond the newest keep_tagged. Rollback (opsctl rollback) needs the previous images to still exist: keep enough."
  type = object({
    keep_tagged          = optional(number, 50)
    untagged_expire_days = optional(number, 7)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.lifecycle_policy.keep_tagged >= 5 && var.lifecycle_policy.keep_tagged <= 10000
    error_message = "lifecycle_policy.keep_tagged must be between 5 and 10000: fewer leaves nothing to roll back to."
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
