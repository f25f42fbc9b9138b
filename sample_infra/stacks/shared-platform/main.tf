# Shared platform services in us-east-1: the marketing site, internal tooling and support.

resource "aws_kms_key" "support" {
  description             = "Shared platform: support case data at rest"
  deletion_window_in_days = 30
  enable_key_rotation     = true
}

resource "aws_kms_alias" "support" {
  name          = "alias/shared-support"
  target_key_id = aws_kms_key.support.key_id
}

# --- marketing site: public -----------------------------------------------------------------------------------

resource "aws_s3_bucket" "marketing_site" {
  bucket = "saas-marketing-site-prod"

  tags = {
    data_class = "public"
    service    = "marketing-site"
  }
}

resource "aws_s3_bucket_website_configuration" "marketing_site" {
  bucket = aws_s3_bucket.marketing_site.id

  index_document {
    suffix = "index.html"
  }

  error_document {
    key = "404.html"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "marketing_site" {
  bucket = aws_s3_bucket.marketing_site.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "marketing_site" {
  bucket = aws_s3_bucket.marketing_site.id

  # The site is served publicly through a bucket policy; ACLs stay blocked.
  block_public_acls       = true
  block_public_policy     = false
  ignore_public_acls      = true
  restrict_public_buckets = false
}

# --- internal tooling ---------------------------------------------------------------------------------------

resource "aws_dynamodb_table" "tooling_feature_flags" {
  name         = "platform-feature-flags"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "flag_key"
  range_key    = "environment"

  attribute {
    name = "flag_key"
    type = "S"
  }

  attribute {
    name = "environment"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }

  tags = {
    data_class = "internal"
    service    = "feature-flags"
  }
}

resource "aws_cloudwatch_log_group" "tooling_deployments" {
  name              = "/platform/deployments"
  retention_in_days = 90

  tags = {
    data_class = "Internal"
    service    = "deploy-bot"
  }
}

# --- support escalations: confidential, no tenant, in a home region ------------------------------------------

resource "aws_sqs_queue" "support_escalations" {
  name                       = "support-escalations"
  message_retention_seconds  = 1209600 # 14 days
  visibility_timeout_seconds = 120
  kms_master_key_id          = aws_kms_key.support.arn

  tags = {
    data_class = "Confidential " # case-insensitive and trimmed: this is confidential
    service    = "support"
  }
}

# --- Athena query results: nobody classified them -------------------------------------------------------------

# VIOLATION CKV_DH_100 aws_s3_bucket.athena_query_results: breaks "Every piece of data we handle falls into one of four buckets". The bucket has no data_class tag and the shared-platform provider's default_tags declare no class (no policy-map rule matches either), so the query results, which can contain anything the queries selected, have no class at all.
resource "aws_s3_bucket" "athena_query_results" {
  bucket = "platform-athena-query-results-use1"

  tags = {
    service = "analytics"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "athena_query_results" {
  bucket = aws_s3_bucket.athena_query_results.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "athena_query_results" {
  bucket = aws_s3_bucket.athena_query_results.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_lifecycle_configuration" "athena_query_results" {
  bucket = aws_s3_bucket.athena_query_results.id

  rule {
    id     = "expire-results"
    status = "Enabled"

    filter {}

    expiration {
      days = 30
    }
  }
}

# --- APAC support exports: confidential, no tenant, outside every home region ------------------------------

# VIOLATION CKV_DH_101 aws_s3_bucket.support_exports_apse2: breaks "A tenant's Confidential data does not leave its home region." The bucket holds support case exports (data_class = "confidential") with no tenant tag, so it must sit in one of the home regions eu-west-1 or us-east-1, but it is created through provider aws.apse2 in ap-southeast-2.
resource "aws_s3_bucket" "support_exports_apse2" {
  provider = aws.apse2
  bucket   = "platform-support-exports-apse2"

  tags = {
    data_class = "confidential"
    service    = "support"
  }
}

resource "aws_s3_bucket_versioning" "support_exports_apse2" {
  provider = aws.apse2
  bucket   = aws_s3_bucket.support_exports_apse2.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "support_exports_apse2" {
  provider = aws.apse2
  bucket   = aws_s3_bucket.support_exports_apse2.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "support_exports_apse2" {
  provider = aws.apse2
  bucket   = aws_s3_bucket.support_exports_apse2.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}
