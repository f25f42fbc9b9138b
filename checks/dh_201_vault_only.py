"""CKV_DH_201 (CRITICAL) — Classification table, Restricted storage: "Vault, KMS-encrypted".

Fails:   resource "aws_s3_bucket" "cards" { tags = { data_class = "restricted" } }        # not a vault type
Fails:   resource "aws_ssm_parameter" "pin" { type = "String", tags = { data_class = "restricted" } }
Passes:  resource "aws_secretsmanager_secret" "api_key" { tags = { data_class = "restricted" } }
Passes:  resource "aws_ssm_parameter" "pin" { type = "SecureString", tags = { data_class = "restricted" } }
Docs:    docs/checks/CKV_DH_201.md
"""

from data_handling.checkov_adapter.base import DataHandlingCheck
from data_handling.rules import vault_only

check = DataHandlingCheck("CKV_DH_201", vault_only.evaluate)
