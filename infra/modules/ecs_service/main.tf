# The workload: an ECS cluster (Container Insights), the Fargate task definition, the execution and
# task roles, the task security group, the service (rolling, circuit breaker with rollback) and
# its target-tracking autoscaling.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  log_group  = "/aws/ecs/${var.name}"
  port       = var.container.port

  health_check_command = coalesce(var.container.health_check.command, [
    # The image has Python (the service is a Python console script) but no curl: ask /health with
    # the standard library, inside the task, on the loopback address.
    "CMD", "python", "-c",
    "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${local.port}/health', timeout=3)",
  ])

  secret_arns = {
    secretsmanager = [for arn in values(var.container.secrets) : arn if can(regex("^arn:aws[a-z-]*:secretsmanager:", arn))]
    ssm            = [for arn in values(var.container.secrets) : arn if can(regex("^arn:aws[a-z-]*:ssm:", arn))]
  }

  # Maps iterate in key order, so the rendered JSON is stable and plans show no spurious diff.
  environment = merge(var.container.environment, { HOST = "0.0.0.0", PORT = tostring(local.port) })

  container_definitions = [{
    name      = var.container.name
    image     = var.container.image
    essential = true

    portMappings = [{
      name          = "http"
      containerPort = local.port
      hostPort      = local.port
      protocol      = "tcp"
      appProtocol   = "http"
    }]

    environment = [for k, v in local.environment : { name = k, value = v }]
    secrets     = [for k, v in var.container.secrets : { name = k, valueFrom = v }]

    # The whole task's memory as a soft limit: Fargate enforces the task-level hard limit, and
    # ECS's run-task validation wants a container-level value.
    memoryReservation = var.task.memory

    user                   = var.container.user
    readonlyRootFilesystem = true
    stopTimeout            = var.container.stop_timeout
    linuxParameters = {
      capabilities = { add = [], drop = ["ALL"] }
    }
    # The root filesystem is read-only: /tmp is the one writable place, an ephemeral volume.
    mountPoints = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]

    healthCheck = {
      command     = local.health_check_command
      interval    = var.container.health_check.interval
      timeout     = var.container.health_check.timeout
      retries     = var.container.health_check.retries
      startPeriod = var.container.health_check.start_period
    }

    # Stream names are ecs/<container>/<task-id>: from a task id straight to its logs.
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = local.log_group
        awslogs-region        = local.region
        awslogs-stream-prefix = "ecs"
      }
    }
  }]
}

resource "aws_ecs_cluster" "this" {
  name = var.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }

  tags = merge(var.tags, { Name = var.name })
}

resource "aws_cloudwatch_log_group" "this" {
  name              = local.log_group
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

# --- IAM: the execution role starts the task, the task role is the application's identity -----

data "aws_iam_policy_document" "assume_by_ecs_tasks" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    # Confused-deputy protection: only ECS acting for this account may assume the roles.
    # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:*"]
    }
  }
}

resource "aws_iam_role" "execution" {
  name                 = "${var.name}-execution"
  description          = "ECS pulls ${var.name}'s image, writes its logs and reads its named secrets"
  assume_role_policy   = data.aws_iam_policy_document.assume_by_ecs_tasks.json
  permissions_boundary = var.permissions_boundary
  tags                 = var.tags
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid = "EcrLogin"
    # GetAuthorizationToken has no resource-level permissions: "*" is the only valid resource.
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid       = "PullThisServicesImages"
    actions   = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
    resources = [var.ecr_repository_arn]
  }

  statement {
    sid       = "WriteThisServicesLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }

  dynamic "statement" {
    for_each = length(local.secret_arns.secretsmanager) > 0 ? [1] : []
    content {
      sid       = "ReadNamedSecrets"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = local.secret_arns.secretsmanager
    }
  }

  dynamic "statement" {
    for_each = length(local.secret_arns.ssm) > 0 ? [1] : []
    content {
      sid       = "ReadNamedParameters"
      actions   = ["ssm:GetParameters"]
      resources = local.secret_arns.ssm
    }
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "start-${var.name}-tasks"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

resource "aws_iam_role" "task" {
  name                 = "${var.name}-task"
  description          = "Identity of ${var.name}'s application code (no permissions unless task_role_policy_json, and never beyond its boundary)"
  assume_role_policy   = data.aws_iam_policy_document.assume_by_ecs_tasks.json
  permissions_boundary = var.permissions_boundary
  tags                 = var.tags
}

resource "aws_iam_role_policy" "task" {
  count = var.task_role_policy_json == null ? 0 : 1

  name   = "${var.name}-application"
  role   = aws_iam_role.task.id
  policy = var.task_role_policy_json
}

# --- Network: tasks admit only the load balancer, and talk only HTTPS to AWS ------------------

resource "aws_security_group" "this" {
  name        = "${var.name}-tasks"
  description = "Tasks of ${var.name}: in from the load balancer on ${local.port}, out HTTPS to AWS"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-tasks" })
}

resource "aws_vpc_security_group_ingress_rule" "from_load_balancer" {
  security_group_id            = aws_security_group.this.id
  description                  = "Traffic and health checks from the load balancer"
  ip_protocol                  = "tcp"
  from_port                    = local.port
  to_port                      = local.port
  referenced_security_group_id = var.load_balancer.security_group_id
  tags                         = var.tags
}

resource "aws_vpc_security_group_egress_rule" "load_balancer_to_tasks" {
  security_group_id            = var.load_balancer.security_group_id
  description                  = "Load balancer to ${var.name}'s tasks on the container port"
  ip_protocol                  = "tcp"
  from_port                    = local.port
  to_port                      = local.port
  referenced_security_group_id = aws_security_group.this.id
  tags                         = var.tags
}

# count, not for_each: a prefix list id is only known after the endpoint exists.
resource "aws_vpc_security_group_egress_rule" "https_cidr" {
  count = length(var.egress.cidr_blocks)

  security_group_id = aws_security_group.this.id
  description       = "HTTPS to ${var.egress.cidr_blocks[count.index]} (ECR, CloudWatch Logs)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = var.egress.cidr_blocks[count.index]
  tags              = var.tags
}

resource "aws_vpc_security_group_egress_rule" "https_prefix_list" {
  count = length(var.egress.prefix_list_ids)

  security_group_id = aws_security_group.this.id
  description       = "HTTPS to a prefix list (the S3 gateway endpoint: ECR image layers)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = var.egress.prefix_list_ids[count.index]
  tags              = var.tags
}

# --- Task definition and service ---------------------------------------------------------------

resource "aws_ecs_task_definition" "this" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = tostring(var.task.cpu)
  memory                   = tostring(var.task.memory)
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  container_definitions    = jsonencode(local.container_definitions)

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.task.cpu_architecture
  }

  volume {
    name = "tmp"
  }

  # Deployments register revisions of this family and roll back to earlier ones (ADR 0004).
  # When Terraform replaces its own revision, the old one must stay ACTIVE, because the service
  # may be running it or a rollback may need it.
  skip_destroy = true

  tags = var.tags
}

resource "aws_ecs_service" "this" {
  count = var.service_enabled ? 1 : 0

  name             = var.name
  cluster          = aws_ecs_cluster.this.arn
  task_definition  = aws_ecs_task_definition.this.arn
  desired_count    = var.autoscaling.min_capacity
  launch_type      = "FARGATE"
  platform_version = "LATEST"

  # Runbook 2.1: rolling deployments. 100/200 starts the new tasks before stopping the old ones;
  # the circuit breaker stops a deployment whose tasks keep failing and rolls back to the last
  # deployment that completed.
  # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html
  deployment_controller {
    type = "ECS"
  }
  deployment_minimum_healthy_percent = var.deployment.minimum_healthy_percent
  deployment_maximum_percent         = var.deployment.maximum_percent
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
  # Deployment alarms: the circuit breaker sees tasks that fail to start; these alarms see a
  # release that starts, passes its health checks and then fails requests. ECS watches them
  # while the deployment rolls out and through a bake time after, and rolls back on ALARM, so
  # a deploy from any tool is protected, not only `opsctl deploy --bake`.
  # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-alarm-failure.html
  dynamic "alarms" {
    for_each = length(var.deployment.alarm_names) > 0 ? [var.deployment] : []
    content {
      alarm_names = alarms.value.alarm_names
      enable      = true
      rollback    = alarms.value.alarm_rollback
    }
  }
  health_check_grace_period_seconds = var.deployment.health_check_grace_period_seconds

  # Spread the tasks over the zones again after a zone recovers. Set explicitly: the API default
  # has changed over time, and an unset value shows up as a diff on every plan.
  availability_zone_rebalancing = "ENABLED"

  enable_execute_command  = false
  enable_ecs_managed_tags = true
  propagate_tags          = "SERVICE"
  wait_for_steady_state   = false

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.this.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = var.load_balancer.target_group_arn
    container_name   = var.container.name
    container_port   = local.port
  }

  tags = merge(var.tags, { Name = var.name })

  lifecycle {
    ignore_changes = [
      # Deployments own which revision runs (opsctl deploy / rollback, ADR 0004). Without this,
      # every `terraform apply` would roll the service back to Terraform's own revision: the
      # Terraform-versus-CI fight of terraform-aws-modules/terraform-aws-ecs issues #165 and #345.
      task_definition,
      # Autoscaling owns how many tasks run; Terraform only sets the first count.
      desired_count,
    ]
  }

  depends_on = [aws_iam_role_policy.execution]
}

resource "aws_appautoscaling_target" "this" {
  count = var.service_enabled ? 1 : 0

  service_namespace  = "ecs"
  scalable_dimension = "ecs:service:DesiredCount"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${aws_ecs_service.this[0].name}"
  min_capacity       = var.autoscaling.min_capacity
  max_capacity       = var.autoscaling.max_capacity
  tags               = var.tags
}

resource "aws_appautoscaling_policy" "cpu" {
  count = var.service_enabled ? 1 : 0

  name               = "${var.name}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this[0].service_namespace
  scalable_dimension = aws_appautoscaling_target.this[0].scalable_dimension
  resource_id        = aws_appautoscaling_target.this[0].resource_id

  target_tracking_scaling_policy_configuration {
    target_value       = var.autoscaling.cpu_target_percent
    scale_in_cooldown  = var.autoscaling.scale_in_cooldown
    scale_out_cooldown = var.autoscaling.scale_out_cooldown

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "requests" {
  count = var.service_enabled && var.autoscaling.request_count_per_target != null ? 1 : 0

  name               = "${var.name}-requests"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this[0].service_namespace
  scalable_dimension = aws_appautoscaling_target.this[0].scalable_dimension
  resource_id        = aws_appautoscaling_target.this[0].resource_id

  lifecycle {
    precondition {
      condition     = var.load_balancer.arn_suffix != null
      error_message = "Scaling on requests per target needs load_balancer.arn_suffix; set autoscaling.request_count_per_target = null to scale on CPU only."
    }
  }

  target_tracking_scaling_policy_configuration {
    target_value       = var.autoscaling.request_count_per_target
    scale_in_cooldown  = var.autoscaling.scale_in_cooldown
    scale_out_cooldown = var.autoscaling.scale_out_cooldown

    predefined_metric_specification {
      predefined_metric_type = "ALBRequestCountPerTarget"
      resource_label         = "${var.load_balancer.arn_suffix}/${var.load_balancer.target_group_arn_suffix}"
    }
  }
}
