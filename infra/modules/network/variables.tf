variable "name" {
  description = "Name prefix of every resource (and of the flow-log IAM role)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}[a-z0-9]$", var.name))
    error_message = "name must be 2-32 lowercase letters, digits or '-', starting with a letter and not ending with '-'."
  }
}

variable "cidr_block" {
  description = "IPv4 CIDR of the VPC. It is split into one public and one private subnet per availability zone."
  type        = string
  default     = "10.0.0.0/16"
  nullable    = false

  validation {
    condition     = can(cidrhost(var.cidr_block, 0)) && tonumber(split("/", var.cidr_block)[1]) >= 16 && tonumber(split("/", var.cidr_block)[1]) <= 22
    error_message = "cidr_block must be an IPv4 CIDR with a prefix length between /16 and /22 (each subnet is 1/16 of it, and an ALB subnet needs at least a /27)."
  }
}

variable "availability_zones" {
  description = "Availability zones to spread the subnets over (at least two: an ALB needs subnets in two zones)."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2 && length(var.availability_zones) <= 4 && length(distinct(var.availability_zones)) == length(var.availability_zones)
    error_message = "availability_zones must list 2 to 4 distinct zones."
  }
}

variable "nat_gateway" {
  description = "Internet egress for the private subnets: \"none\" (tasks reach AWS only through the VPC endpoints), \"single\" (one NAT gateway, one zone's failure cuts egress) or \"per_az\" (one per zone)."
  type        = string
  default     = "none"
  nullable    = false

  validation {
    condition     = contains(["none", "single", "per_az"], var.nat_gateway)
    error_message = "nat_gateway must be one of \"none\", \"single\" or \"per_az\"."
  }
}

variable "vpc_endpoints" {
  description = <<-EOT
    Private routes to AWS APIs. The S3 gateway endpoint (free; ECR keeps image layers in S3) always
    exists, and carries every request from the private subnets to S3 in the region: its policy
    admits ECR's image layers and the buckets named in s3_buckets (objects read, written and
    listed), nothing else. interface_services are billed per hour and zone: the defaults are what a
    Fargate task needs to pull from ECR and write logs without a NAT gateway.
  EOT
  type = object({
    enabled            = optional(bool, true)
    interface_services = optional(list(string), ["ecr.api", "ecr.dkr", "logs"])
    s3_buckets         = optional(list(string), [])
  })
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for s in var.vpc_endpoints.interface_services : can(regex("^[a-z0-9-]+(\\.[a-z0-9-]+)?$", s))])
    error_message = "vpc_endpoints.interface_services must be short service names such as \"ecr.api\", \"logs\" or \"secretsmanager\" (the module adds com.amazonaws.<region>.)."
  }

  validation {
    condition     = alltrue([for b in var.vpc_endpoints.s3_buckets : can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", b))])
    error_message = "vpc_endpoints.s3_buckets must be bucket names (no ARN, no wildcard): the S3 endpoint admits exactly these."
  }

  validation {
    # Without NAT the only way to ECR and CloudWatch Logs is through the interface endpoints.
    condition     = var.nat_gateway != "none" || !var.vpc_endpoints.enabled || length(setsubtract(["ecr.api", "ecr.dkr", "logs"], var.vpc_endpoints.interface_services)) == 0
    error_message = "With nat_gateway = \"none\", vpc_endpoints.interface_services must include \"ecr.api\", \"ecr.dkr\" and \"logs\", or tasks cannot pull images (CannotPullContainerError) nor ship logs."
  }
}

variable "flow_logs" {
  description = "VPC flow logs to CloudWatch Logs (log group /aws/vpc/<name>/flow-logs)."
  type = object({
    traffic_type      = optional(string, "ALL")
    retention_in_days = optional(number, 90)
  })
  default  = {}
  nullable = false

  validation {
    condition     = contains(["ACCEPT", "REJECT", "ALL"], var.flow_logs.traffic_type)
    error_message = "flow_logs.traffic_type must be \"ACCEPT\", \"REJECT\" or \"ALL\"."
  }

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_logs.retention_in_days)
    error_message = "flow_logs.retention_in_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}

variable "kms_key_arn" {
  description = "Customer managed KMS key for the flow-log group (see the kms module)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be the ARN of a KMS key (arn:aws:kms:...)."
  }
}

variable "permissions_boundary" {
  description = "ARN of the managed policy set as the permissions boundary of the flow logs role (infra/bootstrap creates one per environment: <service_name>-permissions-boundary)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/.+", var.permissions_boundary))
    error_message = "permissions_boundary must be the ARN of an IAM managed policy (arn:aws:iam::<account>:policy/<name>)."
  }
}

variable "tags" {
  description = "Tags for every resource (the provider's default_tags are added)."
  type        = map(string)
  default     = {}
  nullable    = false
}
