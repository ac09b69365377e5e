variable "name" {
  description = "Prefix of the budget, the alarm and the anomaly monitor."
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

variable "topic_arn" {
  description = "SNS topic in us-east-1 that the billing alarm, the budget notifications and the anomaly subscription notify. CloudWatch, Budgets and Cost Anomaly Detection of this account must be allowed to publish to it and to use its key (the alert_topic and kms modules do that), before this module creates them."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:us-east-1:[0-9]{12}:[A-Za-z0-9_-]+$", var.topic_arn))
    error_message = "topic_arn must be an SNS topic in us-east-1, where billing metrics and their alarm live (an alarm notifies topics of its own region only)."
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
