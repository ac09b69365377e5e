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

  # Rules are evaluated by priority; the "any" rule must have the highest number.
  # https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html
  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
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
        rulePriority = 2
        description  = "Keep the newest ${var.lifecycle_policy.keep_tagged} images"
        selection = {
          tagStatus   = "any"
          countType   = "imageCountMoreThan"
          countNumber = var.lifecycle_policy.keep_tagged
        }
        action = { type = "expire" }
      },
    ]
  })
}
