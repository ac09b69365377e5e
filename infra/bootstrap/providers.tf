provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project   = var.project
      Component = "bootstrap"
      ManagedBy = "terraform"
      Source    = "github.com/${var.github.repository}//infra/bootstrap"
    }
  }
}
