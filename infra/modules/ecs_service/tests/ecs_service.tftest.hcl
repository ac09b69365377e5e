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
    target = data.aws_iam_policy_document.assume_by_ecs_tasks
    values = { json = "{}" }
  }
  override_data {
    target = data.aws_iam_policy_document.execution
    values = { json = "{}" }
  }
}

variables {
  name               = "fastapi-dev"
  vpc_id             = "vpc-0123456789abcdef0"
  subnet_ids         = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
  ecr_repository_arn = "arn:aws:ecr:us-east-1:123456789012:repository/fastapi-dev"
  kms_key_arn        = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  # infra/bootstrap creates it (<service_name>-permissions-boundary).
  permissions_boundary = "arn:aws:iam::123456789012:policy/fastapi-dev-permissions-boundary"
  container = {
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/fastapi-dev:abc123"
  }
  load_balancer = {
    target_group_arn        = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/fastapi-dev/0123456789abcdef"
    target_group_arn_suffix = "targetgroup/fastapi-dev/0123456789abcdef" # pragma: allowlist secret - a made-up target group id
    arn_suffix              = "app/fastapi-dev/0123456789abcdef"
    security_group_id       = "sg-0123456789abcdef0"
  }
  egress = {
    cidr_blocks     = ["10.0.0.0/16"]
    prefix_list_ids = ["pl-63a5400a"]
  }
}

run "task_definition_contract" {
  command = plan

  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].portMappings[0].containerPort == 8000
    error_message = "The container listens on port 8000 (the image contract, docs/architecture.md#contracts)."
  }

  assert {
    condition = {
      for e in jsondecode(aws_ecs_task_definition.this.container_definitions)[0].environment : e.name => e.value
    } == { HOST = "0.0.0.0", PORT = "8000" }
    error_message = "HOST=0.0.0.0 and PORT=8000 must be set (the image contract, docs/architecture.md#contracts)."
  }

  assert {
    condition = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].logConfiguration == {
      logDriver = "awslogs"
      options = {
        awslogs-group         = "/aws/ecs/fastapi-dev"
        awslogs-region        = "us-east-1"
        awslogs-stream-prefix = "ecs"
      }
    }
    error_message = "Logs go to /aws/ecs/<service> with stream prefix ecs (runbook 4.1, 5.1)."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.name == "/aws/ecs/fastapi-dev" && aws_cloudwatch_log_group.this.retention_in_days == 30 && aws_cloudwatch_log_group.this.kms_key_id == var.kms_key_arn
    error_message = "The log group is /aws/ecs/<service>, keeps 30 days and is encrypted (runbook 5.1)."
  }

  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].readonlyRootFilesystem == true
    error_message = "The root filesystem must be read-only."
  }

  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].user == "10001:10001"
    error_message = "The container runs as a numeric non-root user."
  }

  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].linuxParameters.capabilities.drop == ["ALL"]
    error_message = "Every Linux capability must be dropped."
  }

  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].stopTimeout == 30
    error_message = "stopTimeout must be set (30 s): SIGTERM, then SIGKILL."
  }

  assert {
    condition     = strcontains(join(" ", jsondecode(aws_ecs_task_definition.this.container_definitions)[0].healthCheck.command), "http://127.0.0.1:8000/health")
    error_message = "The container health check must ask /health on the container port."
  }

  assert {
    condition     = jsondecode(aws_ecs_task_definition.this.container_definitions)[0].memoryReservation == 512
    error_message = "The container needs a memoryReservation."
  }

  assert {
    condition     = aws_ecs_task_definition.this.network_mode == "awsvpc" && aws_ecs_task_definition.this.requires_compatibilities == toset(["FARGATE"])
    error_message = "A Fargate task in awsvpc mode."
  }

  assert {
    condition     = aws_ecs_task_definition.this.cpu == "256" && aws_ecs_task_definition.this.memory == "512"
    error_message = "The default task size is 256 CPU / 512 MiB."
  }

  assert {
    condition     = aws_ecs_task_definition.this.skip_destroy == true
    error_message = "Terraform must not deregister revisions a deployment or a rollback may still need."
  }

  assert {
    condition     = aws_iam_role.execution.name == "fastapi-dev-execution" && aws_iam_role.task.name == "fastapi-dev-task"
    error_message = "Separate execution and task roles, named <service>-execution and <service>-task (the deploy role may pass exactly those)."
  }

  assert {
    condition     = length(aws_iam_role_policy.task) == 0
    error_message = "The task role has no permissions unless task_role_policy_json is given."
  }

  assert {
    condition = toset(flatten([
      for s in data.aws_iam_policy_document.execution.statement : s.resources if s.sid == "PullThisServicesImages"
    ])) == toset([var.ecr_repository_arn])
    error_message = "The execution role may pull from this service's repository only."
  }

  assert {
    condition     = length([for s in data.aws_iam_policy_document.execution.statement : s if startswith(s.sid, "ReadNamed")]) == 0
    error_message = "Without secrets the execution role reads none."
  }
}

run "service_deploys_safely" {
  command = plan

  assert {
    condition     = aws_ecs_service.this[0].deployment_circuit_breaker[0].enable && aws_ecs_service.this[0].deployment_circuit_breaker[0].rollback
    error_message = "The deployment circuit breaker must be on, with rollback."
  }

  assert {
    condition     = aws_ecs_service.this[0].deployment_minimum_healthy_percent == 100 && aws_ecs_service.this[0].deployment_maximum_percent == 200
    error_message = "Rolling deployments at 100/200 (runbook 2.1)."
  }

  assert {
    condition     = aws_ecs_service.this[0].health_check_grace_period_seconds == 60
    error_message = "A health check grace period must be set."
  }

  assert {
    condition     = aws_ecs_service.this[0].deployment_controller[0].type == "ECS"
    error_message = "Rolling deployments are the ECS deployment controller."
  }

  assert {
    condition     = aws_ecs_service.this[0].launch_type == "FARGATE" && aws_ecs_service.this[0].platform_version == "LATEST"
    error_message = "Fargate, on the latest platform version."
  }

  assert {
    condition     = aws_ecs_service.this[0].network_configuration[0].assign_public_ip == false
    error_message = "Tasks get no public IP."
  }

  assert {
    condition     = aws_ecs_service.this[0].enable_execute_command == false
    error_message = "ECS Exec is off."
  }

  assert {
    condition     = aws_ecs_service.this[0].availability_zone_rebalancing == "ENABLED"
    error_message = "availability_zone_rebalancing must be set explicitly."
  }

  assert {
    condition     = one(aws_ecs_service.this[0].load_balancer).container_port == 8000 && one(aws_ecs_service.this[0].load_balancer).container_name == "app"
    error_message = "The service registers container app, port 8000, in the target group."
  }

  assert {
    condition     = aws_ecs_service.this[0].desired_count == 1 && aws_appautoscaling_target.this[0].min_capacity == 1 && aws_appautoscaling_target.this[0].max_capacity == 4
    error_message = "Autoscaling between 1 and 4 tasks, starting at 1."
  }

  assert {
    condition     = aws_appautoscaling_policy.cpu[0].target_tracking_scaling_policy_configuration[0].predefined_metric_specification[0].predefined_metric_type == "ECSServiceAverageCPUUtilization"
    error_message = "Target tracking on average CPU."
  }

  assert {
    condition = (
      aws_appautoscaling_policy.requests[0].target_tracking_scaling_policy_configuration[0].predefined_metric_specification[0].predefined_metric_type == "ALBRequestCountPerTarget" &&
      aws_appautoscaling_policy.requests[0].target_tracking_scaling_policy_configuration[0].predefined_metric_specification[0].resource_label == "app/fastapi-dev/0123456789abcdef/targetgroup/fastapi-dev/0123456789abcdef" # pragma: allowlist secret - a made-up target group id
    )
    error_message = "Target tracking on ALB requests per target, labelled <lb suffix>/<target group suffix>."
  }

  assert {
    condition     = aws_vpc_security_group_ingress_rule.from_load_balancer.referenced_security_group_id == "sg-0123456789abcdef0" && aws_vpc_security_group_ingress_rule.from_load_balancer.from_port == 8000 && aws_vpc_security_group_ingress_rule.from_load_balancer.to_port == 8000
    error_message = "Tasks admit only the load balancer's security group, on the container port."
  }

  assert {
    condition     = alltrue([for r in concat(aws_vpc_security_group_egress_rule.https_cidr, aws_vpc_security_group_egress_rule.https_prefix_list) : r.from_port == 443 && r.to_port == 443])
    error_message = "Tasks may only open HTTPS connections."
  }

  assert {
    condition     = aws_ecs_cluster.this.setting == toset([{ name = "containerInsights", value = "enabled" }])
    error_message = "Container Insights must be on (running/desired task metrics)."
  }
}

run "secrets_are_readable_one_by_one" {
  command = plan

  variables {
    container = {
      image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/fastapi-dev:abc123"
      secrets = {
        API_TOKEN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:fastapi/token-AbCdEf"
        DB_URL    = "arn:aws:ssm:us-east-1:123456789012:parameter/fastapi/db-url"
      }
    }
  }

  assert {
    condition = toset(flatten([
      for s in data.aws_iam_policy_document.execution.statement : s.resources if s.sid == "ReadNamedSecrets"
    ])) == toset(["arn:aws:secretsmanager:us-east-1:123456789012:secret:fastapi/token-AbCdEf"])
    error_message = "The execution role may read exactly the named secret."
  }

  assert {
    condition = toset(flatten([
      for s in data.aws_iam_policy_document.execution.statement : s.resources if s.sid == "ReadNamedParameters"
    ])) == toset(["arn:aws:ssm:us-east-1:123456789012:parameter/fastapi/db-url"])
    error_message = "The execution role may read exactly the named parameter."
  }

  assert {
    condition = tomap({
      for s in jsondecode(aws_ecs_task_definition.this.container_definitions)[0].secrets : s.name => s.valueFrom
    }) == var.container.secrets
    error_message = "Secrets reach the container as environment variables."
  }
}

run "service_off_keeps_definition_and_logs" {
  command = plan

  variables {
    service_enabled = false
  }

  assert {
    condition     = length(aws_ecs_service.this) == 0 && length(aws_appautoscaling_target.this) == 0 && length(aws_appautoscaling_policy.cpu) == 0
    error_message = "service_enabled = false removes the service and its autoscaling (ADR 0003)."
  }

  assert {
    condition     = aws_ecs_cluster.this.name == "fastapi-dev" && aws_ecs_task_definition.this.family == "fastapi-dev" && aws_cloudwatch_log_group.this.name == "/aws/ecs/fastapi-dev"
    error_message = "The cluster, the task definition and the log group stay."
  }
}

# Issue 10: the roles an apply role creates must carry the environment's boundary, or the
# apply role could give them any permission.
run "roles_carry_the_permissions_boundary" {
  command = plan

  assert {
    condition = alltrue([
      for r in [aws_iam_role.execution, aws_iam_role.task] : r.permissions_boundary == "arn:aws:iam::123456789012:policy/fastapi-dev-permissions-boundary"
    ])
    error_message = "The execution and task roles carry the environment's permissions boundary."
  }
}

run "rejects_a_boundary_that_is_not_a_policy" {
  command = plan

  variables {
    permissions_boundary = "fastapi-dev-permissions-boundary"
  }

  expect_failures = [var.permissions_boundary]
}

run "rejects_invalid_name" {
  command = plan

  variables {
    name = "FastAPI"
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

run "rejects_non_ecr_repository_arn" {
  command = plan

  variables {
    ecr_repository_arn = "arn:aws:s3:::fastapi-dev"
  }

  expect_failures = [var.ecr_repository_arn]
}

run "rejects_invalid_container_name" {
  command = plan

  variables {
    container = { name = "app server", image = "repo:tag" }
  }

  expect_failures = [var.container]
}

run "rejects_image_without_tag" {
  command = plan

  variables {
    container = { image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/fastapi-dev" }
  }

  expect_failures = [var.container]
}

run "rejects_privileged_port" {
  command = plan

  variables {
    container = { image = "repo:tag", port = 80 }
  }

  expect_failures = [var.container]
}

run "rejects_user_name" {
  command = plan

  variables {
    container = { image = "repo:tag", user = "root" }
  }

  expect_failures = [var.container]
}

run "rejects_stop_timeout_above_fargate_limit" {
  command = plan

  variables {
    container = { image = "repo:tag", stop_timeout = 300 }
  }

  expect_failures = [var.container]
}

run "rejects_overriding_host_or_port" {
  command = plan

  variables {
    container = { image = "repo:tag", environment = { PORT = "9000" } }
  }

  expect_failures = [var.container]
}

run "rejects_plain_secret_values" {
  command = plan

  variables {
    container = { image = "repo:tag", secrets = { TOKEN = "hunter2" } }
  }

  expect_failures = [var.container]
}

run "rejects_invalid_container_health_check" {
  command = plan

  variables {
    container = { image = "repo:tag", health_check = { retries = 0 } }
  }

  expect_failures = [var.container]
}

run "rejects_non_fargate_task_size" {
  command = plan

  variables {
    task = { cpu = 256, memory = 4096 }
  }

  expect_failures = [var.task]
}

run "rejects_unknown_architecture" {
  command = plan

  variables {
    task = { cpu_architecture = "RISCV" }
  }

  expect_failures = [var.task]
}

run "deployment_alarms_fail_and_roll_back_a_deploy" {
  command = plan

  variables {
    deployment = { alarm_names = ["fastapi-dev-target-5xx", "fastapi-dev-service-5xx"] }
  }

  assert {
    condition     = aws_ecs_service.this[0].alarms[0].enable && aws_ecs_service.this[0].alarms[0].alarm_names == toset(["fastapi-dev-target-5xx", "fastapi-dev-service-5xx"])
    error_message = "Named deployment alarms are enabled on the service (ECS deployment alarms)."
  }

  assert {
    condition     = aws_ecs_service.this[0].alarms[0].rollback
    error_message = "A deployment an alarm fails is rolled back by default."
  }
}

run "no_alarm_names_no_alarms_block" {
  command = plan

  assert {
    condition     = length(aws_ecs_service.this[0].alarms) == 0
    error_message = "Without alarm names the service has no deployment alarms block (ECS refuses an empty one)."
  }
}

run "rejects_more_than_ten_deployment_alarms" {
  command = plan

  variables {
    deployment = { alarm_names = [for i in range(11) : "alarm-${i}"] }
  }

  expect_failures = [var.deployment]
}

run "rejects_invalid_deployment_percentages" {
  command = plan

  variables {
    deployment = { maximum_percent = 300 }
  }

  expect_failures = [var.deployment]
}

run "rejects_deployment_that_cannot_start_a_task" {
  command = plan

  variables {
    deployment = { minimum_healthy_percent = 100, maximum_percent = 100 }
  }

  expect_failures = [var.deployment]
}

run "rejects_negative_grace_period" {
  command = plan

  variables {
    deployment = { health_check_grace_period_seconds = -1 }
  }

  expect_failures = [var.deployment]
}

run "rejects_max_below_min_capacity" {
  command = plan

  variables {
    autoscaling = { min_capacity = 3, max_capacity = 2 }
  }

  expect_failures = [var.autoscaling]
}

run "rejects_cpu_target_out_of_range" {
  command = plan

  variables {
    autoscaling = { cpu_target_percent = 150 }
  }

  expect_failures = [var.autoscaling]
}

run "rejects_non_positive_request_target" {
  command = plan

  variables {
    autoscaling = { request_count_per_target = 0 }
  }

  expect_failures = [var.autoscaling]
}

run "rejects_no_egress_at_all" {
  command = plan

  variables {
    egress = {}
  }

  expect_failures = [var.egress]
}

run "rejects_invalid_egress_cidr" {
  command = plan

  variables {
    egress = { cidr_blocks = ["vpc"] }
  }

  expect_failures = [var.egress]
}

run "rejects_invalid_log_retention" {
  command = plan

  variables {
    log_retention_in_days = 45
  }

  expect_failures = [var.log_retention_in_days]
}

run "rejects_non_kms_arn" {
  command = plan

  variables {
    kms_key_arn = "alias/aws/logs"
  }

  expect_failures = [var.kms_key_arn]
}
