"""CKV_DH_100 (MEDIUM) — Classification: "Every piece of data we handle falls into one of four buckets".

Fails:   resource "aws_s3_bucket" "x" { tags = { data_class = "secret" } }   # not a class
Fails:   resource "aws_s3_bucket" "x" { }                                      # no class anywhere
Passes:  resource "aws_s3_bucket" "x" { tags = { data_class = "Confidential " } }
Docs:    docs/checks/CKV_DH_100.md
"""

from data_handling.checkov_adapter.base import DataHandlingCheck
from data_handling.rules import store_classified

check = DataHandlingCheck("CKV_DH_100", store_classified.evaluate)
