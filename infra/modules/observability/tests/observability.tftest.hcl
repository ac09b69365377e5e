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
  # Let the alarm ARNs be known at plan time, so the dashboard body can be inspected.
  override_resource {
    target          = aws_cloudwatch_metric_alarm.this
    override_during = plan
    values          = { arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:mocked" }
  }
  override_resource {
    target          = aws_cloudwatch_metric_alarm.response_time
    override_during = plan
    values          = { arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:mocked-p90" }
  }
  override_resource {
    target          = aws_cloudwatch_metric_alarm.running_below_desired
    override_during = plan
    values          = { arn = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:mocked-running" }
  }
}

variables {
  name      = "fastapi-dev"
  topic_arn = "arn:aws:sns:us-east-1:123456789012:fastapi-dev-alerts"
  ecs = {
    cluster_name = "fastapi-dev"
    service_name = "fastapi-dev"
  }
  load_balancer = {
    arn_suffix              = "app/fastapi-dev/0123456789abcdef"
    target_group_arn_suffix = "targetgroup/fastapi-dev/0123456789abcdef" # pragma: allowlist secret - a made-up target group id
  }
}

run "alerting_matches_runbook_5" {
  command = plan

  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.this)) == toset(["cpu-high", "memory-high", "service-5xx", "elb-5xx", "target-5xx", "unhealthy-hosts"])
    error_message = "Alarms for ECS CPU and memory, ELB and target 5xx and unhealthy hosts (runbook 5.2)."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["elb-5xx"].metric_name == "HTTPCode_ELB_5XX_Count" && aws_cloudwatch_metric_alarm.this["target-5xx"].metric_name == "HTTPCode_Target_5XX_Count"
    error_message = "5xx alarms on both the load balancer's and the targets' answers."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["unhealthy-hosts"].metric_name == "UnHealthyHostCount" && aws_cloudwatch_metric_alarm.this["unhealthy-hosts"].dimensions.TargetGroup == "targetgroup/fastapi-dev/0123456789abcdef"
    error_message = "The unhealthy-hosts alarm watches the target group."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["cpu-high"].dimensions == tomap({ ClusterName = "fastapi-dev", ServiceName = "fastapi-dev" }) && aws_cloudwatch_metric_alarm.this["cpu-high"].threshold == 80
    error_message = "The CPU alarm watches the service at 80%."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["service-5xx"].namespace == "AwsFastapiService" && aws_cloudwatch_metric_alarm.this["service-5xx"].metric_name == "ProcessServerErrors" && aws_cloudwatch_metric_alarm.this["service-5xx"].dimensions == tomap({ Service = "fastapi-dev" })
    error_message = "The service-5xx alarm reads the service's own 5xx count (EMF), under its own Service name."
  }

  assert {
    condition     = output.deployment_alarm_names == ["fastapi-dev-target-5xx", "fastapi-dev-service-5xx", "fastapi-dev-unhealthy-hosts"]
    error_message = "A deployment is judged by the targets' 5xx, the service's own 5xx and unhealthy targets."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.response_time[0].extended_statistic == "p90" && aws_cloudwatch_metric_alarm.response_time[0].metric_name == "TargetResponseTime"
    error_message = "Target response time is alarmed on its 90th percentile."
  }

  assert {
    condition     = one([for q in aws_cloudwatch_metric_alarm.running_below_desired.metric_query : q.expression if q.return_data == true]) == "desired - running"
    error_message = "The running-below-desired alarm compares Container Insights' desired and running task counts."
  }

  assert {
    condition = alltrue([
      for a in concat(values(aws_cloudwatch_metric_alarm.this), aws_cloudwatch_metric_alarm.response_time, [aws_cloudwatch_metric_alarm.running_below_desired]) :
      a.alarm_actions == toset([var.topic_arn]) && a.ok_actions == toset([var.topic_arn])
    ])
    error_message = "Every alarm notifies the topic when it fires and when it clears."
  }

  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.this["task-stopped"].event_pattern).detail == {
      clusterArn = ["arn:aws:ecs:us-east-1:123456789012:cluster/fastapi-dev"]
      group      = ["service:fastapi-dev"]
      lastStatus = ["STOPPED"]
      stopCode   = ["EssentialContainerExited", "TaskFailedToStart"]
    }
    error_message = "A rule for tasks of this service stopped because their essential container exited (or failed to start)."
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.this["deployment-failed"].event_pattern).detail.eventName == ["SERVICE_DEPLOYMENT_FAILED"]
    error_message = "A rule for failed deployments."
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.this["service-action"].event_pattern).detail.eventType == ["WARN", "ERROR"]
    error_message = "A rule for WARN and ERROR service action events."
  }

  assert {
    condition = alltrue([
      for t in aws_cloudwatch_event_target.this : t.arn == var.topic_arn && startswith(t.input_transformer[0].input_template, "\"[fastapi-dev]")
    ])
    error_message = "Every rule sends a readable, service-prefixed message to the topic."
  }

  assert {
    condition = alltrue(flatten([
      for rule in local.event_rules : [for p in regexall("<([^>]*)>", rule.template) : contains(keys(rule.paths), p[0])]
    ]))
    error_message = "Every <placeholder> of a message template must be an input path (EventBridge rejects others)."
  }

  assert {
    condition = alltrue([
      for metric in ["CPUUtilization", "MemoryUtilization", "HTTPCode_ELB_4XX_Count", "HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count", "HealthyHostCount", "UnHealthyHostCount"] :
      strcontains(aws_cloudwatch_dashboard.this.dashboard_body, "\"${metric}\"")
    ])
    error_message = "The dashboard shows the runbook 5.2 metrics: ECS CPU/memory, ALB 4xx/5xx, target group health."
  }
}

run "no_load_balancer_no_load_balancer_alarms" {
  command = plan

  variables {
    load_balancer = null
  }

  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.this)) == toset(["cpu-high", "memory-high", "service-5xx"]) && length(aws_cloudwatch_metric_alarm.response_time) == 0
    error_message = "Without a load balancer only the ECS alarms exist."
  }

  assert {
    condition     = output.deployment_alarm_names == ["fastapi-dev-service-5xx"]
    error_message = "Without a load balancer a deployment is judged by the service's own 5xx."
  }

  assert {
    condition     = !strcontains(aws_cloudwatch_dashboard.this.dashboard_body, "ApplicationELB")
    error_message = "Without a load balancer the dashboard has no ALB widgets."
  }
}

run "rejects_invalid_name" {
  command = plan

  variables {
    name = "fastapi dev"
  }

  expect_failures = [var.name]
}

run "rejects_a_topic_that_is_not_an_sns_arn" {
  command = plan

  variables {
    topic_arn = "fastapi-dev-alerts"
  }

  expect_failures = [var.topic_arn]
}

run "rejects_percent_threshold_above_100" {
  command = plan

  variables {
    thresholds = { cpu_percent = 120 }
  }

  expect_failures = [var.thresholds]
}

run "rejects_zero_5xx_threshold" {
  command = plan

  variables {
    thresholds = { elb_5xx_per_minute = 0 }
  }

  expect_failures = [var.thresholds]
}

run "rejects_non_positive_latency_threshold" {
  command = plan

  variables {
    thresholds = { p90_response_seconds = 0 }
  }

  expect_failures = [var.thresholds]
}

run "rejects_an_invalid_metrics_namespace" {
  command = plan

  variables {
    application_metrics = { namespace = "no spaces allowed" }
  }

  expect_failures = [var.application_metrics]
}
