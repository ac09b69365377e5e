terraform {
  # 1.9: input validations may refer to other variables; 1.7: mock providers in `terraform test`.
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 6.0"
      # The EstimatedCharges metric exists only in us-east-1, and an alarm can only notify a
      # topic in its own region: the root passes a provider configured for us-east-1.
      # https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/monitor_estimated_charges_with_cloudwatch.html
      configuration_aliases = [aws.us_east_1]
    }
  }
}
