# What the mocked AWS providers (the environment's region and us-east-1) return where a random
# value would not do, for every plan of the stack (infra/stack/tests and the environment roots'
# tests). Names are "mocked": what a test asserts comes from its variables.
mock_data "aws_caller_identity" {
  defaults = { account_id = "123456789012" }
}
mock_data "aws_region" {
  defaults = { name = "us-east-1" }
}
mock_data "aws_partition" {
  defaults = { partition = "aws" }
}
mock_data "aws_availability_zones" {
  defaults = { names = ["us-east-1a", "us-east-1b"] }
}
mock_data "aws_elb_service_account" {
  defaults = { arn = "arn:aws:iam::127311923021:root" }
}
# No load balancer exists yet (the alb module looks for a protected one while compute is off).
mock_data "aws_lbs" {
  defaults = { arns = [] }
}
# The provider validates policy JSON; mocked documents would be random text.
mock_data "aws_iam_policy_document" {
  defaults = { json = "{}" }
}
# Modules validate these ARNs: mocked values must look like the real ones.
mock_resource "aws_kms_key" {
  defaults = { arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555" }
}
mock_resource "aws_ecr_repository" {
  defaults = {
    arn            = "arn:aws:ecr:us-east-1:123456789012:repository/mocked"
    repository_url = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mocked"
  }
}
# The provider validates these ARNs when a run applies.
mock_resource "aws_lb" {
  defaults = {
    arn        = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/mocked/0123456789abcdef"
    arn_suffix = "app/mocked/0123456789abcdef"
    dns_name   = "mocked-123456789.us-east-1.elb.amazonaws.com"
  }
}
mock_resource "aws_lb_target_group" {
  defaults = {
    arn        = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/mocked/0123456789abcdef"
    arn_suffix = "targetgroup/mocked/0123456789abcdef" # pragma: allowlist secret - a made-up target group id
  }
}
mock_resource "aws_sns_topic" {
  defaults = { arn = "arn:aws:sns:us-east-1:123456789012:mocked-alerts" }
}
mock_resource "aws_iam_role" {
  defaults = { arn = "arn:aws:iam::123456789012:role/mocked" }
}
mock_resource "aws_cloudwatch_log_group" {
  defaults = { arn = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/ecs/mocked" }
}
mock_resource "aws_ce_anomaly_monitor" {
  defaults = { arn = "arn:aws:ce::123456789012:anomalymonitor/11111111-2222-3333-4444-555555555555" }
}
