# Plan-only tests with a mocked AWS provider: no credentials, no network.

mock_provider "aws" {
  override_data {
    target = data.aws_caller_identity.current
    values = { account_id = "123456789012" }
  }
  override_data {
    target = data.aws_partition.current
    values = { partition = "aws" }
  }
  # The provider validates policy JSON; mocked documents would be random text. Assertions read
  # the documents' statements from the configuration instead.
  override_data {
    target = data.aws_iam_policy_document.state_key
    values = { json = "{}" }
  }
  override_data {
    target = data.aws_iam_policy_document.state_bucket
    values = { json = "{}" }
  }
  override_data {
    target = data.aws_iam_policy_document.trust
    values = { json = "{}" }
  }
  override_data {
    target = data.aws_iam_policy_document.ci
    values = { json = "{}" }
  }
  override_data {
    target = data.aws_iam_policy_document.deploy
    values = { json = "{}" }
  }
  override_data {
    target = data.aws_iam_policy_document.plan
    values = { json = "{}" }
  }
  override_data {
    target = data.aws_iam_policy_document.boundary
    values = { json = "{}" }
  }
  override_data {
    target = data.aws_iam_policy_document.apply
    values = { json = "{}" }
  }
  # Known at plan time, so the policies that name them can be compared (Terraform >= 1.11).
  override_resource {
    target          = aws_kms_key.state
    override_during = plan
    values          = { arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555" }
  }
  override_resource {
    target          = aws_dynamodb_table.locks
    override_during = plan
    values          = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/fastapi-terraform-locks" }
  }
}

variables {
  github = { repository = "example-org/aws-fastapi-devsecops" }
}

run "state_backend_is_locked_down" {
  command = plan

  assert {
    condition     = aws_s3_bucket.state.bucket == "tfstate-123456789012-us-east-1" && aws_s3_bucket.state.force_destroy == false
    error_message = "The state bucket is tfstate-<account>-<region> and destroy never empties it."
  }

  assert {
    condition     = aws_s3_bucket_versioning.state.versioning_configuration[0].status == "Enabled"
    error_message = "State must be versioned."
  }

  assert {
    condition     = one([for r in aws_s3_bucket_server_side_encryption_configuration.state.rule : r.apply_server_side_encryption_by_default[0].sse_algorithm]) == "aws:kms"
    error_message = "State must be encrypted with KMS."
  }

  assert {
    condition = alltrue([
      aws_s3_bucket_public_access_block.state.block_public_acls,
      aws_s3_bucket_public_access_block.state.block_public_policy,
      aws_s3_bucket_public_access_block.state.ignore_public_acls,
      aws_s3_bucket_public_access_block.state.restrict_public_buckets,
    ])
    error_message = "Public access to the state bucket must be blocked."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.state_bucket.statement : s.effect == "Deny" && anytrue([for c in s.condition : c.variable == "aws:SecureTransport" && toset(c.values) == toset(["false"])])
    ])
    error_message = "The state bucket must refuse requests without TLS."
  }

  assert {
    condition = (
      aws_dynamodb_table.locks.name == "fastapi-terraform-locks" && aws_dynamodb_table.locks.hash_key == "LockID" &&
      aws_dynamodb_table.locks.billing_mode == "PAY_PER_REQUEST" && aws_dynamodb_table.locks.deletion_protection_enabled
    )
    error_message = "The lock table: hash key LockID, on demand, protected from deletion."
  }

  assert {
    condition     = aws_dynamodb_table.locks.point_in_time_recovery[0].enabled && aws_dynamodb_table.locks.server_side_encryption[0].enabled
    error_message = "The lock table has point-in-time recovery and KMS encryption."
  }

  assert {
    condition     = aws_kms_key.state.enable_key_rotation
    error_message = "The state key rotates."
  }
}

run "roles_trust_exact_subjects_only" {
  command = plan

  assert {
    condition     = aws_iam_openid_connect_provider.github[0].url == "https://token.actions.githubusercontent.com" && aws_iam_openid_connect_provider.github[0].client_id_list == toset(["sts.amazonaws.com"])
    error_message = "One GitHub OIDC provider with audience sts.amazonaws.com."
  }

  assert {
    condition = alltrue(flatten([
      for doc in data.aws_iam_policy_document.trust : [
        for s in doc.statement : [
          anytrue([for c in s.condition : c.test == "StringEquals" && c.variable == "token.actions.githubusercontent.com:aud" && toset(c.values) == toset(["sts.amazonaws.com"])]),
          anytrue([for c in s.condition : contains(["StringEquals", "StringLike"], c.test) && c.variable == "token.actions.githubusercontent.com:sub"]),
        ]
      ]
    ]))
    error_message = "Every role trusts aud sts.amazonaws.com and named subjects."
  }

  # Issue 10: the subject names the workflow file and its ref (job_workflow_ref) as well as the
  # context, so a new workflow file, a branch or a pull request's copy of a workflow is another
  # subject. Exact (StringEquals) everywhere but the pull requests' plan.
  assert {
    condition = jsonencode({
      for k, doc in data.aws_iam_policy_document.trust : k => {
        for s in doc.statement : one([for c in s.condition : c.test if c.variable == "token.actions.githubusercontent.com:sub"]) => sort(flatten([for c in s.condition : c.values if c.variable == "token.actions.githubusercontent.com:sub"]))
      }
      }) == jsonencode({
      ci            = { StringEquals = ["repo:example-org/aws-fastapi-devsecops:ref:refs/heads/main:job_workflow_ref:example-org/aws-fastapi-devsecops/.github/workflows/ci.yml@refs/heads/main"] }
      plan          = { StringEquals = ["repo:example-org/aws-fastapi-devsecops:ref:refs/heads/main:job_workflow_ref:example-org/aws-fastapi-devsecops/.github/workflows/terraform.yml@refs/heads/main"], StringLike = ["repo:example-org/aws-fastapi-devsecops:pull_request:job_workflow_ref:example-org/aws-fastapi-devsecops/.github/workflows/terraform.yml@refs/pull/*/merge"] }
      "deploy-dev"  = { StringEquals = ["repo:example-org/aws-fastapi-devsecops:environment:dev:job_workflow_ref:example-org/aws-fastapi-devsecops/.github/workflows/ecs-rollout.yml@refs/heads/main"] }
      "deploy-prod" = { StringEquals = ["repo:example-org/aws-fastapi-devsecops:environment:prod:job_workflow_ref:example-org/aws-fastapi-devsecops/.github/workflows/ecs-rollout.yml@refs/heads/main"] }
      "apply-dev"   = { StringEquals = ["repo:example-org/aws-fastapi-devsecops:environment:dev-infra:job_workflow_ref:example-org/aws-fastapi-devsecops/.github/workflows/terraform.yml@refs/heads/main"] }
      "apply-prod"  = { StringEquals = ["repo:example-org/aws-fastapi-devsecops:environment:prod-infra:job_workflow_ref:example-org/aws-fastapi-devsecops/.github/workflows/terraform.yml@refs/heads/main"] }
    })
    error_message = "CI trusts ci.yml on main; plan terraform.yml on main and pull requests; deploy ecs-rollout.yml of main in <env>; apply terraform.yml of main in <env>-infra."
  }

  assert {
    condition = alltrue(flatten([
      for k, doc in data.aws_iam_policy_document.trust : [
        for s in doc.statement : [for c in s.condition : !anytrue([for v in c.values : strcontains(v, "*")]) if c.test != "StringLike"]
      ]
    ]))
    error_message = "Only a StringLike condition may hold a wildcard."
  }

  assert {
    condition = toset(flatten([
      for s in data.aws_iam_policy_document.ci.statement : s.resources if s.sid == "PushToTheServiceRepositories"
      ])) == toset([
      "arn:aws:ecr:us-east-1:123456789012:repository/fastapi-dev",
      "arn:aws:ecr:us-east-1:123456789012:repository/fastapi-prod",
    ])
    error_message = "CI may push to the environments' repositories only."
  }

  assert {
    condition = toset(flatten([
      for s in data.aws_iam_policy_document.deploy["prod"].statement : s.resources if s.sid == "PassOnlyThisServicesRoles"
      ])) == toset([
      "arn:aws:iam::123456789012:role/fastapi-prod-execution",
      "arn:aws:iam::123456789012:role/fastapi-prod-task",
    ])
    error_message = "The prod deploy role may pass only fastapi-prod's execution and task roles."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.deploy["prod"].statement : toset(s.actions) == toset(["ecs:UpdateService"]) &&
      toset(s.resources) == toset(["arn:aws:ecs:us-east-1:123456789012:service/fastapi-prod/fastapi-prod"]) &&
      anytrue([for c in s.condition : c.test == "ArnLikeIfExists" && c.variable == "ecs:task-definition" && toset(c.values) == toset(["arn:aws:ecs:us-east-1:123456789012:task-definition/fastapi-prod:*"])])
    ])
    error_message = "The prod deploy role may update only fastapi-prod, and only to revisions of its family."
  }

  # opsctl records last known good by tagging existing revisions (ADR 0007): a standalone
  # ecs:TagResource, which carries no ecs:CreateAction. ops/tests checks every opsctl call.
  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.deploy["prod"].statement : toset(s.actions) == toset(["ecs:TagResource"]) &&
      toset(s.resources) == toset(["arn:aws:ecs:us-east-1:123456789012:task-definition/fastapi-prod:*"]) &&
      length(s.condition) == 1 && alltrue([for c in s.condition : c.test == "ForAllValues:StringLike" && c.variable == "aws:TagKeys" && toset(c.values) == toset(["opsctl:*"])])
    ])
    error_message = "The prod deploy role may tag revisions of its own family with opsctl:* keys, without registering them."
  }

  # Issue 10: the dev deploy role once registered revisions in prod's family.
  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.deploy["prod"].statement : toset(s.actions) == toset(["ecs:RegisterTaskDefinition"]) &&
      toset(s.resources) == toset(["arn:aws:ecs:us-east-1:123456789012:task-definition/fastapi-prod:*"])
    ])
    error_message = "The prod deploy role registers revisions of fastapi-prod's family only."
  }

  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.deploy["dev"].statement : !anytrue([for a in s.actions : strcontains(a, "*")])
    ])
    error_message = "The deploy role lists its actions one by one (no wildcards)."
  }

  assert {
    condition = toset(flatten([
      for s in data.aws_iam_policy_document.apply["dev"].statement : s.resources if s.effect != "Deny" && anytrue([for a in coalesce(s.actions, toset([])) : startswith(a, "iam:") && a != "iam:CreateServiceLinkedRole"])
    ])) == toset(["arn:aws:iam::123456789012:role/fastapi-dev-*"])
    error_message = "The dev apply role may manage only fastapi-dev-* roles."
  }

  assert {
    condition = toset(flatten([
      for s in data.aws_iam_policy_document.apply["dev"].statement : s.resources if s.sid == "WriteThisEnvironmentsState"
    ])) == toset(["arn:aws:s3:::tfstate-123456789012-us-east-1/dev/*"])
    error_message = "The dev apply role may write dev's state only."
  }

  assert {
    condition     = alltrue([for r in concat([aws_iam_role.ci, aws_iam_role.plan], values(aws_iam_role.deploy), values(aws_iam_role.apply)) : r.max_session_duration == 3600])
    error_message = "Role sessions last at most an hour."
  }
}

# docs/security.md, "What keeps dev and prod apart": PowerUserAccess alone would let either apply
# role read, rewrite or delete the other environment's state and resources in the shared account.
run "apply_roles_are_held_to_their_own_environment" {
  command = plan

  # The state bucket's policy: each apply role may touch objects under its own prefix only.
  assert {
    condition = alltrue([
      for env in ["dev", "prod"] : anytrue([
        for s in data.aws_iam_policy_document.state_bucket.statement : try(
          s.effect == "Deny" &&
          toset(s.not_resources) == toset(["arn:aws:s3:::tfstate-123456789012-us-east-1/${env}/*"]) &&
          length(setsubtract(["s3:GetObject*", "s3:PutObject*", "s3:DeleteObject*"], s.actions)) == 0 &&
          anytrue([for p in s.principals : p.type == "*" && toset(p.identifiers) == toset(["*"])]) &&
          anytrue([for c in s.condition : c.test == "ArnEquals" && c.variable == "aws:PrincipalArn" && toset(c.values) == toset(["arn:aws:iam::123456789012:role/fastapi-github-terraform-apply-${env}"])]),
          false
        )
      ])
    ])
    error_message = "The state bucket denies each apply role every object outside its own <env>/ prefix (other environments' state, the bootstrap's)."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.state_bucket.statement : try(
        s.effect == "Deny" &&
        length(setsubtract(["s3:PutBucket*", "s3:DeleteBucket*", "s3:PutLifecycleConfiguration", "s3:PutEncryptionConfiguration", "s3:DeleteObjectVersion*"], s.actions)) == 0 &&
        toset(s.resources) == toset(["arn:aws:s3:::tfstate-123456789012-us-east-1", "arn:aws:s3:::tfstate-123456789012-us-east-1/*"]) &&
        anytrue([for c in s.condition : c.test == "ArnEquals" && c.variable == "aws:PrincipalArn" && toset(c.values) == toset([
          "arn:aws:iam::123456789012:role/fastapi-github-terraform-apply-dev",
          "arn:aws:iam::123456789012:role/fastapi-github-terraform-apply-prod",
        ])]),
        false
      )
    ])
    error_message = "No apply role may change the state bucket's policy, versioning, encryption or lifecycle, nor delete state versions."
  }

  assert {
    condition     = aws_iam_role.apply["dev"].name == "fastapi-github-terraform-apply-dev" && aws_iam_role.apply["prod"].name == "fastapi-github-terraform-apply-prod"
    error_message = "The bucket policy names the apply roles by ARN: the roles must have exactly those names."
  }

  # The lock table: items of its own state only (LockID is <bucket>/<key> and <bucket>/<key>-md5).
  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.apply["dev"].statement : try(
        s.effect == "Deny" && contains(s.actions, "dynamodb:PutItem") && contains(s.actions, "dynamodb:DeleteItem") && contains(s.actions, "dynamodb:GetItem") &&
        anytrue([for c in s.condition : c.test == "ForAllValues:StringNotLike" && c.variable == "dynamodb:LeadingKeys" && toset(c.values) == toset(["tfstate-123456789012-us-east-1/dev/*"])]),
        false
      )
    ])
    error_message = "The dev apply role may not read, take or release another environment's lock."
  }

  # The backend itself: use the key and the table, never reconfigure or delete them.
  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.apply["prod"].statement : try(
        s.effect == "Deny" && toset(s.resources) == toset(["arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"]) &&
        toset(s.not_actions) == toset(["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]),
        false
      )
    ])
    error_message = "An apply role may only use the state key (no ScheduleKeyDeletion, PutKeyPolicy, DisableKey...)."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.apply["prod"].statement : try(
        s.effect == "Deny" && toset(s.resources) == toset(["arn:aws:dynamodb:us-east-1:123456789012:table/fastapi-terraform-locks"]) &&
        !contains(s.not_actions, "dynamodb:DeleteTable") && contains(s.not_actions, "dynamodb:PutItem"),
        false
      )
    ])
    error_message = "An apply role may only read and write lock items (no DeleteTable, UpdateTable, resource policies...)."
  }

  # Resources: nothing tagged with another environment (the env roots' default_tags set
  # Environment), and nothing created or re-tagged as another environment's.
  assert {
    condition = alltrue([
      for env in ["dev", "prod"] : alltrue([
        for key in ["aws:ResourceTag/Environment", "aws:RequestTag/Environment"] : anytrue([
          for s in data.aws_iam_policy_document.apply[env].statement : try(
            s.effect == "Deny" && toset(s.actions) == toset(["*"]) && toset(s.resources) == toset(["*"]) &&
            anytrue([for c in s.condition : c.test == "StringNotEquals" && c.variable == key && toset(c.values) == toset([env])]) &&
            anytrue([for c in s.condition : c.test == "Null" && c.variable == key && toset(c.values) == toset(["false"])]),
            false
          )
        ])
      ])
    ])
    error_message = "Each apply role is denied every action on resources tagged Environment=<another environment>, and tagging anything so."
  }
}

# Issue 10, finding 1: an apply role could create fastapi-dev-x with Action "*", assume it and own
# the account. infra/tests/test_iam_attacks.py plays that attack against the rendered policies;
# these assert each part of the box in the configuration.
run "role_writers_are_boxed_by_the_environments_boundary" {
  command = plan

  assert {
    condition = alltrue([
      for env in ["dev", "prod"] : alltrue([
        for s in data.aws_iam_policy_document.apply[env].statement : anytrue([
          for c in s.condition : c.test == "StringEquals" && c.variable == "iam:PermissionsBoundary" && toset(c.values) == toset(["arn:aws:iam::123456789012:policy/fastapi-${env}-permissions-boundary"])
        ]) if s.effect != "Deny" && length(setintersection(coalesce(s.actions, toset([])), ["iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePermissionsBoundary", "iam:UpdateAssumeRolePolicy"])) > 0
      ])
    ])
    error_message = "Every statement that lets an apply role create or change a role's permissions requires that environment's boundary (iam:PermissionsBoundary)."
  }

  assert {
    condition = alltrue([
      for env in ["dev", "prod"] : anytrue([
        for s in data.aws_iam_policy_document.apply[env].statement : try(s.effect == "Deny" && toset(s.resources) == toset(["*"]) &&
          length(setsubtract(["iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePermissionsBoundary"], s.actions)) == 0 &&
        anytrue([for c in s.condition : c.test == "StringNotEquals" && c.variable == "iam:PermissionsBoundary" && toset(c.values) == toset(["arn:aws:iam::123456789012:policy/fastapi-${env}-permissions-boundary"])]), false)
      ])
    ])
    error_message = "An explicit deny refuses every role write without the environment's boundary, whatever else is attached to the role."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.apply["dev"].statement : try(s.effect == "Deny" && contains(s.actions, "iam:DeleteRolePermissionsBoundary") && length(s.condition) == 0, false)
    ])
    error_message = "No apply role may remove a boundary."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.apply["dev"].statement : try(s.effect == "Deny" &&
        length(setsubtract(["iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:SetDefaultPolicyVersion"], s.actions)) == 0 &&
      toset(s.resources) == toset(["arn:aws:iam::123456789012:policy/fastapi-dev-permissions-boundary", "arn:aws:iam::123456789012:policy/fastapi-prod-permissions-boundary"]), false)
    ])
    error_message = "No apply role may change any environment's boundary."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.apply["prod"].statement : try(s.effect == "Deny" && toset(s.actions) == toset(["sts:AssumeRole"]) && toset(s.resources) == toset(["*"]), false)
    ])
    error_message = "No apply role may assume a role (PowerUserAccess includes sts:AssumeRole)."
  }

  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.apply["dev"].statement : anytrue([
        for c in s.condition : c.test == "StringEquals" && c.variable == "iam:PassedToService" && toset(c.values) == toset(["ecs-tasks.amazonaws.com", "vpc-flow-logs.amazonaws.com"])
      ]) if s.effect != "Deny" && contains(coalesce(s.actions, toset([])), "iam:PassRole")
    ])
    error_message = "An apply role passes roles to ECS tasks and VPC flow logs only (iam:PassedToService)."
  }

  assert {
    condition     = aws_iam_policy.boundary["dev"].name == "fastapi-dev-permissions-boundary" && aws_iam_policy.boundary["prod"].name == "fastapi-prod-permissions-boundary"
    error_message = "The boundaries are <service_name>-permissions-boundary: the stack names them by that convention."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.boundary["dev"].statement : try(s.effect == "Deny" && length(setsubtract(["iam:*", "sts:AssumeRole", "organizations:*", "account:*"], s.actions)) == 0 && toset(s.resources) == toset(["*"]), false)
    ])
    error_message = "The boundary denies IAM, role assumption, the organization and the account."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.boundary["dev"].statement : try(s.effect == "Deny" && length(setsubtract(["s3:*", "dynamodb:*", "kms:*"], s.actions)) == 0 &&
      length(setsubtract(["arn:aws:s3:::tfstate-123456789012-us-east-1", "arn:aws:s3:::tfstate-123456789012-us-east-1/*", "arn:aws:dynamodb:us-east-1:123456789012:table/fastapi-terraform-locks", "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"], s.resources)) == 0, false)
    ])
    error_message = "The boundary denies every environment's state, lock and state key."
  }

  assert {
    condition = alltrue([
      for key in ["aws:ResourceTag/Environment", "aws:RequestTag/Environment"] : anytrue([
        for s in data.aws_iam_policy_document.boundary["prod"].statement : try(s.effect == "Deny" && toset(s.actions) == toset(["*"]) &&
        anytrue([for c in s.condition : c.test == "StringNotEquals" && c.variable == key && toset(c.values) == toset(["prod"])]), false)
      ])
    ])
    error_message = "The boundary denies resources tagged, or tagging, as another environment."
  }

  assert {
    condition = alltrue(flatten([
      for s in data.aws_iam_policy_document.boundary["dev"].statement : [
        for r in coalesce(s.resources, toset([])) : r == "*" || strcontains(r, "fastapi-dev") if s.effect != "Deny"
      ]
    ]))
    error_message = "What the boundary allows is the environment's own (images, log groups, secrets named after its service), or ecr:GetAuthorizationToken."
  }
}

# Issue 10, finding 2: pull requests' code runs with the plan role.
run "plan_role_reads_state_and_configuration_only" {
  command = plan

  assert {
    condition     = !anytrue([for s in data.aws_iam_policy_document.plan.statement : s.effect != "Deny" && anytrue([for a in coalesce(s.actions, toset([])) : can(regex("(?i)^(s3:(Put|Delete|Restore)|dynamodb:(Put|Delete|Update|BatchWrite|PartiQL)|kms:(Encrypt|GenerateDataKey)|iam:(Create|Put|Attach|Update|Delete|Pass)|sts:AssumeRole$)", a))])])
    error_message = "The plan role is granted no write: no state or lock object, no lock item, no key use but decryption, no IAM change."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.plan.statement : try(s.effect == "Deny" && toset(s.resources) == toset(["*"]) &&
      length(setsubtract(["s3:PutObject*", "s3:DeleteObject*", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem"], s.actions)) == 0, false)
    ])
    error_message = "An explicit deny keeps the plan role from writing state or locks, whatever else is attached to it."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.plan.statement : try(s.effect == "Deny" && toset(s.resources) == toset(["*"]) &&
      length(setsubtract(["logs:GetLogEvents", "logs:FilterLogEvents", "ssm:GetParameter", "ssm:GetParameters", "secretsmanager:GetSecretValue", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"], s.actions)) == 0, false)
    ])
    error_message = "The plan role never reads log events, parameter or secret values, or image layers."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.plan.statement : try(s.effect == "Deny" && contains(s.actions, "s3:GetObject*") &&
      toset(s.not_resources) == toset(["arn:aws:s3:::tfstate-123456789012-us-east-1/dev/*", "arn:aws:s3:::tfstate-123456789012-us-east-1/prod/*"]), false)
    ])
    error_message = "The plan role reads no object but the environments' state (no access logs, no bootstrap state)."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.plan.statement : try(s.effect != "Deny" && toset(s.actions) == toset(["kms:Decrypt"]) &&
      anytrue([for c in s.condition : c.variable == "kms:ViaService" && toset(c.values) == toset(["s3.us-east-1.amazonaws.com", "dynamodb.us-east-1.amazonaws.com"])]), false)
    ])
    error_message = "The plan role decrypts the state through S3 and DynamoDB only."
  }
}

run "immutable_subject_claims_name_the_ids" {
  command = plan

  variables {
    github = {
      repository    = "example-org/aws-fastapi-devsecops"
      immutable_ids = { owner = 123456, repository = 456789 }
    }
  }

  # A repository created after 2026-07-15 presents repo:<owner>@<id>/<repo>@<id>: a role that
  # named only the names would never be assumed, and one that did would trust a recycled name.
  assert {
    condition = alltrue(flatten([
      for doc in data.aws_iam_policy_document.trust : [
        for s in doc.statement : [
          for c in s.condition : [
            for v in c.values : startswith(v, "repo:example-org@123456/aws-fastapi-devsecops@456789:")
          ] if c.variable == "token.actions.githubusercontent.com:sub"
        ]
      ]
    ]))
    error_message = "With immutable_ids, every subject starts repo:<owner>@<id>/<repo>@<id>:."
  }

  assert {
    condition     = one(flatten([for s in data.aws_iam_policy_document.trust["deploy-prod"].statement : [for c in s.condition : c.values if c.variable == "token.actions.githubusercontent.com:sub"]])) == "repo:example-org@123456/aws-fastapi-devsecops@456789:environment:prod:job_workflow_ref:example-org/aws-fastapi-devsecops/.github/workflows/ecs-rollout.yml@refs/heads/main"
    error_message = "The prod deploy role trusts the immutable repo claim with the named workflow file of main."
  }
}

run "rejects_non_integer_immutable_ids" {
  command = plan

  variables {
    github = {
      repository    = "example-org/aws-fastapi-devsecops"
      immutable_ids = { owner = 12.5, repository = 456789 }
    }
  }

  expect_failures = [var.github]
}

run "existing_oidc_provider_is_reused" {
  command = plan

  variables {
    github = {
      repository        = "example-org/aws-fastapi-devsecops"
      oidc_provider_arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    }
  }

  assert {
    condition     = length(aws_iam_openid_connect_provider.github) == 0 && output.github_oidc_provider_arn == "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    error_message = "With oidc_provider_arn, the account's existing provider is used (an account has only one)."
  }
}

run "rejects_invalid_region" {
  command = plan

  variables {
    region = "us-east"
  }

  expect_failures = [var.region]
}

run "rejects_invalid_project" {
  command = plan

  variables {
    project = "Fast API"
  }

  expect_failures = [var.project]
}

run "rejects_repository_without_owner" {
  command = plan

  variables {
    github = { repository = "aws-fastapi-devsecops" }
  }

  expect_failures = [var.github]
}

run "rejects_wildcard_branch" {
  command = plan

  variables {
    github = { repository = "example-org/aws-fastapi-devsecops", branches = ["release/*"] }
  }

  expect_failures = [var.github]
}

run "rejects_foreign_oidc_provider" {
  command = plan

  variables {
    github = { repository = "example-org/aws-fastapi-devsecops", oidc_provider_arn = "arn:aws:iam::123456789012:oidc-provider/accounts.google.com" }
  }

  expect_failures = [var.github]
}

run "rejects_invalid_environment_names" {
  command = plan

  variables {
    environments = { Production = { service_name = "fastapi-prod" } }
  }

  expect_failures = [var.environments]
}

run "rejects_service_names_overlapping_the_bootstrap_roles" {
  command = plan

  variables {
    environments = { dev = { service_name = "fastapi-github" } }
  }

  expect_failures = [var.environments]
}

run "rejects_service_names_whose_role_patterns_overlap" {
  command = plan

  variables {
    # fastapi-dev-* (dev's roles) would also match fastapi-dev-eu's roles.
    environments = { dev = { service_name = "fastapi-dev" }, eu = { service_name = "fastapi-dev-eu" } }
  }

  expect_failures = [var.environments]
}

run "rejects_a_workflow_path" {
  command = plan

  variables {
    github = { repository = "example-org/aws-fastapi-devsecops", workflows = { terraform = "../x/terraform.yml" } }
  }

  expect_failures = [var.github]
}

run "rejects_invalid_state_bucket_name" {
  command = plan

  variables {
    state_bucket_name = "State_Bucket"
  }

  expect_failures = [var.state_bucket_name]
}

run "rejects_zero_day_state_retention" {
  command = plan

  variables {
    state_version_retention_days = 0
  }

  expect_failures = [var.state_version_retention_days]
}
