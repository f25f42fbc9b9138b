"""CKV_DH_105 (CRITICAL) — What we never do: "Sell, lease, share, or otherwise transmit customer data to third
parties for marketing."

Fails:   a bucket policy (aws_iam_policy_document) granting s3:GetObject on a Confidential bucket to
         arn:aws:iam::999999999999:root, an account outside organization.account_ids; Principal "*" with
         aws:PrincipalOrgID set to another organisation; a Confidential DB snapshot with shared_accounts naming an
         external account; S3 replication of a Confidential bucket into another account's bucket; a KMS grant,
         RAM principal association, Backup copy_action, Firehose stream, subscription filter or event target
         whose recipient is in another account, or whose account cannot be determined (an unrendered variable)
Passes:  the same grants to an organisation account, to "*" with aws:PrincipalOrgID = organization.id, to a central
         telemetry account or the scanned account itself; sharing of Public or Internal data
Docs:    docs/checks/CKV_DH_105.md
"""

from data_handling.checkov_adapter.base import DataHandlingCheck
from data_handling.rules import no_third_party_sharing

check = DataHandlingCheck("CKV_DH_105", no_third_party_sharing.evaluate)
