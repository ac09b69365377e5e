# Runbook 6.1: GitHub Actions reaches AWS through OIDC. No IAM users, no access keys: each role
# trusts the token of exact workflow subjects of one repository and lives at most an hour.
# https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-amazon-web-services

locals {
  repo = var.github.repository
  # The `repo:` part of `sub`. Repositories created or renamed on or after 2026-07-15 use
  # immutable subject claims: the owner's and the repository's numeric ids follow their names
  # (repo:octo-org@123456/octo-repo@456789:...), so a recycled name never matches. The ids come
  # from `gh api repos/<owner>/<repo> --jq '.owner.id, .id'`. GitHub documents the ids for the
  # repo claim only: check one real token (github/actions-oidc-debugger) before relying on it.
  # https://github.blog/changelog/2026-04-23-immutable-subject-claims-for-github-actions-oidc-tokens/
  subject_repo = (var.github.immutable_ids == null ? local.repo : format("%s@%d/%s@%d",
    split("/", local.repo)[0], var.github.immutable_ids.owner,
  split("/", local.repo)[1], var.github.immutable_ids.repository))
  oidc_host = "token.actions.githubusercontent.com"
  oidc_arn  = coalesce(var.github.oidc_provider_arn, one(aws_iam_openid_connect_provider.github[*].arn))

  # The repository's OIDC subject claim is customised once to repo, context and job_workflow_ref
  # (docs/security.md, "OIDC subjects"), so `sub` names the job's context AND the workflow file
  # and ref it runs: repo:<owner>/<repo>:<context>:job_workflow_ref:<owner>/<repo>/.github/workflows/<file>@<ref>.
  # For a job of a called (reusable) workflow, job_workflow_ref is the called file at the
  # caller's ref. AWS can only condition on `sub` of GitHub's token, not on its other claims.
  # https://docs.github.com/en/actions/reference/security/oidc#customizing-the-subject-claims-for-an-organization-or-repository
  workflow_ref = { for k, file in var.github.workflows : k => "${local.repo}/.github/workflows/${file}" }
  # A job on a pushed branch (no environment): CI's publish job, the plan of main.
  ci_subjects   = [for b in var.github.branches : "repo:${local.subject_repo}:ref:refs/heads/${b}:job_workflow_ref:${local.workflow_ref.ci}@refs/heads/${b}"]
  plan_subjects = [for b in var.github.branches : "repo:${local.subject_repo}:ref:refs/heads/${b}:job_workflow_ref:${local.workflow_ref.terraform}@refs/heads/${b}"]
  # A pull request's plan: the workflow runs from the pull request's merge ref, whose number
  # varies (StringLike, the one wildcard of any trust policy here). The pull request's author can
  # edit that workflow file, which is why the plan role only reads, and only what a plan needs.
  pull_request_subject = "repo:${local.subject_repo}:pull_request:job_workflow_ref:${local.workflow_ref.terraform}@refs/pull/*/merge"

  # Everything an environment's roles may touch is named after its service (see variables.tf).
  env = {
    for name, e in var.environments : name => {
      service      = e.service_name
      cluster_arn  = "arn:${local.partition}:ecs:${var.region}:${local.account_id}:cluster/${e.service_name}"
      service_arn  = "arn:${local.partition}:ecs:${var.region}:${local.account_id}:service/${e.service_name}/${e.service_name}"
      family_arn   = "arn:${local.partition}:ecs:${var.region}:${local.account_id}:task-definition/${e.service_name}:*"
      tasks_arn    = "arn:${local.partition}:ecs:${var.region}:${local.account_id}:task/${e.service_name}/*"
      repo_arn     = "arn:${local.partition}:ecr:${var.region}:${local.account_id}:repository/${e.service_name}"
      log_arn      = "arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:/aws/ecs/${e.service_name}"
      flow_log_arn = "arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:/aws/vpc/${e.service_name}/flow-logs"
      roles_arn    = "arn:${local.partition}:iam::${local.account_id}:role/${e.service_name}-*"
      state_prefix = "${name}/"
      # Deploys (ecs-rollout.yml, called by deploy.yml and rollback.yml) and applies
      # (terraform.yml) from the listed branches only, in the environment's GitHub environment.
      deploy_subjects = [for b in var.github.branches : "repo:${local.subject_repo}:environment:${name}:job_workflow_ref:${local.workflow_ref.rollout}@refs/heads/${b}"]
      apply_subjects  = [for b in var.github.branches : "repo:${local.subject_repo}:environment:${name}-infra:job_workflow_ref:${local.workflow_ref.terraform}@refs/heads/${b}"]
      # Named here, not read from aws_iam_role.apply: the state bucket's policy (main.tf) denies
      # by these ARNs and must not wait for, or depend on, the roles it restricts.
      apply_role     = "${var.project}-github-terraform-apply-${name}"
      apply_role_arn = "arn:${local.partition}:iam::${local.account_id}:role/${var.project}-github-terraform-apply-${name}"
      # The permissions boundary every role of this environment is created with. The stack
      # (infra/stack/main.tf, local.permissions_boundary_arn) names it by the same convention:
      # <service_name>-permissions-boundary. A policy: the apply roles may write roles only.
      boundary_name = "${e.service_name}-permissions-boundary"
      boundary_arn  = "arn:${local.partition}:iam::${local.account_id}:policy/${e.service_name}-permissions-boundary"
      # A policy statement id: letters and digits only.
      sid_name = join("", [for part in split("-", name) : title(part)])
    }
  }

  # Every environment's boundary: no apply role may rewrite or delete any of them.
  boundary_arns = [for e in local.env : e.boundary_arn]

  # The tag key the env roots' provider default_tags set to the environment's name
  # (infra/stack/main.tf, local.default_tags): the apply roles' tag conditions key on it.
  environment_tag = "Environment"

  # The services the environment stack hands its roles to (iam:PassRole): ECS for the task and
  # execution roles (modules/ecs_service), VPC Flow Logs for its delivery role (modules/network).
  passed_to_services = ["ecs-tasks.amazonaws.com", "vpc-flow-logs.amazonaws.com"]
}

resource "aws_iam_openid_connect_provider" "github" {
  count = var.github.oidc_provider_arn == null ? 1 : 0

  url            = "https://${local.oidc_host}"
  client_id_list = ["sts.amazonaws.com"]
  # No thumbprint_list: IAM validates GitHub's certificate against its own trusted CAs.
  # https://github.blog/changelog/2023-06-27-github-actions-update-on-oidc-integration-with-aws/
}

# --- Trust policies ------------------------------------------------------------------------------

data "aws_iam_policy_document" "trust" {
  for_each = merge(
    {
      ci   = { exact = local.ci_subjects, like = [] }
      plan = { exact = local.plan_subjects, like = [local.pull_request_subject] }
    },
    { for name, e in local.env : "deploy-${name}" => { exact = e.deploy_subjects, like = [] } },
    { for name, e in local.env : "apply-${name}" => { exact = e.apply_subjects, like = [] } },
  )

  # One statement per kind of match: conditions of one statement are ANDed, statements ORed.
  dynamic "statement" {
    for_each = { for test, subjects in { StringEquals = each.value.exact, StringLike = each.value.like } : test => subjects if length(subjects) > 0 }

    content {
      actions = ["sts:AssumeRoleWithWebIdentity"]

      principals {
        type        = "Federated"
        identifiers = [local.oidc_arn]
      }

      condition {
        test     = "StringEquals"
        variable = "${local.oidc_host}:aud"
        values   = ["sts.amazonaws.com"]
      }

      # Exact subjects (StringEquals) everywhere but the pull requests' plan: another
      # repository, branch, GitHub environment or workflow file gets a different `sub`.
      condition {
        test     = statement.key
        variable = "${local.oidc_host}:sub"
        values   = statement.value
      }
    }
  }
}

# --- CI: push images (runbook 2.1 step 1) ---------------------------------------------------------

resource "aws_iam_role" "ci" {
  name                 = "${var.project}-github-ci"
  description          = "GitHub Actions CI of ${local.repo} (${join(", ", var.github.branches)}): push images to the environments' ECR repositories"
  assume_role_policy   = data.aws_iam_policy_document.trust["ci"].json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "ci" {
  statement {
    sid = "EcrLogin"
    # GetAuthorizationToken has no resource-level permissions.
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid = "PushToTheServiceRepositories"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:InitiateLayerUpload",
      "ecr:UploadLayerPart",
      "ecr:CompleteLayerUpload",
      "ecr:PutImage",
      "ecr:BatchGetImage",
      "ecr:DescribeImages",
      "ecr:DescribeImageScanFindings",
    ]
    resources = [for e in local.env : e.repo_arn]
  }
}

resource "aws_iam_role_policy" "ci" {
  name   = "push-images"
  role   = aws_iam_role.ci.id
  policy = data.aws_iam_policy_document.ci.json
}

# --- Deploy: opsctl deploy / rollback (runbook 2.1, 3.1, 3.2) ------------------------------------

data "aws_iam_policy_document" "deploy" {
  #checkov:skip=CKV_AWS_356:The only restrictable action on "*" is cloudwatch:DescribeAlarms, and `opsctl status` lists alarms (no AlarmNames), which alarm ARNs in a policy do not cover (statement ReadTheAlarms). The other "*" actions (tag:GetResources among them) have no resource-level permissions.
  for_each = local.env

  # Exactly the calls opsctl makes (ops/src/opsctl/aws.py); ops/tests checks both ways: every
  # call of its scenarios is authorized against these statements, and every action granted here
  # is one opsctl calls.

  # RegisterTaskDefinition takes the task-definition resource type (the revision it creates,
  # arn:...:task-definition/<family>:<revision>): a role registers in its own family only, so the
  # dev role cannot plant revisions in prod's family. Service Authorization Reference for ECS:
  # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html
  statement {
    sid       = "RegisterOnlyInThisFamily"
    actions   = ["ecs:RegisterTaskDefinition"]
    resources = [each.value.family_arn]
  }

  # Describe and List of task definitions have no resource-level permissions (same reference).
  statement {
    sid       = "ReadTaskDefinitions"
    actions   = ["ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions"]
    resources = ["*"]
  }

  # A new revision copies the current one's tags: tagging on create is authorized as
  # ecs:TagResource with ecs:CreateAction (any tag key Terraform put on the revision).
  # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/supported-iam-actions-tagging.html
  statement {
    sid       = "TagTaskDefinitionsOnRegister"
    actions   = ["ecs:TagResource"]
    resources = [each.value.family_arn]

    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["RegisterTaskDefinition"]
    }
  }

  # Last known good (ADR 0007): opsctl tags existing revisions of this family with its verdicts,
  # a standalone TagResource call (no ecs:CreateAction). Only opsctl's own keys: it cannot
  # rewrite the tags Terraform manages.
  statement {
    sid       = "RecordVerdictsOnThisFamily"
    actions   = ["ecs:TagResource"]
    resources = [each.value.family_arn]

    condition {
      test     = "ForAllValues:StringLike"
      variable = "aws:TagKeys"
      values   = ["opsctl:*"]
    }
  }

  statement {
    sid       = "PassOnlyThisServicesRoles"
    actions   = ["iam:PassRole"]
    resources = ["arn:${local.partition}:iam::${local.account_id}:role/${each.value.service}-execution", "arn:${local.partition}:iam::${local.account_id}:role/${each.value.service}-task"]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }

  statement {
    sid       = "UpdateOnlyThisServiceToThisFamily"
    actions   = ["ecs:UpdateService"]
    resources = [each.value.service_arn]

    # IfExists: `update-service --force-new-deployment` (runbook 8.1) names no task definition.
    condition {
      test     = "ArnLikeIfExists"
      variable = "ecs:task-definition"
      values   = [each.value.family_arn]
    }
  }

  statement {
    sid       = "ReadTheService"
    actions   = ["ecs:DescribeServices"]
    resources = [each.value.service_arn]
  }

  statement {
    sid       = "ReadTheTasks"
    actions   = ["ecs:DescribeTasks"]
    resources = [each.value.tasks_arn]
  }

  statement {
    sid       = "ListTasksInTheCluster"
    actions   = ["ecs:ListTasks"]
    resources = ["*"]

    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [each.value.cluster_arn]
    }
  }

  statement {
    sid       = "ReadTheImages"
    actions   = ["ecr:DescribeImages", "ecr:BatchGetImage"]
    resources = [each.value.repo_arn]
  }

  statement {
    sid = "TagTheImagesItDeploys"
    # opsctl adds a deployed-<time> tag to the image it rolls out (BatchGetImage, then PutImage
    # with the same manifest) so the ECR lifecycle policy never expires what a service runs
    # (infra/modules/ecr/README.md). ECR has no condition key on the tag, and without
    # ecr:InitiateLayerUpload this role cannot upload layers: it can only name manifests whose
    # layers the repository already holds, and tags are immutable, so it cannot move one.
    # https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-retag.html
    actions   = ["ecr:PutImage"]
    resources = [each.value.repo_arn]
  }

  statement {
    sid = "ReadLoadBalancingAndMetrics"
    # Describe calls of Elastic Load Balancing and GetMetricData (diagnose's ALB 5xx counts)
    # have no resource-level permissions; they are read-only.
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselasticloadbalancingv2.html
    actions = [
      "elasticloadbalancing:DescribeTargetHealth",
      "elasticloadbalancing:DescribeTargetGroups",
      "elasticloadbalancing:DescribeLoadBalancers",
      "elasticloadbalancing:DescribeListeners",
      "cloudwatch:GetMetricData",
    ]
    resources = ["*"]
  }

  statement {
    sid = "ReadTheAlarms"
    # `status` lists the alarms in ALARM (no AlarmNames): a listing is not narrowed by alarm
    # ARNs in a policy, and composite alarms are returned only with "*"
    # (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html).
    # Read-only alarm metadata; opsctl keeps the ones about this service.
    actions   = ["cloudwatch:DescribeAlarms"]
    resources = ["*"]
  }

  # `opsctl changes` and `opsctl diagnose` (its first finding's nearest change): what changed
  # around the service. Read-only, scoped to this service where AWS can scope it:
  # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html
  # The service's deployments, revisions and alarm history are read with the statements below
  # that rollback and the bake window use (ListThisServicesDeployments and the next ones).
  statement {
    sid = "ReadWhoChangedThings"
    # Who started a deployment, stopped one or pushed an image: CloudTrail's event history.
    # LookupEvents has no resource-level permissions, so this role can read the region's
    # management events of the whole account for 90 days (who called what, with the request
    # parameters; never data events or object contents); opsctl asks only for UpdateService,
    # CreateService, StopServiceDeployment and PutImage.
    # https://docs.aws.amazon.com/awscloudtrail/latest/userguide/security_iam_id-based-policy-examples.html
    actions   = ["cloudtrail:LookupEvents"]
    resources = ["*"]
  }

  statement {
    sid = "ListTheVersionsOfThisEnvironmentsState"
    # Terraform applies: each one writes a version of the state object. The role may list the
    # versions (time, size, id) of this environment's state key only, never read it (the state
    # may hold secrets) nor any other key of the bucket.
    # https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html
    actions   = ["s3:ListBucketVersions"]
    resources = [local.state_arn]

    condition {
      test     = "StringEquals"
      variable = "s3:prefix"
      values   = ["${each.value.state_prefix}terraform.tfstate"]
    }
  }

  statement {
    sid       = "ReadTheLogs"
    actions   = ["logs:FilterLogEvents"]
    resources = [each.value.log_arn, "${each.value.log_arn}:*"]
  }

  statement {
    sid = "ReadTheNetworkForDiagnose"
    # `diagnose` (runbook 4.2, tasks stuck in PENDING) reads the tasks' security groups, their
    # subnets' routes and the VPC endpoints. EC2 Describe* calls have no resource-level
    # permissions.
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
    actions = [
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeSubnets",
      "ec2:DescribeRouteTables",
      "ec2:DescribeVpcEndpoints",
    ]
    resources = ["*"]
  }

  # --- Rollback mid-deploy, last known good by tag, the smoke test's commit, the bake window ---

  statement {
    sid = "ListThisServicesDeployments"
    # `changes` and `diagnose` list them too (the history of the service's deployments).
    # `rollback` while a deployment rolls out finds its service deployment, to stop it with
    # ECS's own rollback (StopServiceDeployment) instead of deploying over it.
    # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stop-service-deployment.html
    actions   = ["ecs:ListServiceDeployments"]
    resources = [each.value.service_arn]
  }

  statement {
    sid       = "ReadAndStopThisServicesDeployments"
    actions   = ["ecs:DescribeServiceDeployments", "ecs:StopServiceDeployment"]
    resources = ["arn:${local.partition}:ecs:${var.region}:${local.account_id}:service-deployment/${each.value.service}/${each.value.service}/*"]
  }

  statement {
    sid = "ReadThisServicesRevisions"
    # Which task definition ECS's rollback returns to (the deployment's source revisions).
    actions   = ["ecs:DescribeServiceRevisions"]
    resources = ["arn:${local.partition}:ecs:${var.region}:${local.account_id}:service-revision/${each.value.service}/${each.value.service}/*"]
  }

  statement {
    sid = "FindVerifiedRevisionsByTag"
    # `rollback` finds the revisions opsctl verified by their opsctl:verified-at tag, however
    # many unverified ones were registered after them. GetResources has no resource-level
    # permissions; it returns tags, which opsctl already reads (DescribeTaskDefinition).
    # https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/API_GetResources.html
    actions   = ["tag:GetResources"]
    resources = ["*"]
  }

  statement {
    sid = "ReadTheImageLabels"
    # The smoke test compares /health's commit with the image's
    # org.opencontainers.image.revision label, read from its configuration blob.
    actions   = ["ecr:GetDownloadUrlForLayer"]
    resources = [each.value.repo_arn]
  }

  statement {
    sid = "ReadThisServicesAlarmHistory"
    # `changes` and `diagnose` list the state changes of the same alarms.
    # The bake window sees an alarm that went to ALARM and back between two looks. The
    # platform's alarms are named <service>-<what> (infra/modules/observability).
    actions   = ["cloudwatch:DescribeAlarmHistory"]
    resources = ["arn:${local.partition}:cloudwatch:${var.region}:${local.account_id}:alarm:${each.value.service}-*"]
  }
}

resource "aws_iam_role" "deploy" {
  for_each = local.env

  name                 = "${var.project}-github-deploy-${each.key}"
  description          = "GitHub environment ${each.key} of ${local.repo}: deploy and roll back ${each.value.service}"
  assume_role_policy   = data.aws_iam_policy_document.trust["deploy-${each.key}"].json
  max_session_duration = 3600
}

resource "aws_iam_role_policy" "deploy" {
  for_each = local.env

  name   = "deploy-${each.value.service}"
  role   = aws_iam_role.deploy[each.key].id
  policy = data.aws_iam_policy_document.deploy[each.key].json
}

# --- Terraform: plan (read-only) and apply (runbook 3.3, 6.2) ------------------------------------

# A plan reads: the environments' state (no lock: pull requests and main plan with -lock=false,
# and applies apply the saved plan of main, which Terraform refuses once stale) and the
# configuration of the resources the stack manages. Pull requests run their own code with this
# role (a data "external" block is a shell): it grants no write of any kind and no read of
# content: no log events, no objects but the state, no parameter or secret values, no image
# layers. What it can read, and why that is accepted: docs/security.md, "The plan role".
data "aws_iam_policy_document" "plan" {
  statement {
    sid       = "ReadTheEnvironmentsState"
    actions   = ["s3:GetObject"]
    resources = [for e in local.env : "${local.state_arn}/${e.state_prefix}*"]
  }

  statement {
    sid       = "ListTheStateBucket"
    actions   = ["s3:ListBucket"]
    resources = [local.state_arn]
  }

  # The S3 backend compares the state with its digest item (<bucket>/<key>-md5) in the lock
  # table, lock or no lock: read those items, of the environments only.
  statement {
    sid       = "ReadTheStateDigests"
    actions   = ["dynamodb:GetItem"]
    resources = [aws_dynamodb_table.locks.arn]

    condition {
      test     = "ForAllValues:StringLike"
      variable = "dynamodb:LeadingKeys"
      values   = [for e in local.env : "${local.state_bucket}/${e.state_prefix}*"]
    }
  }

  # The state objects and lock items are encrypted with the state key: decrypt them through S3
  # and DynamoDB only, never a ciphertext of one's choosing.
  # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service
  statement {
    sid       = "DecryptTheStateThroughS3AndDynamoDB"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.state.arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${var.region}.amazonaws.com", "dynamodb.${var.region}.amazonaws.com"]
    }
  }

  # What refreshing the stack's resources calls (infra/modules/*, the provider's reads), and
  # nothing that returns content. infra/tests/test_apply_emulated.py plans dev against the
  # emulated AWS and checks every call of that plan against this policy.
  statement {
    sid       = "RefreshTheStacksResources"
    actions   = local.plan_refresh_actions
    resources = ["*"]
  }

  statement {
    sid    = "NeverReadContent"
    effect = "Deny"
    actions = [
      "logs:GetLogEvents",
      "logs:FilterLogEvents",
      "logs:StartQuery",
      "logs:GetQueryResults",
      "logs:StartLiveTail",
      "logs:GetLogRecord",
      "ssm:GetParameter",
      "ssm:GetParameters",
      "ssm:GetParametersByPath",
      "ssm:GetParameterHistory",
      "secretsmanager:GetSecretValue",
      "secretsmanager:BatchGetSecretValue",
      "ecr:GetDownloadUrlForLayer",
      "ecr:BatchGetImage",
      "dynamodb:Scan",
      "dynamodb:Query",
      "kms:GenerateDataKey*",
    ]
    resources = ["*"]
  }

  statement {
    sid           = "NoObjectButTheEnvironmentsState"
    effect        = "Deny"
    actions       = ["s3:GetObject*"]
    not_resources = [for e in local.env : "${local.state_arn}/${e.state_prefix}*"]
  }

  # Pull requests can edit the workflow and the code that runs with this role: whatever else
  # may ever be attached to it, it changes nothing.
  statement {
    sid    = "ChangesNothing"
    effect = "Deny"
    actions = [
      "s3:PutObject*",
      "s3:DeleteObject*",
      "s3:RestoreObject",
      "dynamodb:PutItem",
      "dynamodb:DeleteItem",
      "dynamodb:UpdateItem",
      "dynamodb:BatchWriteItem",
      "dynamodb:PartiQL*",
      "iam:Add*",
      "iam:Attach*",
      "iam:Create*",
      "iam:Delete*",
      "iam:Detach*",
      "iam:PassRole",
      "iam:Put*",
      "iam:Remove*",
      "iam:Set*",
      "iam:Tag*",
      "iam:Untag*",
      "iam:Update*",
      "sts:AssumeRole",
    ]
    resources = ["*"]
  }
}

locals {
  # Per service, the read calls the AWS provider makes to refresh what infra/stack creates
  # (measured: infra/tests/test_apply_emulated.py records every call of a plan of dev against
  # the emulated AWS; the budget and Cost Explorer reads of the cost module, which the emulator
  # cannot serve, from the provider's resources aws_budgets_budget and aws_ce_anomaly_*).
  plan_refresh_actions = [
    # infra/modules/network: VPC, subnets, routes, gateways, security groups, endpoints, flow logs
    # (the Elastic IPs and NAT gateways of network.nat_gateway = single or per_az).
    "ec2:DescribeAddresses",
    "ec2:DescribeAddressesAttribute",
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribeFlowLogs",
    "ec2:DescribeInternetGateways",
    "ec2:DescribeNatGateways",
    "ec2:DescribeNetworkAcls",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribePrefixLists",
    "ec2:DescribeRouteTables",
    "ec2:DescribeSecurityGroupRules",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcAttribute",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeVpcs",
    # infra/modules/alb: load balancer, target group, listeners, the access-log bucket's
    # configuration (never its objects; s3:ListBucket is HeadBucket, and lists object names).
    "elasticloadbalancing:DescribeCapacityReservation",
    "elasticloadbalancing:DescribeListenerAttributes",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeLoadBalancerAttributes",
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeTags",
    "elasticloadbalancing:DescribeTargetGroupAttributes",
    "elasticloadbalancing:DescribeTargetGroups",
    "s3:GetAccelerateConfiguration",
    "s3:GetBucketAcl",
    "s3:GetBucketCORS",
    "s3:GetBucketLogging",
    "s3:GetBucketObjectLockConfiguration",
    "s3:GetBucketOwnershipControls",
    "s3:GetBucketPolicy",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketRequestPayment",
    "s3:GetBucketTagging",
    "s3:GetBucketVersioning",
    "s3:GetBucketWebsite",
    "s3:GetEncryptionConfiguration",
    "s3:GetLifecycleConfiguration",
    "s3:GetReplicationConfiguration",
    "s3:ListBucket",
    "wafv2:GetWebACLForResource",
    # infra/modules/ecs_service and ecr: cluster, service, task definition, roles, log group,
    # scaling, repository.
    "application-autoscaling:DescribeScalableTargets",
    "application-autoscaling:DescribeScalingPolicies",
    "application-autoscaling:ListTagsForResource",
    "ecr:DescribeRepositories",
    "ecr:GetLifecyclePolicy",
    "ecr:ListTagsForResource",
    "ecs:DescribeClusters",
    "ecs:DescribeServices",
    "ecs:DescribeTaskDefinition",
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListRolePolicies",
    "logs:DescribeLogGroups",
    "logs:ListTagsForResource",
    # infra/modules/kms, alert_topic, observability, cost.
    "budgets:ListTagsForResource",
    "budgets:ViewBudget",
    "ce:GetAnomalyMonitors",
    "ce:GetAnomalySubscriptions",
    "ce:ListTagsForResource",
    "cloudwatch:DescribeAlarms",
    "cloudwatch:GetDashboard",
    "cloudwatch:ListTagsForResource",
    "events:DescribeRule",
    "events:ListTagsForResource",
    "events:ListTargetsByRule",
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListResourceTags",
    "sns:GetSubscriptionAttributes",
    "sns:GetTopicAttributes",
    "sns:ListTagsForResource",
  ]
}

resource "aws_iam_role" "plan" {
  name                 = "${var.project}-github-terraform-plan"
  description          = "GitHub Actions of ${local.repo} (pull requests, ${join(", ", var.github.branches)}): terraform plan -lock=false, reads state and resource configuration only"
  assume_role_policy   = data.aws_iam_policy_document.trust["plan"].json
  max_session_duration = 3600
}

resource "aws_iam_role_policy" "plan" {
  name   = "read-state-and-configuration"
  role   = aws_iam_role.plan.id
  policy = data.aws_iam_policy_document.plan.json
}

# --- The permissions boundary of every role an environment creates ------------------------------

# An apply role writes its environment's IAM roles (PowerUserAccess has no IAM). Without a
# boundary it could create <service>-x trusting itself, give it Action "*" and become an
# administrator. Every role it creates or changes must carry this boundary (the apply role's
# statements require it), and the boundary caps whatever policy such a role is given: what the
# environment's tasks and flow logs need, and never IAM, role assumption, the state, the lock,
# the state key or another environment's resources. Only the administrators who run the
# bootstrap change it. https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
data "aws_iam_policy_document" "boundary" {
  for_each = local.env

  # modules/ecs_service's execution role: pull this environment's images...
  statement {
    sid       = "PullThisEnvironmentsImages"
    actions   = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
    resources = [each.value.repo_arn]
  }

  statement {
    sid = "EcrLogin"
    # GetAuthorizationToken has no resource-level permissions.
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  # ...write the task logs, and (modules/network's flow logs role) the flow logs.
  statement {
    sid       = "WriteThisEnvironmentsLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${each.value.log_arn}:*", "${each.value.flow_log_arn}:*"]
  }

  # container_secrets: Secrets Manager secrets and SSM parameters named under <service>/ (the
  # stack refuses other ARNs, with this reason).
  statement {
    sid     = "ReadThisEnvironmentsSecrets"
    actions = ["secretsmanager:GetSecretValue", "ssm:GetParameters"]
    resources = [
      "arn:${local.partition}:secretsmanager:${var.region}:${local.account_id}:secret:${each.value.service}/*",
      "arn:${local.partition}:ssm:${var.region}:${local.account_id}:parameter/${each.value.service}/*",
    ]
  }

  # What a role given Action "*" would try first: IAM, other roles, the account and organization.
  statement {
    sid       = "NoIdentityChanges"
    effect    = "Deny"
    actions   = ["iam:*", "sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML", "organizations:*", "account:*"]
    resources = ["*"]
  }

  # The apply roles' own denies, repeated: no state, lock or state key of any environment.
  statement {
    sid     = "NoTerraformState"
    effect  = "Deny"
    actions = ["s3:*", "dynamodb:*", "kms:*"]
    resources = [
      local.state_arn,
      "${local.state_arn}/*",
      aws_dynamodb_table.locks.arn,
      aws_kms_key.state.arn,
    ]
  }

  statement {
    sid       = "NoOtherEnvironmentsResources"
    effect    = "Deny"
    actions   = ["*"]
    resources = ["*"]

    condition {
      test     = "StringNotEquals"
      variable = "aws:ResourceTag/${local.environment_tag}"
      values   = [each.key]
    }

    condition {
      test     = "Null"
      variable = "aws:ResourceTag/${local.environment_tag}"
      values   = ["false"]
    }
  }

  statement {
    sid       = "NoOtherEnvironmentsTags"
    effect    = "Deny"
    actions   = ["*"]
    resources = ["*"]

    condition {
      test     = "StringNotEquals"
      variable = "aws:RequestTag/${local.environment_tag}"
      values   = [each.key]
    }

    condition {
      test     = "Null"
      variable = "aws:RequestTag/${local.environment_tag}"
      values   = ["false"]
    }
  }
}

resource "aws_iam_policy" "boundary" {
  for_each = local.env

  name        = each.value.boundary_name
  description = "Permissions boundary of every IAM role infra/envs/${each.key} creates (${each.value.service}-*); changed by the bootstrap only"
  policy      = data.aws_iam_policy_document.boundary[each.key].json
}

# --- Terraform apply ------------------------------------------------------------------------------

data "aws_iam_policy_document" "apply" {
  for_each = local.env

  statement {
    sid       = "WriteThisEnvironmentsState"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${local.state_arn}/${each.value.state_prefix}*"]
  }

  statement {
    sid       = "ListState"
    actions   = ["s3:ListBucket"]
    resources = [local.state_arn]
  }

  statement {
    sid       = "TakeTheLockItem"
    actions   = ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"]
    resources = [aws_dynamodb_table.locks.arn]
  }

  statement {
    sid       = "UseTheStateKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [aws_kms_key.state.arn]
  }

  # PowerUserAccess (attached below) excludes IAM. The environment's roles are all named
  # <service>-* (execution, task, flow logs): the apply role may write those, and only with this
  # environment's permissions boundary on them. For these actions IAM sets iam:PermissionsBoundary
  # to the boundary in the request (CreateRole, PutRolePermissionsBoundary) or to the one the
  # role has (the others): https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#ck_PermissionsBoundary
  statement {
    sid = "WriteThisEnvironmentsRolesInsideTheBoundary"
    actions = [
      "iam:CreateRole",
      "iam:PutRolePolicy",
      "iam:DeleteRolePolicy",
      "iam:PutRolePermissionsBoundary",
      "iam:UpdateAssumeRolePolicy",
      "iam:UpdateRole",
      "iam:UpdateRoleDescription",
      "iam:DeleteRole",
    ]
    resources = [each.value.roles_arn]

    condition {
      test     = "StringEquals"
      variable = "iam:PermissionsBoundary"
      values   = [each.value.boundary_arn]
    }
  }

  # Reads and tags: they change no permission. A role without the boundary (created before it
  # existed) can be read, and given the boundary (PutRolePermissionsBoundary above) by the next
  # apply; nothing else.
  statement {
    sid = "ReadAndTagThisEnvironmentsRoles"
    actions = [
      "iam:GetRole",
      "iam:GetRolePolicy",
      "iam:ListRolePolicies",
      "iam:ListAttachedRolePolicies",
      "iam:ListInstanceProfilesForRole",
      "iam:TagRole",
      "iam:UntagRole",
    ]
    resources = [each.value.roles_arn]
  }

  # Only to the services the stack hands roles to: never to Lambda, EC2, CodeBuild... where a
  # role's credentials would run the apply role's code.
  # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#ck_PassedToService
  statement {
    sid       = "PassThisEnvironmentsRolesToItsServices"
    actions   = ["iam:PassRole"]
    resources = [each.value.roles_arn]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = local.passed_to_services
    }
  }

  statement {
    sid       = "CreateServiceLinkedRoles"
    actions   = ["iam:CreateServiceLinkedRole"]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "iam:AWSServiceName"
      values   = ["ecs.amazonaws.com", "elasticloadbalancing.amazonaws.com", "ecs.application-autoscaling.amazonaws.com"]
    }
  }

  # --- The role writers' box (docs/security.md, "How we tested the boundaries") -------------
  # Explicit, so that they hold whatever else is ever attached to the role: no role of any name
  # gets a policy, a trust change or a new boundary unless it carries this environment's
  # boundary (StringNotEquals is true when the key is absent: a role without one is refused).
  statement {
    sid    = "NoRoleWithoutThisEnvironmentsBoundary"
    effect = "Deny"
    actions = [
      "iam:CreateRole",
      "iam:PutRolePolicy",
      "iam:AttachRolePolicy",
      "iam:DetachRolePolicy",
      "iam:DeleteRolePolicy",
      "iam:PutRolePermissionsBoundary",
      "iam:UpdateAssumeRolePolicy",
    ]
    resources = ["*"]

    condition {
      test     = "StringNotEquals"
      variable = "iam:PermissionsBoundary"
      values   = [each.value.boundary_arn]
    }
  }

  statement {
    sid       = "NeverRemoveABoundary"
    effect    = "Deny"
    actions   = ["iam:DeleteRolePermissionsBoundary"]
    resources = ["*"]
  }

  statement {
    sid    = "LeaveTheBoundariesAlone"
    effect = "Deny"
    actions = [
      "iam:CreatePolicyVersion",
      "iam:DeletePolicy",
      "iam:DeletePolicyVersion",
      "iam:SetDefaultPolicyVersion",
      "iam:TagPolicy",
      "iam:UntagPolicy",
    ]
    resources = local.boundary_arns
  }

  # PowerUserAccess includes sts:AssumeRole on "*". Terraform never assumes a role here (the env
  # roots configure none), and a role this one could assume is a way out of its own denies.
  statement {
    sid       = "NoRoleAssumption"
    effect    = "Deny"
    actions   = ["sts:AssumeRole"]
    resources = ["*"]
  }

  # --- What keeps environments sharing this account apart (docs/security.md) ----------------
  # PowerUserAccess is account-wide: without the explicit denies below, the dev apply role could
  # take prod's lock, schedule the state key's deletion, or change and destroy prod's resources.
  # The state objects themselves are guarded by the bucket policy (main.tf). An explicit deny
  # wins over every allow, and this role cannot edit its own policies (PowerUserAccess has no
  # IAM, and the statements above cover <service>-* roles, inside the boundary, only).

  # The S3 backend's DynamoDB items are "<bucket>/<key>" and "<bucket>/<key>-md5". ForAllValues
  # with no leading key in the request (Scan, PartiQL) is true: those are denied as well.
  # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html
  statement {
    sid    = "NoOtherEnvironmentsLocks"
    effect = "Deny"
    actions = [
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:DeleteItem",
      "dynamodb:UpdateItem",
      "dynamodb:BatchGetItem",
      "dynamodb:BatchWriteItem",
      "dynamodb:ConditionCheckItem",
      "dynamodb:Query",
      "dynamodb:Scan",
      "dynamodb:PartiQLSelect",
      "dynamodb:PartiQLInsert",
      "dynamodb:PartiQLUpdate",
      "dynamodb:PartiQLDelete",
    ]
    resources = [aws_dynamodb_table.locks.arn]

    condition {
      test     = "ForAllValues:StringNotLike"
      variable = "dynamodb:LeadingKeys"
      values   = ["${local.state_bucket}/${each.value.state_prefix}*"]
    }
  }

  # The lock table is shared by every environment: use its items, never reconfigure or delete it.
  statement {
    sid    = "OnlyUseTheLockTable"
    effect = "Deny"
    not_actions = [
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:DeleteItem",
      "dynamodb:UpdateItem",
      "dynamodb:ConditionCheckItem",
      "dynamodb:Describe*",
      "dynamodb:List*",
    ]
    resources = [aws_dynamodb_table.locks.arn]
  }

  # The state key encrypts every environment's state: a deleted or disabled key loses them all.
  statement {
    sid         = "OnlyUseTheStateKey"
    effect      = "Deny"
    not_actions = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources   = [aws_kms_key.state.arn]
  }

  # Resources of another environment, wherever the service evaluates aws:ResourceTag: the env
  # roots tag everything they create with Environment = <env> (provider default_tags). Where a
  # service or action does not support the key, this statement does not apply: see
  # docs/security.md for what that leaves open, and separate accounts for full isolation.
  # https://docs.aws.amazon.com/IAM/latest/UserGuide/access_tags.html
  statement {
    sid       = "NoOtherEnvironmentsResources"
    effect    = "Deny"
    actions   = ["*"]
    resources = ["*"]

    condition {
      test     = "StringNotEquals"
      variable = "aws:ResourceTag/${local.environment_tag}"
      values   = [each.key]
    }

    # Only resources that carry the tag: untagged resources and actions without the key are
    # left to the statements above.
    condition {
      test     = "Null"
      variable = "aws:ResourceTag/${local.environment_tag}"
      values   = ["false"]
    }
  }

  # Nor create or re-tag anything as another environment's.
  statement {
    sid       = "NoOtherEnvironmentsTags"
    effect    = "Deny"
    actions   = ["*"]
    resources = ["*"]

    condition {
      test     = "StringNotEquals"
      variable = "aws:RequestTag/${local.environment_tag}"
      values   = [each.key]
    }

    condition {
      test     = "Null"
      variable = "aws:RequestTag/${local.environment_tag}"
      values   = ["false"]
    }
  }
}

resource "aws_iam_role" "apply" {
  for_each = local.env

  name                 = each.value.apply_role
  description          = "GitHub environment ${each.key}-infra of ${local.repo}: terraform apply of infra/envs/${each.key}"
  assume_role_policy   = data.aws_iam_policy_document.trust["apply-${each.key}"].json
  max_session_duration = 3600
}

resource "aws_iam_role_policy_attachment" "apply_power_user" {
  for_each = local.env

  role = aws_iam_role.apply[each.key].name
  # An environment is a VPC, a load balancer, ECS, ECR, KMS, CloudWatch, SNS, EventBridge, S3,
  # Budgets and Cost Explorer: PowerUserAccess covers them; IAM is granted separately above, and
  # the explicit denies of data.aws_iam_policy_document.apply keep it to its own environment.
  policy_arn = "arn:${local.partition}:iam::aws:policy/PowerUserAccess"
}

resource "aws_iam_role_policy" "apply" {
  for_each = local.env

  name   = "state-and-environment-roles"
  role   = aws_iam_role.apply[each.key].id
  policy = data.aws_iam_policy_document.apply[each.key].json
}
