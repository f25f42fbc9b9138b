"""CKV_DH_303 (HIGH) — What stays in the tenant's region: "What does not flow centrally: customer emails, names,
addresses, order line items, payment tokens, IP addresses."

Fails:   VPC flow logs, ALB access logs, CloudTrail or WAF logs delivered to a central bucket; a subscription
         filter shipping a log group to a central destination without a data protection policy that masks
         its identifiers (an audit-only policy does not count)
Passes:  the same logs kept in the tenant's account; a subscription filter on a log group de-identified at
         source (Deidentify of EmailAddress, IpAddress, Name, Address, CreditCardNumber)
Docs:    docs/checks/CKV_DH_303.md
"""

from data_handling.checkov_adapter.base import DataHandlingCheck
from data_handling.rules import raw_logs_central

check = DataHandlingCheck("CKV_DH_303", raw_logs_central.evaluate)
