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

  assert {
    condition = jsondecode(aws_ecr_lifecycle_policy.this.policy).rules[0].selection == {
      tagStatus = "untagged", countType = "sinceImagePushed", countUnit = "days", countNumber = 7
    }
    error_message = "Untagged images must expire after 7 days."
  }

  assert {
    condition = jsondecode(aws_ecr_lifecycle_policy.this.policy).rules[1].selection == {
      tagStatus = "any", countType = "imageCountMoreThan", countNumber = 50
    }
    error_message = "Only images beyond the newest 50 may expire (rollback needs the previous ones)."
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
    lifecycle_policy = { keep_tagged = 2 }
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
