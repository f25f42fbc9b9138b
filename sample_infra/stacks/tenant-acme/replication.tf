# Copies of acme's data. acme's Confidential data stays in eu-west-1: the invoices are replicated to a second
# bucket in the same region (compliant); the nightly disaster-recovery copy of the backups is not.

# --- invoices: same-region replica for accidental-deletion recovery (compliant) ---------------------------

resource "aws_s3_bucket" "acme_invoices_replica" {
  bucket = "${local.name_prefix}-invoices-replica"

  tags = {
    data_class = "confidential"
    service    = "billing"
  }
}

resource "aws_s3_bucket_versioning" "acme_invoices_replica" {
  bucket = aws_s3_bucket.acme_invoices_replica.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_public_access_block" "acme_invoices_replica" {
  bucket = aws_s3_bucket.acme_invoices_replica.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_replication_configuration" "acme_invoices" {
  bucket = aws_s3_bucket.acme_invoices.id
  role   = "arn:aws:iam::${var.account_id}:role/${local.name_prefix}-s3-replication"

  rule {
    id     = "invoices-replica"
    status = "Enabled"

    filter {}

    delete_marker_replication {
      status = "Enabled"
    }

    destination {
      bucket        = aws_s3_bucket.acme_invoices_replica.arn
      storage_class = "STANDARD_IA"
    }
  }

  depends_on = [aws_s3_bucket_versioning.acme_invoices]
}

# --- backups: daily backups of everything classified Confidential -----------------------------------------

resource "aws_backup_vault" "acme_primary" {
  name = "${local.name_prefix}-primary"

  tags = {
    data_class = "confidential"
    service    = "backup"
  }
}

# VIOLATION CKV_DH_102 aws_backup_plan.acme_daily: breaks "There is no cross-region read replica of customer PII." The plan backs up every resource tagged data_class = "confidential" (aws_backup_selection.acme_confidential) in eu-west-1 and its copy_action sends each recovery point to the platform team's disaster-recovery vault in us-east-1 (the region in the destination vault ARN), so copies of acme's Confidential data leave its home region.
resource "aws_backup_plan" "acme_daily" {
  name = "${local.name_prefix}-daily"

  rule {
    rule_name         = "daily"
    target_vault_name = aws_backup_vault.acme_primary.name
    schedule          = "cron(0 2 * * ? *)"

    lifecycle {
      delete_after = 35
    }

    copy_action {
      destination_vault_arn = "arn:aws:backup:us-east-1:${var.account_id}:backup-vault:platform-dr"

      lifecycle {
        delete_after = 35
      }
    }
  }
}

resource "aws_backup_selection" "acme_confidential" {
  name         = "${local.name_prefix}-confidential"
  plan_id      = aws_backup_plan.acme_daily.id
  iam_role_arn = "arn:aws:iam::${var.account_id}:role/${local.name_prefix}-backup"

  selection_tag {
    type  = "STRINGEQUALS"
    key   = "data_class"
    value = "confidential"
  }
}
