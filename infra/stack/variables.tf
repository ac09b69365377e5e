# The stack's inputs: each environment root passes its terraform.tfvars through unchanged. Where a
# module already checks a value (the service name, the zones), the stack does not check it again:
# the module's message names the problem.

variable "environment" {
  description = "Name of the environment (dev, prod): tags, state key, GitHub environment."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,20}$", var.environment))
    error_message = "environment must be a short lowercase name such as dev or prod."
  }
}

variable "service_name" {
  description = "Name of the service: cluster, service, task family, ECR repository, load balancer and log group /aws/ecs/<service_name> (runbook 5.1). The bootstrap's roles are scoped to it. 2-32 lowercase letters, digits or '-' (it names the load balancer: the network and alb modules check it)."
  type        = string
}

variable "region" {
  description = "AWS region of the environment."
  type        = string
  default     = "us-east-1"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as us-east-1."
  }
}

variable "availability_zones" {
  description = "The two to four availability zones of the environment (the network module checks them; an Application Load Balancer needs two); null: <region>a and <region>b."
  type        = list(string)
  default     = null
}

variable "aws_account_id" {
  description = "The account this environment lives in: Terraform refuses to run with credentials of any other account. null: no check."
  type        = string
  default     = null

  validation {
    condition     = var.aws_account_id == null || can(regex("^[0-9]{12}$", coalesce(var.aws_account_id, "x")))
    error_message = "aws_account_id must be a 12-digit AWS account id."
  }
}

variable "enable_compute" {
  description = "The cost toggle (ADR 0003), set in terraform.tfvars and applied by the Terraform workflow (never -var: the next merge would apply terraform.tfvars again). false removes what is billed by the hour while nobody uses the environment: the load balancer, the ECS service, NAT gateways and interface endpoints. Data, images, logs, alarms and the task definition stay."
  type        = bool
  default     = true
  nullable    = false

  validation {
    condition     = !var.enable_compute || var.image_tag != null
    error_message = "enable_compute = true needs image_tag, the tag of an image already pushed to the ECR repository. On a new environment: merge terraform.tfvars with enable_compute = false, let CI push an image, then set image_tag = \"<its tag>\" and enable_compute = true in terraform.tfvars in one pull request (ADR 0003)."
  }
}

variable "image_tag" {
  description = "Image tag of Terraform's own task definition revision: used when the service is first created. Afterwards deployments choose the running revision (opsctl deploy, ADR 0004); changing this does not redeploy."
  type        = string
  default     = null

  validation {
    condition     = var.image_tag == null || can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", coalesce(var.image_tag, "x")))
    error_message = "image_tag must be a Docker tag: up to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'."
  }
}

variable "network" {
  description = "VPC layout and egress (ADR 0002). Without NAT, tasks reach ECR, CloudWatch Logs and S3 through VPC endpoints only."
  type = object({
    cidr_block        = optional(string, "10.0.0.0/16")
    nat_gateway       = optional(string, "none")
    vpc_endpoints     = optional(bool, true)
    flow_logs_traffic = optional(string, "ALL")
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.network.nat_gateway != "none" || var.network.vpc_endpoints
    error_message = "network: with nat_gateway = \"none\", vpc_endpoints must be true, or the tasks have no way to ECR and CloudWatch Logs."
  }
}

variable "task" {
  description = "Fargate task size and image architecture (see the ecs_service module)."
  type = object({
    cpu              = optional(number, 256)
    memory           = optional(number, 512)
    cpu_architecture = optional(string, "X86_64")
  })
  default  = {}
  nullable = false
}

variable "autoscaling" {
  description = "Task count limits and scaling targets (see the ecs_service module)."
  type = object({
    min_capacity             = optional(number, 1)
    max_capacity             = optional(number, 4)
    cpu_target_percent       = optional(number, 60)
    request_count_per_target = optional(number, 1000)
  })
  default  = {}
  nullable = false
}

variable "container_environment" {
  description = "Extra environment variables of the service (HOST and PORT are set by the module)."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "container_secrets" {
  description = "Environment variables read from Secrets Manager or SSM Parameter Store at task start: name => ARN. The execution role may read exactly these, and they must be named under <service_name>/ (secret:<service_name>/..., parameter/<service_name>/...): the environment's permissions boundary (infra/bootstrap) allows no other."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for arn in values(var.container_secrets) : can(regex(":secretsmanager:[^:]+:[0-9]+:secret:${var.service_name}/", arn)) || can(regex(":ssm:[^:]+:[0-9]+:parameter/${var.service_name}/", arn))])
    error_message = "container_secrets must name Secrets Manager secrets or SSM parameters under <service_name>/ (for example arn:aws:secretsmanager:us-east-1:111111111111:secret:fastapi-prod/db-password-AbCdEf): the environment's permissions boundary lets its roles read those only."
  }
}

variable "certificate_arn" {
  description = "ACM certificate for the load balancer: HTTPS with HSTS, HTTP redirected. Needs public_url (the name it covers). null: plain HTTP, refused with the compute on unless allow_http_without_certificate = true (an environment without a domain)."
  type        = string
  default     = null

  validation {
    condition     = var.certificate_arn != null || !var.enable_compute || var.allow_http_without_certificate
    error_message = "enable_compute = true without certificate_arn would serve plain HTTP: set certificate_arn (and public_url) in terraform.tfvars, or, for an environment without a domain only (never prod), allow_http_without_certificate = true (docs/security.md, \"HTTPS\")."
  }
}

variable "allow_http_without_certificate" {
  description = "The override that lets an environment with compute run its load balancer on plain HTTP (no certificate_arn): set true in terraform.tfvars for an environment without a domain (dev here), never for prod. Without it, a plan with enable_compute = true and no certificate_arn is refused: nothing served over the internet goes unencrypted by accident."
  type        = bool
  default     = false
  nullable    = false
}

variable "public_url" {
  description = "The URL the service is reached at, scheme and host only (https://api.example.com): a DNS name pointed at the load balancer (a Route 53 alias record to its DNS name) and, with certificate_arn, covered by that certificate. Required with certificate_arn: ACM cannot issue a certificate for the load balancer's own *.elb.amazonaws.com name, so https://<that name> never verifies. null: http://<load balancer DNS name>. Published as the opsctl output's alb_url, the URL opsctl deploy and rollback smoke-test (/health)."
  type        = string
  default     = null

  validation {
    condition     = var.public_url == null || can(regex("^https?://[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$", coalesce(var.public_url, "x")))
    error_message = "public_url must be http:// or https:// and a host name (optionally :port), with no path and no trailing slash: opsctl appends /health to it."
  }

  validation {
    condition     = var.certificate_arn == null || startswith(coalesce(var.public_url, "x"), "https://")
    error_message = "With certificate_arn, set public_url to the https:// URL of the name the certificate covers, pointed at the load balancer: the load balancer's own DNS name (*.elb.amazonaws.com) cannot have an ACM certificate, so opsctl could never verify a deploy through it."
  }
}

variable "log_retention_in_days" {
  description = "Retention of the task logs (/aws/ecs/<service_name>) and of the VPC flow logs."
  type        = number
  default     = 30
  nullable    = false
}

variable "alarm_emails" {
  description = "Addresses that receive the alarms, ECS failure events and cost alerts (each confirms a subscription e-mail)."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "cost_guardrails" {
  description = "Runbook 5.3: the account's monthly budget, billing alarm and Cost Anomaly Detection (ADR 0003). Account-wide: they measure the whole account's spend, and an account has one AWS-services anomaly monitor, so exactly one root per account turns them on (prod's, in this repository's shared account; dev sets enabled = false). Also off where the organization manages cost centrally. anomaly_monitor_arn reuses a monitor the account already has."
  type = object({
    enabled               = optional(bool, true)
    monthly_budget_usd    = optional(number, 100)
    anomaly_detection     = optional(bool, true)
    anomaly_monitor_arn   = optional(string)
    anomaly_threshold_usd = optional(number, 20)
  })
  default  = {}
  nullable = false
}

variable "protection" {
  description = "Guards against deleting what cannot be recreated: load balancer deletion protection, and whether destroy may delete the image repository and the access-log bucket with their content. Throwaway environments turn them off."
  type = object({
    load_balancer_deletion_protection = optional(bool, true)
    delete_images_on_destroy          = optional(bool, false)
    delete_access_logs_on_destroy     = optional(bool, false)
  })
  default  = {}
  nullable = false
}

variable "access_logs_bucket_name" {
  description = "Name of the load balancer access-log bucket; null: alb-logs-<account>-<region>-<environment>, runbook 4.1's name with the environment appended (dev and prod share the account and region)."
  type        = string
  default     = null
}

variable "deploy_bake" {
  description = "How long `opsctl deploy` keeps watching a deployment after it completed and passed its smoke test (its bake window: the service's alarms, 5xx answers, target health, the new tasks), before it records the revision good: a number and s, m or h (\"10m\"); \"0s\": no bake. Published in the opsctl output; `opsctl deploy --bake` overrides it for one deploy."
  type        = string
  default     = "10m"
  nullable    = false

  validation {
    condition     = can(regex("^[0-9]{1,5}[smh]$", var.deploy_bake)) && try(tonumber(trimsuffix(trimsuffix(trimsuffix(var.deploy_bake, "s"), "m"), "h")) * lookup({ s = 1, m = 60, h = 3600 }, substr(var.deploy_bake, length(var.deploy_bake) - 1, 1), 0) <= 86400, false)
    error_message = "deploy_bake must be a number followed by s, m or h (\"10m\", \"90s\", \"0s\"), at most 24h."
  }
}
