# Runbook 5: the alarms, EventBridge rules that turn ECS failures into readable messages, and a
# dashboard with the runbook 5.2 metrics. Alarms and rules notify one SNS topic, given by the
# caller (the alert_topic module makes one that CloudWatch and EventBridge may publish to).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id  = data.aws_caller_identity.current.account_id
  partition   = data.aws_partition.current.partition
  region      = data.aws_region.current.name
  cluster     = var.ecs.cluster_name
  service     = var.ecs.service_name
  cluster_arn = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:cluster/${local.cluster}"
  service_arn = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:service/${local.cluster}/${local.service}"
  has_lb      = var.load_balancer != null
  # Placeholders while there is no load balancer, so the expressions below type-check; every
  # resource and widget that uses them is filtered out by has_lb.
  lb = coalesce(var.load_balancer, { arn_suffix = "", target_group_arn_suffix = "" })

  ecs_dimensions = { ClusterName = local.cluster, ServiceName = local.service }
  lb_dimensions  = { LoadBalancer = local.lb.arn_suffix }
  tg_dimensions  = { LoadBalancer = local.lb.arn_suffix, TargetGroup = local.lb.target_group_arn_suffix }

  # One entry per single-metric alarm. Missing data is "not breaching": no 5xx means no datapoint,
  # and an idle environment (enable_compute = false) must not page anyone.
  ecs_alarms = {
    cpu-high = {
      description = "ECS CPU of ${local.service} above ${var.thresholds.cpu_percent}% for 5 minutes (runbook 5.2). Autoscaling should add tasks; if it is at max_capacity, raise it or the task size."
      namespace   = "AWS/ECS"
      metric      = "CPUUtilization"
      statistic   = "Average"
      threshold   = var.thresholds.cpu_percent
      periods     = 5
      dimensions  = local.ecs_dimensions
    }
    memory-high = {
      description = "ECS memory of ${local.service} above ${var.thresholds.memory_percent}% for 5 minutes (runbook 5.2). Tasks near 100% are killed with exit code 137 (OOM)."
      namespace   = "AWS/ECS"
      metric      = "MemoryUtilization"
      statistic   = "Average"
      threshold   = var.thresholds.memory_percent
      periods     = 5
      dimensions  = local.ecs_dimensions
    }
    # The service's own count of its 5xx answers, from its access lines (the embedded metric
    # format records of docs/service.md, "Metrics"): what the application says, with or without
    # a load balancer in front of it.
    service-5xx = {
      description = "${local.service} answered 5xx more than ${var.thresholds.service_5xx_per_minute}/min by its own access lines (EMF ${var.application_metrics.namespace}/ProcessServerErrors). Read: opsctl logs --since 15m --filter '{ $.status >= 500 }' (runbook 4.1)."
      namespace   = var.application_metrics.namespace
      metric      = "ProcessServerErrors"
      statistic   = "Sum"
      threshold   = var.thresholds.service_5xx_per_minute
      periods     = 3
      dimensions  = { Service = coalesce(var.application_metrics.service, local.service) }
    }
  }

  # The alarms that judge a new revision (deployment_alarm_names): its answers and its
  # targets' health. Not CPU, memory or latency (autoscaling's business), nor running below
  # desired (five minutes: longer than a rollout).
  deployment_alarms = ["target-5xx", "service-5xx", "unhealthy-hosts"]

  lb_alarms_all = {
    elb-5xx = {
      description = "The load balancer itself answered 5xx (502/503/504) more than ${var.thresholds.elb_5xx_per_minute}/min (runbook 4.2 'ALB returning 502/503': no healthy target, crash loop, wrong port). Run: opsctl diagnose."
      namespace   = "AWS/ApplicationELB"
      metric      = "HTTPCode_ELB_5XX_Count"
      statistic   = "Sum"
      threshold   = var.thresholds.elb_5xx_per_minute
      periods     = 3
      dimensions  = local.lb_dimensions
    }
    target-5xx = {
      description = "The application answered 5xx more than ${var.thresholds.target_5xx_per_minute}/min. Read the task logs: aws logs tail /aws/ecs/${local.service} (runbook 4.1)."
      namespace   = "AWS/ApplicationELB"
      metric      = "HTTPCode_Target_5XX_Count"
      statistic   = "Sum"
      threshold   = var.thresholds.target_5xx_per_minute
      periods     = 3
      dimensions  = local.tg_dimensions
    }
    unhealthy-hosts = {
      description = "At least one target of ${local.service} failed the /health check for 3 minutes (runbook 4.2 'Task running but unhealthy'). Run: opsctl diagnose."
      namespace   = "AWS/ApplicationELB"
      metric      = "UnHealthyHostCount"
      statistic   = "Maximum"
      threshold   = 1
      periods     = 3
      dimensions  = local.tg_dimensions
    }
  }

  lb_alarms     = { for k, v in local.lb_alarms_all : k => v if local.has_lb }
  alarm_actions = [var.topic_arn]
}

# --- Alarms (runbook 5.2) ------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = merge(local.ecs_alarms, local.lb_alarms)

  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  statistic           = each.value.statistic
  dimensions          = each.value.dimensions
  period              = 60
  evaluation_periods  = each.value.periods
  datapoints_to_alarm = each.value.periods
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "response_time" {
  count = local.has_lb ? 1 : 0

  alarm_name          = "${var.name}-p90-response-time"
  alarm_description   = "90% of requests to ${local.service} took longer than ${var.thresholds.p90_response_seconds} s for 5 minutes. Check CPU/memory and the slow requests in /aws/ecs/${local.service}."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "TargetResponseTime"
  extended_statistic  = "p90"
  dimensions          = local.tg_dimensions
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 5
  threshold           = var.thresholds.p90_response_seconds
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

# Fewer tasks running than desired for 5 minutes: tasks that cannot start (stuck in PENDING,
# runbook 4.2) or crash right after starting. Container Insights publishes both counts.
resource "aws_cloudwatch_metric_alarm" "running_below_desired" {
  alarm_name          = "${var.name}-running-below-desired"
  alarm_description   = "Fewer ${local.service} tasks RUNNING than desired for 5 minutes: tasks fail to start or crash (runbook 4.2). Run: opsctl diagnose."
  evaluation_periods  = 5
  datapoints_to_alarm = 5
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags

  metric_query {
    id          = "missing"
    expression  = "desired - running"
    label       = "Desired minus running tasks"
    return_data = true
  }

  metric_query {
    id = "desired"
    metric {
      namespace   = "ECS/ContainerInsights"
      metric_name = "DesiredTaskCount"
      dimensions  = local.ecs_dimensions
      period      = 60
      stat        = "Minimum"
    }
  }

  metric_query {
    id = "running"
    metric {
      namespace   = "ECS/ContainerInsights"
      metric_name = "RunningTaskCount"
      dimensions  = local.ecs_dimensions
      period      = 60
      stat        = "Maximum"
    }
  }
}

# --- EventBridge: ECS failures as readable messages (runbook 5.3) --------------------------------
# Event shapes: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_cwe_events.html
# In an input template every <word> is a placeholder for an input path: the messages use angle
# brackets for nothing else.

locals {
  event_rules = {
    task-stopped = {
      description = "A ${local.service} task stopped because its essential container exited, or failed to start"
      pattern = {
        source        = ["aws.ecs"]
        "detail-type" = ["ECS Task State Change"]
        detail = {
          clusterArn = [local.cluster_arn]
          group      = ["service:${local.service}"]
          lastStatus = ["STOPPED"]
          stopCode   = ["EssentialContainerExited", "TaskFailedToStart"]
        }
      }
      paths = {
        time   = "$.time"
        task   = "$.detail.taskArn"
        code   = "$.detail.stopCode"
        reason = "$.detail.stoppedReason"
        def    = "$.detail.taskDefinitionArn"
      }
      template = "\"[${local.service}] ECS task stopped at <time> (<code>): <reason>. Task <task>, task definition <def>. Logs: aws logs tail /aws/ecs/${local.service} (stream ecs/CONTAINER/TASK_ID). Diagnose: opsctl diagnose (runbook 4.2).\""
    }
    deployment-failed = {
      description = "A ${local.service} deployment failed (the circuit breaker rolls back)"
      pattern = {
        source        = ["aws.ecs"]
        "detail-type" = ["ECS Deployment State Change"]
        resources     = [local.service_arn]
        detail        = { eventName = ["SERVICE_DEPLOYMENT_FAILED"] }
      }
      paths = {
        time       = "$.time"
        deployment = "$.detail.deploymentId"
        reason     = "$.detail.reason"
      }
      template = "\"[${local.service}] Deployment <deployment> FAILED at <time>: <reason>. The circuit breaker rolls back to the last completed deployment. Check: opsctl status; roll back by hand if needed: opsctl rollback (runbook 3).\""
    }
    service-action = {
      description = "${local.service} reported a WARN or ERROR service event (for example tasks that cannot start)"
      pattern = {
        source        = ["aws.ecs"]
        "detail-type" = ["ECS Service Action"]
        resources     = [local.service_arn]
        detail        = { eventType = ["WARN", "ERROR"] }
      }
      paths = {
        time  = "$.time"
        type  = "$.detail.eventType"
        event = "$.detail.eventName"
      }
      template = "\"[${local.service}] ECS service event <event> (<type>) at <time>. Check the service events: opsctl status, then opsctl diagnose (runbook 4.2).\""
    }
  }
}

resource "aws_cloudwatch_event_rule" "this" {
  for_each = local.event_rules

  name          = "${var.name}-${each.key}"
  description   = each.value.description
  event_pattern = jsonencode(each.value.pattern)
  tags          = var.tags
}

resource "aws_cloudwatch_event_target" "this" {
  for_each = local.event_rules

  rule      = aws_cloudwatch_event_rule.this[each.key].name
  target_id = "sns"
  arn       = var.topic_arn

  input_transformer {
    input_paths    = each.value.paths
    input_template = each.value.template
  }
}

# --- Dashboard (runbook 5.2: ECS CPU/memory, ALB 4xx/5xx, target group health) ------------------

locals {
  widget_defaults = { region = local.region, view = "timeSeries", stacked = false, period = 60 }

  ecs_widgets = [
    {
      type = "metric", x = 0, y = 0, width = 12, height = 6
      properties = merge(local.widget_defaults, {
        title = "ECS CPU and memory (%)"
        stat  = "Average"
        metrics = [
          ["AWS/ECS", "CPUUtilization", "ClusterName", local.cluster, "ServiceName", local.service],
          ["AWS/ECS", "MemoryUtilization", "ClusterName", local.cluster, "ServiceName", local.service],
        ]
        yAxis = { left = { min = 0, max = 100 } }
      })
    },
    {
      type = "metric", x = 12, y = 0, width = 12, height = 6
      properties = merge(local.widget_defaults, {
        title = "Tasks: running, pending, desired"
        stat  = "Average"
        metrics = [
          ["ECS/ContainerInsights", "RunningTaskCount", "ClusterName", local.cluster, "ServiceName", local.service],
          ["ECS/ContainerInsights", "PendingTaskCount", "ClusterName", local.cluster, "ServiceName", local.service],
          ["ECS/ContainerInsights", "DesiredTaskCount", "ClusterName", local.cluster, "ServiceName", local.service],
        ]
      })
    },
  ]

  lb_widgets_all = [
    {
      type = "metric", x = 0, y = 6, width = 12, height = 6
      properties = merge(local.widget_defaults, {
        title = "ALB 4xx / 5xx per minute (ELB and target)"
        stat  = "Sum"
        metrics = [
          ["AWS/ApplicationELB", "HTTPCode_ELB_4XX_Count", "LoadBalancer", local.lb.arn_suffix],
          ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", local.lb.arn_suffix],
          ["AWS/ApplicationELB", "HTTPCode_Target_4XX_Count", "LoadBalancer", local.lb.arn_suffix],
          ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", local.lb.arn_suffix],
        ]
      })
    },
    {
      type = "metric", x = 12, y = 6, width = 12, height = 6
      properties = merge(local.widget_defaults, {
        title = "Target group health"
        stat  = "Maximum"
        metrics = [
          ["AWS/ApplicationELB", "HealthyHostCount", "TargetGroup", local.lb.target_group_arn_suffix, "LoadBalancer", local.lb.arn_suffix],
          ["AWS/ApplicationELB", "UnHealthyHostCount", "TargetGroup", local.lb.target_group_arn_suffix, "LoadBalancer", local.lb.arn_suffix],
        ]
      })
    },
    {
      type = "metric", x = 0, y = 12, width = 12, height = 6
      properties = merge(local.widget_defaults, {
        title = "Requests per minute"
        stat  = "Sum"
        metrics = [
          ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", local.lb.arn_suffix],
        ]
      })
    },
    {
      type = "metric", x = 12, y = 12, width = 12, height = 6
      properties = merge(local.widget_defaults, {
        title = "Target response time (s): p50, p90, p99"
        metrics = [
          ["AWS/ApplicationELB", "TargetResponseTime", "TargetGroup", local.lb.target_group_arn_suffix, "LoadBalancer", local.lb.arn_suffix, { stat = "p50" }],
          ["AWS/ApplicationELB", "TargetResponseTime", "TargetGroup", local.lb.target_group_arn_suffix, "LoadBalancer", local.lb.arn_suffix, { stat = "p90" }],
          ["AWS/ApplicationELB", "TargetResponseTime", "TargetGroup", local.lb.target_group_arn_suffix, "LoadBalancer", local.lb.arn_suffix, { stat = "p99" }],
        ]
      })
    },
  ]

  lb_widgets = [for w in local.lb_widgets_all : w if local.has_lb]

  alarm_widget = [{
    type = "alarm", x = 0, y = 18, width = 24, height = 4
    properties = {
      title  = "Alarms"
      alarms = concat([for a in aws_cloudwatch_metric_alarm.this : a.arn], aws_cloudwatch_metric_alarm.response_time[*].arn, [aws_cloudwatch_metric_alarm.running_below_desired.arn])
    }
  }]
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name
  dashboard_body = jsonencode({ widgets = concat(local.ecs_widgets, local.lb_widgets, local.alarm_widget) })
}
