# Plan-only tests with a mocked AWS provider: no credentials, no network.

mock_provider "aws" {
  override_data {
    target = data.aws_caller_identity.current
    values = { account_id = "123456789012" }
  }
  override_data {
    target = data.aws_region.current
    values = { name = "us-east-1" }
  }
  override_data {
    target = data.aws_partition.current
    values = { partition = "aws" }
  }
  override_data {
    target = data.aws_iam_policy_document.flow_logs_trust
    values = { json = "{}" }
  }
  override_data {
    target = data.aws_iam_policy_document.flow_logs
    values = { json = "{}" }
  }
  override_data {
    target = data.aws_iam_policy_document.s3_endpoint
    values = { json = "{}" }
  }
}

variables {
  name               = "fastapi-dev"
  availability_zones = ["us-east-1a", "us-east-1b"]
  kms_key_arn        = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  # infra/bootstrap creates it (<service_name>-permissions-boundary).
  permissions_boundary = "arn:aws:iam::123456789012:policy/fastapi-dev-permissions-boundary"
}

run "secure_defaults" {
  command = plan

  assert {
    condition     = length(aws_subnet.public) == 2 && length(aws_subnet.private) == 2
    error_message = "One public and one private subnet per zone."
  }

  assert {
    condition     = alltrue([for s in concat(aws_subnet.public, aws_subnet.private) : s.map_public_ip_on_launch == false])
    error_message = "No subnet may hand out public IPs: tasks get none, and the load balancer does not need them."
  }

  assert {
    condition     = length(distinct([for s in concat(aws_subnet.public, aws_subnet.private) : s.cidr_block])) == 4
    error_message = "Subnet CIDRs must not overlap."
  }

  assert {
    condition     = aws_vpc.this.enable_dns_support && aws_vpc.this.enable_dns_hostnames
    error_message = "Interface endpoints with private DNS need DNS support and hostnames."
  }

  assert {
    condition     = length(aws_default_security_group.this.ingress) == 0 && length(aws_default_security_group.this.egress) == 0
    error_message = "The default security group must have no rules (CIS 5.4)."
  }

  assert {
    condition     = length(aws_nat_gateway.this) == 0 && length(aws_route.private_nat) == 0
    error_message = "The default is no NAT gateway (ADR 0002)."
  }

  assert {
    condition     = toset(keys(aws_vpc_endpoint.interface)) == toset(["ecr.api", "ecr.dkr", "logs"])
    error_message = "Without NAT, tasks need the ECR api, ECR dkr and CloudWatch Logs interface endpoints."
  }

  assert {
    condition     = alltrue([for k, e in aws_vpc_endpoint.interface : e.private_dns_enabled && e.vpc_endpoint_type == "Interface" && e.service_name == "com.amazonaws.us-east-1.${k}"])
    error_message = "Interface endpoints must use private DNS, so the SDKs' default endpoints resolve to them."
  }

  assert {
    condition     = aws_vpc_endpoint.s3.vpc_endpoint_type == "Gateway" && aws_vpc_endpoint.s3.service_name == "com.amazonaws.us-east-1.s3"
    error_message = "The S3 gateway endpoint (ECR image layers) must exist."
  }

  assert {
    condition     = aws_vpc_security_group_ingress_rule.endpoints_https[0].from_port == 443 && aws_vpc_security_group_ingress_rule.endpoints_https[0].to_port == 443
    error_message = "The endpoints admit HTTPS only."
  }

  assert {
    condition     = aws_flow_log.this.traffic_type == "ALL" && aws_flow_log.this.log_destination_type == "cloud-watch-logs"
    error_message = "Flow logs must record all traffic to CloudWatch Logs."
  }

  assert {
    condition     = aws_cloudwatch_log_group.flow_logs.kms_key_id == var.kms_key_arn && aws_cloudwatch_log_group.flow_logs.retention_in_days == 90
    error_message = "The flow-log group must be encrypted with the given key and keep 90 days."
  }

  assert {
    condition     = aws_iam_role.flow_logs.name == "fastapi-dev-flow-logs"
    error_message = "The flow-log role must be named <name>-flow-logs (the bootstrap's apply role manages <service>-* roles only)."
  }
}

# Issue 10: the S3 gateway endpoint had the default policy (any request to any bucket), so a
# compromised task could copy data to a bucket of its own account. infra/tests/
# test_apply_emulated.py evaluates the applied policy against that attack.
run "s3_endpoint_admits_ecr_layers_and_named_buckets_only" {
  command = plan

  assert {
    condition = (
      length(data.aws_iam_policy_document.s3_endpoint.statement) == 1 &&
      toset(data.aws_iam_policy_document.s3_endpoint.statement[0].actions) == toset(["s3:GetObject"]) &&
      toset(data.aws_iam_policy_document.s3_endpoint.statement[0].resources) == toset(["arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*"])
    )
    error_message = "By default the S3 endpoint admits reads of ECR's image layers only."
  }

  assert {
    condition     = aws_iam_role.flow_logs.permissions_boundary == "arn:aws:iam::123456789012:policy/fastapi-dev-permissions-boundary"
    error_message = "The flow logs role carries the environment's permissions boundary."
  }
}

run "s3_endpoint_admits_the_buckets_the_workload_names" {
  command = plan

  variables {
    vpc_endpoints = { s3_buckets = ["fastapi-dev-uploads"] }
  }

  assert {
    condition = toset(flatten([for s in data.aws_iam_policy_document.s3_endpoint.statement : s.resources])) == toset([
      "arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*",
      "arn:aws:s3:::fastapi-dev-uploads",
      "arn:aws:s3:::fastapi-dev-uploads/*",
    ])
    error_message = "The S3 endpoint admits ECR's layers and exactly the named buckets."
  }
}

run "rejects_a_bucket_pattern_for_the_s3_endpoint" {
  command = plan

  variables {
    vpc_endpoints = { s3_buckets = ["*"] }
  }

  expect_failures = [var.vpc_endpoints]
}

run "rejects_a_boundary_that_is_not_a_policy" {
  command = plan

  variables {
    permissions_boundary = "arn:aws:iam::123456789012:role/fastapi-dev-x"
  }

  expect_failures = [var.permissions_boundary]
}

run "single_nat_gateway" {
  command = plan

  variables {
    nat_gateway = "single"
  }

  assert {
    condition     = length(aws_nat_gateway.this) == 1 && length(aws_eip.nat) == 1
    error_message = "\"single\" creates one NAT gateway."
  }

  assert {
    condition     = length(aws_route.private_nat) == 2 && alltrue([for r in aws_route.private_nat : r.destination_cidr_block == "0.0.0.0/0"])
    error_message = "Every private route table must send internet traffic to the NAT gateway."
  }
}

run "nat_gateway_per_zone_without_endpoints" {
  command = plan

  variables {
    nat_gateway   = "per_az"
    vpc_endpoints = { enabled = false }
  }

  assert {
    condition     = length(aws_nat_gateway.this) == 2
    error_message = "\"per_az\" creates one NAT gateway per zone."
  }

  assert {
    condition     = length(aws_vpc_endpoint.interface) == 0 && length(aws_security_group.endpoints) == 0
    error_message = "Disabled endpoints must not be created (nor their security group)."
  }

  assert {
    condition     = aws_vpc_endpoint.s3.vpc_endpoint_type == "Gateway"
    error_message = "The free S3 gateway endpoint stays."
  }
}

run "rejects_invalid_name" {
  command = plan

  variables {
    name = "Fastapi_Dev"
  }

  expect_failures = [var.name]
}

run "rejects_too_small_vpc" {
  command = plan

  variables {
    cidr_block = "10.0.0.0/24"
  }

  expect_failures = [var.cidr_block]
}

run "rejects_single_zone" {
  command = plan

  variables {
    availability_zones = ["us-east-1a"]
  }

  expect_failures = [var.availability_zones]
}

run "rejects_unknown_nat_mode" {
  command = plan

  variables {
    nat_gateway = "two"
  }

  expect_failures = [var.nat_gateway]
}

run "rejects_invalid_endpoint_service" {
  command = plan

  variables {
    vpc_endpoints = { interface_services = ["ecr.api", "ecr.dkr", "logs", "com.amazonaws.us-east-1.sts"] }
  }

  expect_failures = [var.vpc_endpoints]
}

run "rejects_no_nat_without_ecr_endpoints" {
  command = plan

  variables {
    vpc_endpoints = { interface_services = ["logs"] }
  }

  expect_failures = [var.vpc_endpoints]
}

run "rejects_unknown_flow_log_traffic_type" {
  command = plan

  variables {
    flow_logs = { traffic_type = "SOME" }
  }

  expect_failures = [var.flow_logs]
}

run "rejects_invalid_flow_log_retention" {
  command = plan

  variables {
    flow_logs = { retention_in_days = 10 }
  }

  expect_failures = [var.flow_logs]
}

run "rejects_non_kms_arn" {
  command = plan

  variables {
    kms_key_arn = "alias/aws/logs"
  }

  expect_failures = [var.kms_key_arn]
}
