# The tenant's audit log: who ran which query against the tenant's data, when and why
# (policy: "The audit log captures who, when, what, why").

terraform {
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }
}

locals {
  store_tags = {
    tenant     = var.tenant
    data_class = var.data_class
  }
}

resource "aws_cloudwatch_log_group" "this" {
  name              = var.name
  retention_in_days = var.retention_in_days
  kms_key_id        = var.kms_key_arn
  log_group_class   = "STANDARD"

  tags = merge(var.tags, local.store_tags)
}
