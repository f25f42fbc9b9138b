"""CKV_DH_104 (MEDIUM) — Classification table, Confidential access "Role-gated, audited"; Restricted "logged".

Applies to every Confidential or Restricted data store (classification.store_types).
Fails:   a Confidential bucket with no aws_s3_bucket_logging, no logging block and no CloudTrail data events for it
Fails:   a trail whose event_selector selects another bucket; a MySQL instance without the "audit" log export
Passes:  aws_s3_bucket_logging for the bucket, or an aws_cloudtrail advanced_event_selector on its ARN
Passes:  audit.organization_trail.data_events: [dynamodb] in the policy map, for a DynamoDB table
Docs:    docs/checks/CKV_DH_104.md
"""

from data_handling.checkov_adapter.base import DataHandlingCheck
from data_handling.rules import access_audited

check = DataHandlingCheck("CKV_DH_104", access_audited.evaluate)
