variable "name" {
  description = "Name of the key's alias (alias/<name>) and its Name tag."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9/_-]{1,240}$", var.name)) && !startswith(var.name, "aws/")
    error_message = "name must be 1-240 characters of letters, digits, '/', '_' or '-', and must not start with 'aws/' (reserved for AWS managed keys)."
  }
}

variable "deletion_window_in_days" {
  description = "Days a scheduled deletion waits before the key is gone (and everything encrypted with it unreadable)."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "deletion_window_in_days must be between 7 and 30 (the range AWS KMS accepts)."
  }
}

variable "tags" {
  description = "Tags for the key (the provider's default_tags are added)."
  type        = map(string)
  default     = {}
  nullable    = false
}
