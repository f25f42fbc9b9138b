"""CKV_DH_204 (HIGH) — Classification table, Restricted access: "Two-person rule, logged".

Applies to a KMS key a Restricted vault uses (kms_key_id / key_id, directly or through an aws_kms_alias).
Fails:   the key has no policy argument and no aws_kms_key_policy (the default key policy applies)
Fails:   an Allow statement with Principal "*", or one granting kms:* (administration and kms:Decrypt) to one role
Passes:  administrators (kms:Create*, kms:Put*, ...) and users (kms:Decrypt, ...) in separate statements
Docs:    docs/checks/CKV_DH_204.md
"""

from data_handling.checkov_adapter.base import DataHandlingCheck
from data_handling.rules import key_policy

check = DataHandlingCheck("CKV_DH_204", key_policy.evaluate)
