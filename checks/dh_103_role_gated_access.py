"""CKV_DH_103 (HIGH) — Classification table, Confidential access: "Role-gated, audited".

Applies to the resource that would make a store readable by everyone: buckets, bucket ACLs, public access blocks
and policies, resource policies (SQS, SNS, Secrets Manager, KMS, DynamoDB, ECR, Glue, OpenSearch), database
instances and clusters, snapshots and image permissions. The class is that of the store exposed.
Fails:   a Confidential bucket's aws_s3_bucket_policy allows s3:GetObject to Principal "*" with no condition
Fails:   a Confidential bucket with no aws_s3_bucket_public_access_block (and no account-wide one), or one with
         block_public_policy = false; an RDS instance of Confidential data with publicly_accessible = true
Passes:  the same policy with a condition aws:SourceVpce = "vpce-..."; a Public bucket with a public policy
Docs:    docs/checks/CKV_DH_103.md
"""

from data_handling.checkov_adapter.base import DataHandlingCheck
from data_handling.rules import public_access

check = DataHandlingCheck("CKV_DH_103", public_access.evaluate)
