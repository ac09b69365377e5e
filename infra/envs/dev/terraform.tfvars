# dev: the differences from prod live here; every other file of this root is identical to prod's.
environment  = "dev"
service_name = "fastapi-dev"
region       = "us-east-1"

# dev and prod share one account (infra/envs/README.md, "Account layout"): the same id in both.
# aws_account_id = "111111111111"   # set it: Terraform then refuses other accounts' credentials

# The cost toggle (ADR 0003), changed here and nowhere else: a pull request that flips this line
# is planned, reviewed, and applied by the Terraform workflow once merged (never `-var`: the next
# merge would apply this file again). A new environment starts without compute, because the
# service needs an image: merge, let CI push an image, then set image_tag to its tag and
# enable_compute = true in one pull request. Afterwards flip it to false when nobody will use
# dev for a while (a weekend, a holiday) and back to true before they do.
enable_compute = false
# image_tag    = "<tag of the first image pushed to the repository>"

# No domain, so no certificate: the load balancer answers plain HTTP. The explicit override the
# stack demands for that (prod has none: its plan is refused with the compute on and no
# certificate_arn; docs/security.md, "HTTPS").
allow_http_without_certificate = true

network = {
  nat_gateway   = "none" # ADR 0002: VPC endpoints only, same network path as prod
  vpc_endpoints = true
}

task = {
  cpu    = 256
  memory = 512
}

autoscaling = {
  min_capacity = 1
  max_capacity = 2
}

log_retention_in_days = 30

# The budget, billing alarm and anomaly monitor measure the whole account, which dev shares with
# prod: prod's root owns them (an account has one AWS-services anomaly monitor).
cost_guardrails = {
  enabled = false
}

protection = {
  # dev is rebuilt freely: destroy may delete its load balancer, images and access logs.
  load_balancer_deletion_protection = false
  delete_images_on_destroy          = true
  delete_access_logs_on_destroy     = true
}

# How long `opsctl deploy` keeps watching after a deployment completed and passed its smoke test
# (alarms, 5xx, target health, the new tasks) before it calls the revision good. dev iterates:
# no bake by default (`opsctl deploy --bake 5m` asks for one); ECS's deployment alarms still
# watch every deploy.
deploy_bake = "0s"
