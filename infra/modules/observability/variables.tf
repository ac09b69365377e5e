variable "name" {
  description = "Prefix of the alarms, rules and dashboard (usually the service name)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9_-]{0,50}$", var.name))
    error_message = "name must be 1-51 letters, digits, '_' or '-' (it prefixes EventBridge and CloudWatch names)."
  }
}

variable "topic_arn" {
  description = "SNS topic every alarm (on ALARM and OK) and every ECS failure event notifies. CloudWatch and EventBridge of this account must be allowed to publish to it, and to use its key (the alert_topic and kms modules do that)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$", var.topic_arn))
    error_message = "topic_arn must be the ARN of an SNS topic (arn:aws:sns:<region>:<account>:<name>)."
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
    cpu_percent            = optional(number, 80)
    memory_percent         = optional(number, 80)
    elb_5xx_per_minute     = optional(number, 5)
    target_5xx_per_minute  = optional(number, 5)
    service_5xx_per_minute = optional(number, 5)
    p90_response_seconds   = optional(number, 1)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.thresholds.cpu_percent > 0 && var.thresholds.cpu_percent <= 100 && var.thresholds.memory_percent > 0 && var.thresholds.memory_percent <= 100
    error_message = "thresholds.cpu_percent and thresholds.memory_percent must be in (0, 100]."
  }

  validation {
    condition     = var.thresholds.elb_5xx_per_minute >= 1 && var.thresholds.target_5xx_per_minute >= 1 && var.thresholds.service_5xx_per_minute >= 1
    error_message = "thresholds.elb_5xx_per_minute, target_5xx_per_minute and service_5xx_per_minute must be at least 1."
  }

  validation {
    condition     = var.thresholds.p90_response_seconds > 0
    error_message = "thresholds.p90_response_seconds must be positive."
  }
}

variable "application_metrics" {
  description = "Where the service publishes its embedded-format metrics: the namespace (APP_METRICS_NAMESPACE) and the Service dimension (APP_SERVICE_NAME; null: the ECS service's name). The service-5xx alarm reads ProcessServerErrors there."
  type = object({
    namespace = optional(string, "AwsFastapiService")
    service   = optional(string)
  })
  default  = {}
  nullable = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_./#:-]{1,255}$", var.application_metrics.namespace))
    error_message = "application_metrics.namespace must be a CloudWatch namespace (1-255 letters, digits and _ . / # : -)."
  }
}

variable "tags" {
  description = "Tags for every resource (the provider's default_tags are added)."
  type        = map(string)
  default     = {}
  nullable    = false
}
