"""CKV_DH_102 (HIGH) — What stays in the tenant's region: "There is no cross-region read replica of customer
PII."

Fails:   an aws_s3_bucket_replication_configuration copying a bucket tagged data_class = "confidential" in
         eu-west-1 to a bucket created through the us-east-1 provider; a Confidential DynamoDB table with a
         replica { region_name = "us-east-1" }; a read replica in another region of a Confidential
         aws_db_instance; a backup plan whose copy_action sends Confidential backups to another region's vault;
         any such copy whose destination region cannot be determined (a bucket ARN outside the configuration)
Passes:  the same replication into a bucket of the source's region; cross-region replication of internal data
Docs:    docs/checks/CKV_DH_102.md
"""

from data_handling.checkov_adapter.base import DataHandlingCheck
from data_handling.rules import replication

check = DataHandlingCheck("CKV_DH_102", replication.evaluate)
