# Data stores of one tenant: object storage, the orders table, the order-events queue and the audit log.
# Every store carries tenant and data_class tags; the provider passed in decides the region, so a caller
# must pass the provider of the tenant's home region.

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
  # tenant and data_class are what the data-handling checks read (CKV_DH_100/101); they win over var.tags.
  store_tags = {
    tenant     = var.tenant
    data_class = var.data_class
  }
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

# --- encryption -----------------------------------------------------------------------------------------

data "aws_iam_policy_document" "tenant_key" {
  statement {
    sid       = "AccountAdministration"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchLogsAuditLog"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${data.aws_region.current.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:log-group:/saas/${var.name_prefix}/*"]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "Tenant ${var.tenant}: data at rest (S3, DynamoDB, SQS, audit log)"
  deletion_window_in_days = 30
  enable_key_rotation     = true
  policy                  = data.aws_iam_policy_document.tenant_key.json

  tags = merge(var.tags, { tenant = var.tenant })
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name_prefix}-data"
  target_key_id = aws_kms_key.this.key_id
}

# --- object storage ---------------------------------------------------------------------------------------

resource "aws_s3_bucket" "this" {
  bucket = "${var.name_prefix}-tenant-data"

  tags = merge(var.tags, local.store_tags)
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.this.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket = aws_s3_bucket.this.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "expire-noncurrent-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = 90
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

# --- orders table -----------------------------------------------------------------------------------------

resource "aws_dynamodb_table" "orders" {
  name                        = "${var.name_prefix}-orders"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "order_id"
  range_key                   = "created_at"
  deletion_protection_enabled = true

  attribute {
    name = "order_id"
    type = "S"
  }

  attribute {
    name = "created_at"
    type = "S"
  }

  attribute {
    name = "customer_id"
    type = "S"
  }

  global_secondary_index {
    name            = "by-customer"
    hash_key        = "customer_id"
    range_key       = "created_at"
    projection_type = "KEYS_ONLY"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.this.arn
  }

  tags = merge(var.tags, local.store_tags)
}

# --- order events -----------------------------------------------------------------------------------------

resource "aws_sqs_queue" "order_events" {
  name                              = "${var.name_prefix}-order-events"
  message_retention_seconds         = var.order_events_retention_seconds
  visibility_timeout_seconds        = 60
  receive_wait_time_seconds         = 20
  kms_master_key_id                 = aws_kms_key.this.arn
  kms_data_key_reuse_period_seconds = 300

  tags = merge(var.tags, local.store_tags)
}

# --- audit log --------------------------------------------------------------------------------------------

module "audit_log" {
  source = "./modules/audit_log"

  providers = {
    aws = aws
  }

  tenant            = var.tenant
  data_class        = var.data_class
  name              = "/saas/${var.name_prefix}/audit"
  retention_in_days = var.audit_log_retention_days
  kms_key_arn       = aws_kms_key.this.arn
  tags              = var.tags
}
