# The image registry: immutable tags (a tag always names the same image, so redeploying an old
# revision redeploys the same bits), scan on push, KMS encryption, lifecycle.

resource "aws_ecr_repository" "this" {
  name = var.name
  # Not a variable: a mutable tag would let "redeploy revision N" pull different code.
  image_tag_mutability = "IMMUTABLE"
  force_delete         = var.force_delete

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = var.kms_key_arn
  }

  tags = merge(var.tags, { Name = var.name })
}

resource "aws_ecr_lifecycle_policy" "this" {
  repository = aws_ecr_repository.this.name

  # Rules are evaluated by priority; an image that matches a rule's tag selection is never
  # expired by a rule of lower priority, and the "any" rule must come last.
  # https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html
  #
  # CI pushes every commit of main to each environment's repository, so counting alone would
  # expire the image prod runs (and every rollback target) after keep_images merges: a scale-out
  # or a replaced task would then fail with CannotPullContainerError. Rule 1 therefore takes the
  # images a deploy or rollback marked with a protected_tag_prefix tag out of reach of rule 3.
  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Keep the newest ${var.lifecycle_policy.keep_protected} images a deploy or rollback ran (tag ${var.lifecycle_policy.protected_tag_prefix}*): a later rule never expires them"
        selection = {
          tagStatus     = "tagged"
          tagPrefixList = [var.lifecycle_policy.protected_tag_prefix]
          countType     = "imageCountMoreThan"
          countNumber   = var.lifecycle_policy.keep_protected
        }
        action = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "Expire untagged images (superseded build layers) after ${var.lifecycle_policy.untagged_expire_days} days"
        selection = {
          tagStatus   = "untagged"
          countType   = "sinceImagePushed"
          countUnit   = "days"
          countNumber = var.lifecycle_policy.untagged_expire_days
        }
        action = { type = "expire" }
      },
      {
        rulePriority = 3
        description  = "Keep the newest ${var.lifecycle_policy.keep_images} other images (CI's commit builds)"
        selection = {
          tagStatus   = "any"
          countType   = "imageCountMoreThan"
          countNumber = var.lifecycle_policy.keep_images
        }
        action = { type = "expire" }
      },
    ]
  })
}
