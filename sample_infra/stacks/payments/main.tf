# Payments: Stripe holds the cards; we keep the processor's credentials in a vault and a tokenised handle
# (card_token, last4) with each payment intent. This file is the compliant part; violations.tf holds the
# deliberate findings.

locals {
  name_prefix = "payments-${var.environment}"
}

# --- who may administer the vault key and who may use it (two different roles) --------------------------------

resource "aws_iam_role" "vault_key_admin" {
  name = "${local.name_prefix}-vault-key-admin"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::${var.account_id}:root" }
      Action    = "sts:AssumeRole"
      Condition = { Bool = { "aws:MultiFactorAuthPresent" = "true" } }
    }]
  })
}

resource "aws_iam_role" "payments_api" {
  name = "${local.name_prefix}-api"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

# --- the card vault: Restricted by the policy map rule module.payments.* --------------------------------------

module "payments" {
  source = "./modules/card_vault"

  providers = {
    aws = aws
  }

  name_prefix        = local.name_prefix
  account_id         = var.account_id
  region             = var.region
  key_administrators = [aws_iam_role.vault_key_admin.arn]
  key_users          = [aws_iam_role.payments_api.arn]
}

# --- payment intents: Confidential payment metadata with the processor's token, never the card ----------------

resource "aws_kms_key" "payments_data" {
  description         = "Encrypts payment metadata (Confidential)"
  enable_key_rotation = true
}

resource "aws_dynamodb_table" "payment_intents" {
  name         = "${local.name_prefix}-intents"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "intent_id"

  attribute {
    name = "intent_id"
    type = "S"
  }

  attribute {
    name = "card_token"
    type = "S"
  }

  attribute {
    name = "created_at"
    type = "S"
  }

  global_secondary_index {
    name               = "by-card-token"
    hash_key           = "card_token"
    range_key          = "created_at"
    projection_type    = "INCLUDE"
    non_key_attributes = ["last4", "card_brand", "amount", "currency", "status"]
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.payments_data.arn
  }

  deletion_protection_enabled = true

  tags = {
    data_class  = "confidential"
    data_fields = "intent_id, tenant_id, card_token, last4, card_brand, amount, currency, status, created_at"
  }
}
