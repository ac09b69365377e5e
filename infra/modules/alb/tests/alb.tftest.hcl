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
    target = data.aws_elb_service_account.current
    values = { arn = "arn:aws:iam::127311923021:root" }
  }
}

variables {
  name       = "fastapi-dev"
  vpc_id     = "vpc-0123456789abcdef0"
  subnet_ids = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
}

run "runbook_health_check_and_secure_defaults" {
  command = plan

  # Runbook 8.2: /health on the traffic port, every 30 s, healthy 2, unhealthy 2, HTTP 200.
  assert {
    condition     = aws_lb_target_group.this.health_check[0].path == "/health"
    error_message = "Health check path must be /health (runbook 8.2)."
  }

  assert {
    condition     = aws_lb_target_group.this.health_check[0].port == "traffic-port"
    error_message = "Health check port must be traffic-port (runbook 8.2)."
  }

  assert {
    condition     = aws_lb_target_group.this.health_check[0].interval == 30
    error_message = "Health check interval must be 30 s (runbook 8.2)."
  }

  assert {
    condition     = aws_lb_target_group.this.health_check[0].healthy_threshold == 2 && aws_lb_target_group.this.health_check[0].unhealthy_threshold == 2
    error_message = "Healthy and unhealthy thresholds must be 2 (runbook 8.2)."
  }

  assert {
    condition     = aws_lb_target_group.this.health_check[0].matcher == "200"
    error_message = "Health check must expect HTTP 200."
  }

  assert {
    condition     = aws_lb_target_group.this.target_type == "ip" && aws_lb_target_group.this.port == 8000 && aws_lb_target_group.this.protocol == "HTTP"
    error_message = "Fargate tasks register by IP on the container port 8000."
  }

  assert {
    condition     = aws_lb_target_group.this.deregistration_delay == "30"
    error_message = "Deregistration delay must be 30 s (AWS's 300 s slows every deployment)."
  }

  assert {
    condition     = aws_lb.this[0].internal == false && aws_lb.this[0].load_balancer_type == "application"
    error_message = "An internet-facing Application Load Balancer."
  }

  assert {
    condition     = aws_lb.this[0].drop_invalid_header_fields == true
    error_message = "Invalid header fields must be dropped."
  }

  assert {
    condition     = aws_lb.this[0].enable_deletion_protection == true
    error_message = "Deletion protection must be on by default."
  }

  assert {
    condition     = aws_lb.this[0].access_logs[0].enabled && aws_lb.this[0].access_logs[0].bucket == "alb-logs-123456789012-us-east-1"
    error_message = "Access logs must go to alb-logs-<account>-<region> (runbook 4.1)."
  }

  assert {
    condition     = aws_lb_listener.http[0].default_action[0].type == "forward" && length(aws_lb_listener.https) == 0
    error_message = "Without a certificate, port 80 forwards to the service and there is no HTTPS listener."
  }

  assert {
    condition     = toset([for r in aws_vpc_security_group_ingress_rule.this : r.from_port]) == toset([80])
    error_message = "Without a certificate only port 80 is open."
  }

  assert {
    condition     = one([for r in aws_s3_bucket_server_side_encryption_configuration.access_logs.rule : r.apply_server_side_encryption_by_default[0].sse_algorithm]) == "AES256"
    error_message = "The access-log bucket must be encrypted (SSE-S3: the only kind ALB log delivery supports)."
  }

  assert {
    condition = alltrue([
      aws_s3_bucket_public_access_block.access_logs.block_public_acls,
      aws_s3_bucket_public_access_block.access_logs.block_public_policy,
      aws_s3_bucket_public_access_block.access_logs.ignore_public_acls,
      aws_s3_bucket_public_access_block.access_logs.restrict_public_buckets,
    ])
    error_message = "Public access to the access-log bucket must be blocked."
  }

  assert {
    condition     = aws_s3_bucket_lifecycle_configuration.access_logs.rule[0].expiration[0].days == 90
    error_message = "Access logs must expire (90 days by default)."
  }

  assert {
    condition     = aws_s3_bucket_versioning.access_logs.versioning_configuration[0].status == "Enabled"
    error_message = "The access-log bucket must be versioned."
  }

  # The bucket policy as AWS receives it (the document is built with jsonencode, so it is known
  # at plan time): what log delivery needs, and nothing more.
  # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
  assert {
    condition = anytrue([
      for s in jsondecode(aws_s3_bucket_policy.access_logs.policy).Statement :
      s.Effect == "Allow" && try(s.Principal.AWS, "") == "arn:aws:iam::127311923021:root" &&
      s.Action == "s3:PutObject" && s.Resource == "arn:aws:s3:::alb-logs-123456789012-us-east-1/AWSLogs/123456789012/*"
    ])
    error_message = "The region's Elastic Load Balancing account may put objects under AWSLogs/<account>/ (regions opened before August 2022)."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_s3_bucket_policy.access_logs.policy).Statement :
      s.Effect == "Allow" && try(s.Principal.Service, "") == "logdelivery.elasticloadbalancing.amazonaws.com" &&
      s.Action == "s3:PutObject" && s.Resource == "arn:aws:s3:::alb-logs-123456789012-us-east-1/AWSLogs/123456789012/*"
    ])
    error_message = "The log delivery service principal may put objects under AWSLogs/<account>/ (newer regions)."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_s3_bucket_policy.access_logs.policy).Statement :
      s.Effect == "Deny" || (s.Action == "s3:PutObject" && s.Resource == "arn:aws:s3:::alb-logs-123456789012-us-east-1/AWSLogs/123456789012/*")
    ])
    error_message = "The bucket policy allows nothing but log delivery under AWSLogs/<account>/."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_s3_bucket_policy.access_logs.policy).Statement :
      s.Effect == "Deny" && s.Principal == "*" && s.Action == "s3:*" && try(s.Condition.Bool["aws:SecureTransport"], "") == "false" &&
      try(toset(s.Resource), toset([])) == toset(["arn:aws:s3:::alb-logs-123456789012-us-east-1", "arn:aws:s3:::alb-logs-123456789012-us-east-1/*"])
    ])
    error_message = "The access-log bucket must refuse requests without TLS."
  }
}

run "https_with_redirect" {
  command = plan

  variables {
    https = { certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555" }
  }

  assert {
    condition = (
      aws_lb_listener.http[0].default_action[0].type == "redirect" &&
      aws_lb_listener.http[0].default_action[0].redirect[0].protocol == "HTTPS" &&
      aws_lb_listener.http[0].default_action[0].redirect[0].status_code == "HTTP_301"
    )
    error_message = "With a certificate, HTTP must redirect to HTTPS (301)."
  }

  assert {
    condition     = aws_lb_listener.https[0].protocol == "HTTPS" && aws_lb_listener.https[0].ssl_policy == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    error_message = "The HTTPS listener must use a TLS 1.2+ policy."
  }

  # Issue 10: no HSTS when HTTPS was on, so a first plain-HTTP request could be intercepted.
  assert {
    condition     = aws_lb_listener.https[0].routing_http_response_strict_transport_security_header_value == "max-age=31536000; includeSubDomains"
    error_message = "The HTTPS listener adds Strict-Transport-Security (a year, subdomains included) to every response."
  }

  assert {
    condition     = toset([for r in aws_vpc_security_group_ingress_rule.this : r.from_port]) == toset([80, 443])
    error_message = "With a certificate, ports 80 and 443 are open."
  }
}

run "waf_web_acl_is_attached_when_given" {
  command = plan

  variables {
    waf_web_acl_arn = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/fastapi/11111111-2222-3333-4444-555555555555"
  }

  assert {
    condition     = aws_wafv2_web_acl_association.this[0].web_acl_arn == var.waf_web_acl_arn
    error_message = "The given web ACL protects the load balancer."
  }
}

run "load_balancer_off_keeps_the_free_parts" {
  command = plan

  variables {
    load_balancer_enabled = false
  }

  # No load balancer of this name exists (a new environment, or one already turned off).
  override_data {
    target = data.aws_lbs.existing[0]
    values = { arns = [] }
  }

  assert {
    condition     = length(aws_lb.this) == 0 && length(aws_lb_listener.http) == 0
    error_message = "With load_balancer_enabled = false there is no load balancer nor listener (ADR 0003)."
  }

  assert {
    condition     = aws_lb_target_group.this.name == "fastapi-dev" && aws_s3_bucket.access_logs.bucket == "alb-logs-123456789012-us-east-1" # gitleaks:allow - the bucket name runbook 4.1 gives, not a key
    error_message = "The target group and the access-log bucket stay."
  }

  assert {
    condition     = output.url == ""
    error_message = "The URL is empty while there is no load balancer."
  }
}

# Two environments in one account and region: runbook 4.1's name with the environment appended.
run "access_log_bucket_name_with_a_suffix" {
  command = plan

  variables {
    access_logs = { bucket_suffix = "prod" }
  }

  assert {
    condition     = aws_s3_bucket.access_logs.bucket == "alb-logs-123456789012-us-east-1-prod" && aws_lb.this[0].access_logs[0].bucket == "alb-logs-123456789012-us-east-1-prod" # gitleaks:allow - a bucket name, not a key
    error_message = "With bucket_suffix, the bucket is alb-logs-<account>-<region>-<suffix>."
  }

  assert {
    condition     = one([for s in jsondecode(aws_s3_bucket_policy.access_logs.policy).Statement : s.Resource if s.Sid == "ElbLogDelivery"]) == "arn:aws:s3:::alb-logs-123456789012-us-east-1-prod/AWSLogs/123456789012/*"
    error_message = "Log delivery is granted on the suffixed bucket."
  }
}

run "rejects_a_bucket_name_longer_than_s3_allows" {
  command = plan

  # alb-logs-123456789012-ap-southeast-3- is 37 characters: a 30-character suffix makes 67.
  override_data {
    target = data.aws_region.current
    values = { name = "ap-southeast-3" }
  }

  variables {
    access_logs = { bucket_suffix = "a-thirty-character-suffix-1234" }
  }

  expect_failures = [aws_s3_bucket.access_logs]
}

run "rejects_an_invalid_bucket_suffix" {
  command = plan

  variables {
    access_logs = { bucket_suffix = "Prod_1" }
  }

  expect_failures = [var.access_logs]
}

# ADR 0003: turning the compute off deletes the ECS service and the listeners before the load
# balancer; with deletion protection on, AWS then refuses the last step and leaves the
# environment half torn down. The plan refuses instead, before anything changes.
run "refuses_to_turn_off_a_load_balancer_with_deletion_protection" {
  command = plan

  variables {
    load_balancer_enabled = false
  }

  override_data {
    target = data.aws_lbs.existing[0]
    values = { arns = ["arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/fastapi-dev/0123456789abcdef"] }
  }

  override_data {
    target = data.aws_lb.existing["arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/fastapi-dev/0123456789abcdef"]
    values = { enable_deletion_protection = true }
  }

  expect_failures = [aws_lb_target_group.this]
}

run "turns_off_a_load_balancer_whose_protection_is_off" {
  command = plan

  variables {
    load_balancer_enabled = false
  }

  override_data {
    target = data.aws_lbs.existing[0]
    values = { arns = ["arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/fastapi-dev/0123456789abcdef"] }
  }

  override_data {
    target = data.aws_lb.existing["arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/fastapi-dev/0123456789abcdef"]
    values = { enable_deletion_protection = false }
  }

  assert {
    condition     = length(aws_lb.this) == 0
    error_message = "An unprotected load balancer may be turned off."
  }
}

run "rejects_invalid_name" {
  command = plan

  variables {
    name = "a-name-that-is-far-too-long-for-elb"
  }

  expect_failures = [var.name]
}

run "rejects_a_single_subnet" {
  command = plan

  variables {
    subnet_ids = ["subnet-0123456789abcdef0"]
  }

  expect_failures = [var.subnet_ids]
}

run "rejects_invalid_port" {
  command = plan

  variables {
    target = { port = 70000 }
  }

  expect_failures = [var.target]
}

# Issue 3: deregistration delay 30 to 60 s.
run "rejects_deregistration_delay_below_30_seconds" {
  command = plan

  variables {
    target = { deregistration_delay = 0 }
  }

  expect_failures = [var.target]
}

run "rejects_deregistration_delay_above_60_seconds" {
  command = plan

  variables {
    target = { deregistration_delay = 61 }
  }

  expect_failures = [var.target]
}

run "accepts_deregistration_delay_of_60_seconds" {
  command = plan

  variables {
    target = { deregistration_delay = 60 }
  }

  assert {
    condition     = aws_lb_target_group.this.deregistration_delay == "60"
    error_message = "60 s is within the 30-60 s range."
  }
}

run "rejects_relative_health_check_path" {
  command = plan

  variables {
    health_check = { path = "health" }
  }

  expect_failures = [var.health_check]
}

run "rejects_timeout_not_below_interval" {
  command = plan

  variables {
    health_check = { interval = 5, timeout = 5 }
  }

  expect_failures = [var.health_check]
}

run "rejects_threshold_out_of_range" {
  command = plan

  variables {
    health_check = { unhealthy_threshold = 1 }
  }

  expect_failures = [var.health_check]
}

run "rejects_invalid_matcher" {
  command = plan

  variables {
    health_check = { matcher = "ok" }
  }

  expect_failures = [var.health_check]
}

run "rejects_invalid_certificate_arn" {
  command = plan

  variables {
    https = { certificate_arn = "my-certificate" }
  }

  expect_failures = [var.https]
}

run "rejects_legacy_tls_policy" {
  command = plan

  variables {
    https = { ssl_policy = "ELBSecurityPolicy-2016-08" }
  }

  expect_failures = [var.https]
}

run "rejects_invalid_ingress_cidr" {
  command = plan

  variables {
    ingress_cidr_blocks = ["anywhere"]
  }

  expect_failures = [var.ingress_cidr_blocks]
}

run "rejects_invalid_bucket_name" {
  command = plan

  variables {
    access_logs = { bucket_name = "ALB_Logs" }
  }

  expect_failures = [var.access_logs]
}

run "rejects_invalid_log_expiry" {
  command = plan

  variables {
    access_logs = { expiration_days = 0 }
  }

  expect_failures = [var.access_logs]
}

run "rejects_global_waf_web_acl" {
  command = plan

  variables {
    waf_web_acl_arn = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/fastapi/11111111-2222-3333-4444-555555555555"
  }

  expect_failures = [var.waf_web_acl_arn]
}

run "rejects_invalid_idle_timeout" {
  command = plan

  variables {
    idle_timeout = 0
  }

  expect_failures = [var.idle_timeout]
}

run "rejects_a_strict_transport_security_value_that_protects_nothing" {
  command = plan

  variables {
    https = {
      certificate_arn           = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
      strict_transport_security = "max-age=60"
    }
  }

  expect_failures = [var.https]
}
