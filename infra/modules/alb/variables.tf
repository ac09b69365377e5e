variable "name" {
  description = "Name of the load balancer, its target group and its security group."
  type        = string

  validation {
    # Load balancer and target group names: at most 32 characters, letters, digits and '-'.
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9-]{0,30}[a-zA-Z0-9]$", var.name)) && !startswith(var.name, "internal-")
    error_message = "name must be 2-32 letters, digits or '-', must not start or end with '-' nor start with 'internal-' (AWS load balancer naming rules)."
  }
}

variable "vpc_id" {
  description = "VPC of the load balancer and the target group."
  type        = string
}

variable "subnet_ids" {
  description = "Public subnets, in at least two availability zones."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids must list at least two subnets (an Application Load Balancer needs two availability zones)."
  }
}

variable "load_balancer_enabled" {
  description = "false removes the load balancer and its listeners (billed per hour) and keeps the target group, the security group and the access-log bucket (free when idle): the cost toggle of ADR 0003."
  type        = bool
  default     = true
  nullable    = false
}

variable "target" {
  description = "The targets (Fargate tasks, registered by IP) and how the load balancer drains them."
  type = object({
    port = optional(number, 8000)
    # AWS's default is 300 s; a short, stateless API needs far less: long enough for the slowest
    # request to finish, short enough that a deployment does not wait minutes per task (issue 3:
    # 30 to 60 s; the task's stop timeout is 30 s).
    deregistration_delay = optional(number, 30)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.target.port >= 1 && var.target.port <= 65535
    error_message = "target.port must be a TCP port (1-65535)."
  }

  validation {
    condition     = var.target.deregistration_delay >= 30 && var.target.deregistration_delay <= 60
    error_message = "target.deregistration_delay must be between 30 and 60 seconds: less cuts off requests in flight, more makes every deployment wait."
  }
}

variable "health_check" {
  description = "Target group health check. The defaults are runbook 8.2: /health on the traffic port every 30 s, healthy 2, unhealthy 2, HTTP 200."
  type = object({
    path                = optional(string, "/health")
    interval            = optional(number, 30)
    timeout             = optional(number, 5)
    healthy_threshold   = optional(number, 2)
    unhealthy_threshold = optional(number, 2)
    matcher             = optional(string, "200")
  })
  default  = {}
  nullable = false

  validation {
    condition     = startswith(var.health_check.path, "/") && length(var.health_check.path) <= 1024
    error_message = "health_check.path must start with '/' (at most 1024 characters)."
  }

  validation {
    condition     = var.health_check.interval >= 5 && var.health_check.interval <= 300 && var.health_check.timeout >= 2 && var.health_check.timeout <= 120 && var.health_check.timeout < var.health_check.interval
    error_message = "health_check.interval must be 5-300 s and health_check.timeout 2-120 s and shorter than the interval."
  }

  validation {
    condition     = var.health_check.healthy_threshold >= 2 && var.health_check.healthy_threshold <= 10 && var.health_check.unhealthy_threshold >= 2 && var.health_check.unhealthy_threshold <= 10
    error_message = "health_check.healthy_threshold and unhealthy_threshold must be between 2 and 10."
  }

  validation {
    condition     = can(regex("^[1-5][0-9]{2}([-,][1-5][0-9]{2})*$", var.health_check.matcher))
    error_message = "health_check.matcher must be HTTP codes such as \"200\", \"200,204\" or \"200-299\"."
  }
}

variable "https" {
  description = "With a certificate_arn: an HTTPS listener that adds strict_transport_security (HSTS) to every response, and HTTP redirected to HTTPS (301). Without one: plain HTTP (for a first deployment or a domain-less test environment)."
  type = object({
    certificate_arn = optional(string)
    # TLS 1.3 with TLS 1.2 fallback, forward secrecy only.
    # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html
    ssl_policy = optional(string, "ELBSecurityPolicy-TLS13-1-2-2021-06")
    # Browsers then refuse plain HTTP to the name for a year, so a redirect can no longer be
    # intercepted (RFC 6797). includeSubDomains: the whole name, as OWASP recommends.
    strict_transport_security = optional(string, "max-age=31536000; includeSubDomains")
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.https.certificate_arn == null || can(regex("^arn:aws[a-z-]*:(acm|iam):", var.https.certificate_arn))
    error_message = "https.certificate_arn must be an ACM (or IAM server) certificate ARN."
  }

  validation {
    condition     = startswith(var.https.ssl_policy, "ELBSecurityPolicy-TLS13-") || startswith(var.https.ssl_policy, "ELBSecurityPolicy-FS-1-2-") || startswith(var.https.ssl_policy, "ELBSecurityPolicy-TLS-1-2-")
    error_message = "https.ssl_policy must be a policy that refuses TLS 1.0 and 1.1 (ELBSecurityPolicy-TLS13-*, -FS-1-2-* or -TLS-1-2-*)."
  }

  validation {
    # At least a day: a shorter max-age protects nothing (RFC 6797, section 6.1.1).
    condition     = can(regex("^max-age=[0-9]+(; ?includeSubDomains)?(; ?preload)?$", var.https.strict_transport_security)) && try(tonumber(regex("^max-age=([0-9]+)", var.https.strict_transport_security)[0]) >= 86400, false)
    error_message = "https.strict_transport_security must be an HSTS value such as \"max-age=31536000; includeSubDomains\", with max-age of at least 86400 seconds."
  }
}

variable "ingress_cidr_blocks" {
  description = "Who may reach the load balancer on 80 (and 443)."
  type        = list(string)
  default     = ["0.0.0.0/0"]
  nullable    = false

  validation {
    condition     = length(var.ingress_cidr_blocks) > 0 && alltrue([for c in var.ingress_cidr_blocks : can(cidrhost(c, 0))])
    error_message = "ingress_cidr_blocks must be a non-empty list of IPv4 CIDRs."
  }
}

variable "access_logs" {
  description = "Access logs to S3 (runbook 4.1). The bucket is alb-logs-<account>-<region>, or alb-logs-<account>-<region>-<bucket_suffix> with a suffix (bucket names are global: two load balancers in one account and region need different suffixes), or exactly bucket_name when set."
  type = object({
    bucket_name     = optional(string)
    bucket_suffix   = optional(string)
    expiration_days = optional(number, 90)
    force_destroy   = optional(bool, false)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.access_logs.bucket_suffix == null || can(regex("^[a-z0-9]([a-z0-9-]{0,28}[a-z0-9])?$", coalesce(var.access_logs.bucket_suffix, "x")))
    error_message = "access_logs.bucket_suffix must be 1-30 lowercase letters, digits or '-', not starting or ending with '-' (it ends an S3 bucket name)."
  }

  validation {
    condition     = var.access_logs.bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.access_logs.bucket_name))
    error_message = "access_logs.bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, '.' or '-')."
  }

  validation {
    condition     = var.access_logs.expiration_days >= 1 && var.access_logs.expiration_days <= 3650
    error_message = "access_logs.expiration_days must be between 1 and 3650."
  }
}

variable "waf_web_acl_arn" {
  description = "A WAFv2 web ACL (regional) to put in front of the load balancer; null: none. Worth it for a service exposed to the internet; billed per ACL, rule and request."
  type        = string
  default     = null

  validation {
    condition     = var.waf_web_acl_arn == null || can(regex("^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:[0-9]{12}:regional/webacl/", coalesce(var.waf_web_acl_arn, "x")))
    error_message = "waf_web_acl_arn must be the ARN of a regional WAFv2 web ACL (arn:aws:wafv2:<region>:<account>:regional/webacl/...)."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete the load balancer until this is turned off."
  type        = bool
  default     = true
  nullable    = false
}

variable "idle_timeout" {
  description = "Seconds a connection may stay idle. The server's keep-alive timeout must be longer, or clients see intermittent 502s."
  type        = number
  default     = 60
  nullable    = false

  validation {
    condition     = var.idle_timeout >= 1 && var.idle_timeout <= 4000
    error_message = "idle_timeout must be between 1 and 4000 seconds."
  }
}

variable "tags" {
  description = "Tags for every resource (the provider's default_tags are added)."
  type        = map(string)
  default     = {}
  nullable    = false
}
