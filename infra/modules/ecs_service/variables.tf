variable "name" {
  description = "Name of the cluster, the service and the task family; the log group is /aws/ecs/<name>, the roles <name>-execution and <name>-task."
  type        = string

  validation {
    # The longest derived name, "<name>-execution", must fit IAM's 64-character role names.
    condition     = can(regex("^[a-z][a-z0-9-]{0,38}[a-z0-9]$", var.name))
    error_message = "name must be 2-40 lowercase letters, digits or '-', starting with a letter and not ending with '-'."
  }
}

variable "vpc_id" {
  description = "VPC of the tasks."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets for the tasks (they get no public IP)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids must list at least two subnets, in different availability zones."
  }
}

variable "service_enabled" {
  description = "false removes the service and its autoscaling (no tasks, nothing billed) and keeps the cluster, the task definition, the roles and the logs: the cost toggle of ADR 0003."
  type        = bool
  default     = true
  nullable    = false
}

variable "ecr_repository_arn" {
  description = "Repository the execution role may pull from (and only that one)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:ecr:[a-z0-9-]+:[0-9]{12}:repository/.+$", var.ecr_repository_arn))
    error_message = "ecr_repository_arn must be an ECR repository ARN."
  }
}

variable "container" {
  description = <<-EOT
    The application container. image is the first revision's image: afterwards deployments
    (opsctl deploy) register new revisions and Terraform leaves them alone (ADR 0004). HOST=0.0.0.0
    and PORT=<port> are always set; secrets maps an environment variable to a Secrets Manager
    secret or SSM parameter ARN, and the execution role may read exactly those.
  EOT
  type = object({
    name         = optional(string, "app")
    image        = string
    port         = optional(number, 8000)
    environment  = optional(map(string), {})
    secrets      = optional(map(string), {})
    user         = optional(string, "10001:10001")
    stop_timeout = optional(number, 30)
    health_check = optional(object({
      command      = optional(list(string))
      interval     = optional(number, 30)
      timeout      = optional(number, 5)
      retries      = optional(number, 3)
      start_period = optional(number, 15)
    }), {})
  })
  nullable = false

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9_-]{0,254}$", var.container.name))
    error_message = "container.name must be 1-255 letters, digits, '_' or '-'."
  }

  validation {
    condition     = can(regex("^[^\\s]+(:[^\\s:/@]+|@sha256:[a-f0-9]{64})$", var.container.image))
    error_message = "container.image must name a tag or a digest (<repository>:<tag> or <repository>@sha256:<digest>): a bare repository means \"latest\", which an immutable registry cannot move."
  }

  validation {
    condition     = var.container.port >= 1024 && var.container.port <= 65535
    error_message = "container.port must be an unprivileged TCP port (1024-65535): the container runs as a non-root user."
  }

  validation {
    condition     = can(regex("^[1-9][0-9]*(:[1-9][0-9]*)?$", var.container.user))
    error_message = "container.user must be a numeric, non-root uid or uid:gid (for example \"10001:10001\"): ECS cannot check that a user name is not root."
  }

  validation {
    condition     = var.container.stop_timeout >= 2 && var.container.stop_timeout <= 120
    error_message = "container.stop_timeout must be between 2 and 120 seconds (Fargate's limit)."
  }

  validation {
    condition     = length(setintersection(keys(var.container.environment), ["HOST", "PORT"])) == 0
    error_message = "container.environment must not set HOST or PORT: the module sets them from container.port so the service, the port mapping and the health checks agree."
  }

  validation {
    condition     = alltrue([for arn in values(var.container.secrets) : can(regex("^arn:aws[a-z-]*:(secretsmanager|ssm):", arn))])
    error_message = "container.secrets values must be Secrets Manager secret or SSM parameter ARNs."
  }

  validation {
    condition = (
      var.container.health_check.interval >= 5 && var.container.health_check.interval <= 300 &&
      var.container.health_check.timeout >= 2 && var.container.health_check.timeout <= 60 &&
      var.container.health_check.retries >= 1 && var.container.health_check.retries <= 10 &&
      var.container.health_check.start_period >= 0 && var.container.health_check.start_period <= 300
    )
    error_message = "container.health_check: interval 5-300 s, timeout 2-60 s, retries 1-10, start_period 0-300 s (ECS limits)."
  }
}

variable "task" {
  description = "Task size (a valid Fargate CPU/memory pair) and CPU architecture of the image."
  type = object({
    cpu              = optional(number, 256)
    memory           = optional(number, 512)
    cpu_architecture = optional(string, "X86_64")
  })
  default  = {}
  nullable = false

  validation {
    # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
    condition = contains(lookup({
      "256"   = [512, 1024, 2048]
      "512"   = [1024, 2048, 3072, 4096]
      "1024"  = [for gb in range(2, 9) : gb * 1024]
      "2048"  = [for gb in range(4, 17) : gb * 1024]
      "4096"  = [for gb in range(8, 31) : gb * 1024]
      "8192"  = [for gb in range(16, 61, 4) : gb * 1024]
      "16384" = [for gb in range(32, 121, 8) : gb * 1024]
    }, tostring(var.task.cpu), []), var.task.memory)
    error_message = "task.cpu and task.memory must be a Fargate size: 256 CPU with 512-2048 MiB, 512 with 1024-4096, 1024 with 2048-8192, 2048 with 4096-16384, 4096 with 8192-30720 (1 GiB steps), 8192 with 16-60 GiB (4 GiB steps), 16384 with 32-120 GiB (8 GiB steps)."
  }

  validation {
    condition     = contains(["X86_64", "ARM64"], var.task.cpu_architecture)
    error_message = "task.cpu_architecture must be \"X86_64\" or \"ARM64\"."
  }
}

variable "load_balancer" {
  description = "The target group the service registers its tasks in (an `ip` target group that a listener already uses), the CloudWatch dimensions request-count scaling needs, and the load balancer's security group (the only source the tasks admit)."
  type = object({
    target_group_arn        = string
    target_group_arn_suffix = string
    arn_suffix              = optional(string)
    security_group_id       = string
  })
  nullable = false
}

variable "deployment" {
  description = "Rolling deployments (runbook 2.1). 100/200 keeps full capacity while the new tasks start; the grace period stops the load balancer's health checks from killing slow starters. alarm_names: CloudWatch alarms that fail a deployment when they go to ALARM (ECS deployment alarms, watched through a bake time after the new tasks are steady), rolling it back unless alarm_rollback is false; empty: none."
  type = object({
    minimum_healthy_percent           = optional(number, 100)
    maximum_percent                   = optional(number, 200)
    health_check_grace_period_seconds = optional(number, 60)
    alarm_names                       = optional(list(string), [])
    alarm_rollback                    = optional(bool, true)
  })
  default  = {}
  nullable = false

  validation {
    # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentAlarms.html
    condition     = length(var.deployment.alarm_names) <= 10 && alltrue([for n in var.deployment.alarm_names : length(n) >= 1 && length(n) <= 255])
    error_message = "deployment.alarm_names must name at most 10 CloudWatch alarms (1-255 characters each)."
  }

  validation {
    condition     = var.deployment.minimum_healthy_percent >= 0 && var.deployment.minimum_healthy_percent <= 100 && var.deployment.maximum_percent >= 100 && var.deployment.maximum_percent <= 200
    error_message = "deployment.minimum_healthy_percent must be 0-100 and deployment.maximum_percent 100-200."
  }

  validation {
    # With 100 % minimum healthy, a new task can only start if the maximum leaves room for it.
    condition     = var.deployment.maximum_percent > var.deployment.minimum_healthy_percent
    error_message = "deployment.maximum_percent must be greater than minimum_healthy_percent, or a rolling deployment can never start a new task."
  }

  validation {
    condition     = var.deployment.health_check_grace_period_seconds >= 0 && var.deployment.health_check_grace_period_seconds <= 2147483647
    error_message = "deployment.health_check_grace_period_seconds must not be negative."
  }
}

variable "autoscaling" {
  description = "Target tracking on average CPU and on ALB requests per target (null request_count_per_target turns the latter off). min_capacity is also the initial desired count."
  type = object({
    min_capacity             = optional(number, 1)
    max_capacity             = optional(number, 4)
    cpu_target_percent       = optional(number, 60)
    request_count_per_target = optional(number, 1000)
    scale_in_cooldown        = optional(number, 300)
    scale_out_cooldown       = optional(number, 60)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.autoscaling.min_capacity >= 1 && var.autoscaling.max_capacity >= var.autoscaling.min_capacity
    error_message = "autoscaling.min_capacity must be at least 1 and max_capacity at least min_capacity."
  }

  validation {
    condition     = var.autoscaling.cpu_target_percent > 0 && var.autoscaling.cpu_target_percent <= 100
    error_message = "autoscaling.cpu_target_percent must be in (0, 100]."
  }

  validation {
    condition     = var.autoscaling.request_count_per_target == null || try(var.autoscaling.request_count_per_target > 0, false)
    error_message = "autoscaling.request_count_per_target must be positive, or null to scale on CPU only."
  }
}

variable "egress" {
  description = "Where the tasks may open HTTPS connections: CIDRs (the VPC for the interface endpoints, or 0.0.0.0/0 behind NAT) and prefix lists (the S3 gateway endpoint, where ECR keeps image layers)."
  type = object({
    cidr_blocks     = optional(list(string), [])
    prefix_list_ids = optional(list(string), [])
  })
  nullable = false

  validation {
    condition     = length(var.egress.cidr_blocks) + length(var.egress.prefix_list_ids) > 0
    error_message = "egress must allow at least one destination: without HTTPS to ECR and CloudWatch Logs no task can start."
  }

  validation {
    condition     = alltrue([for c in var.egress.cidr_blocks : can(cidrhost(c, 0))])
    error_message = "egress.cidr_blocks must be IPv4 CIDRs."
  }
}

variable "log_retention_in_days" {
  description = "Retention of the task logs in /aws/ecs/<name> (runbook 5.1)."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for the log group (see the kms module)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be the ARN of a KMS key (arn:aws:kms:...)."
  }
}

variable "permissions_boundary" {
  description = "ARN of the managed policy set as the permissions boundary of the execution and task roles (infra/bootstrap creates one per environment: <service_name>-permissions-boundary). Whatever policy a role is given, it can do no more than its boundary allows; the bootstrap's apply roles may only create roles that carry it."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/.+", var.permissions_boundary))
    error_message = "permissions_boundary must be the ARN of an IAM managed policy (arn:aws:iam::<account>:policy/<name>)."
  }
}

variable "task_role_policy_json" {
  description = "IAM policy for the application's own AWS calls (the task role). null: the task role has no permissions, which is right for this service."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource (the provider's default_tags are added)."
  type        = map(string)
  default     = {}
  nullable    = false
}
