# Runbook 6.2: the Terraform backend (S3 state bucket + DynamoDB lock table, ADR 0001), encrypted
# with a key of its own. iam.tf holds the GitHub OIDC provider and the roles (runbook 6.1).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id   = data.aws_caller_identity.current.account_id
  partition    = data.aws_partition.current.partition
  state_bucket = coalesce(var.state_bucket_name, "tfstate-${local.account_id}-${var.region}")
  state_arn    = "arn:${local.partition}:s3:::${local.state_bucket}"
  lock_table   = "${var.project}-terraform-locks"
}

data "aws_iam_policy_document" "state_key" {
  #checkov:skip=CKV_AWS_109:A key policy's "*" resource means this key only (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html); the account statement delegates to IAM, the service statements carry conditions.
  #checkov:skip=CKV_AWS_111:Same: in a key policy "*" is the key itself, not every resource.
  #checkov:skip=CKV_AWS_356:Same: in a key policy "*" is the key itself, not every resource.
  # Delegate to IAM: the roles' policies in iam.tf decide who may use the key.
  # https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
  statement {
    sid       = "AccountAdministersThroughIam"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "state" {
  description             = "Terraform state and locks of ${var.project}"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.state_key.json
}

resource "aws_kms_alias" "state" {
  name          = "alias/${var.project}-terraform-state"
  target_key_id = aws_kms_key.state.key_id
}

#trivy:ignore:AVD-AWS-0089 reason: server access logs would need a second bucket per account; CloudTrail data events are the audit trail for state reads and writes.
resource "aws_s3_bucket" "state" {
  #checkov:skip=CKV_AWS_18:Server access logs would need a second bucket per account; CloudTrail data events are the audit trail for state reads and writes.
  #checkov:skip=CKV_AWS_144:Cross-region replication of a few kilobytes of state is not worth a second region; versioning covers bad applies and deletes.
  #checkov:skip=CKV2_AWS_62:No consumer for event notifications on state writes.
  bucket = local.state_bucket

  # Terraform state is the one thing that must survive a mistaken `terraform destroy`.
  force_destroy = false
}

resource "aws_s3_bucket_ownership_controls" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket                  = aws_s3_bucket.state.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id

  # Every apply writes a new version: a broken state can be restored (runbook 4.3 state drift).
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.state.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    id     = "expire-superseded-state"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.state_version_retention_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.state]
}

data "aws_iam_policy_document" "state_bucket" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      local.state_arn,
      "${local.state_arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  # PowerUserAccess gives the apply roles s3:* on every bucket: this policy holds each one to its
  # own environment's prefix, whatever its identity policies say (an explicit deny wins). Keyed
  # on aws:PrincipalArn, the role's ARN in every one of its sessions.
  # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn
  dynamic "statement" {
    for_each = local.env

    content {
      sid           = "${statement.value.sid_name}ApplyRoleOnlyTouchesItsOwnState"
      effect        = "Deny"
      actions       = ["s3:GetObject*", "s3:PutObject*", "s3:DeleteObject*", "s3:RestoreObject", "s3:ReplicateObject"]
      not_resources = ["${local.state_arn}/${statement.value.state_prefix}*"]

      principals {
        type        = "*"
        identifiers = ["*"]
      }

      condition {
        test     = "ArnEquals"
        variable = "aws:PrincipalArn"
        values   = [statement.value.apply_role_arn]
      }
    }
  }

  # The bucket and its history belong to the administrators who run the bootstrap: no apply role
  # may rewrite this policy, turn off versioning or encryption, or delete superseded state.
  statement {
    sid    = "ApplyRolesLeaveTheBucketAndItsHistoryAlone"
    effect = "Deny"
    actions = [
      "s3:PutBucket*",
      "s3:DeleteBucket*",
      "s3:PutLifecycleConfiguration",
      "s3:PutEncryptionConfiguration",
      "s3:PutReplicationConfiguration",
      "s3:DeleteObjectVersion*",
      "s3:PutObjectVersion*",
      "s3:BypassGovernanceRetention",
    ]
    resources = [
      local.state_arn,
      "${local.state_arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:PrincipalArn"
      values   = [for e in local.env : e.apply_role_arn]
    }
  }
}

resource "aws_s3_bucket_policy" "state" {
  bucket = aws_s3_bucket.state.id
  policy = data.aws_iam_policy_document.state_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.state]
}

# The lock table the runbook names (6.2). Terraform >= 1.10 also locks with a lock file in the
# bucket (use_lockfile); both are on, see ADR 0001.
resource "aws_dynamodb_table" "locks" {
  name                        = local.lock_table
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "LockID"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "LockID"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.state.arn
  }
}
