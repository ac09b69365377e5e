# Plan-only tests with a mocked AWS provider: no credentials, no network.

mock_provider "aws" {}

variables {
  name        = "fastapi-dev"
  kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
}

run "secure_defaults" {
  command = plan

  assert {
    condition     = aws_ecr_repository.this.image_tag_mutability == "IMMUTABLE"
    error_message = "Tags must be immutable: a redeployed revision must pull the same image."
  }

  assert {
    condition     = aws_ecr_repository.this.image_scanning_configuration[0].scan_on_push == true
    error_message = "Images must be scanned on push."
  }

  assert {
    condition     = aws_ecr_repository.this.encryption_configuration[0].encryption_type == "KMS" && aws_ecr_repository.this.encryption_configuration[0].kms_key == var.kms_key_arn
    error_message = "Images must be encrypted with the given KMS key."
  }

  assert {
    condition     = aws_ecr_repository.this.force_delete == false
    error_message = "destroy must not delete images unless asked to."
  }

  # ECR evaluates rules by priority, and an image matched by a rule is never expired by a later
  # one: images a deploy marked (deployed-*) are out of reach of the count rule below. Without
  # that, CI pushing every main commit would expire the image prod runs after 50 merges.
  # https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html
  assert {
    condition = jsondecode(aws_ecr_lifecycle_policy.this.policy).rules[0] == {
      rulePriority = 1
      description  = "Keep the newest 100 images a deploy or rollback ran (tag deployed-*): a later rule never expires them"
      selection    = { tagStatus = "tagged", tagPrefixList = ["deployed-"], countType = "imageCountMoreThan", countNumber = 100 }
      action       = { type = "expire" }
    }
    error_message = "Rule 1 protects images tagged deployed-* (the newest 100 of them) from every later rule."
  }

  assert {
    condition = jsondecode(aws_ecr_lifecycle_policy.this.policy).rules[1].selection == {
      tagStatus = "untagged", countType = "sinceImagePushed", countUnit = "days", countNumber = 7
    }
    error_message = "Untagged images must expire after 7 days."
  }

  assert {
    condition = jsondecode(aws_ecr_lifecycle_policy.this.policy).rules[2].selection == {
      tagStatus = "any", countType = "imageCountMoreThan", countNumber = 50
    }
    error_message = "Other images beyond the newest 50 may expire (rollback needs the previous ones)."
  }

  assert {
    condition     = [for r in jsondecode(aws_ecr_lifecycle_policy.this.policy).rules : r.rulePriority] == [1, 2, 3]
    error_message = "The protecting rule is evaluated first and the 'any' rule last (ECR requires 'any' to have the highest priority)."
  }
}

run "protected_prefix_and_counts_are_configurable" {
  command = plan

  variables {
    lifecycle_policy = { protected_tag_prefix = "release-", keep_protected = 20, keep_images = 200 }
  }

  assert {
    condition = (
      jsondecode(aws_ecr_lifecycle_policy.this.policy).rules[0].selection.tagPrefixList == ["release-"] &&
      jsondecode(aws_ecr_lifecycle_policy.this.policy).rules[0].selection.countNumber == 20 &&
      jsondecode(aws_ecr_lifecycle_policy.this.policy).rules[2].selection.countNumber == 200
    )
    error_message = "protected_tag_prefix, keep_protected and keep_images reach the policy."
  }
}

run "rejects_invalid_name" {
  command = plan

  variables {
    name = "Fastapi_Dev"
  }

  expect_failures = [var.name]
}

run "rejects_non_kms_arn" {
  command = plan

  variables {
    kms_key_arn = "alias/aws/ecr"
  }

  expect_failures = [var.kms_key_arn]
}

run "rejects_keeping_too_few_images" {
  command = plan

  variables {
    lifecycle_policy = { keep_images = 2 }
  }

  expect_failures = [var.lifecycle_policy]
}

run "rejects_keeping_too_few_deployed_images" {
  command = plan

  variables {
    lifecycle_policy = { keep_protected = 3 }
  }

  expect_failures = [var.lifecycle_policy]
}

run "rejects_a_protected_prefix_that_matches_commit_shas" {
  command = plan

  variables {
    # Only hex digits: CI's commit-SHA tags starting with "ab" would never expire.
    lifecycle_policy = { protected_tag_prefix = "ab" }
  }

  expect_failures = [var.lifecycle_policy]
}

run "rejects_a_protected_prefix_that_is_not_a_tag" {
  command = plan

  variables {
    lifecycle_policy = { protected_tag_prefix = "deployed/" }
  }

  expect_failures = [var.lifecycle_policy]
}

run "rejects_zero_day_untagged_expiry" {
  command = plan

  variables {
    lifecycle_policy = { untagged_expire_days = 0 }
  }

  expect_failures = [var.lifecycle_policy]
}
