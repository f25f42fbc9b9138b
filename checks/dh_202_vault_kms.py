"""CKV_DH_202 (HIGH) — Classification table, Restricted storage: "Vault, KMS-encrypted".

Fails:   a Restricted aws_secretsmanager_secret with no kms_key_id, or kms_key_id = "alias/aws/secretsmanager"
Fails:   kms_key_id = aws_kms_key.k.arn where aws_kms_key.k has no enable_key_rotation = true, or multi_region = true
Passes:  kms_key_id = aws_kms_alias.payments.arn, the alias of a rotated single-region aws_kms_key
Passes:  kms_key_id = "arn:aws:kms:eu-west-1:111122223333:key/..." (outside the configuration: rotation unverified)
Docs:    docs/checks/CKV_DH_202.md
"""

from data_handling.checkov_adapter.base import DataHandlingCheck
from data_handling.rules import vault_kms

check = DataHandlingCheck("CKV_DH_202", vault_kms.evaluate)
