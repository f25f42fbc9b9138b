# The payments card vault: the processor's credentials in Secrets Manager and SSM SecureString parameters,
# encrypted with a customer-managed key that rotates, stays in one region, and whose policy separates the
# people who administer the key from the services that decrypt with it (the two-person rule).

terraform {
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }
}

# --- the vault key ----------------------------------------------------------------------------------------

data "aws_iam_policy_document" "vault_key" {
  # The account root only delegates to IAM policies (and keeps the key manageable).
  statement {
    sid       = "AccountRoot"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${var.account_id}:root"]
    }
  }

  statement {
    sid = "KeyAdministrators"
    actions = [
      "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*",
      "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource",
      "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
    ]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = var.key_administrators
    }
  }

  statement {
    sid       = "KeyUsers"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = var.key_users
    }

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${var.region}.amazonaws.com", "ssm.${var.region}.amazonaws.com"]
    }
  }
}

resource "aws_kms_key" "vault" {
  description         = "${var.name_prefix} card vault"
  enable_key_rotation = true
  multi_region        = false
  policy              = data.aws_iam_policy_document.vault_key.json
}

resource "aws_kms_alias" "vault" {
  name          = "alias/${var.name_prefix}-card-vault"
  target_key_id = aws_kms_key.vault.key_id
}

# --- the vault --------------------------------------------------------------------------------------------

resource "aws_secretsmanager_secret" "processor_api_key" {
  name        = "${var.name_prefix}/processor-api-key"
  description = "Secret key of the card processor (Stripe)"
  kms_key_id  = aws_kms_alias.vault.arn
}

resource "aws_secretsmanager_secret" "webhook_signing_secret" {
  name        = "${var.name_prefix}/webhook-signing-secret"
  description = "Verifies the processor's webhook signatures"
  kms_key_id  = aws_kms_key.vault.arn
}

resource "aws_ssm_parameter" "processor_account_id" {
  name   = "/${var.name_prefix}/processor-account-id"
  type   = "SecureString"
  key_id = aws_kms_alias.vault.name
  value  = "placeholder-set-out-of-band"

  lifecycle {
    ignore_changes = [value]
  }
}
