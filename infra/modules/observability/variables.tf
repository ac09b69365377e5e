variable "name" {
  description = "Prefix of the topic, alarms, rules and dashboard (usually the service name)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9_-]{0,50}$", var.name))
    error_message = "name must be 1-51 letters, digits, '_' or '-' (it prefixes SNS, EventBridge and CloudWatch names)."
  }
}

variable "alarm_emails" {
  description = "Email addresses subscribed to the alert topic (each must confirm the subscription e-mail AWS sends)."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for e in var.alarm_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "alarm_emails must be e-mail addresses."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key that encrypts the topic; its policy must let CloudWatch and EventBridge use it (the kms module's does)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be the ARN of a KMS key (arn:aws:kms:...)."
  }
}

variable "ecs" {
  description = "The ECS cluster and service to watch."
  type = object({
    cluster_name = string
    service_name = string
  })
  nullable = false
}

variable "load_balancer" {
  description = "CloudWatch dimensions of the load balancer and target group (the arn_suffix outputs of the alb module). null while there is no load balancer: its alarms and widgets are left out."
  type = object({
    arn_suffix              = string
    target_group_arn_suffix = string
  })
  default = null
}

variable "thresholds" {
  description = "When the alarms fire. Counts are per minute; the latency is the 90th percentile in seconds."
  type = object({
    cpu_percent           = optional(number, 80)
    memory_percent        = optional(number, 80)
    elb_5xx_per_minute    = optional(number, 5)
    target_5xx_per_minute = optional(number, 5)
    p90_response_seconds  = optional(number, 1)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.thresholds.cpu_percent > 0 && var.thresholds.cpu_percent <= 100 && var.thresholds.memory_percent > 0 && var.thresholds.memory_percent <= 100
    error_message = "thresholds.cpu_percent and thresholds.memory_percent must be in (0, 100]."
  }

  validation {
    condition     = var.thresholds.elb_5xx_per_minute >= 1 && var.thresholds.target_5xx_per_minute >= 1
    error_message = "thresholds.elb_5xx_per_minute and target_5xx_per_minute must be at least 1."
  }

  validation {
    condition     = var.thresholds.p90_response_seconds > 0
    error_message = "thresholds.p90_response_seconds must be positive."
  }
}

variable "tags" {
  description = "Tags for every resource (the provider's default_tags are added)."
  type        = map(string)
  default     = {}
  nullable    = false
}
