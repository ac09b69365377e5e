# Runbook 6.1: GitHub Actions reaches AWS through OIDC. No IAM users, no access keys: each role
# trusts the token of exact workflow subjects of one repository and lives at most an hour.
# https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/configuring-openid-connect-in-amazon-web-services

locals {
  repo            = var.github.repository
  oidc_host       = "token.actions.githubusercontent.com"
  oidc_arn        = coalesce(var.github.oidc_provider_arn, one(aws_iam_openid_connect_provider.github[*].arn))
  branch_subjects = [for b in var.github.branches : "repo:${local.repo}:ref:refs/heads/${b}"]

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
      roles_arn    = "arn:${local.partition}:iam::${local.account_id}:role/${e.service_name}-*"
      state_prefix = "${name}/"
      subject      = "repo:${local.repo}:environment:${name}"
      infra_sub    = "repo:${local.repo}:environment:${name}-infra"
      # Named here, not read from aws_iam_role.apply: the state bucket's policy (main.tf) denies
      # by these ARNs and must not wait for, or depend on, the roles it restricts.
      apply_role     = "${var.project}-github-terraform-apply-${name}"
      apply_role_arn = "arn:${local.partition}:iam::${local.account_id}:role/${var.project}-github-terraform-apply-${name}"
      # A policy statement id: letters and digits only.
      sid_name = join("", [for part in split("-", name) : title(part)])
    }
  }

  # The tag key the env roots' provider default_tags set to the environment's name
  # (infra/stack/main.tf, local.default_tags): the apply roles' tag conditions key on it.
  environment_tag = "Environment"
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
    { ci = local.branch_subjects, plan = concat(local.branch_subjects, ["repo:${local.repo}:pull_request"]) },
    { for name, e in local.env : "deploy-${name}" => [e.subject] },
    { for name, e in local.env : "apply-${name}" => [e.infra_sub] },
  )

  statement {
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

    # Exact subjects only (StringEquals, never StringLike with wildcards): a fork, another
    # repository or another branch gets a different `sub` and cannot assume the role.
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_host}:sub"
      values   = each.value
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
  #checkov:skip=CKV_AWS_356:The only restrictable action on "*" is cloudwatch:DescribeAlarms, and `opsctl status` lists alarms (no AlarmNames), which alarm ARNs in a policy do not cover (statement ReadTheAlarms). The other "*" actions have no resource-level permissions.
  for_each = local.env

  # Exactly the calls opsctl makes (ops/src/opsctl/aws.py); ops/tests checks both ways: every
  # call of its scenarios is authorized against these statements, and every action granted here
  # is one opsctl calls.

  statement {
    sid = "RegisterTaskDefinitions"
    # Task definition actions have no resource-level permissions
    # (https://github.com/aws/containers-roadmap/issues/929). What keeps a deploy to this
    # service's family: PassRole below admits only this service's roles, and UpdateService
    # admits only this family's revisions.
    actions   = ["ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions"]
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
  statement {
    sid       = "ListTheServicesDeployments"
    actions   = ["ecs:ListServiceDeployments"]
    resources = [each.value.service_arn]
  }

  statement {
    sid     = "ReadTheServicesDeploymentsAndRevisions"
    actions = ["ecs:DescribeServiceDeployments", "ecs:DescribeServiceRevisions"]
    resources = [
      "arn:${local.partition}:ecs:${var.region}:${local.account_id}:service-deployment/${each.value.service}/${each.value.service}/*",
      "arn:${local.partition}:ecs:${var.region}:${local.account_id}:service-revision/${each.value.service}/${each.value.service}/*",
    ]
  }

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
    sid = "ReadTheServicesAlarmHistory"
    # The state changes of this service's alarms (infra/modules/observability names them
    # <service>-*); DescribeAlarmHistory is scoped by alarm ARN when the call names the alarm.
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html
    actions   = ["cloudwatch:DescribeAlarmHistory"]
    resources = ["arn:${local.partition}:cloudwatch:${var.region}:${local.account_id}:alarm:${each.value.service}-*"]
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

data "aws_iam_policy_document" "state_read" {
  statement {
    sid       = "ListState"
    actions   = ["s3:ListBucket"]
    resources = [local.state_arn]
  }

  statement {
    sid       = "ReadState"
    actions   = ["s3:GetObject"]
    resources = ["${local.state_arn}/*"]
  }

  # A plan takes the lock too (both kinds, ADR 0001), so a plan never reads half-written state.
  statement {
    sid       = "TakeTheLockFile"
    actions   = ["s3:PutObject", "s3:DeleteObject"]
    resources = ["${local.state_arn}/*.tflock"]
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
}

resource "aws_iam_role" "plan" {
  name                 = "${var.project}-github-terraform-plan"
  description          = "GitHub Actions of ${local.repo} (pull requests, ${join(", ", var.github.branches)}): terraform plan, read-only"
  assume_role_policy   = data.aws_iam_policy_document.trust["plan"].json
  max_session_duration = 3600
}

resource "aws_iam_role_policy_attachment" "plan_read_only" {
  role = aws_iam_role.plan.name
  # Refreshing every resource of every module needs Describe/Get/List on many services; AWS's
  # ReadOnlyAccess is the maintained list of exactly those.
  policy_arn = "arn:${local.partition}:iam::aws:policy/ReadOnlyAccess"
}

resource "aws_iam_role_policy" "plan_state" {
  name   = "read-state-take-lock"
  role   = aws_iam_role.plan.id
  policy = data.aws_iam_policy_document.state_read.json
}

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
  # <service>-* (execution, task, flow logs): the apply role may manage those and nothing else.
  statement {
    sid = "ManageThisEnvironmentsRoles"
    actions = [
      "iam:CreateRole",
      "iam:DeleteRole",
      "iam:GetRole",
      "iam:UpdateRole",
      "iam:UpdateRoleDescription",
      "iam:UpdateAssumeRolePolicy",
      "iam:TagRole",
      "iam:UntagRole",
      "iam:PutRolePolicy",
      "iam:GetRolePolicy",
      "iam:DeleteRolePolicy",
      "iam:ListRolePolicies",
      "iam:ListAttachedRolePolicies",
      "iam:ListInstanceProfilesForRole",
      "iam:PassRole",
    ]
    resources = [each.value.roles_arn]
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

  # --- What keeps environments sharing this account apart (docs/security.md) ----------------
  # PowerUserAccess is account-wide: without the explicit denies below, the dev apply role could
  # take prod's lock, schedule the state key's deletion, or change and destroy prod's resources.
  # The state objects themselves are guarded by the bucket policy (main.tf). An explicit deny
  # wins over every allow, and this role cannot edit its own policies (PowerUserAccess has no
  # IAM, and ManageThisEnvironmentsRoles covers <service>-* roles only).

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
