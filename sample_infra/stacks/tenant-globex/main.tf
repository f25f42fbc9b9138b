# Tenant globex (home region us-east-1).

# The tenant's standard data stores through the us-east-1 provider aws.primary.
module "globex_data" {
  source = "../../modules/tenant_data"

  providers = {
    aws = aws.primary
  }

  tenant                   = "globex"
  name_prefix              = var.name_prefix
  audit_log_retention_days = 731
  tags = {
    service     = "orders"
    environment = var.environment
  }
}

# A copy of the tenant's stores for the European storefront experiment, through the eu-west-1 provider:
# every store of the module lands outside globex's home region.
# VIOLATION CKV_DH_101 module.globex_eu_copy.aws_s3_bucket.this: breaks "A tenant's Confidential data does not leave its home region." The module's bucket is confidential (module default data_class) for tenant globex, whose home region is us-east-1, but the module receives provider aws.eu, so the bucket is created in eu-west-1.
# VIOLATION CKV_DH_101 module.globex_eu_copy.aws_dynamodb_table.orders: breaks "A tenant's Confidential data does not leave its home region." globex's orders table (order data is Confidential per the classification table) is created through the passed-in provider aws.eu in eu-west-1, not in globex's home region us-east-1.
# VIOLATION CKV_DH_101 module.globex_eu_copy.aws_sqs_queue.order_events: breaks "A tenant's Confidential data does not leave its home region." globex's confidential order-events queue is created through the passed-in provider aws.eu in eu-west-1, not in globex's home region us-east-1.
# VIOLATION CKV_DH_101 module.globex_eu_copy.module.audit_log.aws_cloudwatch_log_group.this: breaks "A tenant's Confidential data does not leave its home region." The nested audit_log module inherits aws.eu from its parent (providers = { aws = aws } at depth 2), so globex's confidential audit log group is created in eu-west-1, not in globex's home region us-east-1.
module "globex_eu_copy" {
  source = "../../modules/tenant_data"

  providers = {
    aws = aws.eu
  }

  tenant      = "globex"
  name_prefix = "${var.name_prefix}-euw1"
  tags = {
    service     = "storefront-eu"
    environment = var.environment
  }
}

# --- partner feeds: the tenant tag has a typo ---------------------------------------------------------------

# VIOLATION CKV_DH_101 aws_s3_bucket.globex_partner_feeds: breaks "A tenant's Confidential data does not leave its home region." The bucket is confidential (partner_feeds_data_class from globex.auto.tfvars) and its own tag tenant = "globx" (a typo of globex) overrides the provider's default tenant; "globx" is not a tenant in policy_map.yaml, so no home region can be established for it and an unknown tenant must fail rather than pass.
# VIOLATION CKV_DH_104 aws_s3_bucket.globex_partner_feeds: breaks Confidential access "Role-gated, audited". Partners drop customer order files here (confidential), but nobody can tell who read them: the bucket has no server access logging, and the globex-data-access trail (audit.tf) records S3 object events only for the tenant data buckets and the trail bucket it lists.
resource "aws_s3_bucket" "globex_partner_feeds" {
  bucket = "${var.name_prefix}-partner-feeds"

  tags = {
    tenant     = "globx"
    data_class = var.partner_feeds_data_class
    service    = "partner-integrations"
  }
}

resource "aws_s3_bucket_versioning" "globex_partner_feeds" {
  bucket = aws_s3_bucket.globex_partner_feeds.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "globex_partner_feeds" {
  bucket = aws_s3_bucket.globex_partner_feeds.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = module.globex_data.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "globex_partner_feeds" {
  bucket = aws_s3_bucket.globex_partner_feeds.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# --- storefront sessions: the class is not one of the four --------------------------------------------------

# VIOLATION CKV_DH_100 aws_dynamodb_table.globex_sessions: breaks "Every piece of data we handle falls into one of four buckets". The table is tagged data_class = "secret", which is not one of Public, Internal, Confidential or Restricted, so the session data has no valid class (the table itself sits in globex's home region us-east-1).
resource "aws_dynamodb_table" "globex_sessions" {
  name         = "${var.name_prefix}-sessions"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "session_id"

  attribute {
    name = "session_id"
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
    enabled     = true
    kms_key_arn = module.globex_data.kms_key_arn
  }

  tags = {
    data_class = "secret"
    service    = "storefront"
  }
}
