# A VPC over N availability zones: public subnets for the load balancer, private subnets (no
# public IPs) for the tasks, egress through NAT gateways and/or VPC endpoints (ADR 0002), flow logs.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  zones      = length(var.availability_zones)

  # Each subnet is 1/16 of the VPC: private subnets take blocks 0..3, public ones 8..11, the rest
  # stays free for later tiers (a database subnet group, for example).
  private_cidrs = [for i in range(local.zones) : cidrsubnet(var.cidr_block, 4, i)]
  public_cidrs  = [for i in range(local.zones) : cidrsubnet(var.cidr_block, 4, 8 + i)]

  nat_count          = { none = 0, single = 1, per_az = local.zones }[var.nat_gateway]
  interface_services = var.vpc_endpoints.enabled ? toset(var.vpc_endpoints.interface_services) : toset([])
}

resource "aws_vpc" "this" {
  cidr_block = var.cidr_block
  # Interface endpoints with private DNS need both; Fargate tasks resolve ECR through them.
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = merge(var.tags, { Name = var.name })
}

# Take over the default security group and leave it without rules, so nothing that falls back to
# it gets any traffic (CIS AWS Foundations 5.4).
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id
  # Explicitly empty: Terraform removes the rules AWS put there (allow all within the group).
  ingress = []
  egress  = []
  tags    = merge(var.tags, { Name = "${var.name}-default-deny" })
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = var.name })
}

resource "aws_subnet" "public" {
  count = local.zones

  vpc_id            = aws_vpc.this.id
  availability_zone = var.availability_zones[count.index]
  cidr_block        = local.public_cidrs[count.index]
  # Only the load balancer lives here and it gets its addresses from AWS: nothing launched in
  # these subnets should get a public IP by accident.
  map_public_ip_on_launch = false
  tags                    = merge(var.tags, { Name = "${var.name}-public-${var.availability_zones[count.index]}", Tier = "public" })
}

resource "aws_subnet" "private" {
  count = local.zones

  vpc_id                  = aws_vpc.this.id
  availability_zone       = var.availability_zones[count.index]
  cidr_block              = local.private_cidrs[count.index]
  map_public_ip_on_launch = false
  tags                    = merge(var.tags, { Name = "${var.name}-private-${var.availability_zones[count.index]}", Tier = "private" })
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name}-public" })
}

resource "aws_route" "public_internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this.id
}

resource "aws_route_table_association" "public" {
  count = local.zones

  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

resource "aws_eip" "nat" {
  count = local.nat_count

  domain = "vpc"
  tags   = merge(var.tags, { Name = "${var.name}-nat-${var.availability_zones[count.index]}" })
}

resource "aws_nat_gateway" "this" {
  count = local.nat_count

  allocation_id = aws_eip.nat[count.index].id
  subnet_id     = aws_subnet.public[count.index].id
  tags          = merge(var.tags, { Name = "${var.name}-${var.availability_zones[count.index]}" })

  depends_on = [aws_internet_gateway.this]
}

# One route table per zone, so per-AZ NAT gateways keep each zone's egress inside that zone.
resource "aws_route_table" "private" {
  count = local.zones

  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name}-private-${var.availability_zones[count.index]}" })
}

resource "aws_route" "private_nat" {
  count = local.nat_count > 0 ? local.zones : 0

  route_table_id         = aws_route_table.private[count.index].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[var.nat_gateway == "per_az" ? count.index : 0].id
}

resource "aws_route_table_association" "private" {
  count = local.zones

  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private[count.index].id
}

# Free, and ECR serves image layers from S3: pulls never cross a NAT gateway.
# https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html
resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${local.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = aws_route_table.private[*].id
  # Without a policy the endpoint admits any request to any bucket: a compromised task could
  # copy data to a bucket of the attacker's own account in the same region.
  policy = data.aws_iam_policy_document.s3_endpoint.json
  tags   = merge(var.tags, { Name = "${var.name}-s3" })
}

# An endpoint policy grants nothing by itself: it is the most any caller may do through the
# endpoint (the caller's own policies still apply), so its Principal is "*".
# https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html
data "aws_iam_policy_document" "s3_endpoint" {
  # The bucket ECR keeps image layers in, for the tasks' image pulls (minimum S3 permissions
  # for ECR: https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html).
  statement {
    sid       = "PullImageLayersFromEcr"
    actions   = ["s3:GetObject"]
    resources = ["arn:${local.partition}:s3:::prod-${local.region}-starport-layer-bucket/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }
  }

  dynamic "statement" {
    for_each = length(var.vpc_endpoints.s3_buckets) > 0 ? [1] : []

    content {
      sid       = "UseTheWorkloadsBuckets"
      actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "s3:GetBucketLocation"]
      resources = flatten([for b in var.vpc_endpoints.s3_buckets : ["arn:${local.partition}:s3:::${b}", "arn:${local.partition}:s3:::${b}/*"]])

      principals {
        type        = "*"
        identifiers = ["*"]
      }
    }
  }
}

resource "aws_security_group" "endpoints" {
  count = length(local.interface_services) > 0 ? 1 : 0

  name        = "${var.name}-vpc-endpoints"
  description = "HTTPS from inside the VPC to the interface endpoints"
  vpc_id      = aws_vpc.this.id
  tags        = merge(var.tags, { Name = "${var.name}-vpc-endpoints" })
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_https" {
  count = length(local.interface_services) > 0 ? 1 : 0

  security_group_id = aws_security_group.endpoints[0].id
  description       = "HTTPS from the VPC"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = aws_vpc.this.cidr_block
}

resource "aws_vpc_endpoint" "interface" {
  for_each = local.interface_services

  vpc_id              = aws_vpc.this.id
  service_name        = "com.amazonaws.${local.region}.${each.key}"
  vpc_endpoint_type   = "Interface"
  private_dns_enabled = true
  subnet_ids          = aws_subnet.private[*].id
  security_group_ids  = [aws_security_group.endpoints[0].id]
  tags                = merge(var.tags, { Name = "${var.name}-${each.key}" })
}

# Flow logs: the evidence for "task stuck in PENDING" caused by a security group or route
# (runbook 4.2): rejected connections show up here.
resource "aws_cloudwatch_log_group" "flow_logs" {
  #checkov:skip=CKV_AWS_338:Retention is the caller's choice (flow_logs.retention_in_days): prod keeps 365 days, dev 30 to save cost (terraform.tfvars).
  name              = "/aws/vpc/${var.name}/flow-logs"
  retention_in_days = var.flow_logs.retention_in_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "flow_logs_trust" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }

    # Confused-deputy protection: only flow logs of this account may use the role.
    # https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:vpc-flow-log/*"]
    }
  }
}

resource "aws_iam_role" "flow_logs" {
  name                 = "${var.name}-flow-logs"
  description          = "VPC flow logs of ${var.name} write to ${aws_cloudwatch_log_group.flow_logs.name}"
  assume_role_policy   = data.aws_iam_policy_document.flow_logs_trust.json
  permissions_boundary = var.permissions_boundary
  tags                 = var.tags
}

data "aws_iam_policy_document" "flow_logs" {
  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${aws_cloudwatch_log_group.flow_logs.arn}:*"]
  }
}

resource "aws_iam_role_policy" "flow_logs" {
  name   = "write-flow-logs"
  role   = aws_iam_role.flow_logs.id
  policy = data.aws_iam_policy_document.flow_logs.json
}

resource "aws_flow_log" "this" {
  vpc_id               = aws_vpc.this.id
  traffic_type         = var.flow_logs.traffic_type
  log_destination_type = "cloud-watch-logs"
  log_destination      = aws_cloudwatch_log_group.flow_logs.arn
  iam_role_arn         = aws_iam_role.flow_logs.arn
  tags                 = merge(var.tags, { Name = var.name })
}
