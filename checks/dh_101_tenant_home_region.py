"""CKV_DH_101 (HIGH) — What stays in the tenant's region: "A tenant's Confidential data does not leave its
home region."

Fails:   a bucket tagged data_class = "confidential", tenant = "acme" (home eu-west-1) created through a
         provider in us-east-1, or with region = "us-east-1"
Passes:  the same bucket through the eu-west-1 provider; an internal bucket in any region
Docs:    docs/checks/CKV_DH_101.md
"""

from data_handling.checkov_adapter.base import DataHandlingCheck
from data_handling.rules import tenant_home_region

check = DataHandlingCheck("CKV_DH_101", tenant_home_region.evaluate)
