# The public entry point: an Application Load Balancer, the `ip` target group the ECS service
# registers its tasks in (health check = runbook 8.2), listeners, and the access-log bucket
# alb-logs-<account>-<region> of runbook 4.1.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

# The regional Elastic Load Balancing account that writes access logs in regions opened before
# August 2022 (newer regions use the log-delivery service principal, also granted below).
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
data "aws_elb_service_account" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  https      = var.https.certificate_arn != null
  # Runbook 4.1's alb-logs-<account>-<region>, with "-<bucket_suffix>" when several load
  # balancers log in one account and region (bucket names are global).
  bucket_name = coalesce(var.access_logs.bucket_name, join("-", compact(["alb-logs", local.account_id, local.region, var.access_logs.bucket_suffix])))
  bucket_arn  = "arn:${local.partition}:s3:::${local.bucket_name}"
  lb_count    = var.load_balancer_enabled ? 1 : 0
  ports       = local.https ? [80, 443] : [80]
}

resource "aws_security_group" "this" {
  name        = "${var.name}-alb"
  description = "Load balancer ${var.name}: HTTP(S) in from the allowed networks, out only to the service's tasks"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-alb" })

  # No egress block: Terraform removes AWS's allow-all egress rule. The ecs_service module adds the
  # one rule this group needs (to the task security group, on the container port).
}

resource "aws_vpc_security_group_ingress_rule" "this" {
  for_each = { for pair in setproduct(local.ports, var.ingress_cidr_blocks) : "${pair[0]}-${pair[1]}" => { port = pair[0], cidr = pair[1] } }

  security_group_id = aws_security_group.this.id
  description       = each.value.port == 443 ? "HTTPS from ${each.value.cidr}" : "HTTP from ${each.value.cidr}"
  ip_protocol       = "tcp"
  from_port         = each.value.port
  to_port           = each.value.port
  cidr_ipv4         = each.value.cidr
  tags              = var.tags
}

resource "aws_lb" "this" {
  #checkov:skip=CKV_AWS_150:Deletion protection is on by default (variable deletion_protection); only throwaway environments turn it off, on purpose (infra/envs/dev/terraform.tfvars).
  #checkov:skip=CKV2_AWS_28:A WAF web ACL is billed per ACL, rule and request; attach one with the variable waf_web_acl_arn where the service is worth it (module README).
  #checkov:skip=CKV2_AWS_76:The web ACL is the caller's (waf_web_acl_arn); its rules, AWSManagedRulesKnownBadInputsRuleSet (Log4j) included, live where the ACL is defined.
  count = local.lb_count

  name = var.name
  #trivy:ignore:AVD-AWS-0053 reason: the ALB is the service's public entry point (runbook 1: Internet -> ALB -> ECS); tasks stay in private subnets.
  internal           = false
  load_balancer_type = "application"
  security_groups    = [aws_security_group.this.id]
  subnets            = var.subnet_ids
  idle_timeout       = var.idle_timeout

  # Malformed headers are dropped instead of forwarded to the application (request smuggling).
  drop_invalid_header_fields = true
  desync_mitigation_mode     = "defensive"
  enable_deletion_protection = var.deletion_protection

  access_logs {
    bucket  = aws_s3_bucket.access_logs.bucket
    enabled = true
  }

  tags = merge(var.tags, { Name = var.name })

  # The load balancer checks that it may write to the bucket when logging is switched on.
  depends_on = [aws_s3_bucket_policy.access_logs]
}

# While the load balancer is turned off (ADR 0003), whether one of this name still exists and is
# protected from deletion: turning the compute off deletes the ECS service and the listeners
# first, and AWS would then refuse to delete a protected load balancer, leaving the environment
# half torn down. The target group's precondition stops the plan instead. aws_lbs, not aws_lb:
# it returns nothing, rather than an error, when no load balancer exists.
data "aws_lbs" "existing" {
  count = var.load_balancer_enabled ? 0 : 1

  tags = { Name = var.name }
}

data "aws_lb" "existing" {
  for_each = toset(flatten(data.aws_lbs.existing[*].arns))

  arn = each.key
}

resource "aws_lb_target_group" "this" {
  #checkov:skip=CKV_AWS_378:TLS ends at the load balancer; from it to the tasks traffic stays in the VPC's private subnets, between two security groups that admit only each other.
  name                 = var.name
  port                 = var.target.port
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = var.target.deregistration_delay

  health_check {
    enabled             = true
    protocol            = "HTTP"
    port                = "traffic-port"
    path                = var.health_check.path
    interval            = var.health_check.interval
    timeout             = var.health_check.timeout
    healthy_threshold   = var.health_check.healthy_threshold
    unhealthy_threshold = var.health_check.unhealthy_threshold
    matcher             = var.health_check.matcher
  }

  tags = merge(var.tags, { Name = var.name })

  lifecycle {
    precondition {
      condition     = var.load_balancer_enabled || alltrue([for lb in data.aws_lb.existing : !lb.enable_deletion_protection])
      error_message = "Load balancer ${var.name} has deletion protection on: turning it off now would delete the ECS service and the listeners and then fail on the load balancer. First apply with deletion protection off (protection.load_balancer_deletion_protection = false, compute still on), then turn the compute off (ADR 0003)."
    }
  }
}

#trivy:ignore:AVD-AWS-0054 reason: port 80 only redirects to HTTPS whenever a certificate is given; without one it is the only listener, by the operator's choice (variable https).
resource "aws_lb_listener" "http" {
  #checkov:skip=CKV_AWS_2:Port 80 redirects to HTTPS whenever a certificate is given; without one (no domain yet) it is the only listener, by the operator's choice (variable https).
  #checkov:skip=CKV2_AWS_20:Same: the redirect exists as soon as there is a certificate to redirect to.
  count = local.lb_count

  load_balancer_arn = aws_lb.this[0].arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = local.https ? "redirect" : "forward"
    target_group_arn = local.https ? null : aws_lb_target_group.this.arn

    dynamic "redirect" {
      for_each = local.https ? [1] : []
      content {
        port        = "443"
        protocol    = "HTTPS"
        status_code = "HTTP_301"
      }
    }
  }

  tags = var.tags
}

resource "aws_lb_listener" "https" {
  #checkov:skip=CKV_AWS_103:ssl_policy comes from var.https, whose validation admits only TLS 1.2+ policies (default ELBSecurityPolicy-TLS13-1-2-2021-06); checkov cannot read an optional() attribute's default.
  count = local.https ? local.lb_count : 0

  load_balancer_arn = aws_lb.this[0].arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.https.ssl_policy
  certificate_arn   = var.https.certificate_arn

  # HSTS on every response the load balancer sends over HTTPS, the service's own included.
  # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/header-modification.html
  routing_http_response_strict_transport_security_header_value = var.https.strict_transport_security

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this.arn
  }

  tags = var.tags
}

resource "aws_wafv2_web_acl_association" "this" {
  count = var.waf_web_acl_arn != null && var.load_balancer_enabled ? 1 : 0

  resource_arn = aws_lb.this[0].arn
  web_acl_arn  = var.waf_web_acl_arn
}

# --- Access logs (runbook 4.1: alb-logs-<account>-<region>/AWSLogs/...) -----------------------

#trivy:ignore:AVD-AWS-0089 reason: this bucket receives logs; logging its own access would need another bucket, and CloudTrail data events cover reads.
resource "aws_s3_bucket" "access_logs" {
  #checkov:skip=CKV_AWS_18:This bucket receives logs; logging its own access would need another bucket, and CloudTrail data events cover reads.
  #checkov:skip=CKV_AWS_144:Access logs are evidence kept for a few weeks; a second region's copy is not worth its cost here.
  #checkov:skip=CKV_AWS_145:ALB access logs support only SSE-S3 (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html); the bucket is encrypted with it.
  #checkov:skip=CKV2_AWS_62:No consumer for event notifications on log delivery.
  bucket        = local.bucket_name
  force_destroy = var.access_logs.force_destroy
  tags          = merge(var.tags, { Name = local.bucket_name })

  lifecycle {
    # The account id and region are known only here: a suffix that makes the name too long is
    # refused in the plan, before anything is created.
    precondition {
      condition     = length(local.bucket_name) <= 63
      error_message = "The access-log bucket name ${local.bucket_name} is longer than the 63 characters S3 allows: shorten access_logs.bucket_suffix or set access_logs.bucket_name."
    }
  }
}

resource "aws_s3_bucket_ownership_controls" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  rule {
    # ACLs off: the bucket policy alone decides; ELB log delivery works without ACLs.
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "access_logs" {
  bucket                  = aws_s3_bucket.access_logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

#trivy:ignore:AVD-AWS-0132 reason: ALB access logs support only SSE-S3; with a KMS key the load balancer cannot write (link below).
resource "aws_s3_bucket_server_side_encryption_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  rule {
    apply_server_side_encryption_by_default {
      # Access logs support only SSE-S3: with SSE-KMS the load balancer cannot write.
      # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  rule {
    id     = "expire-access-logs"
    status = "Enabled"

    filter {}

    expiration {
      days = var.access_logs.expiration_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 7
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.access_logs]
}

# Built with jsonencode rather than an aws_iam_policy_document data source: the document is then
# known at plan time, so the module's tests assert the very policy AWS receives (a mocked data
# source would only return placeholder JSON).
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
locals {
  log_delivery_prefix = "${local.bucket_arn}/AWSLogs/${local.account_id}/*"

  access_logs_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # Regions opened before August 2022: the region's Elastic Load Balancing account writes.
        Sid       = "ElbLogDelivery"
        Effect    = "Allow"
        Principal = { AWS = data.aws_elb_service_account.current.arn }
        Action    = "s3:PutObject"
        Resource  = local.log_delivery_prefix
      },
      {
        # Newer regions: the log delivery service principal writes.
        Sid       = "ElbLogDeliveryServicePrincipal"
        Effect    = "Allow"
        Principal = { Service = "logdelivery.elasticloadbalancing.amazonaws.com" }
        Action    = "s3:PutObject"
        Resource  = local.log_delivery_prefix
      },
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [local.bucket_arn, "${local.bucket_arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })
}

resource "aws_s3_bucket_policy" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  policy = local.access_logs_policy

  depends_on = [aws_s3_bucket_public_access_block.access_logs]
}
