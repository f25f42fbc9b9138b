# Deliberate findings of the payments stack, kept apart from the compliant main.tf. Each is annotated with the
# check it breaks; fixing one means removing its annotation line too.

# --- a card dump in S3 --------------------------------------------------------------------------------------

# VIOLATION CKV_DH_201 aws_s3_bucket.card_dump: breaks Restricted storage "Vault, KMS-encrypted". The bucket is tagged data_class = "restricted" (raw card files from a legacy processor export), but S3 is not a vault type; vaults.resource_types accepts only Secrets Manager secrets and SSM SecureString parameters.
resource "aws_s3_bucket" "card_dump" {
  bucket = "${local.name_prefix}-legacy-card-dump"

  tags = {
    data_class = "restricted"
  }
}

resource "aws_s3_bucket_public_access_block" "card_dump" {
  bucket = aws_s3_bucket.card_dump.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# --- a gateway credential encrypted with the AWS-managed key --------------------------------------------------

# VIOLATION CKV_DH_202 aws_secretsmanager_secret.legacy_gateway_key: breaks Restricted storage "Vault, KMS-encrypted" with a customer-managed key. The secret is Restricted but kms_key_id = "alias/aws/secretsmanager" is the AWS-managed key, whose key policy and rotation we do not control.
resource "aws_secretsmanager_secret" "legacy_gateway_key" {
  name       = "${local.name_prefix}/legacy-gateway-key"
  kms_key_id = "alias/aws/secretsmanager"

  tags = {
    data_class = "restricted"
  }
}

# --- a settlement table with a card number column ---------------------------------------------------------

resource "aws_glue_catalog_database" "settlements" {
  name = "payments_settlements"

  tags = {
    data_class = "confidential"
  }
}

# VIOLATION CKV_DH_203 aws_glue_catalog_table.card_settlements: breaks "Store full card numbers (PAN). Stripe holds the cards; we hold a tokenised handle." The settlement table declares a card_number column; it should carry the processor's card_token and at most last4.
resource "aws_glue_catalog_table" "card_settlements" {
  name          = "card_settlements"
  database_name = aws_glue_catalog_database.settlements.name
  table_type    = "EXTERNAL_TABLE"

  storage_descriptor {
    location = "s3://${local.name_prefix}-settlements/card_settlements/"

    columns {
      name = "settlement_id"
      type = "string"
    }

    columns {
      name = "card_number"
      type = "string"
    }

    columns {
      name = "amount"
      type = "decimal(12,2)"
    }
  }

  tags = {
    data_class = "confidential"
  }
}

# --- a vault key one role can both administer and use ---------------------------------------------------

resource "aws_iam_role" "legacy_operator" {
  name = "${local.name_prefix}-legacy-operator"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::${var.account_id}:root" }
      Action    = "sts:AssumeRole"
    }]
  })
}

# VIOLATION CKV_DH_204 aws_kms_key.legacy_vault: breaks Restricted access "Two-person rule, logged". The key encrypts the Restricted secret legacy_db_password, and its policy statement "LegacyOperator" grants kms:* and kms:Decrypt to the single role legacy_operator, which can therefore change the key policy and decrypt the secret alone.
resource "aws_kms_key" "legacy_vault" {
  description         = "Legacy payments vault key"
  enable_key_rotation = true

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountRoot"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::${var.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "LegacyOperator"
        Effect    = "Allow"
        Principal = { AWS = aws_iam_role.legacy_operator.arn }
        Action    = ["kms:*", "kms:Decrypt"]
        Resource  = "*"
      },
    ]
  })
}

resource "aws_secretsmanager_secret" "legacy_db_password" {
  name       = "${local.name_prefix}/legacy-db-password"
  kms_key_id = aws_kms_key.legacy_vault.arn

  tags = {
    data_class = "restricted"
  }
}
