# Tenant acme (home region eu-west-1).

locals {
  name_prefix = "acme-${var.environment}"
}

# The tenant's standard data stores (bucket, orders table, order-events queue, audit log) in eu-west-1.
module "acme_data" {
  source = "../../modules/tenant_data"

  providers = {
    aws = aws
  }

  tenant      = "acme"
  name_prefix = local.name_prefix
  tags = {
    service     = "orders"
    environment = var.environment
  }
}

# --- invoices: confidential, in eu-west-1 -------------------------------------------------------------------

resource "aws_s3_bucket" "acme_invoices" {
  bucket = "${local.name_prefix}-invoices"

  tags = {
    data_class = "confidential"
    service    = "billing"
  }
}

resource "aws_s3_bucket_versioning" "acme_invoices" {
  bucket = aws_s3_bucket.acme_invoices.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "acme_invoices" {
  bucket = aws_s3_bucket.acme_invoices.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = module.acme_data.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "acme_invoices" {
  bucket = aws_s3_bucket.acme_invoices.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# --- build artifacts: internal, may live in us-east-1 ---------------------------------------------------------

resource "aws_s3_bucket" "acme_build_artifacts" {
  provider = aws.us
  bucket   = "${local.name_prefix}-build-artifacts-use1"

  tags = {
    data_class = "internal"
    service    = "ci"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "acme_build_artifacts" {
  provider = aws.us
  bucket   = aws_s3_bucket.acme_build_artifacts.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "acme_build_artifacts" {
  provider = aws.us
  bucket   = aws_s3_bucket.acme_build_artifacts.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# --- customer exports: confidential, created through the us-east-1 provider -----------------------------------

# VIOLATION CKV_DH_101 aws_s3_bucket.acme_exports: breaks "A tenant's Confidential data does not leave its home region." The bucket holds acme's customer order exports (data_class = "confidential", tenant = "acme" from the aws.us provider's default_tags) but is created through provider aws.us, i.e. in us-east-1, while acme's home region is eu-west-1.
resource "aws_s3_bucket" "acme_exports" {
  provider = aws.us
  bucket   = "${local.name_prefix}-exports"

  tags = {
    data_class = "confidential"
    service    = "reporting"
  }
}

resource "aws_s3_bucket_versioning" "acme_exports" {
  provider = aws.us
  bucket   = aws_s3_bucket.acme_exports.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "acme_exports" {
  provider = aws.us
  bucket   = aws_s3_bucket.acme_exports.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "acme_exports" {
  provider = aws.us
  bucket   = aws_s3_bucket.acme_exports.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# --- shopping carts: confidential, placed in us-west-2 with the provider v6 region argument --------------

# VIOLATION CKV_DH_101 aws_dynamodb_table.acme_carts: breaks "A tenant's Confidential data does not leave its home region." The carts table holds acme customers' basket contents (data_class = "confidential", tenant = "acme" from the default provider's default_tags); its resource-level region = "us-west-2" (AWS provider v6) overrides the eu-west-1 default provider, so the data sits outside acme's home region eu-west-1.
resource "aws_dynamodb_table" "acme_carts" {
  region       = "us-west-2"
  name         = "${local.name_prefix}-carts"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "cart_id"

  attribute {
    name = "cart_id"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }

  tags = {
    data_class = "confidential"
    service    = "storefront"
  }
}
