variable "name" {
  description = "Prefix of the budget, the alarm, the topic and the anomaly monitor."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9_-]{0,50}$", var.name))
    error_message = "name must be 1-51 letters, digits, '_' or '-'."
  }
}

variable "monthly_budget_usd" {
  description = "Monthly cost budget in USD: notifications at 80% of actual and 100% of forecast spend; the billing alarm fires above it."
  type        = number

  validation {
    condition     = var.monthly_budget_usd > 0
    error_message = "monthly_budget_usd must be positive."
  }
}

variable "alert_emails" {
  description = "Addresses subscribed to the billing topic (budget, billing alarm and cost anomaly alerts). Each must confirm the subscription."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for e in var.alert_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "alert_emails must be e-mail addresses."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key in us-east-1 for the billing topic (CloudWatch, Budgets and Cost Anomaly Detection must be allowed to use it, as the kms module's policy does)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:us-east-1:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key in us-east-1, where the billing topic lives."
  }
}

variable "anomaly_detection" {
  description = "Cost Anomaly Detection. An account can have only one AWS-services monitor: if it already has one (another environment in the same account), pass its ARN as monitor_arn and this module only subscribes to it."
  type = object({
    enabled       = optional(bool, true)
    monitor_arn   = optional(string)
    threshold_usd = optional(number, 20)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.anomaly_detection.threshold_usd > 0
    error_message = "anomaly_detection.threshold_usd must be positive."
  }

  validation {
    condition     = var.anomaly_detection.monitor_arn == null || can(regex("^arn:aws[a-z-]*:ce::[0-9]{12}:anomalymonitor/", var.anomaly_detection.monitor_arn))
    error_message = "anomaly_detection.monitor_arn must be a Cost Anomaly Detection monitor ARN (arn:aws:ce::<account>:anomalymonitor/<id>)."
  }
}

variable "tags" {
  description = "Tags for every resource (the provider's default_tags are added)."
  type        = map(string)
  default     = {}
  nullable    = false
}
