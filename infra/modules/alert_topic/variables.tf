variable "name" {
  description = "Name of the topic."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,256}$", var.name))
    error_message = "name must be 1-256 letters, digits, '_' or '-' (an SNS topic name)."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key that encrypts the topic. Its policy must let the publishers use it (the kms module's does): with the AWS managed alias/aws/sns, CloudWatch alarms and EventBridge fail to publish, silently."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be the ARN of a KMS key (arn:aws:kms:...)."
  }
}

variable "publishers" {
  description = "Who may publish, as statement id => AWS service principals (cloudwatch.amazonaws.com, events.amazonaws.com, ...). Each statement admits its services for this account only (aws:SourceAccount)."
  type        = map(list(string))
  nullable    = false

  validation {
    condition     = length(var.publishers) > 0 && alltrue([for sid, services in var.publishers : can(regex("^[A-Za-z0-9]+$", sid)) && length(services) > 0 && alltrue([for s in services : endswith(s, ".amazonaws.com")])])
    error_message = "publishers must map statement ids (letters and digits) to non-empty lists of AWS service principals (<service>.amazonaws.com)."
  }
}

variable "emails" {
  description = "Addresses subscribed to the topic by e-mail (each must confirm the subscription e-mail AWS sends)."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for e in var.emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "emails must be e-mail addresses."
  }
}

variable "tags" {
  description = "Tags for the topic (the provider's default_tags are added)."
  type        = map(string)
  default     = {}
  nullable    = false
}
