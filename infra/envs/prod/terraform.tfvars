# prod: the differences from dev live here; every other file of this root is identical to dev's.
environment  = "prod"
service_name = "fastapi-prod"
region       = "us-east-1"

# dev and prod share one account (infra/envs/README.md, "Account layout"): the same id in both.
# aws_account_id = "111111111111"   # set it: Terraform then refuses other accounts' credentials

# The cost toggle (ADR 0003), changed here and nowhere else (never `-var`: the Terraform workflow
# applies this file on every infrastructure merge). A new environment starts without compute,
# because the service needs an image: merge, let CI push an image, then set image_tag to its tag
# and enable_compute = true in one pull request. prod then stays on; with deletion protection on,
# the plan refuses to turn it off until protection is off (ADR 0003).
enable_compute = false
# image_tag    = "<tag of the first image pushed to the repository>"
# HTTPS, with HTTP redirected: the certificate and the name it covers, pointed at the load
# balancer (opsctl verifies deploys through public_url; *.elb.amazonaws.com has no certificate).
# certificate_arn = "arn:aws:acm:us-east-1:<account>:certificate/<id>"
# public_url      = "https://api.example.com"

network = {
  nat_gateway   = "none" # ADR 0002: VPC endpoints in both zones, no internet egress
  vpc_endpoints = true
}

task = {
  cpu    = 512
  memory = 1024
}

autoscaling = {
  # Two tasks in two zones: one zone or one task can fail without an outage.
  min_capacity = 2
  max_capacity = 6
}

log_retention_in_days = 365

# alarm_emails = ["oncall@example.com"]

# The account's guardrails (runbook 5.3), for dev and prod together: the budget, the billing
# alarm and the one AWS-services anomaly monitor an account may have. dev's root turns its own
# off. 400 USD: prod about 300, dev about 100 (less while its compute is off).
cost_guardrails = {
  monthly_budget_usd = 400
}

protection = {
  load_balancer_deletion_protection = true
  delete_images_on_destroy          = false
  delete_access_logs_on_destroy     = false
}

# How long `opsctl deploy` keeps watching after a deployment completed and passed its smoke test
# (alarms, 5xx, target health, the new tasks) before it calls the revision good, and, with
# --rollback-on-failure, rolls back when one of them breaches.
deploy_bake = "10m"
