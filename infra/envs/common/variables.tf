# terraform.tfvars sets these; each is a variable of the stack, which holds its type, default,
# validation and meaning (infra/stack/variables.tf, infra/envs/README.md). null: the stack's
# default.
variable "environment" {}
variable "service_name" {}
variable "region" { default = null }
variable "availability_zones" { default = null }
variable "aws_account_id" { default = null }
variable "enable_compute" { default = null }
variable "image_tag" { default = null }
variable "network" { default = null }
variable "task" { default = null }
variable "autoscaling" { default = null }
variable "container_environment" { default = null }
variable "container_secrets" { default = null }
variable "certificate_arn" { default = null }
variable "allow_http_without_certificate" { default = null }
variable "public_url" { default = null }
variable "log_retention_in_days" { default = null }
variable "alarm_emails" { default = null }
variable "cost_guardrails" { default = null }
variable "protection" { default = null }
variable "access_logs_bucket_name" { default = null }
variable "deploy_bake" { default = null }
